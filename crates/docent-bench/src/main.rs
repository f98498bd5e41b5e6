//! `docent-bench`: the benchmark harness of issue 6. It builds nothing: it drives the release
//! `docent` and `docent-fakellm` binaries beside it in `target/release`, prints one Markdown
//! table and writes the same figures as JSON to `bench/results/<date>-<machine>.json`.
//!
//! ```text
//! cargo build --release -p docent -p docent-fakellm
//! cargo run --release -p docent-bench -- all            # or: chat tools stream ceiling footprint callgrind search analytics
//! cargo run --release -p docent-bench -- --smoke all    # seconds, for CI: checks the harness, not the timings
//! ```

mod analytics;
mod callgrind;
mod ceiling;
mod chat;
mod client;
mod footprint;
mod load;
mod report;
mod search;
mod seed;
mod setup;
mod stack;
mod stats;
mod stream;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::report::Section;
use crate::stack::Bins;

#[derive(Parser, Debug, Clone)]
#[command(name = "docent-bench", about = "Docent's benchmark harness (release binaries, fake LLM)")]
pub struct Opts {
    /// Run against a fresh database created on this PostgreSQL server instead of SQLite.
    #[arg(long, global = true)]
    pub postgres: Option<String>,
    /// Seconds measured per load step.
    #[arg(long, global = true, default_value_t = 10)]
    pub secs: u64,
    /// Seconds of warm-up before each load step.
    #[arg(long, global = true, default_value_t = 2)]
    pub warmup_secs: u64,
    /// Concurrency levels of the chat and tools runs.
    #[arg(long, global = true, value_delimiter = ',', default_values_t = [1, 16, 64, 256])]
    pub concurrency: Vec<usize>,
    /// Concurrent SSE conversations of the stream runs.
    #[arg(long, global = true, value_delimiter = ',', default_values_t = [1_000, 10_000])]
    pub streams: Vec<usize>,
    /// Milliseconds between the fake's tokens in the stream runs (the targets are for 20; a slower
    /// model shows what the same number of streams costs when the machine keeps up).
    #[arg(long, global = true, default_value_t = stream::GAP_MS)]
    pub token_gap_ms: u64,
    /// Turns of the footprint's leak check.
    #[arg(long, global = true, default_value_t = 100_000)]
    pub leak_turns: u64,
    /// Turns counted under callgrind (a second run with 5× as many gives the per-turn slope).
    #[arg(long, global = true, default_value_t = 200)]
    pub callgrind_turns: u64,
    /// Keep the callgrind profiles in this directory (for `callgrind_annotate --inclusive=yes`).
    #[arg(long, global = true)]
    pub keep_profiles: Option<PathBuf>,
    /// Corpus sizes of the search run.
    #[arg(long, global = true, value_delimiter = ',', default_values_t = [10_000, 100_000])]
    pub corpus: Vec<usize>,
    /// Runs the server each part starts first under this command, split on spaces (e.g. `heaptrack -o /tmp/docent`
    /// with a `docent` built with `--no-default-features`, so the system allocator serves).
    /// Figures taken this way only describe that run.
    #[arg(long, global = true)]
    pub wrap_server: Option<String>,
    /// Seconds-long run of every part with tiny sizes, to check the harness (figures meaningless).
    #[arg(long, global = true)]
    pub smoke: bool,
    /// Where the JSON results go.
    #[arg(long, global = true, default_value = "bench/results")]
    pub out: PathBuf,
    #[command(subcommand)]
    pub command: Part,
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum Part {
    /// Every part below, in order.
    All,
    Chat,
    Tools,
    Stream,
    Ceiling,
    Footprint,
    Callgrind,
    Search,
    Analytics,
    /// Internal: the reference ceiling server.
    #[command(hide = true)]
    ServeCeiling {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long)]
        body_bytes: usize,
    },
}

impl Opts {
    pub fn measure(&self) -> Duration {
        Duration::from_secs(self.secs)
    }

    pub fn warmup(&self) -> Duration {
        Duration::from_secs(self.warmup_secs)
    }

    /// Smoke mode: every size cut down so the whole run takes seconds.
    fn shrink(&mut self) {
        self.secs = 1;
        self.warmup_secs = 0;
        self.concurrency = vec![4];
        self.streams = vec![20];
        self.leak_turns = 500;
        self.callgrind_turns = 0;
        self.corpus = vec![2_000];
    }
}

async fn part(bins: &Bins, opts: &Opts, part: &Part) -> anyhow::Result<Vec<Section>> {
    match part {
        Part::Chat => Ok(vec![chat::run(bins, opts, false).await?]),
        Part::Ceiling => {
            let only_target = Opts { concurrency: vec![64], ..opts.clone() };
            Ok(vec![chat::run(bins, &only_target, false).await?])
        }
        Part::Tools => Ok(vec![chat::run(bins, opts, true).await?]),
        Part::Stream => stream::run(bins, opts).await,
        Part::Footprint => footprint::run(bins, opts).await,
        Part::Callgrind => callgrind::run(bins, opts).await,
        Part::Search => search::run(bins, opts).await,
        Part::Analytics => analytics::run(bins, opts).await,
        Part::All | Part::ServeCeiling { .. } => anyhow::bail!("not a single part"),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut opts = Opts::parse();
    if let Part::ServeCeiling { addr, body_bytes } = opts.command {
        return match ceiling::serve(addr, body_bytes).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if opts.smoke {
        opts.shrink();
    }
    let bins = match Bins::locate() {
        Ok(bins) => bins,
        Err(e) => {
            eprintln!("{e:#}");
            return ExitCode::from(2);
        }
    };
    stream::raise_fd_limit();
    let parts = match &opts.command {
        Part::All => {
            vec![Part::Chat, Part::Tools, Part::Stream, Part::Footprint, Part::Callgrind, Part::Search, Part::Analytics]
        }
        one => vec![one.clone()],
    };
    let mut sections = Vec::new();
    for p in &parts {
        eprintln!("docent-bench: {p:?}…");
        match part(&bins, &opts, p).await {
            Ok(done) => sections.extend(done),
            Err(e) => {
                let mut failed = Section::new(format!("{p:?}").to_lowercase());
                failed.error(1, Some(format!("{e:#}")));
                sections.push(failed);
            }
        }
    }
    let command =
        format!("cargo run --release -p docent-bench -- {}", std::env::args().skip(1).collect::<Vec<_>>().join(" "));
    println!("Docent benchmark, {} ({} cores), {}\n", report::machine(), report::cores(), command);
    println!("{}", report::markdown(&sections));
    match report::write_json(&opts.out, &command, &sections) {
        Ok(path) => eprintln!("docent-bench: results written to {}", path.display()),
        Err(e) => eprintln!("docent-bench: could not write the JSON results: {e:#}"),
    }
    if sections.iter().any(|s| s.errors > 0) { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
