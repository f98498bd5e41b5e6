//! CPU cost per turn in instructions, counted by `valgrind --tool=callgrind`: deterministic on a
//! noisy machine, so regressions show. The server runs twice under callgrind on the same seeded
//! database, once for N turns and once for 5N; the difference of the two totals divided by 4N is
//! the cost of one turn, with start-up, migrations, shutdown and first-use costs cancelled out.

use std::path::Path;
use std::time::Duration;

use crate::Opts;
use crate::chat::{turn_check, turn_maker};
use crate::client::Conn;
use crate::report::{Section, num};
use crate::setup::Stack;
use crate::stack::{self, Bins, FakeScript, ServerSpec};

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
    let mut stack = Stack::start(bins, opts, &FakeScript::default(), 1_000).await?;
    stack.server.stop(Duration::from_secs(10)).await?;
    let small = opts.callgrind_turns;
    let large = small * 5;
    let a = counted(bins, &stack, small).await?;
    let b = counted(bins, &stack, large).await?;
    if let Some(keep) = &opts.keep_profiles {
        std::fs::create_dir_all(keep)?;
        for turns in [small, large] {
            let name = format!("callgrind-{turns}.out");
            std::fs::copy(stack.dir.path().join(&name), keep.join(&name))?;
        }
        section.note(format!("profiles kept in {}", keep.display()));
    }
    let per_turn = (b.0 as f64 - a.0 as f64) / (large - small) as f64;
    section.error(a.1 + b.1, (a.1 + b.1 > 0).then(|| "a chat turn under callgrind failed".to_owned()));
    section.fig("instructions per chat turn (agent JSON, instant fake)", per_turn, "Ir");
    section.note(format!(
        "totals: {} Ir for {small} turns, {} Ir for {large} turns (start-up and shutdown included in both, cancelled \
         by the difference); one virtual user, {}-turn conversations",
        num(a.0 as f64),
        num(b.0 as f64),
        crate::chat::TURNS_PER_CONVERSATION
    ));
    stack.server = stack::start_server(bins, &stack.spec(), Duration::from_secs(30)).await?.0;
    stack.stop().await?;
    Ok(vec![section])
}

/// Runs the server under callgrind for `turns` turns; returns (total Ir, failed turns).
async fn counted(bins: &Bins, stack: &Stack, turns: u64) -> anyhow::Result<(u64, u64)> {
    let out = stack.dir.path().join(format!("callgrind-{turns}.out"));
    let spec = ServerSpec {
        wrapper: vec!["valgrind".into(), "--tool=callgrind".into(), format!("--callgrind-out-file={}", out.display())],
        ..stack.spec()
    };
    let (mut server, _) = stack::start_server(bins, &spec, Duration::from_secs(180)).await?;
    let make = turn_maker(&stack.tenant, &format!("cg{turns}"), false);
    let check = turn_check(false);
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
