//! SQLite's group commit: the turns' writes run on a thread of their own, with a connection of
//! its own, one transaction for whatever turns are waiting when it comes free. The whole group
//! runs on that thread without a hand-over per statement: through sqlx each command was a round
//! trip between the runtime and the connection's thread, with the group-commit task queued
//! behind the HTTP work between every two, and that chain was what capped a busy server.
//!
//! Both writers take the store's write lock (`SqliteStore::begin_write` for sqlx's), so neither
//! meets the other's open transaction and sleeps in SQLite's busy handler.

use std::path::Path;
use std::sync::Arc;

use rusqlite::types::ValueRef;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::checkpoint::{self, Committed};
use super::{OwnedRow, Sql, SqlArg, WriteBatch};
use crate::{Result, StorageError};

/// One caller's writes and reads, and where its rows go.
pub(super) struct GroupedWrite {
    pub batch: WriteBatch,
    pub selects: Vec<(Sql, Vec<SqlArg>)>,
    pub reply: oneshot::Sender<Result<Vec<Vec<OwnedRow>>>>,
}

/// Most writes run in one transaction: a failed group is retried write by write, which a bound
/// keeps short (128 measured no faster at c=64 or c=256).
const MAX_GROUP: usize = 32;

/// Distinct statement texts kept prepared: a turn's writes have about a dozen.
const PREPARED: usize = 64;

/// Opens the writer's connection to the database at `path` and starts its thread, which ends
/// when the returned sender is dropped; `committed` hears of each commit.
pub(super) fn start(
    path: &Path,
    lock: Arc<Mutex<()>>,
    committed: Committed,
) -> Result<mpsc::UnboundedSender<GroupedWrite>> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
    checkpoint::configure(&conn)?;
    conn.set_prepared_statement_cache_capacity(PREPARED);
    let (sender, queue) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("sqlite-group-commit".into())
        .spawn(move || run(&conn, queue, &lock, &committed))
        .map_err(|e| StorageError::Config(format!("cannot start the SQLite writer: {e}")))?;
    Ok(sender)
}

/// Takes the first waiting write and every other one already queued (up to `MAX_GROUP`), and
/// runs them as one transaction. If the group fails, it is rolled back and each write is retried
/// alone, so one caller's failure is only its own.
fn run(
    conn: &rusqlite::Connection,
    mut queue: mpsc::UnboundedReceiver<GroupedWrite>,
    lock: &Mutex<()>,
    committed: &Committed,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = queue.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP
            && let Ok(next) = queue.try_recv()
        {
            group.push(next);
        }
        let held = lock.blocking_lock();
        let together = if group.len() > 1 { Some(run_group(conn, &group)) } else { None };
        let results = match together {
            Some(Ok(results)) => results.into_iter().map(Ok).collect(),
            _ => {
                if let Some(Err(e)) = together {
                    tracing::debug!(error = %e, writes = group.len(), "a grouped write failed; retrying each alone");
                }
                let alone =
                    |write| run_group(conn, std::slice::from_ref(write)).map(|mut r| r.pop().unwrap_or_default());
                group.iter().map(alone).collect::<Vec<_>>()
            }
        };
        drop(held);
        committed.notify();
        for (write, result) in group.drain(..).zip(results) {
            let _ = write.reply.send(result);
        }
    }
}

/// Runs `writes` as one transaction and returns each one's selects' rows; rolls back on failure.
fn run_group(conn: &rusqlite::Connection, writes: &[GroupedWrite]) -> Result<Vec<Vec<Vec<OwnedRow>>>> {
    let outcome = (|| {
        conn.prepare_cached("BEGIN IMMEDIATE")?.raw_execute()?;
        let results = writes.iter().map(|write| run_write(conn, write)).collect::<Result<Vec<_>>>()?;
        conn.prepare_cached("COMMIT")?.raw_execute()?;
        Ok(results)
    })();
    if outcome.is_err()
        && !conn.is_autocommit()
        && let Err(rollback) = conn.execute_batch("ROLLBACK")
    {
        tracing::warn!(error = %rollback, "rollback after a failed group of writes");
    }
    outcome
}

/// Runs one write's statements, then its selects; returns the selects' rows.
fn run_write(conn: &rusqlite::Connection, write: &GroupedWrite) -> Result<Vec<Vec<OwnedRow>>> {
    for (sql, args) in &write.batch.statements {
        let mut statement = conn.prepare_cached(sql)?;
        bind(&mut statement, args)?;
        statement.raw_execute()?;
    }
    let mut parts = Vec::with_capacity(write.selects.len());
    for (sql, args) in &write.selects {
        let mut statement = conn.prepare_cached(sql)?;
        bind(&mut statement, args)?;
        let columns: Arc<[String]> = statement.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = statement.raw_query();
        let mut part = Vec::new();
        while let Some(row) = rows.next()? {
            let values = columns.iter().enumerate().map(|(at, name)| json_value(row.get_ref(at)?, name));
            part.push(OwnedRow { columns: columns.clone(), values: values.collect::<Result<_>>()? });
        }
        parts.push(part);
    }
    Ok(parts)
}

/// Binds `args` the way sqlx-sqlite does: `$n` is the n-th argument wherever it appears.
fn bind(statement: &mut rusqlite::CachedStatement<'_>, args: &[SqlArg]) -> Result<()> {
    for index in 1..=statement.parameter_count() {
        let name = statement.parameter_name(index).unwrap_or("?");
        let arg =
            name.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()).and_then(|n| args.get(n.checked_sub(1)?));
        let Some(arg) = arg else {
            return Err(StorageError::Config(format!("no argument for {name} of {} given", args.len())));
        };
        match arg {
            SqlArg::Text(v) => statement.raw_bind_parameter(index, v),
            SqlArg::OptText(v) => statement.raw_bind_parameter(index, v),
            SqlArg::Int(v) => statement.raw_bind_parameter(index, v),
            SqlArg::Bool(v) => statement.raw_bind_parameter(index, v),
        }?;
    }
    Ok(())
}

fn json_value(value: ValueRef<'_>, column: &str) -> Result<serde_json::Value> {
    Ok(match value {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(n) => n.into(),
        ValueRef::Real(x) => x.into(),
        ValueRef::Text(text) => String::from_utf8(text.to_vec())
            .map_err(|_| StorageError::corrupt(format!("column {column} is not UTF-8")))?
            .into(),
        ValueRef::Blob(_) => return Err(StorageError::corrupt(format!("column {column} is a blob"))),
    })
}
