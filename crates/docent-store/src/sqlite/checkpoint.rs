//! WAL checkpoints off the writers' path. SQLite's automatic checkpoint runs inside the commit
//! that crosses its threshold: that commit copies the WAL into the database and waits for two
//! fsyncs, and every turn queued behind the group-commit thread waits with it. Here no
//! connection checkpoints on commit (`wal_autocheckpoint = 0`); a thread of its own runs
//! passive checkpoints instead, which copy what is committed while the writers go on appending.

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
/// cut back to 64 MiB when it restarts (it grows past that only while readers hold it back).
pub(super) const PRAGMAS: [(&str, &str); 2] = [("wal_autocheckpoint", "0"), ("journal_size_limit", "67108864")];

/// Applies `PRAGMAS` to a rusqlite connection (sqlx's take them in their connect options).
pub(super) fn configure(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
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
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    configure(&conn)?;
    let (sender, commits) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || run(&conn, &commits))
        .map_err(|e| StorageError::Config(format!("cannot start the SQLite checkpointer: {e}")))?;
    Ok(Committed(sender))
}

/// Waits for a commit (or `IDLE`), then checkpoints once `INTERVAL` has passed since the last
/// checkpoint; a last one when the writers are gone.
fn run(conn: &rusqlite::Connection, commits: &mpsc::Receiver<()>) {
    let mut last = Instant::now();
    while let Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) = commits.recv_timeout(IDLE) {
        std::thread::sleep(INTERVAL.saturating_sub(last.elapsed()));
        checkpoint(conn);
        last = Instant::now();
    }
    checkpoint(conn);
}

/// A passive checkpoint: copies the committed frames no reader still needs, without waiting
/// for (or blocking) readers and writers.
fn checkpoint(conn: &rusqlite::Connection) {
    let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
    });
    match result {
        Ok((_, log, done)) if log > 0 && done < log => {
            tracing::trace!(log, done, "a checkpoint left frames a reader still uses");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_len(path: &Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    /// Commits stay in the WAL (nothing checkpoints on commit) until the checkpointer hears of
    /// them and copies them into the database file.
    #[test]
    fn commits_reach_the_database_file_through_the_checkpointer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        configure(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t (v TEXT)").unwrap();
        let committed = start(&path).unwrap();
        std::thread::sleep(INTERVAL * 2);
        let before = file_len(&path);
        // More pages than SQLite's default threshold of 1,000 for a checkpoint on commit.
        for _ in 0..1_500 {
            conn.execute("INSERT INTO t (v) VALUES (?1)", ["x".repeat(3_000)]).unwrap();
        }
        assert_eq!(file_len(&path), before, "no commit checkpoints by itself");
        committed.notify();
        let deadline = Instant::now() + Duration::from_secs(5);
        while file_len(&path) <= before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(file_len(&path) > before + 4_000_000, "the rows reached the database file");
    }
}
