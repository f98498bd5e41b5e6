//! The embedded SQLite backend: WAL, a busy timeout, foreign keys on, one writer connection
//! (writes start with `BEGIN IMMEDIATE`) and a pool of readers. The chat turn's writes go
//! through a group-commit task (`write_then_read`): whatever turns are waiting when the writer
//! comes free are sent together, as one transaction in one command.

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

/// Most writes sent in one group (SQLite allows 32,766 bound values per command; a turn's
/// writes use about twenty).
const MAX_GROUP: usize = 32;

impl ThisStore {
    /// Runs `batch` then `selects` in one transaction and returns each select's rows. The work
    /// joins the writes waiting for the writer connection: they are sent together as one
    /// command, `BEGIN IMMEDIATE`, each caller's statements and selects, `COMMIT`, so a busy
    /// writer pays one round trip to its thread and one commit for many turns. If the group
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

/// Sends `writes` as one transaction in one command; returns, per write, its selects' rows.
async fn run_group(writer: &Pool<Sqlite>, writes: &[GroupedWrite]) -> Result<Vec<Vec<Vec<DbRow>>>> {
    let mut sql = String::from("BEGIN IMMEDIATE;\n");
    let mut args = Vec::new();
    // Each select's rows carry its number across the group: the command returns one stream.
    let mut part = 0usize;
    for write in writes {
        write.batch.append_to(&mut sql, &mut args);
        for (select, select_args) in &write.selects {
            let tagged = select.strip_prefix("SELECT ").map(|rest| format!("SELECT {part} AS write_part, {rest}"));
            let tagged = tagged.ok_or_else(|| crate::StorageError::Config(format!("not a SELECT: {select}")))?;
            renumber_into(&mut sql, &tagged, args.len());
            sql.push_str(";\n");
            args.extend(select_args.iter().cloned());
            part += 1;
        }
    }
    sql.push_str("COMMIT;");
    let mut conn = writer.acquire().await?;
    // A group's command text changes with its make-up, so only a single write's is worth keeping
    // prepared (cached group variants held tens of MiB of prepared statements).
    let q = sqlx::query::<Db>(sqlx::AssertSqlSafe(sql)).persistent(writes.len() == 1);
    // `fetch_all` drives every statement, the `COMMIT` included.
    let rows = match bind_sql_args!(q, args).fetch_all(&mut *conn).await {
        Ok(rows) => rows,
        Err(e) => {
            if let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
                tracing::debug!(error = %rollback, "rollback after a failed write (none may be open)");
            }
            return Err(e.into());
        }
    };
    let mut parts: Vec<Vec<DbRow>> = (0..part).map(|_| Vec::new()).collect();
    for row in rows {
        let at: i64 = sqlx::Row::try_get(&row, "write_part")?;
        parts
            .get_mut(usize::try_from(at).unwrap_or(usize::MAX))
            .ok_or_else(|| crate::StorageError::corrupt(format!("a row of select {at} of {part}")))?
            .push(row);
    }
    let mut parts = parts.into_iter();
    Ok(writes.iter().map(|w| parts.by_ref().take(w.selects.len()).collect()).collect())
}
