//! The embedded SQLite backend: WAL, a busy timeout, foreign keys on, a pool of readers and two
//! writers that take turns (the store's write lock; writes start with `BEGIN IMMEDIATE`): sqlx's
//! connection for transactions, and the group-commit thread for the chat turn's writes
//! (`write_then_read`, see `group`). No connection checkpoints the WAL on commit: a thread of
//! its own does (`checkpoint`).

mod checkpoint;
mod group;

use std::str::FromStr;
use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc, oneshot};

use crate::Result;

type Db = Sqlite;

pub struct SqliteStore {
    reader: Pool<Sqlite>,
    writer: Pool<Sqlite>,
    /// Held while either writer writes: a transaction on `writer`, or a group of turns.
    write_lock: Arc<Mutex<()>>,
    /// Work for the group-commit thread.
    grouped: mpsc::UnboundedSender<group::GroupedWrite>,
    /// Recent conversations' messages, so a turn's start need not read them back.
    histories: crate::histories::Histories,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(checkpoint::BUSY_TIMEOUT)
            .foreign_keys(true);
        let options = checkpoint::PRAGMAS.into_iter().fold(options, |o, (name, value)| o.pragma(name, value));
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| crate::StorageError::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let write_lock = Arc::new(Mutex::new(()));
        let committed = checkpoint::start(options.get_filename())?;
        let grouped = group::start(options.get_filename(), write_lock.clone(), committed)?;
        let reader = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        Ok(Self { reader, writer, write_lock, grouped, histories: Default::default() })
    }

    async fn begin_write(&self) -> Result<WriteTx> {
        let lock = self.write_lock.clone().lock_owned().await;
        Ok(WriteTx { tx: self.writer.begin_with("BEGIN IMMEDIATE").await?, _lock: lock })
    }
}

type ThisStore = SqliteStore;
/// SQLite runs several statements in one command (see `WriteBatch`).
const MULTI_STATEMENT_COMMANDS: bool = true;
/// One writer at a time: nothing to gain from spreading a rollup cell over rows.
const ROLLUP_SHARDS: i64 = 1;
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

impl ThisStore {
    /// Runs `batch` then `selects` in one transaction and returns each select's rows. The work
    /// joins the writes waiting for the group-commit thread (`group`): they run together as one
    /// transaction, so a busy writer pays one commit for many turns. The work goes on if the
    /// caller goes away: it cannot be left half done.
    async fn write_then_read(&self, batch: WriteBatch, selects: Vec<(Sql, Vec<SqlArg>)>) -> Result<Vec<Vec<OwnedRow>>> {
        let (reply, rows) = oneshot::channel();
        let closed = || crate::StorageError::Config("the SQLite writer has stopped".into());
        self.grouped.send(group::GroupedWrite { batch, selects, reply }).map_err(|_| closed())?;
        rows.await.map_err(|_| closed())?
    }
}

impl ThisStore {
    /// A turn's close without tool calls or escalation (most turns), in one command through the
    /// group-commit writer: the reply, the conversation's counters and the daily rollup.
    async fn finish_plain_turn(
        &self,
        tenant: &TenantId,
        finish: crate::FinishTurn,
        now: Timestamp,
    ) -> Result<docent_domain::conversation::Conversation> {
        let conv = finish.conversation_id.as_str();
        let mut batch = WriteBatch::default();
        let added = stage_reply(&mut batch, tenant, &finish, now);
        let mut args = close_args(added, now, tenant, &finish);
        static UPDATES: Shapes<2> = Shapes::new();
        let named = bind_visitor(finish.visitor_id.as_ref(), &mut args);
        let update = UPDATES.get(usize::from(named), || {
            let visitor = if named { visitor_assignment(5, false) } else { String::new() };
            format!(
                "UPDATE conversations SET message_count = message_count + $1, last_message_at = $2{visitor} \
                 WHERE tenant_id = $3 AND id = $4"
            )
        });
        batch.push(update, args);
        if added > 0 {
            stage_daily_rollup(&mut batch, tenant, (ConversationOf::Id, conv), DailyCounts::messages(added));
        }
        self.write_then_read_conversation(tenant, batch, conv).await
    }
}

/// A write transaction on sqlx's writer connection, holding the store's write lock until it
/// ends. Used as the connection, like sqlx's `Transaction`.
struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    _lock: OwnedMutexGuard<()>,
}

impl WriteTx {
    async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group of turn writes waits for a transaction open on sqlx's writer and lands after it,
    /// rather than failing on the lock SQLite holds for that transaction.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_two_writers_take_turns() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::connect(&crate::testing::sqlite_url(dir.path())).await.unwrap();
        let mut tx = store.begin_write().await.unwrap();
        sqlx::query("UPDATE tenants SET name = name").execute(&mut *tx).await.unwrap();
        let store = Arc::new(store);
        let grouped = {
            let store = store.clone();
            tokio::spawn(async move {
                let mut batch = WriteBatch::default();
                batch.push("UPDATE tenants SET name = name WHERE id = $1", vec![SqlArg::Text("none".into())]);
                let select = ("SELECT COUNT(*) AS n FROM tenants".into(), Vec::new());
                store.write_then_read(batch, vec![select]).await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(!grouped.is_finished(), "the group waits while the transaction is open");
        tx.commit().await.unwrap();
        let rows = grouped.await.unwrap().unwrap();
        assert_eq!(owned_column::<i64>(&rows[0][0], "n").unwrap(), 0);
    }
}
