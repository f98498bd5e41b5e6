// Stats rollups and visitor feedback, shared by both backends (see the head of `sql.rs` for how
// it is included).
//
// Four daily tables per tenant (`analytics_daily`, `…_tools`, `…_pages`, `…_intents`) are
// bumped by upserts in the same transaction as each write that changes what they count: a turn's
// start and finish (`sql_chat.rs`), a vote, an import, a conversation created outside a turn, a
// visitor's deletion (subtracted). Everything a conversation does counts on the UTC day it
// started, so a 30-day stats query reads ~30 rows per dimension instead of the conversations.

/// The rollup cell a conversation counts in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct RollupDims {
    day: i64,
    channel: String,
    segment: String,
    visitor_type: String,
}

impl RollupDims {
    fn of(started_at: i64, channel: &str, segment: Option<&str>, visitor_type: &str) -> Self {
        RollupDims {
            day: docent_domain::analytics::day_floor(started_at),
            channel: channel.to_owned(),
            segment: segment.unwrap_or_default().to_owned(),
            visitor_type: visitor_type.to_owned(),
        }
    }

    fn of_conversation(c: &docent_domain::conversation::Conversation) -> Self {
        Self::of(c.started_at.millis(), &c.channel, c.segment_id.as_ref().map(SegmentId::as_str), &c.visitor_type)
    }

    fn args(&self, tenant: &TenantId) -> Vec<SqlArg> {
        vec![
            SqlArg::Text(tenant.as_str().to_owned()),
            SqlArg::Int(self.day),
            SqlArg::Text(self.channel.clone()),
            SqlArg::Text(self.segment.clone()),
        ]
    }
}

/// Signed changes to one `analytics_daily` cell.
#[derive(Clone, Copy, Debug, Default)]
struct DailyDelta {
    conversations: i64,
    messages: i64,
    escalated: i64,
    with_tool_calls: i64,
    tool_calls: i64,
    positive: i64,
    negative: i64,
}

const DAILY_UPSERT: &str = "INSERT INTO analytics_daily (tenant_id, day, channel, segment_id, visitor_type, \
     conversations, messages, escalated, with_tool_calls, tool_calls, positive, negative) VALUES ";
const DAILY_CONFLICT: &str = " ON CONFLICT (tenant_id, day, channel, segment_id, visitor_type, shard) DO UPDATE SET \
     conversations = analytics_daily.conversations + excluded.conversations, \
     messages = analytics_daily.messages + excluded.messages, \
     escalated = analytics_daily.escalated + excluded.escalated, \
     with_tool_calls = analytics_daily.with_tool_calls + excluded.with_tool_calls, \
     tool_calls = analytics_daily.tool_calls + excluded.tool_calls, \
     positive = analytics_daily.positive + excluded.positive, \
     negative = analytics_daily.negative + excluded.negative";
const TOOLS_UPSERT: &str =
    "INSERT INTO analytics_daily_tools (tenant_id, day, channel, segment_id, tool_name, calls) VALUES ";
const TOOLS_CONFLICT: &str = " ON CONFLICT (tenant_id, day, channel, segment_id, tool_name) DO UPDATE SET \
     calls = analytics_daily_tools.calls + excluded.calls";
const PAGES_UPSERT: &str =
    "INSERT INTO analytics_daily_pages (tenant_id, day, channel, segment_id, page, conversations) VALUES ";
const PAGES_CONFLICT: &str = " ON CONFLICT (tenant_id, day, channel, segment_id, page) DO UPDATE SET \
     conversations = analytics_daily_pages.conversations + excluded.conversations";
const INTENTS_UPSERT: &str = "INSERT INTO analytics_daily_intents (tenant_id, day, channel, segment_id, intent_key, \
     question, conversations) VALUES ";
const INTENTS_CONFLICT: &str = " ON CONFLICT (tenant_id, day, channel, segment_id, intent_key) DO UPDATE SET \
     conversations = analytics_daily_intents.conversations + excluded.conversations";

/// Rollup changes gathered before they are written (one upsert per distinct cell).
#[derive(Default)]
struct RollupBatch {
    daily: std::collections::HashMap<RollupDims, DailyDelta>,
    tools: std::collections::HashMap<(RollupDims, String), i64>,
    pages: std::collections::HashMap<(RollupDims, String), i64>,
    intents: std::collections::HashMap<(RollupDims, String), (String, i64)>,
}

impl RollupBatch {
    fn daily(&mut self, dims: &RollupDims) -> &mut DailyDelta {
        self.daily.entry(dims.clone()).or_default()
    }

    fn tool(&mut self, dims: &RollupDims, name: &str, calls: i64) {
        *self.tools.entry((dims.clone(), name.to_owned())).or_default() += calls;
    }

    /// Counts a new conversation's page and intent (`sign` -1 forgets them).
    fn opening(&mut self, dims: &RollupDims, page_url: Option<&str>, first_message: Option<&str>, sign: i64) {
        if let Some(page) = page_url.and_then(docent_domain::analytics::page_key) {
            *self.pages.entry((dims.clone(), page)).or_default() += sign;
        }
        if let Some(message) = first_message
            && let Some(key) = docent_domain::analytics::intent_key(message)
        {
            let question = docent_domain::analytics::clip_question(message);
            self.intents.entry((dims.clone(), key)).or_insert((question, 0)).1 += sign;
        }
    }

    async fn write(self, conn: &mut <Db as sqlx::Database>::Connection, tenant: &TenantId) -> Result<()> {
        let mut batch = WriteBatch::default();
        self.stage(&mut batch, tenant);
        batch.run(conn).await
    }

    /// Adds the batch's upserts to `out`.
    fn stage(self, out: &mut WriteBatch, tenant: &TenantId) {
        let daily = self.daily.into_iter().map(|(d, x)| {
            let mut args = d.args(tenant);
            args.push(SqlArg::Text(d.visitor_type));
            for v in [x.conversations, x.messages, x.escalated, x.with_tool_calls, x.tool_calls, x.positive, x.negative]
            {
                args.push(SqlArg::Int(v));
            }
            args
        });
        stage_rows(out, DAILY_UPSERT, DAILY_CONFLICT, 12, daily.collect());
        let tools = self.tools.into_iter().map(|((d, name), n)| {
            let mut args = d.args(tenant);
            args.extend([SqlArg::Text(name), SqlArg::Int(n)]);
            args
        });
        stage_rows(out, TOOLS_UPSERT, TOOLS_CONFLICT, 6, tools.collect());
        let pages = self.pages.into_iter().map(|((d, page), n)| {
            let mut args = d.args(tenant);
            args.extend([SqlArg::Text(page), SqlArg::Int(n)]);
            args
        });
        stage_rows(out, PAGES_UPSERT, PAGES_CONFLICT, 6, pages.collect());
        let intents = self.intents.into_iter().map(|((d, key), (question, n))| {
            let mut args = d.args(tenant);
            args.extend([SqlArg::Text(key), SqlArg::Text(question), SqlArg::Int(n)]);
            args
        });
        stage_rows(out, INTENTS_UPSERT, INTENTS_CONFLICT, 7, intents.collect());
    }
}

async fn insert_rows(
    conn: &mut <Db as sqlx::Database>::Connection,
    head: &str,
    tail: &str,
    columns: usize,
    rows: Vec<Vec<SqlArg>>,
) -> Result<()> {
    let mut batch = WriteBatch::default();
    stage_rows(&mut batch, head, tail, columns, rows);
    batch.run(conn).await
}

/// Multi-row `INSERT head (…), (…) tail` statements for `rows`, chunked under the backends'
/// bind-parameter limits.
fn stage_rows(out: &mut WriteBatch, head: &str, tail: &str, columns: usize, rows: Vec<Vec<SqlArg>>) {
    let per_statement = (700 / columns).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<SqlArg>> = rows.by_ref().take(per_statement).collect();
        let mut sql = String::with_capacity(head.len() + tail.len() + chunk.len() * columns * 5);
        sql.push_str(head);
        let mut n = 0;
        for (i, row) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for j in 0..row.len() {
                n += 1;
                sql.push_str(if j == 0 { "$" } else { ", $" });
                sql.push_str(&n.to_string());
            }
            sql.push(')');
        }
        sql.push_str(tail);
        out.push(sql, chunk.into_iter().flatten().collect());
    }
}

mod analytics_rows {
    #[derive(sqlx::FromRow)]
    pub(super) struct DailyRow {
        pub day: i64,
        pub channel: String,
        pub segment_id: String,
        pub visitor_type: String,
        pub conversations: i64,
        pub messages: i64,
        pub escalated: i64,
        pub with_tool_calls: i64,
        pub tool_calls: i64,
        pub positive: i64,
        pub negative: i64,
    }

    /// What a conversation has contributed to the rollups so far.
    #[derive(sqlx::FromRow)]
    pub(super) struct ContributionRow {
        pub id: String,
        pub started_at: i64,
        pub channel: String,
        pub segment_id: Option<String>,
        pub visitor_type: String,
        pub status: String,
        pub page_url: Option<String>,
        pub first_message: Option<String>,
        pub message_count: i64,
        pub tool_calls: i64,
        pub feedback_positive: i64,
        pub feedback_negative: i64,
    }
}

impl analytics_rows::DailyRow {
    fn totals(&self) -> docent_domain::analytics::Totals {
        docent_domain::analytics::Totals {
            conversations: count(self.conversations),
            messages: count(self.messages),
            escalated: count(self.escalated),
            with_tool_calls: count(self.with_tool_calls),
            tool_calls: count(self.tool_calls),
            positive: count(self.positive),
            negative: count(self.negative),
        }
    }
}

const CONTRIBUTION_COLUMNS: &str = "id, started_at, channel, segment_id, visitor_type, status, page_url, \
     first_message, message_count, tool_calls, feedback_positive, feedback_negative";

impl ThisStore {
    /// Counts a conversation opened without a turn (no message yet).
    async fn rollup_conversation_created(
        conn: &mut <Db as sqlx::Database>::Connection,
        tenant: &TenantId,
        new: &crate::NewConversation,
        started_at: i64,
    ) -> Result<()> {
        let segment = new.segment_id.as_ref().map(SegmentId::as_str);
        let dims = RollupDims::of(started_at, &new.channel, segment, &new.visitor_type);
        let mut batch = RollupBatch::default();
        batch.daily(&dims).conversations = 1;
        batch.opening(&dims, new.page_url.as_deref(), None, 1);
        batch.write(conn, tenant).await
    }

    /// Subtracts a visitor's conversations before they are deleted, and drops rollup rows that
    /// no longer count anything (an intent row keeps a visitor's words).
    async fn rollup_forget_visitor(
        conn: &mut <Db as sqlx::Database>::Connection,
        tenant: &TenantId,
        visitor: &VisitorId,
    ) -> Result<()> {
        let sql = format!("SELECT {CONTRIBUTION_COLUMNS} FROM conversations WHERE tenant_id = $1 AND visitor_id = $2");
        let rows = sqlx::query_as::<Db, analytics_rows::ContributionRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(visitor.as_str())
            .fetch_all(&mut *conn)
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut batch = RollupBatch::default();
        for r in &rows {
            let dims = RollupDims::of(r.started_at, &r.channel, r.segment_id.as_deref(), &r.visitor_type);
            let d = batch.daily(&dims);
            d.conversations -= 1;
            d.messages -= r.message_count;
            d.escalated -= i64::from(r.status == docent_domain::conversation::STATUS_ESCALATED);
            d.with_tool_calls -= i64::from(r.tool_calls > 0);
            d.tool_calls -= r.tool_calls;
            d.positive -= r.feedback_positive;
            d.negative -= r.feedback_negative;
            batch.opening(&dims, r.page_url.as_deref(), r.first_message.as_deref(), -1);
            let tools: Vec<(String, i64)> = sqlx::query_as(
                "SELECT tool_name, COUNT(*) FROM tool_executions WHERE tenant_id = $1 AND conversation_id = $2 \
                 GROUP BY tool_name",
            )
            .bind(tenant.as_str())
            .bind(&r.id)
            .fetch_all(&mut *conn)
            .await?;
            for (name, n) in tools {
                batch.tool(&dims, &name, -n);
            }
        }
        batch.write(&mut *conn, tenant).await?;
        for table in ["analytics_daily_tools WHERE calls", "analytics_daily_pages WHERE conversations"] {
            let sql = format!("DELETE FROM {table} <= 0 AND tenant_id = $1");
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str()).execute(&mut *conn).await?;
        }
        sqlx::query("DELETE FROM analytics_daily_intents WHERE conversations <= 0 AND tenant_id = $1")
            .bind(tenant.as_str())
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// `(name, count)` of a rollup table, summed over the query, largest first.
    async fn rollup_top(
        &self,
        tenant: &TenantId,
        q: &docent_domain::analytics::StatsQuery,
        table: &str,
        key: &str,
        measure: &str,
    ) -> Result<Vec<(String, u64)>> {
        let mut w =
            rollup_conditions(tenant, q.channel.as_deref(), q.segment_id.as_ref(), Some(q.from_day), Some(q.to_day));
        let top = w.arg(SqlArg::Int(i64::from(q.top)));
        let sql = format!(
            "SELECT {key}, CAST(SUM({measure}) AS BIGINT) AS n FROM {table} WHERE {} GROUP BY {group} \
             HAVING SUM({measure}) > 0 ORDER BY n DESC, {group} LIMIT {top}",
            w.sql(),
            group = key.split_once(',').map_or(key, |(k, _)| k),
        );
        let rows = if key.contains(',') {
            let q = sqlx::query_as::<Db, (String, String, i64)>(sqlx::AssertSqlSafe(sql));
            let rows = bind_sql_args!(q, w.args).fetch_all(&self.reader).await?;
            rows.into_iter().map(|(_, shown, n)| (shown, count(n))).collect()
        } else {
            let q = sqlx::query_as::<Db, (String, i64)>(sqlx::AssertSqlSafe(sql));
            let rows = bind_sql_args!(q, w.args).fetch_all(&self.reader).await?;
            rows.into_iter().map(|(k, n)| (k, count(n))).collect()
        };
        Ok(rows)
    }
}
