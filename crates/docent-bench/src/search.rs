//! Search: the corpus grown to each size through the import API, the first search afterwards
//! timed (it brings the tenant's index up to date, so it gives the indexing rate), then query
//! latency over a bounded time at concurrency 1 through `GET /tenants/{slug}/corpus/search`.

use std::sync::Arc;
use std::time::Instant;

use crate::Opts;
use crate::client::{Conn, Req};
use crate::load::{self, Check, MakeReq};
use crate::report::{Section, num};
use crate::seed::{self, QUESTIONS};
use crate::setup::Stack;
use crate::stack::{Bins, FakeScript};

/// Percent-encodes a query string value.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn run(bins: &Bins, opts: &Opts) -> anyhow::Result<Vec<Section>> {
    let stack = Stack::start(bins, opts, &FakeScript::default(), 0).await?;
    let (slug, token) = (stack.tenant.slug.clone(), stack.tenant.token.clone());
    let mut sizes = opts.corpus.clone();
    sizes.sort_unstable();
    let mut sections = Vec::new();
    let mut have = 0;
    for size in sizes {
        let mut section = Section::new(format!("search {size} entries"));
        let started = Instant::now();
        seed::import_corpus(stack.server.addr, &stack.tenant, have, size).await?;
        let imported = started.elapsed().as_secs_f64();
        section.fig("import rate (NDJSON, 10,000 rows a request)", (size - have) as f64 / imported, "entries/s");
        let first = Req::get(format!("/tenants/{slug}/corpus/search?q={}", encode(QUESTIONS[0]))).bearer(&token);
        let started = Instant::now();
        let (status, body) = Conn::open(stack.server.addr).await?.call(&first).await?;
        let indexing = started.elapsed().as_secs_f64();
        if !status.is_success() {
            section.error(1, Some(format!("{status}: {}", String::from_utf8_lossy(&body))));
            sections.push(section);
            break;
        }
        section.fig("first search after import (index catch-up)", indexing * 1000.0, "ms");
        section.fig("indexing rate", (size - have) as f64 / indexing, "entries/s");
        have = size;
        let (slug, token) = (slug.clone(), token.clone());
        let make: MakeReq = Arc::new(move |_, n| {
            let q = format!(
                "{} {}",
                QUESTIONS[n as usize % QUESTIONS.len()],
                ["", "price", "Kingsport", "weekend"][n as usize / 8 % 4]
            );
            Req::get(format!("/tenants/{slug}/corpus/search?q={}", encode(q.trim()))).bearer(&token)
        });
        let check: Check = Arc::new(|status, body| status.is_success() && body.windows(7).any(|w| w == b"\"title\""));
        let mut out =
            load::run(crate::chat::load(stack.server.addr, 1, opts, make, check, vec![stack.server.pid])).await;
        section.error(out.errors, out.first_error.take());
        let big = size >= 100_000;
        let (p50, p99) = (out.latency.pct_ms(50.0), out.latency.pct_ms(99.0));
        if big {
            section.at_most("query latency p50", p50, "ms", 2.0).at_most("query latency p99", p99, "ms", 10.0);
        } else {
            section.fig("query latency p50", p50, "ms").fig("query latency p99", p99, "ms");
        }
        section.fig("queries/s at concurrency 1", out.per_sec(), "queries/s");
        section.note(format!(
            "{} queries in {}s (visitor questions, 32 variants, top 10 with snippets); server RSS {} MiB",
            out.count,
            num(out.secs),
            num(stack.server.rss_mib())
        ));
        sections.push(section);
    }
    stack.stop().await?;
    Ok(sections)
}
