//! The closed-loop load generator: `concurrency` virtual users, each on its own keep-alive
//! connection, sending its next request as soon as the previous answer is read. A warm-up period
//! runs first; only requests started inside the measured window count, and the CPU of the client
//! and of the processes under test is read over that same window.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::StatusCode;

use crate::client::{Conn, Req};
use crate::stats::{CpuWindow, Samples};

/// Builds a virtual user's `n`-th request.
pub type MakeReq = Arc<dyn Fn(usize, u64) -> Req + Send + Sync>;
/// Whether an answer is a success.
pub type Check = Arc<dyn Fn(StatusCode, &Bytes) -> bool + Send + Sync>;

pub struct Load {
    pub addr: SocketAddr,
    pub concurrency: usize,
    pub warmup: Duration,
    pub measure: Duration,
    pub make: MakeReq,
    pub check: Check,
    /// Processes whose CPU time is read over the measured window (server, fake).
    pub watch: Vec<u32>,
}

pub struct Outcome {
    pub concurrency: usize,
    /// Requests started and answered inside the measured window.
    pub count: u64,
    /// Failed requests over the whole run, warm-up included.
    pub errors: u64,
    pub first_error: Option<String>,
    pub secs: f64,
    pub latency: Samples,
    pub client_cpu: f64,
    /// CPU seconds of each watched process over the window.
    pub watched_cpu: Vec<f64>,
    /// CPU seconds used by the rest of the machine over the window (noise).
    pub other_cpu: f64,
}

impl Outcome {
    pub fn per_sec(&self) -> f64 {
        self.count as f64 / self.secs
    }

    /// CPU milliseconds of watched process `i` per measured request.
    pub fn cpu_ms_per_request(&self, i: usize) -> f64 {
        self.watched_cpu.get(i).copied().unwrap_or(0.0) * 1000.0 / self.count.max(1) as f64
    }
}

struct UserResult {
    latency: Samples,
    errors: u64,
    first_error: Option<String>,
}

async fn user(load: Arc<Load>, id: usize, window: Instant, end: Instant) -> UserResult {
    let mut result = UserResult { latency: Samples::default(), errors: 0, first_error: None };
    let mut conn: Option<Conn> = None;
    let mut n = 0;
    while Instant::now() < end {
        let req = (load.make)(id, n);
        n += 1;
        let start = Instant::now();
        let answer = match conn.as_mut() {
            Some(c) => c.call(&req).await,
            None => match Conn::open(load.addr).await {
                Ok(c) => conn.insert(c).call(&req).await,
                Err(e) => Err(e),
            },
        };
        let took = start.elapsed();
        let failure = match answer {
            Ok((status, body)) if (load.check)(status, &body) => None,
            Ok((status, body)) => Some(format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)]))),
            Err(e) => {
                conn = None;
                Some(format!("{e:#}"))
            }
        };
        match failure {
            None if start >= window && start + took <= end => result.latency.push(took),
            None => {}
            Some(message) => {
                result.errors += 1;
                result.first_error.get_or_insert(message);
            }
        }
    }
    result
}

/// Runs the load and gathers the figures.
pub async fn run(load: Load) -> Outcome {
    let load = Arc::new(load);
    let window = Instant::now() + load.warmup;
    let end = window + load.measure;
    let users: Vec<_> = (0..load.concurrency).map(|id| tokio::spawn(user(load.clone(), id, window, end))).collect();
    tokio::time::sleep_until(window.into()).await;
    let cpu = CpuWindow::start(&load.watch);
    tokio::time::sleep_until(end.into()).await;
    let used = cpu.stop();
    let mut outcome = Outcome {
        concurrency: load.concurrency,
        count: 0,
        errors: 0,
        first_error: None,
        secs: load.measure.as_secs_f64(),
        latency: Samples::default(),
        client_cpu: used.own,
        watched_cpu: used.watched,
        other_cpu: used.others,
    };
    for handle in users {
        match handle.await {
            Ok(r) => {
                outcome.errors += r.errors;
                if outcome.first_error.is_none() {
                    outcome.first_error = r.first_error;
                }
                outcome.latency.extend(r.latency);
            }
            Err(e) => {
                outcome.errors += 1;
                outcome.first_error.get_or_insert(format!("a virtual user panicked: {e}"));
            }
        }
    }
    outcome.count = outcome.latency.len() as u64;
    outcome
}
