//! The PostgreSQL backend for scale-out: several `docent serve` replicas share one database.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres, Transaction};

use crate::Result;

type Db = Postgres;

pub struct PgStore {
    reader: Pool<Postgres>,
    writer: Pool<Postgres>,
    /// Recent conversations' messages, so a turn's start need not read them back.
    histories: crate::histories::Histories,
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(5)).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { reader: pool.clone(), writer: pool, histories: Default::default() })
    }

    async fn begin_write(&self) -> Result<WriteTx> {
        Ok(self.writer.begin().await?)
    }
}

type ThisStore = PgStore;
/// Row locks keep concurrent writers apart: no store-wide write lock.
type WriteTx = Transaction<'static, Postgres>;
/// One statement per command in the extended protocol (see `WriteBatch`).
const MULTI_STATEMENT_COMMANDS: bool = false;
/// The rows a daily rollup cell is spread over: a turn holds its cell row's lock until it commits,
/// so with one row a busy day's turns committed one at a time (c=64: ~450 turns/s, 15 of 16
/// connections waiting on that lock).
const ROLLUP_SHARDS: i64 = 32;
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
    /// Runs `batch` then `selects` in one transaction (statement by statement: see
    /// `WriteBatch`); returns each select's rows.
    async fn write_then_read(&self, batch: WriteBatch, selects: Vec<(Sql, Vec<SqlArg>)>) -> Result<Vec<Vec<OwnedRow>>> {
        let mut tx = self.begin_write().await?;
        batch.run(&mut tx).await?;
        let mut out = Vec::with_capacity(selects.len());
        for (select, args) in selects {
            let q = sqlx::query::<Db>(sqlx::AssertSqlSafe(select));
            let rows = bind_sql_args!(q, args).fetch_all(&mut *tx).await?;
            let Some(first) = rows.first() else {
                out.push(Vec::new());
                continue;
            };
            let columns: std::sync::Arc<[String]> =
                sqlx::Row::columns(first).iter().map(|c| sqlx::Column::name(c).to_owned()).collect();
            out.push(rows.iter().map(|row| owned_row(row, &columns)).collect::<Result<_>>()?);
        }
        tx.commit().await?;
        Ok(out)
    }
}

impl ThisStore {
    /// A turn's close without tool calls or escalation (most turns) as one statement, its own
    /// transaction: one round trip where the statements one by one took six (BEGIN, three
    /// writes, the read, COMMIT), each a wake-up of the server process. The reply is inserted if
    /// the conversation exists; the conversation's counters move, returning its row; the daily
    /// rollup reads its cell from that row, so the conversation row is locked before the rollup
    /// row, the order every turn write takes them (a turn's start and close racing on one
    /// conversation would otherwise each hold the lock the other waits for).
    async fn finish_plain_turn(
        &self,
        tenant: &TenantId,
        finish: crate::FinishTurn,
        now: Timestamp,
    ) -> Result<docent_domain::conversation::Conversation> {
        let mut args = close_args(i64::from(finish.assistant.is_some()), now, tenant, &finish);
        let named = bind_visitor(finish.visitor_id.as_ref(), &mut args);
        let replied = match finish.assistant {
            Some((id, content, status)) => {
                args.extend([SqlArg::Text(id.to_string()), SqlArg::Text(content), SqlArg::Text(status.to_owned())]);
                true
            }
            None => false,
        };
        static CLOSES: Shapes<4> = Shapes::new();
        let sql = CLOSES.get(usize::from(named) * 2 + usize::from(replied), || plain_close_sql(named, replied));
        let q = sqlx::query_as::<Db, chat_rows::ConversationRow>(sqlx::AssertSqlSafe(sql));
        let row = bind_sql_args!(q, args).fetch_optional(&self.writer).await?;
        row.ok_or(StorageError::NotFound)?.into_conversation()
    }
}

/// The statement of `finish_plain_turn`: `$1` messages added, `$2` now, `$3` tenant, `$4`
/// conversation, then the visitor when `named`, then the reply's id, text and status when
/// `replied`.
fn plain_close_sql(named: bool, replied: bool) -> String {
    let visitor = if named { visitor_assignment(5, false) } else { String::new() };
    let mut with = Vec::new();
    if replied {
        let r = if named { 6 } else { 5 };
        with.push(format!(
            "reply AS (INSERT INTO messages (id, tenant_id, conversation_id, role, content, status, created_at) \
             SELECT ${r}, $3, $4, 'assistant', ${}, ${}, $2 FROM conversations WHERE tenant_id = $3 AND id = $4)",
            r + 1,
            r + 2
        ));
    }
    with.push(format!(
        "counted AS (UPDATE conversations SET message_count = message_count + $1, last_message_at = $2{visitor} \
         WHERE tenant_id = $3 AND id = $4 RETURNING tenant_id, {CONVERSATION_COLUMNS})"
    ));
    if replied {
        with.push(format!("rollup AS ({})", daily_rollup_insert("counted", ["0", "$1", "0", "0", "0"])));
    }
    format!("WITH {} SELECT {CONVERSATION_COLUMNS} FROM counted", with.join(", "))
}

/// A row as `write_then_read` returns it, read by each column's type (the types the schema
/// uses: integers, booleans, text); `columns` are its columns' names.
fn owned_row(row: &sqlx::postgres::PgRow, columns: &std::sync::Arc<[String]>) -> Result<OwnedRow> {
    use sqlx::{Column, Row, TypeInfo};
    let mut values = Vec::with_capacity(columns.len());
    for column in row.columns() {
        let at = column.ordinal();
        let value = match column.type_info().name() {
            "INT8" => row.try_get::<Option<i64>, _>(at)?.into(),
            "INT4" => row.try_get::<Option<i32>, _>(at)?.into(),
            "INT2" => row.try_get::<Option<i16>, _>(at)?.into(),
            "BOOL" => row.try_get::<Option<bool>, _>(at)?.into(),
            _ => row.try_get::<Option<String>, _>(at)?.into(),
        };
        values.push(value);
    }
    Ok(OwnedRow { columns: columns.clone(), values })
}
