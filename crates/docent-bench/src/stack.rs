//! The processes under test: the release `docent` and `docent-fakellm` binaries (found beside
//! this one in `target/release`, never built here), each on a free loopback port, stopped with
//! SIGTERM and killed if they outlive their grace period or the harness, each with its process
//! group (a profiler wrapping the server and the server under it).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

use crate::client::{Conn, Req};
use crate::stats;

pub const ADMIN_TOKEN: &str = "bench-admin-token-0123456789";

/// The binaries under test.
#[derive(Clone)]
pub struct Bins {
    pub docent: PathBuf,
    pub fakellm: PathBuf,
    /// This binary, which also serves the reference ceiling.
    pub bench: PathBuf,
}

impl Bins {
    pub fn locate() -> anyhow::Result<Self> {
        let bench = std::env::current_exe().context("locating docent-bench")?;
        let dir = bench.parent().context("docent-bench has no parent directory")?.to_path_buf();
        let bins = Self { docent: dir.join("docent"), fakellm: dir.join("docent-fakellm"), bench };
        for bin in [&bins.docent, &bins.fakellm] {
            if !bin.is_file() {
                bail!(
                    "{} is missing: the harness measures release binaries and builds nothing itself; run \
                     `cargo build --release -p docent -p docent-fakellm` first",
                    bin.display()
                );
            }
        }
        if !dir.ends_with("release") {
            eprintln!("warning: {} is not a release directory; figures will not be representative", dir.display());
        }
        Ok(bins)
    }
}

/// A loopback address nobody listens on right now.
pub fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// A child process listening on `addr`.
pub struct Proc {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
}

impl Proc {
    pub fn spawn(mut command: Command, addr: SocketAddr, log: &Path) -> anyhow::Result<Self> {
        let log = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        // A group of its own, so a wrapper (a profiler) and the server it runs get the signals
        // together: a wrapper that detaches on SIGTERM (strace) left the server running.
        command.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log).kill_on_drop(true).process_group(0);
        let child = command.spawn().context("starting a process under test")?;
        let pid = child.id().context("the process exited at once")?;
        Ok(Self { child, addr, pid })
    }

    pub fn rss_mib(&self) -> f64 {
        stats::status_mib(self.pid, "VmRSS")
    }

    pub fn peak_rss_mib(&self) -> f64 {
        stats::status_mib(self.pid, "VmHWM")
    }

    /// Waits until the port accepts connections and `path` (if any) answers 200.
    pub async fn wait_ready(&mut self, path: Option<&str>, timeout: Duration) -> anyhow::Result<Duration> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("the process on {} exited during start-up ({status})", self.addr);
            }
            if let Ok(mut conn) = Conn::open(self.addr).await {
                let Some(path) = path else { return Ok(start.elapsed()) };
                if let Ok((status, _)) = conn.call(&Req::get(path)).await
                    && status.is_success()
                {
                    return Ok(start.elapsed());
                }
            }
            if start.elapsed() > timeout {
                bail!("the process on {} was not ready after {timeout:?}", self.addr);
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// SIGTERM, then SIGKILL after `grace`.
    pub async fn stop(&mut self, grace: Duration) -> anyhow::Result<()> {
        self.signal_group(rustix::process::Signal::TERM);
        if tokio::time::timeout(grace, self.child.wait()).await.is_err() {
            self.signal_group(rustix::process::Signal::KILL);
            self.child.kill().await?;
        }
        Ok(())
    }

    /// Signals the process and whatever it started (its process group).
    fn signal_group(&self, signal: rustix::process::Signal) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.pid as i32) {
            let _ = rustix::process::kill_process_group(pid, signal);
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // Only while the leader is unreaped is the group surely still this one's.
        if matches!(self.child.try_wait(), Ok(None)) {
            self.signal_group(rustix::process::Signal::KILL);
        }
    }
}

/// How the fake LLM answers every request.
#[derive(Clone, Default)]
pub struct FakeScript {
    /// `(tokens, gap ms)`: a streamed answer of `tokens` chunks; `None`: "ok" at once.
    pub tokens: Option<(usize, u64)>,
    /// `NAME:JSON`: a tool call first, the text once the request carries the tool's result.
    pub tool_call: Option<String>,
    /// Docent calls the fake over HTTP/2 only (`outbound.llm_http2_only`, h2c), every call in
    /// flight sharing one connection; otherwise over HTTP/1.1 (Docent's default), a connection
    /// per call in flight, which costs less CPU per call.
    pub llm_http2: bool,
}

pub async fn start_fake(bins: &Bins, dir: &Path, script: &FakeScript) -> anyhow::Result<Proc> {
    let addr = free_addr()?;
    let mut command = Command::new(&bins.fakellm);
    command.arg("--addr").arg(addr.to_string());
    if let Some((tokens, gap)) = script.tokens {
        command.args(["--tokens", &tokens.to_string(), "--token-delay-ms", &gap.to_string()]);
    }
    if let Some(call) = &script.tool_call {
        command.args(["--tool-call", call]);
    }
    let mut proc = Proc::spawn(command, addr, &dir.join("fakellm.log"))?;
    proc.wait_ready(None, Duration::from_secs(10)).await?;
    Ok(proc)
}

/// Where and how `docent serve` runs.
pub struct ServerSpec<'a> {
    pub data_dir: &'a Path,
    pub database_url: &'a str,
    /// A command the server runs under (`valgrind --tool=callgrind …`), or empty.
    pub wrapper: Vec<String>,
    /// Model calls over HTTP/2 only (`outbound.llm_http2_only`): many streams, few sockets.
    pub llm_http2: bool,
}

impl ServerSpec<'_> {
    pub fn command(&self, bins: &Bins, addr: SocketAddr) -> Command {
        let mut command = match self.wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(&bins.docent);
                c
            }
            None => Command::new(&bins.docent),
        };
        command.arg("serve");
        self.env(&mut command, addr);
        command
    }

    /// The environment every `docent` command of the run gets: database, admin token, limits.
    pub fn env(&self, command: &mut Command, addr: SocketAddr) {
        command
            .env("DOCENT_ADDR", addr.to_string())
            .env("DOCENT_DATABASE_URL", self.database_url)
            .env("DOCENT_DATA_DIR", self.data_dir)
            .env("DOCENT_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("DOCENT_CHAT__PER_MINUTE", "1000000000")
            .env("DOCENT_CHAT__PER_HOUR", "1000000000")
            .env("DOCENT_OUTBOUND__ALLOW_PRIVATE", "true")
            .env("DOCENT_OUTBOUND__LLM_HTTP2_ONLY", self.llm_http2.to_string())
            .env_remove("DOCENT_CONFIG")
            .env_remove("DOCENT_LLM__PROVIDER");
    }
}

/// Starts `docent serve` and waits for `/readyz`; returns the process and its start-up time.
pub async fn start_server(bins: &Bins, spec: &ServerSpec<'_>, timeout: Duration) -> anyhow::Result<(Proc, Duration)> {
    let addr = free_addr()?;
    let log = spec.data_dir.join(format!("docent-{}.log", addr.port()));
    let start = Instant::now();
    let mut proc = Proc::spawn(spec.command(bins, addr), addr, &log)?;
    proc.wait_ready(Some("/readyz"), timeout).await.with_context(|| format!("see {}", log.display()))?;
    Ok((proc, start.elapsed()))
}
