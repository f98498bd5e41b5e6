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
    /// Runs `batch` then `select` in one transaction sent as one command: `BEGIN IMMEDIATE`,
    /// the statements, the select, `COMMIT`. The writer connection is held for a single round
    /// trip to its thread instead of one per statement. On a failure the transaction is rolled
    /// back before the connection goes back to the pool; the work runs in its own task so that
    /// a caller going away cannot leave it half done.
    async fn write_then_read<R>(&self, batch: WriteBatch, select: &str, select_args: Vec<SqlArg>) -> Result<Option<R>>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin + 'static,
    {
        let mut sql = String::from("BEGIN IMMEDIATE;\n");
        let mut args = Vec::new();
        batch.append_to(&mut sql, &mut args);
        renumber_into(&mut sql, select, args.len());
        sql.push_str(";\nCOMMIT;");
        args.extend(select_args);
        let writer = self.writer.clone();
        let work = tokio::spawn(async move {
            let mut conn = writer.acquire().await?;
            let q = sqlx::query_as::<Db, R>(sqlx::AssertSqlSafe(sql));
            // `fetch_all` drives every statement, the `COMMIT` included.
            match bind_sql_args!(q, args).fetch_all(&mut *conn).await {
                Ok(rows) => Ok(rows.into_iter().next()),
                Err(e) => {
                    if let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
                        tracing::debug!(error = %rollback, "rollback after a failed write (none may be open)");
                    }
                    Err(e.into())
                }
            }
        });
        work.await.map_err(|e| crate::StorageError::Config(format!("write task failed: {e}")))?
    }
}
