//! Footprint: the release binary's size, cold start to `/readyz` on an existing database, idle
//! RSS, and RSS sampled along a long run of chat turns (no growth trend in the second half = no
//! leak; the first half is where caches and allocator arenas settle).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::Opts;
use crate::chat::{turn_check, turn_maker};
use crate::client::Conn;
use crate::report::{Section, mb_in_mib, num};
use crate::setup::Stack;
use crate::stack::{Bins, FakeScript};

const COLD_STARTS: usize = 5;
const LEAK_CONCURRENCY: usize = 64;

pub async fn run(bins: &Bins, opts: &Opts) -> anyhow::Result<Vec<Section>> {
    let mut section = Section::new("footprint");
    let size = std::fs::metadata(&bins.docent)?.len() as f64 / (1024.0 * 1024.0);
    section.at_most("release binary size", size, "MiB", mb_in_mib(40.0));
    let mut stack = Stack::start(bins, opts, &FakeScript::default(), 1_000).await?;
    let mut starts = Vec::new();
    for _ in 0..COLD_STARTS {
        let took = stack.restart(bins).await?;
        starts.push(took.as_secs_f64() * 1000.0);
    }
    starts.sort_by(f64::total_cmp);
    section.at_most("cold start to /readyz (median of 5)", starts[COLD_STARTS / 2], "ms", 300.0);
    tokio::time::sleep(Duration::from_secs(2)).await;
    section.at_most("idle RSS after start", stack.server.rss_mib(), "MiB", mb_in_mib(30.0));
    let samples = leak_run(&stack, opts.leak_turns, &mut section).await;
    if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
        let half = &samples[samples.len() / 2..];
        let mid = half.first().map_or(0.0, |s| s.1);
        let peak = samples.iter().map(|s| s.1).fold(0.0, f64::max);
        section.fig(format!("RSS after {} turns", last.0), last.1, "MiB");
        section.fig("RSS growth over the second half", last.1 - mid, "MiB");
        section.fig("RSS peak during the run", peak, "MiB");
        let trail: Vec<String> = samples.iter().map(|(t, r)| format!("{t}: {}", num(*r))).collect();
        section.note(format!("RSS (MiB) by turns served, from {} at start: {}", num(first.1), trail.join(", ")));
    }
    stack.stop().await?;
    Ok(vec![section])
}

/// Drives `turns` chat turns at 64 virtual users; returns (turns done, RSS MiB) about every tenth.
async fn leak_run(stack: &Stack, turns: u64, section: &mut Section) -> Vec<(u64, f64)> {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let make = turn_maker(&stack.tenant, "leak", false);
    let check = turn_check(false);
    let addr = stack.server.addr;
    let users: Vec<_> = (0..LEAK_CONCURRENCY)
        .map(|user| {
            let (done, errors, make, check) = (done.clone(), errors.clone(), make.clone(), check.clone());
            tokio::spawn(async move {
                let Ok(mut conn) = Conn::open(addr).await else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let mut n = 0;
                while done.load(Ordering::Relaxed) < turns {
                    match conn.call(&make(user, n)).await {
                        Ok((status, body)) if check(status, &body) => {}
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    n += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let started = Instant::now();
    let mut samples = vec![(0, stack.server.rss_mib())];
    let step = (turns / 10).max(1);
    while done.load(Ordering::Relaxed) < turns {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let d = done.load(Ordering::Relaxed);
        if d >= samples.last().map_or(0, |s| s.0) + step {
            samples.push((d, stack.server.rss_mib()));
        }
    }
    for u in users {
        let _ = u.await;
    }
    samples.push((done.load(Ordering::Relaxed), stack.server.rss_mib()));
    let errors = errors.load(Ordering::Relaxed);
    section.error(errors, (errors > 0).then(|| "a chat turn of the leak run failed".to_owned()));
    section.fig(
        "turns/s during the leak run",
        done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64(),
        "turns/s",
    );
    samples
}
