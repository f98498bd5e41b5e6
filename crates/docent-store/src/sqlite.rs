//! The embedded SQLite backend: WAL, a busy timeout, foreign keys on, one writer connection
//! (writes start with `BEGIN IMMEDIATE`) and a pool of readers. The chat turn's writes go
//! through a group-commit task (`write_then_read`): whatever turns are waiting when the writer
//! comes free run together as one transaction, each turn's statements one command.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite, Transaction};
use tokio::sync::{mpsc, oneshot};

use crate::Result;

type Db = Sqlite;

pub struct SqliteStore {
    reader: Pool<Sqlite>,
    writer: Pool<Sqlite>,
    /// Work for the group-commit task.
    grouped: mpsc::UnboundedSender<GroupedWrite>,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| crate::StorageError::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        let (grouped, queue) = mpsc::unbounded_channel();
        tokio::spawn(group_commit(writer.clone(), queue));
        Ok(Self { reader, writer, grouped })
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }
}

type ThisStore = SqliteStore;
/// SQLite runs several statements in one command (see `WriteBatch`).
const MULTI_STATEMENT_COMMANDS: bool = true;
/// Writers are serialised by `BEGIN IMMEDIATE`; there is no row locking clause.
const FOR_UPDATE: &str = "";
/// A conversation's messages (`m`) as one JSON array of `[id, role, content, status,
/// created_at]` arrays, oldest first.
const MESSAGES_AS_JSON: &str = "COALESCE(json_group_array(json_array(m.id, m.role, m.content, m.status, \
     m.created_at) ORDER BY m.created_at, m.id), '[]')";
include!("sql.rs");
include!("sql_segments.rs");
include!("sql_tokens.rs");
include!("sql_tools.rs");
include!("sql_visitors.rs");
include!("sql_chat.rs");
include!("sql_turns.rs");
include!("sql_jobs.rs");
include!("sql_query.rs");
include!("sql_history.rs");
include!("sql_analytics.rs");
include!("sql_feedback.rs");
include!("sql_knowledge.rs");
include!("sql_corpus.rs");
include!("sql_products.rs");
include!("sql_quotes.rs");

/// One caller's writes and reads for the group-commit task, and where its rows go.
struct GroupedWrite {
    batch: WriteBatch,
    selects: Vec<(String, Vec<SqlArg>)>,
    reply: oneshot::Sender<Result<Vec<Vec<DbRow>>>>,
}

/// Most writes run in one transaction: a failed group is retried write by write, which a bound
/// keeps short (128 measured no faster at c=64 or c=256).
const MAX_GROUP: usize = 32;

impl ThisStore {
    /// Runs `batch` then `selects` in one transaction and returns each select's rows. The work
    /// joins the writes waiting for the writer connection: they run together as one
    /// transaction (see `run_group`), so a busy writer pays one commit for many turns. If the group
    /// fails, it is rolled back and each write is retried alone, so one caller's failure is only
    /// its own. The work goes on if the caller goes away: it cannot be left half done.
    async fn write_then_read(&self, batch: WriteBatch, selects: Vec<(String, Vec<SqlArg>)>) -> Result<Vec<Vec<DbRow>>> {
        let (reply, rows) = oneshot::channel();
        let closed = || crate::StorageError::Config("the SQLite writer has stopped".into());
        self.grouped.send(GroupedWrite { batch, selects, reply }).map_err(|_| closed())?;
        rows.await.map_err(|_| closed())?
    }
}

/// The group-commit task: takes the first waiting write and every other one already queued (up
/// to `MAX_GROUP`), and runs them as one transaction.
async fn group_commit(writer: Pool<Sqlite>, mut queue: mpsc::UnboundedReceiver<GroupedWrite>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = queue.recv().await {
        group.push(first);
        while group.len() < MAX_GROUP
            && let Ok(next) = queue.try_recv()
        {
            group.push(next);
        }
        if group.len() > 1 {
            match run_group(&writer, &group).await {
                Ok(results) => {
                    for (write, rows) in group.drain(..).zip(results) {
                        let _ = write.reply.send(Ok(rows));
                    }
                    continue;
                }
                Err(e) => {
                    tracing::debug!(error = %e, writes = group.len(), "a grouped write failed; retrying each alone")
                }
            }
        }
        for write in group.drain(..) {
            let result =
                run_group(&writer, std::slice::from_ref(&write)).await.map(|mut r| r.pop().unwrap_or_default());
            let _ = write.reply.send(result);
        }
    }
}

/// Runs `writes` as one transaction. A lone write goes as one command, `BEGIN IMMEDIATE`, its
/// statements, `COMMIT`; a group as `BEGIN IMMEDIATE`, one command per write, `COMMIT`. Each
/// write's command text is the same for every write of its kind, so its statements stay prepared
/// on the connection: compiling them afresh for every group took more of the writer thread than
/// running them, and far more than the extra round trips to it.
async fn run_group(writer: &Pool<Sqlite>, writes: &[GroupedWrite]) -> Result<Vec<Vec<Vec<DbRow>>>> {
    let mut conn = writer.acquire().await?;
    let outcome = match writes {
        [write] => run_write(&mut conn, write, true).await.map(|rows| vec![rows]),
        _ => run_writes(&mut conn, writes).await,
    };
    if outcome.is_err()
        && let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut *conn).await
    {
        tracing::debug!(error = %rollback, "rollback after a failed write (none may be open)");
    }
    outcome
}

async fn run_writes(conn: &mut sqlx::SqliteConnection, writes: &[GroupedWrite]) -> Result<Vec<Vec<Vec<DbRow>>>> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let mut results = Vec::with_capacity(writes.len());
    for write in writes {
        results.push(run_write(conn, write, false).await?);
    }
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    Ok(results)
}

/// Runs one write's statements and selects as one command (in its own transaction when
/// `alone`); returns its selects' rows.
async fn run_write(conn: &mut sqlx::SqliteConnection, write: &GroupedWrite, alone: bool) -> Result<Vec<Vec<DbRow>>> {
    let mut sql = String::from(if alone { "BEGIN IMMEDIATE;\n" } else { "" });
    let mut args = Vec::new();
    write.batch.append_to(&mut sql, &mut args);
    // Each select's rows carry its number: the command returns one stream of rows.
    for (part, (select, select_args)) in write.selects.iter().enumerate() {
        let tagged = select.strip_prefix("SELECT ").map(|rest| format!("SELECT {part} AS write_part, {rest}"));
        let tagged = tagged.ok_or_else(|| crate::StorageError::Config(format!("not a SELECT: {select}")))?;
        renumber_into(&mut sql, &tagged, args.len());
        sql.push_str(";\n");
        args.extend(select_args.iter().cloned());
    }
    if alone {
        sql.push_str("COMMIT;");
    }
    let q = sqlx::query::<Db>(sqlx::AssertSqlSafe(sql));
    // `fetch_all` drives every statement, the `COMMIT` included.
    let rows = bind_sql_args!(q, args).fetch_all(&mut *conn).await?;
    let mut parts: Vec<Vec<DbRow>> = write.selects.iter().map(|_| Vec::new()).collect();
    for row in rows {
        let at: i64 = sqlx::Row::try_get(&row, "write_part")?;
        let count = parts.len();
        parts
            .get_mut(usize::try_from(at).unwrap_or(usize::MAX))
            .ok_or_else(|| crate::StorageError::corrupt(format!("a row of select {at} of {count}")))?
            .push(row);
    }
    Ok(parts)
}
