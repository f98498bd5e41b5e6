//! The embedded SQLite backend: WAL, a busy timeout, foreign keys on, one writer connection
//! (writes start with `BEGIN IMMEDIATE`) and a pool of readers.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite, Transaction};

use crate::Result;

type Db = Sqlite;

pub struct SqliteStore {
    reader: Pool<Sqlite>,
    writer: Pool<Sqlite>,
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
        Ok(Self { reader, writer })
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
include!("sql_tokens.rs");
include!("sql_tools.rs");
include!("sql_visitors.rs");
include!("sql_chat.rs");
include!("sql_jobs.rs");
include!("sql_query.rs");
include!("sql_history.rs");
include!("sql_analytics.rs");
include!("sql_feedback.rs");
include!("sql_knowledge.rs");
include!("sql_corpus.rs");
include!("sql_products.rs");
include!("sql_quotes.rs");

impl ThisStore {
    /// Runs `batch` then `selects` in one transaction sent as one command: `BEGIN IMMEDIATE`,
    /// the statements, the selects, `COMMIT`; returns each select's rows. The writer connection
    /// is held for a single round trip to its thread instead of one per statement. On a failure
    /// the transaction is rolled back before the connection goes back to the pool; the work runs
    /// in its own task so that a caller going away cannot leave it half done.
    async fn write_then_read(&self, batch: WriteBatch, selects: Vec<(String, Vec<SqlArg>)>) -> Result<Vec<Vec<DbRow>>> {
        let mut sql = String::from("BEGIN IMMEDIATE;\n");
        let mut args = Vec::new();
        batch.append_to(&mut sql, &mut args);
        let parts = selects.len();
        for (part, (select, select_args)) in selects.into_iter().enumerate() {
            // Each select's rows carry its number: the command returns them all in one stream.
            let tagged = select.strip_prefix("SELECT ").map(|rest| format!("SELECT {part} AS write_part, {rest}"));
            let tagged = tagged.ok_or_else(|| crate::StorageError::Config(format!("not a SELECT: {select}")))?;
            renumber_into(&mut sql, &tagged, args.len());
            sql.push_str(";\n");
            args.extend(select_args);
        }
        sql.push_str("COMMIT;");
        let writer = self.writer.clone();
        let work = tokio::spawn(async move {
            let mut conn = writer.acquire().await?;
            let q = sqlx::query::<Db>(sqlx::AssertSqlSafe(sql));
            // `fetch_all` drives every statement, the `COMMIT` included.
            match bind_sql_args!(q, args).fetch_all(&mut *conn).await {
                Ok(rows) => Ok::<_, crate::StorageError>(rows),
                Err(e) => {
                    if let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
                        tracing::debug!(error = %rollback, "rollback after a failed write (none may be open)");
                    }
                    Err(e.into())
                }
            }
        });
        let rows = work.await.map_err(|e| crate::StorageError::Config(format!("write task failed: {e}")))??;
        let mut out: Vec<Vec<DbRow>> = (0..parts).map(|_| Vec::new()).collect();
        for row in rows {
            let part: i64 = sqlx::Row::try_get(&row, "write_part")?;
            out.get_mut(usize::try_from(part).unwrap_or(usize::MAX))
                .ok_or_else(|| crate::StorageError::corrupt(format!("a row of select {part} of {parts}")))?
                .push(row);
        }
        Ok(out)
    }
}
