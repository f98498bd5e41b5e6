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
