//! One measured system: a fake LLM with its script, a fresh `docent serve` on a temporary data
//! directory (SQLite, or a fresh PostgreSQL database with `--postgres`), and a seeded tenant.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::Opts;
use crate::seed::{self, Tenant};
use crate::stack::{self, Bins, FakeScript, Proc, ServerSpec};

pub struct Stack {
    pub server: Proc,
    pub fake: Proc,
    pub tenant: Tenant,
    pub database_url: String,
    pub dir: tempfile::TempDir,
    /// Docent calls the fake model over HTTP/2 (see `FakeScript::llm_http2`).
    pub llm_http2: bool,
}

impl Stack {
    pub async fn start(bins: &Bins, opts: &Opts, script: &FakeScript, corpus: usize) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("docent-bench-").tempdir()?;
        let database_url = match &opts.postgres {
            Some(url) => fresh_postgres(url)?,
            None => format!("sqlite://{}", dir.path().join("docent.db").display()),
        };
        let fake = stack::start_fake(bins, dir.path(), script).await?;
        let llm_http2 = script.llm_http2;
        let wrapper: Vec<String> =
            opts.wrap_server.iter().flat_map(|w| w.split_whitespace()).map(str::to_owned).collect();
        // A wrapped server (a profiler) starts slowly.
        let timeout = Duration::from_secs(if wrapper.is_empty() { 30 } else { 300 });
        let spec = ServerSpec { data_dir: dir.path(), database_url: &database_url, wrapper, llm_http2 };
        let (server, _) = stack::start_server(bins, &spec, timeout).await?;
        let tenant = seed::tenant(server.addr, fake.addr, "northwind", corpus).await?;
        Ok(Self { server, fake, tenant, database_url, dir, llm_http2 })
    }

    pub fn spec(&self) -> ServerSpec<'_> {
        ServerSpec {
            data_dir: self.dir.path(),
            database_url: &self.database_url,
            wrapper: Vec::new(),
            llm_http2: self.llm_http2,
        }
    }

    /// Stops the server and starts a new one on the same database; returns its start-up time.
    pub async fn restart(&mut self, bins: &Bins) -> anyhow::Result<Duration> {
        self.server.stop(Duration::from_secs(10)).await?;
        let (server, took) = stack::start_server(bins, &self.spec(), Duration::from_secs(30)).await?;
        self.server = server;
        Ok(took)
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.server.stop(Duration::from_secs(10)).await?;
        self.fake.stop(Duration::from_secs(2)).await
    }
}

/// Creates `docent_bench_<pid>_<n>` next to the database of `url` (with `psql`), returns its URL.
fn fresh_postgres(url: &str) -> anyhow::Result<String> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!("docent_bench_{}_{}", std::process::id(), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let out = Command::new("psql")
        .args([url, "-qc", &format!("CREATE DATABASE {name}")])
        .output()
        .context("running psql to create the benchmark database")?;
    if !out.status.success() {
        bail!("psql could not create {name}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (head, query) = url.split_once('?').map_or((url, None), |(h, q)| (h, Some(q)));
    let base = head.rsplit_once('/').filter(|(b, _)| b.contains("://") && !b.ends_with('/')).map_or(head, |(b, _)| b);
    Ok(match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    })
}
