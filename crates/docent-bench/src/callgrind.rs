//! CPU cost in instructions, counted by `valgrind --tool=callgrind`: deterministic on a noisy
//! machine, so regressions show. The server runs twice under callgrind on the same seeded
//! database, once for N turns and once for 5N; the difference of the two totals divided by 4N is
//! the cost of one turn, with start-up, migrations, shutdown and first-use costs cancelled out.
//! Two kinds of turn are counted: an agent-JSON turn whose model answers in one chunk, and a
//! visitor's SSE turn whose model streams a 100-token reply; the difference of the two, per
//! extra token, is what relaying one streamed token costs.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::Opts;
use crate::chat::{turn_check, turn_maker};
use crate::client::{Conn, Req};
use crate::load::{Check, MakeReq};
use crate::report::{Section, num};
use crate::setup::Stack;
use crate::stack::{self, Bins, FakeScript, ServerSpec};

/// Tokens of the streamed reply.
const TOKENS: usize = 100;

pub async fn run(bins: &Bins, opts: &Opts) -> anyhow::Result<Vec<Section>> {
    let mut section = Section::new("CPU per turn (callgrind)");
    if opts.callgrind_turns == 0 {
        section.note("skipped (smoke mode)");
        return Ok(vec![section]);
    }
    if std::process::Command::new("valgrind").arg("--version").output().is_err() {
        section.note("skipped: valgrind is not installed (apt-get install valgrind)");
        return Ok(vec![section]);
    }
    let plain = slope(bins, opts, Turn::Json, &mut section).await?;
    section.fig("instructions per chat turn (agent JSON, instant fake)", plain, "Ir");
    let streamed = slope(bins, opts, Turn::Sse, &mut section).await?;
    section.fig(format!("instructions per SSE turn ({TOKENS}-token reply, instant fake)"), streamed, "Ir");
    section.fig(
        "instructions per streamed token (SSE turn − JSON turn, per extra token)",
        (streamed - plain) / (TOKENS - 1) as f64,
        "Ir",
    );
    Ok(vec![section])
}

/// The kinds of turn counted.
#[derive(Clone, Copy)]
enum Turn {
    /// An agent's turn, the model answering in one chunk.
    Json,
    /// A visitor's SSE turn (the widget's request), the model streaming `TOKENS` tokens at once.
    Sse,
}

impl Turn {
    fn script(self) -> FakeScript {
        match self {
            Turn::Json => FakeScript::default(),
            Turn::Sse => FakeScript { tokens: Some((TOKENS, 0)), ..FakeScript::default() },
        }
    }

    /// The smaller run's turns: an SSE turn carries a hundred tokens, so a fifth as many.
    fn turns(self, opts: &Opts) -> u64 {
        match self {
            Turn::Json => opts.callgrind_turns,
            Turn::Sse => (opts.callgrind_turns / 5).max(1),
        }
    }

    /// Names the profiles and sessions.
    fn tag(self) -> &'static str {
        match self {
            Turn::Json => "",
            Turn::Sse => "-sse",
        }
    }

    fn requests(self, stack: &Stack, run: &str) -> (MakeReq, Check) {
        match self {
            Turn::Json => (turn_maker(&stack.tenant, run, false), turn_check(false)),
            Turn::Sse => sse_turn(stack, run),
        }
    }
}

/// Instructions per turn of `kind`, from runs of N and 5N turns; notes the totals in `section`.
async fn slope(bins: &Bins, opts: &Opts, kind: Turn, section: &mut Section) -> anyhow::Result<f64> {
    let (script, small, tag) = (kind.script(), kind.turns(opts), kind.tag());
    let mut stack = Stack::start(bins, opts, &script, 1_000).await?;
    stack.server.stop(Duration::from_secs(10)).await?;
    let large = small * 5;
    let a = counted(bins, &stack, small, kind).await?;
    let b = counted(bins, &stack, large, kind).await?;
    if let Some(keep) = &opts.keep_profiles {
        std::fs::create_dir_all(keep)?;
        for turns in [small, large] {
            let name = format!("callgrind{tag}-{turns}.out");
            std::fs::copy(stack.dir.path().join(&name), keep.join(&name))?;
        }
        section.note(format!("profiles kept in {}", keep.display()));
    }
    section.error(a.1 + b.1, (a.1 + b.1 > 0).then(|| "a chat turn under callgrind failed".to_owned()));
    section.note(format!(
        "{}: {} Ir for {small} turns, {} Ir for {large} turns (start-up and shutdown included in both, cancelled \
         by the difference); one virtual user, {}-turn conversations",
        match kind {
            Turn::Json => "agent JSON",
            Turn::Sse => "SSE",
        },
        num(a.0 as f64),
        num(b.0 as f64),
        crate::chat::TURNS_PER_CONVERSATION
    ));
    stack.server = stack::start_server(bins, &stack.spec(), Duration::from_secs(30)).await?.0;
    stack.stop().await?;
    Ok((b.0 as f64 - a.0 as f64) / (large - small) as f64)
}

/// A visitor's turn over SSE, as the widget sends it.
fn sse_turn(stack: &Stack, run: &str) -> (MakeReq, Check) {
    let (path, segment, run) = (format!("/chat/{}", stack.tenant.slug), stack.tenant.segment.clone(), run.to_owned());
    let make: MakeReq = Arc::new(move |user, n| {
        let message = crate::seed::QUESTIONS[n as usize % crate::seed::QUESTIONS.len()];
        let session = format!("{run}-u{user}-c{}", n / crate::chat::TURNS_PER_CONVERSATION);
        let body = json!({"message": message, "sessionId": session, "segment": segment, "stream": true});
        Req::post_json(path.as_str(), &body)
    });
    let check: Check = Arc::new(|status, body| status.is_success() && body.windows(11).any(|w| w == b"\"done\":true"));
    (make, check)
}

/// Runs the server under callgrind for `turns` turns; returns (total Ir, failed turns).
async fn counted(bins: &Bins, stack: &Stack, turns: u64, kind: Turn) -> anyhow::Result<(u64, u64)> {
    let tag = kind.tag();
    let out = stack.dir.path().join(format!("callgrind{tag}-{turns}.out"));
    let spec = ServerSpec {
        wrapper: vec!["valgrind".into(), "--tool=callgrind".into(), format!("--callgrind-out-file={}", out.display())],
        ..stack.spec()
    };
    let (mut server, _) = stack::start_server(bins, &spec, Duration::from_secs(180)).await?;
    let run = format!("cg{tag}{turns}");
    let (make, check) = kind.requests(stack, &run);
    let mut conn = Conn::open(server.addr).await?;
    let mut failed = 0;
    for n in 0..turns {
        match conn.call(&make(0, n)).await {
            Ok((status, body)) if check(status, &body) => {}
            _ => failed += 1,
        }
    }
    server.stop(Duration::from_secs(120)).await?;
    Ok((total_ir(&out)?, failed))
}
fn total_ir(path: &Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(path)?;
    let line = |key: &str| text.lines().find_map(|l| l.strip_prefix(key)?.split_whitespace().next()?.parse().ok());
    line("summary:").or_else(|| line("totals:")).ok_or_else(|| anyhow::anyhow!("no total in {}", path.display()))
}
