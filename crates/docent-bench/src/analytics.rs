//! Analytics at scale: conversations written in bulk by `docent dev seed-conversations` (a year of
//! history, with messages, tool history and feedback), then the owner's list, stats and export
//! endpoints timed on the restarted server. Without that command in the binary, nothing is
//! measured and the part says why.

use std::time::{Duration, Instant};

use crate::Opts;
use crate::client::{Conn, Req};
use crate::report::Section;
use crate::setup::Stack;
use crate::stack::{Bins, FakeScript};
use crate::stats::Samples;

const REPEATS: usize = 20;

pub async fn run(bins: &Bins, opts: &Opts) -> anyhow::Result<Vec<Section>> {
    let count = if opts.smoke { 2_000 } else { 100_000 };
    let mut section = Section::new(format!("analytics {count} conversations"));
    let probe =
        tokio::process::Command::new(&bins.docent).args(["dev", "seed-conversations", "--help"]).output().await?;
    if !probe.status.success() {
        section.note("not measured: it needs `docent dev seed-conversations SLUG --count N`, absent from this binary");
        return Ok(vec![section]);
    }
    let mut stack = Stack::start(bins, opts, &FakeScript::default(), 0).await?;
    stack.server.stop(Duration::from_secs(10)).await?;
    let started = Instant::now();
    let mut seed = tokio::process::Command::new(&bins.docent);
    stack.spec().env(&mut seed, stack.server.addr);
    let seeded =
        seed.args(["dev", "seed-conversations", &stack.tenant.slug, "--count", &count.to_string()]).output().await?;
    if !seeded.status.success() {
        section.error(1, Some(format!("seed-conversations failed: {}", String::from_utf8_lossy(&seeded.stderr))));
        return Ok(vec![section]);
    }
    let seeding = started.elapsed().as_secs_f64();
    section.fig("bulk seeding rate (dev seed-conversations)", count as f64 / seeding, "conversations/s");
    stack.restart(bins).await?;
    let year_ago = time::OffsetDateTime::now_utc() - time::Duration::days(364);
    let from = format!("{:04}-{:02}-{:02}", year_ago.year(), u8::from(year_ago.month()), year_ago.day());
    let slug = &stack.tenant.slug;
    let queries = [
        ("list, first page of 50", format!("/tenants/{slug}/conversations?limit=50")),
        ("list, page 500 of 50", format!("/tenants/{slug}/conversations?limit=50&page=500")),
        ("stats, default 30 days", format!("/tenants/{slug}/conversations/stats")),
        ("stats, one year by week", format!("/tenants/{slug}/conversations/stats?from={from}&granularity=week")),
    ];
    let mut conn = Conn::open(stack.server.addr).await?;
    for (name, path) in queries {
        let req = Req::get(path).bearer(&stack.tenant.token);
        let mut samples = Samples::default();
        for _ in 0..REPEATS {
            let start = Instant::now();
            match conn.call(&req).await {
                Ok((status, _)) if status.is_success() => samples.push(start.elapsed()),
                Ok((status, body)) => {
                    section.error(1, Some(format!("{name}: {status} {}", String::from_utf8_lossy(&body))));
                }
                Err(e) => {
                    section.error(1, Some(format!("{name}: {e:#}")));
                }
            }
        }
        section.fig(format!("{name} p50"), samples.pct_ms(50.0), "ms");
        section.fig(format!("{name} max of {REPEATS}"), samples.pct_ms(100.0), "ms");
    }
    let export =
        Req::get(format!("/tenants/{slug}/conversations/export?format=csv&from={from}")).bearer(&stack.tenant.token);
    let start = Instant::now();
    let (status, body) = conn.call(&export).await?;
    let took = start.elapsed().as_secs_f64();
    if !status.is_success() {
        section.error(1, Some(format!("export: {status} {}", String::from_utf8_lossy(&body))));
    }
    let rows = body.iter().filter(|&&b| b == b'\n').count().saturating_sub(1);
    section.fig("CSV export, one year", took * 1000.0, "ms");
    section.fig("CSV export rows", rows as f64, "rows");
    section.fig("CSV export rate", rows as f64 / took, "rows/s");
    section.fig("server RSS after the queries", stack.server.rss_mib(), "MiB");
    section.note(format!(
        "{count} conversations seeded over 365 days in {seeding:.1}s; each query repeated {REPEATS} times on one connection"
    ));
    stack.stop().await?;
    Ok(vec![section])
}
