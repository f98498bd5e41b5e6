//! Measuring: latency samples with exact percentiles (samples are few enough to sort), and the
//! CPU time and memory of a process read from `/proc` (the harness's own CPU is the `getrusage`
//! user + system time that the kernel also reports in `/proc/self/stat`).

use std::time::Duration;

/// Latency samples in microseconds.
#[derive(Default)]
pub struct Samples {
    micros: Vec<u64>,
    sorted: bool,
}

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.micros.push(d.as_micros() as u64);
        self.sorted = false;
    }

    pub fn push_micros(&mut self, us: u64) {
        self.micros.push(us);
        self.sorted = false;
    }

    pub fn extend(&mut self, other: Samples) {
        self.micros.extend(other.micros);
        self.sorted = false;
    }

    pub fn len(&self) -> usize {
        self.micros.len()
    }

    /// The `p`-th percentile (0 < p ≤ 100) in milliseconds, nearest rank; 0 without samples.
    pub fn pct_ms(&mut self, p: f64) -> f64 {
        if self.micros.is_empty() {
            return 0.0;
        }
        if !self.sorted {
            self.micros.sort_unstable();
            self.sorted = true;
        }
        let rank = ((p / 100.0) * self.micros.len() as f64).ceil() as usize;
        self.micros[rank.clamp(1, self.micros.len()) - 1] as f64 / 1000.0
    }
}

/// `"self"` or a process id, as `/proc` names it.
fn proc_dir(pid: Option<u32>) -> String {
    pid.map_or_else(|| "/proc/self".to_owned(), |p| format!("/proc/{p}"))
}

/// User + system CPU seconds used so far by a process (`None`: this one).
pub fn cpu_secs(pid: Option<u32>) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("{}/stat", proc_dir(pid))) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    ticks as f64 / rustix::param::clock_ticks_per_second() as f64
}

/// A `kB` line of `/proc/PID/status` (`VmRSS`, `VmHWM`) in MiB.
pub fn status_mib(pid: u32, key: &str) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = text
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok());
    kb.unwrap_or(0) as f64 / 1024.0
}

/// Busy CPU seconds of the whole machine (all cores) since boot, from `/proc/stat`.
fn machine_busy_secs() -> f64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = text.lines().next().and_then(|l| l.strip_prefix("cpu ")) else { return 0.0 };
    let f: Vec<u64> = cpu.split_whitespace().filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    let busy: u64 = [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| f.get(i)).sum();
    busy as f64 / rustix::param::clock_ticks_per_second() as f64
}

/// CPU seconds used over a window.
pub struct CpuUse {
    /// This process (the load generator).
    pub own: f64,
    /// Each watched process, in the order given.
    pub watched: Vec<f64>,
    /// Everything else running on the machine meanwhile (other users' builds, the kernel's work).
    pub others: f64,
}

/// CPU used by this process, by the processes under test and by the rest of the machine over
/// one measured window.
pub struct CpuWindow {
    pids: Vec<u32>,
    start: Vec<f64>,
    own: f64,
    machine: f64,
}

impl CpuWindow {
    pub fn start(pids: &[u32]) -> Self {
        Self {
            pids: pids.to_vec(),
            start: pids.iter().map(|&p| cpu_secs(Some(p))).collect(),
            own: cpu_secs(None),
            machine: machine_busy_secs(),
        }
    }

    pub fn stop(&self) -> CpuUse {
        let watched: Vec<f64> = self.pids.iter().zip(&self.start).map(|(&p, s)| cpu_secs(Some(p)) - s).collect();
        let own = cpu_secs(None) - self.own;
        let machine = machine_busy_secs() - self.machine;
        let others = (machine - own - watched.iter().sum::<f64>()).max(0.0);
        CpuUse { own, watched, others }
    }
}
