//! WAL checkpoints off the writers' path. SQLite's automatic checkpoint runs inside the commit
//! that crosses its threshold: that commit copies the WAL into the database and waits for two
//! fsyncs, and every turn queued behind the group-commit thread waits with it. Here no
//! connection checkpoints on commit (`wal_autocheckpoint = 0`); a thread of its own runs
//! passive checkpoints instead, which copy what is committed while the writers go on appending.
//!
//! A passive checkpoint never starts the WAL over: SQLite writes from the file's start again only
//! when a write begins with every frame copied and no reader on the WAL, and under steady load
//! some reader always is. The WAL then grew without end (2.6 GB after a minute at 5,000
//! turns/s) and every page read searched a longer WAL index (c=64 fell from 6,000 to 2,600
//! turns/s in five minutes). Past `RESTART_FRAMES` the checkpointer runs a restarting one,
//! which holds new writes back until the readers of the WAL are done (a few milliseconds).

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::{Result, StorageError};

/// The shortest time between two checkpoints: each one fsyncs the WAL and the database, so
/// under a steady stream of commits they come at this pace (about 1,000 turns of WAL at a
/// few thousand turns a second), not one per commit.
const INTERVAL: Duration = Duration::from_millis(200);

/// The longest time between two checkpoints, for what sqlx's writer commits (it does not
/// notify): on a database with nothing new to copy, a checkpoint is a no-op.
const IDLE: Duration = Duration::from_secs(1);

/// The pragmas every connection of the store runs: no checkpoint on commit, and the WAL file
/// cut back to 64 MiB when it restarts.
pub(super) const PRAGMAS: [(&str, &str); 2] = [("wal_autocheckpoint", "0"), ("journal_size_limit", "67108864")];

/// WAL frames (pages of 4 KiB) past which the checkpointer makes the WAL start over: 256 MiB,
/// about five seconds of turns at 5,000 a second. Each restart holds the writers back for a
/// moment; at 64 MiB they came every second or so and c=64's p99 rose by a fifth. Seen at c=64
/// (4,500 turns a second, `docent_store=debug`): every passive checkpoint copied the whole WAL
/// (20,000 frames a second) yet the WAL never started over by itself, and each restart held
/// the writers 10 to 14 ms, once every 3.7 s.
const RESTART_FRAMES: i64 = 65_536;

/// The longest a restarting checkpoint waits for the WAL's readers (and holds writers back).
const RESTART_WAIT: Duration = Duration::from_millis(100);

/// How long every connection of the store waits for a lock.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Applies `BUSY_TIMEOUT` and `PRAGMAS` to a rusqlite connection (sqlx's take them in their
/// connect options).
pub(super) fn configure(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    PRAGMAS.into_iter().try_for_each(|(name, value)| conn.pragma_update(None, name, value))
}

/// Tells the checkpointer that commits landed; never blocks.
#[derive(Clone)]
pub(super) struct Committed(mpsc::SyncSender<()>);

impl Committed {
    pub(super) fn notify(&self) {
        let _ = self.0.try_send(());
    }
}

/// Opens the checkpointer's connection to the database at `path` and starts its thread, which
/// ends once every `Committed` is dropped (after a last checkpoint).
pub(super) fn start(path: &Path) -> Result<Committed> {
    start_with(path, RESTART_FRAMES)
}

fn start_with(path: &Path, restart_frames: i64) -> Result<Committed> {
    let conn = rusqlite::Connection::open(path)?;
    configure(&conn)?;
    let (sender, commits) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || run(&conn, &commits, restart_frames))
        .map_err(|e| StorageError::Config(format!("cannot start the SQLite checkpointer: {e}")))?;
    Ok(Committed(sender))
}

/// Waits for a commit (or `IDLE`), then checkpoints once `INTERVAL` has passed since the last
/// checkpoint; a last one when the writers are gone.
fn run(conn: &rusqlite::Connection, commits: &mpsc::Receiver<()>, restart_frames: i64) {
    let mut last = Instant::now();
    while let Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) = commits.recv_timeout(IDLE) {
        std::thread::sleep(INTERVAL.saturating_sub(last.elapsed()));
        if checkpoint(conn, Mode::Passive).is_some_and(|log| log > restart_frames) {
            // Writers wait while a restart waits for readers: at most `RESTART_WAIT`, then
            // the restart gives up until the next round.
            let _ = conn.busy_timeout(RESTART_WAIT);
            checkpoint(conn, Mode::Restart);
            let _ = conn.busy_timeout(BUSY_TIMEOUT);
        }
        last = Instant::now();
    }
    checkpoint(conn, Mode::Passive);
}

/// How much a checkpoint does.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Copies the committed frames no reader still needs, without waiting for (or blocking)
    /// readers and writers.
    Passive,
    /// Also waits (blocking writers) until no reader uses the WAL, so that the next write
    /// starts it over.
    Restart,
}

impl Mode {
    fn pragma(self) -> &'static str {
        match self {
            Mode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
            Mode::Restart => "PRAGMA wal_checkpoint(RESTART)",
        }
    }
}

/// A checkpoint in `mode`; returns the WAL's length in frames.
fn checkpoint(conn: &rusqlite::Connection, mode: Mode) -> Option<i64> {
    let started = Instant::now();
    let result = conn
        .query_row(mode.pragma(), [], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)));
    match result {
        Ok((busy, log, done)) => {
            // `done` short of `log`: frames a reader still uses were left for the next one.
            let took_us = started.elapsed().as_micros() as u64;
            tracing::debug!(?mode, busy, log, done, took_us, "WAL checkpoint");
            Some(log)
        }
        Err(e) => {
            tracing::warn!(error = %e, ?mode, "WAL checkpoint failed");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_len(path: &Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    /// A WAL database configured as the store's, with one table `t (v TEXT)`.
    fn database() -> (tempfile::TempDir, std::path::PathBuf, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        configure(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t (v TEXT)").unwrap();
        (dir, path, conn)
    }

    /// Commits stay in the WAL (nothing checkpoints on commit) until the checkpointer hears of
    /// them and copies them into the database file.
    #[test]
    fn commits_reach_the_database_file_through_the_checkpointer() {
        let (_dir, path, conn) = database();
        let before = file_len(&path);
        // More pages than SQLite's default threshold of 1,000 for a checkpoint on commit.
        for _ in 0..1_500 {
            conn.execute("INSERT INTO t (v) VALUES (?1)", ["x".repeat(3_000)]).unwrap();
        }
        assert_eq!(file_len(&path), before, "no commit checkpoints by itself");
        let committed = start(&path).unwrap();
        committed.notify();
        let reached = || file_len(&path) > before + 4_000_000;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !reached() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(reached(), "the rows reached the database file");
    }

    /// Readers that always overlap keep passive checkpoints from ever starting the WAL over;
    /// past its bound the checkpointer makes it start over, so it stops growing.
    #[test]
    fn the_wal_starts_over_under_readers_that_never_pause() {
        let (dir, path, conn) = database();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        // Two readers whose transactions overlap: at any moment one of them reads the WAL.
        let readers: Vec<_> = (0..2)
            .map(|i| {
                let (path, stop) = (path.clone(), stop.clone());
                std::thread::spawn(move || {
                    let reader = rusqlite::Connection::open(&path).unwrap();
                    std::thread::sleep(Duration::from_millis(i * 5));
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        reader.execute_batch("BEGIN").unwrap();
                        reader.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).unwrap();
                        std::thread::sleep(Duration::from_millis(10));
                        reader.execute_batch("COMMIT").unwrap();
                    }
                })
            })
            .collect();
        let restart_frames = 500;
        let committed = start_with(&path, restart_frames).unwrap();
        let wal = dir.path().join("db.sqlite-wal");
        let mut longest = 0;
        // Ten times the bound's worth of pages, committed a few at a time as turns are.
        for _ in 0..1_000 {
            for _ in 0..5 {
                conn.execute("INSERT INTO t (v) VALUES (?1)", ["x".repeat(3_000)])
                    .unwrap_or_else(|e| panic!("a write failed: {e}"));
            }
            committed.notify();
            longest = longest.max(file_len(&wal));
            std::thread::sleep(Duration::from_millis(1));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        readers.into_iter().for_each(|r| r.join().unwrap());
        // A restart that finds the readers slow gives up until the next round, so the WAL may
        // pass the bound for a while; without restarts it grows to ~60 MB here.
        let bound = 16 * restart_frames as u64 * 4_096;
        assert!(longest < bound, "the WAL grew to {longest} bytes, over {bound}");
    }
}
