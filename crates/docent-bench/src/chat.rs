//! Chat overhead in agent JSON mode: real multi-turn conversations (`X-Agent-Model`, a session
//! per virtual user, 20 turns each before a new one starts) against the fake LLM answering at
//! once, so all latency measured is Docent's (plus loopback and the fake's own microseconds).
//! The `tools` variant scripts the fake to call REMEMBER_FACT first, so each turn runs the tool
//! loop: model call, tool execution and memory write, second model call.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::json;

use crate::client::Req;
use crate::load::{self, Check, Load, MakeReq, Outcome};
use crate::report::{Section, num};
use crate::seed::{QUESTIONS, Tenant};
use crate::setup::Stack;
use crate::stack::{Bins, FakeScript};
use crate::{Opts, ceiling};

/// Turns per conversation before the virtual user starts a new one.
pub const TURNS_PER_CONVERSATION: u64 = 20;
/// The target concurrency of the issue's chat figure.
const TARGET_CONCURRENCY: usize = 64;

/// A virtual user's `n`-th chat turn.
pub fn turn_maker(tenant: &Tenant, run: &str, tool_message: bool) -> MakeReq {
    let path = format!("/chat/{}", tenant.slug);
    let segment = tenant.segment.clone();
    let run = run.to_owned();
    Arc::new(move |user, n| {
        let message = if tool_message {
            "Please remember that my favourite colour is blue"
        } else {
            QUESTIONS[n as usize % QUESTIONS.len()]
        };
        let session = format!("{run}-u{user}-c{}", n / TURNS_PER_CONVERSATION);
        Req::post_json(path.as_str(), &json!({"message": message, "sessionId": session, "segment": segment}))
            .header("x-agent-model", "bench-agent/1.0")
    })
}

/// A 200 envelope; with `tool`, one whose tool history shows the REMEMBER_FACT call.
pub fn turn_check(tool: bool) -> Check {
    Arc::new(move |status, body| {
        status.is_success() && body.starts_with(b"{") && (!tool || body.windows(13).any(|w| w == b"remember_fact"))
    })
}

pub fn load(addr: SocketAddr, concurrency: usize, opts: &Opts, make: MakeReq, check: Check, watch: Vec<u32>) -> Load {
    Load { addr, concurrency, warmup: opts.warmup(), measure: opts.measure(), make, check, watch }
}

/// `chat` (`tool` false) or `tools`: one row of figures per concurrency.
pub async fn run(bins: &Bins, opts: &Opts, tool: bool) -> anyhow::Result<Section> {
    let name = if tool { "tools (REMEMBER_FACT per turn)" } else { "chat (agent JSON)" };
    let mut section = Section::new(name);
    let script = FakeScript {
        tool_call: tool.then(|| r#"remember_fact:{"key":"favorite_color","value":"blue"}"#.to_owned()),
        ..FakeScript::default()
    };
    let stack = Stack::start(bins, opts, &script, 1_000).await?;
    let run = if tool { "tool" } else { "chat" };
    let make = turn_maker(&stack.tenant, run, tool);
    let sample = crate::client::Conn::open(stack.server.addr).await?.call(&make(usize::MAX, 0)).await?;
    if !turn_check(tool)(sample.0, &sample.1) {
        section.error(1, Some(format!("{}: {}", sample.0, String::from_utf8_lossy(&sample.1))));
        stack.stop().await?;
        return Ok(section);
    }
    let mut at_target = None;
    for (step, &c) in opts.concurrency.iter().enumerate() {
        let watch = vec![stack.server.pid, stack.fake.pid];
        // Sessions of their own: the same users' conversations carried on from an earlier step
        // would be longer than the 20 turns this step is meant to measure.
        let make = turn_maker(&stack.tenant, &format!("{run}{step}"), tool);
        let mut out = load::run(load(stack.server.addr, c, opts, make, turn_check(tool), watch)).await;
        section.error(out.errors, out.first_error.take());
        figures(&mut section, &mut out, c == TARGET_CONCURRENCY && !tool);
        if c == TARGET_CONCURRENCY {
            at_target = Some(out.per_sec());
        }
    }
    section.fig("envelope size", sample.1.len() as f64, "bytes");
    section.fig("server RSS after the runs", stack.server.rss_mib(), "MiB");
    section.note(format!(
        "Closed loop, one keep-alive connection per virtual user, {TURNS_PER_CONVERSATION}-turn conversations; \
         {}s warm-up then {}s measured per concurrency; latency is the whole round trip seen by the client, \
         which with an instant fake is all overhead (Docent + loopback + the fake's own work).",
        opts.warmup().as_secs_f64(),
        opts.measure().as_secs_f64()
    ));
    if !tool && let Some(turns) = at_target {
        let ceiling = ceiling::measure(bins, opts, sample.1.len(), TARGET_CONCURRENCY).await?;
        section.error(ceiling.errors, ceiling.first_error.clone());
        section.fig(
            format!("reference ceiling (bare axum, same body) c={TARGET_CONCURRENCY}"),
            ceiling.per_sec(),
            "req/s",
        );
        section.fig("chat turns/s as a fraction of the ceiling", 100.0 * turns / ceiling.per_sec().max(1.0), "%");
    }
    stack.stop().await?;
    Ok(section)
}

fn figures(section: &mut Section, out: &mut Outcome, targets: bool) {
    let c = out.concurrency;
    if targets {
        section.at_least(format!("c={c} turns/s"), out.per_sec(), "turns/s", 5_000.0);
    } else {
        section.fig(format!("c={c} turns/s"), out.per_sec(), "turns/s");
    }
    section.fig(format!("c={c} latency p50"), out.latency.pct_ms(50.0), "ms");
    if targets {
        section.at_most(format!("c={c} latency p99"), out.latency.pct_ms(99.0), "ms", 20.0);
    } else {
        section.fig(format!("c={c} latency p99"), out.latency.pct_ms(99.0), "ms");
    }
    section.fig(format!("c={c} latency p99.9"), out.latency.pct_ms(99.9), "ms");
    section.fig(format!("c={c} server CPU per turn"), out.cpu_ms_per_request(0), "ms");
    section.note(format!(
        "c={c}: {} turns in {}s; CPU over the window: server {}s, fake {}s, load generator {}s, \
         rest of the machine {}s",
        out.count,
        num(out.secs),
        num(out.watched_cpu.first().copied().unwrap_or(0.0)),
        num(out.watched_cpu.get(1).copied().unwrap_or(0.0)),
        num(out.client_cpu),
        num(out.other_cpu)
    ));
}
