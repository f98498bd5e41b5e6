// Conversation history for owners, shared by both backends (see the head of `sql.rs` for how it
// is included): lists, details, keyset export pages and submissions.
//
// Lists are newest first on `(tenant_id, started_at, id)`. Their totals and deep pages lean on the
// daily rollups of `sql_analytics.rs` when the filter is one the rollups have dimensions for
// (window, channel, segment): whole days are counted from the rollup and only the partial days at
// the window's edges from the rows, and a deep page seeks to the day holding its first row
// before applying a small OFFSET, so page 40,000 costs about what page 1 does.

mod history_rows {
    #[derive(sqlx::FromRow)]
    pub(super) struct SummaryRow {
        #[sqlx(flatten)]
        pub conversation: super::chat_rows::ConversationRow,
        pub first_message: Option<String>,
        pub tool_calls: i64,
        pub feedback_positive: i64,
        pub feedback_negative: i64,
    }

    #[derive(sqlx::FromRow)]
    pub(super) struct HistoryExecutionRow {
        pub conversation_id: String,
        #[sqlx(flatten)]
        pub execution: super::chat_rows::ExecutionRow,
    }

    #[derive(sqlx::FromRow)]
    pub(super) struct SubmissionRow {
        pub id: String,
        pub tool_id: Option<String>,
        pub conversation_id: Option<String>,
        pub visitor_id: Option<String>,
        pub data: String,
        pub status: String,
        pub created_at: i64,
        pub updated_at: i64,
    }

    #[derive(sqlx::FromRow)]
    pub(super) struct VoteRow {
        pub message_id: String,
        pub rating: String,
        pub comment: Option<String>,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const SUMMARY_SELECT: &str = "SELECT c.id, c.public_id, c.session_id, c.visitor_id, c.segment_id, c.channel, \
     c.visitor_type, c.agent_model, c.status, c.page_url, c.metadata, c.message_count, c.started_at, \
     c.last_message_at, c.first_message, c.tool_calls, c.feedback_positive, c.feedback_negative \
     FROM conversations c";

const SUBMISSION_COLUMNS: &str = "id, tool_id, conversation_id, visitor_id, data, status, created_at, updated_at";

/// Pages deeper than this seek through the rollups instead of skipping rows.
const SEEK_AFTER_ROWS: u64 = 1_000;

/// A tenant's segments by ID. Segments are few, so they are read once per request and not
/// joined: a join makes PostgreSQL's plan depend on fresh statistics after a bulk import.
type SegmentNames = std::collections::HashMap<String, docent_domain::analytics::SegmentRef>;

impl history_rows::SummaryRow {
    fn into_summary(self, segments: &SegmentNames) -> Result<docent_domain::analytics::ConversationSummary> {
        use docent_domain::analytics::{ConversationSummary, FeedbackCounts};
        let segment = self.conversation.segment_id.as_ref().and_then(|id| segments.get(id)).cloned();
        Ok(ConversationSummary {
            conversation: self.conversation.into_conversation()?,
            segment,
            first_message: self.first_message,
            tool_calls: count(self.tool_calls),
            feedback: FeedbackCounts {
                positive: count(self.feedback_positive),
                negative: count(self.feedback_negative),
            },
            tool_history: Vec::new(),
        })
    }
}

impl chat_rows::ExecutionRow {
    fn into_execution(self) -> Result<docent_domain::conversation::ToolExecution> {
        Ok(docent_domain::conversation::ToolExecution {
            tool_name: self.tool_name,
            tool_type: self.tool_type,
            input: json_column("tool input", &self.input)?,
            result: json_column("tool result", &self.result)?,
            success: self.success,
            summary: self.summary,
            created_at: Timestamp::from_millis(self.created_at),
        })
    }
}

impl history_rows::SubmissionRow {
    fn into_submission(self) -> Result<docent_domain::conversation::Submission> {
        Ok(docent_domain::conversation::Submission {
            id: docent_domain::SubmissionId::from_stored(self.id),
            tool_id: self.tool_id.map(ToolId::from_stored),
            conversation_id: self.conversation_id.map(ConversationId::from_stored),
            visitor_id: self.visitor_id.map(VisitorId::from_stored),
            data: json_column("submission data", &self.data)?,
            status: self.status,
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
        })
    }
}

impl ThisStore {
    async fn segment_names(&self, tenant: &TenantId) -> Result<SegmentNames> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, slug, name FROM segments WHERE tenant_id = $1")
                .bind(tenant.as_str())
                .fetch_all(&self.reader)
                .await?;
        Ok(rows.into_iter().map(|(id, slug, name)| (id, docent_domain::analytics::SegmentRef { slug, name })).collect())
    }

    async fn count_rows(&self, w: &SqlWhere) -> Result<u64> {
        let sql = format!("SELECT COUNT(*) FROM conversations c WHERE {}", w.sql());
        let q = sqlx::query_as::<Db, (i64,)>(sqlx::AssertSqlSafe(sql));
        let (n,) = bind_sql_args!(q, w.args.clone()).fetch_one(&self.reader).await?;
        Ok(count(n))
    }

    /// Conversations per day from the rollups, newest day first.
    async fn rollup_days(
        &self,
        tenant: &TenantId,
        filter: &docent_domain::analytics::ConversationFilter,
        from_day: Option<i64>,
        to_day: Option<i64>,
    ) -> Result<Vec<(i64, u64)>> {
        let w = rollup_conditions(tenant, filter.channel.as_deref(), filter.segment_id.as_ref(), from_day, to_day);
        let sql = format!(
            "SELECT day, CAST(SUM(conversations) AS BIGINT) FROM analytics_daily WHERE {} GROUP BY day ORDER BY day DESC",
            w.sql()
        );
        let q = sqlx::query_as::<Db, (i64, i64)>(sqlx::AssertSqlSafe(sql));
        let rows = bind_sql_args!(q, w.args).fetch_all(&self.reader).await?;
        Ok(rows.into_iter().map(|(d, n)| (d, count(n))).filter(|(_, n)| *n > 0).collect())
    }

    /// The whole days inside the filter's window (`None` ends are open), if any.
    fn full_days(filter: &docent_domain::analytics::ConversationFilter) -> Option<(Option<i64>, Option<i64>)> {
        use docent_domain::analytics::{day_ceil, day_floor};
        let lo = filter.from.map(|t| day_ceil(t.millis()));
        let hi = filter.to.map(|t| day_floor(t.millis()));
        match (lo, hi) {
            (Some(l), Some(h)) if l >= h => None,
            _ => Some((lo, hi)),
        }
    }

    async fn count_conversations(
        &self,
        tenant: &TenantId,
        filter: &docent_domain::analytics::ConversationFilter,
    ) -> Result<u64> {
        let (from, to) = (filter.from.map(Timestamp::millis), filter.to.map(Timestamp::millis));
        let Some((lo, hi)) = Self::full_days(filter).filter(|_| filter.rollup_friendly()) else {
            return self.count_rows(&conversation_conditions(tenant, filter, from, to)).await;
        };
        let mut total: u64 = self.rollup_days(tenant, filter, lo, hi).await?.iter().map(|(_, n)| n).sum();
        if let (Some(from), Some(lo)) = (from, lo)
            && from < lo
        {
            total += self.count_rows(&conversation_conditions(tenant, filter, Some(from), Some(lo))).await?;
        }
        if let (Some(to), Some(hi)) = (to, hi)
            && hi < to
        {
            total += self.count_rows(&conversation_conditions(tenant, filter, Some(hi), Some(to))).await?;
        }
        Ok(total)
    }

    /// Where a page starting `offset` rows down begins: a narrowed window end and the rows to
    /// skip below it. Deep pages of rollup-friendly filters seek by day.
    async fn seek(
        &self,
        tenant: &TenantId,
        filter: &docent_domain::analytics::ConversationFilter,
        offset: u64,
    ) -> Result<(Option<i64>, u64)> {
        let to = filter.to.map(Timestamp::millis);
        let full = Self::full_days(filter).filter(|_| filter.rollup_friendly());
        let Some((lo, hi)) = full.filter(|_| offset >= SEEK_AFTER_ROWS) else { return Ok((to, offset)) };
        let mut rest = offset;
        if let (Some(to), Some(hi)) = (to, hi)
            && hi < to
        {
            let top = self.count_rows(&conversation_conditions(tenant, filter, Some(hi), Some(to))).await?;
            if rest < top {
                return Ok((Some(to), rest));
            }
            rest -= top;
        }
        for (day, n) in self.rollup_days(tenant, filter, lo, hi).await? {
            if rest < n {
                return Ok((Some(day + docent_domain::analytics::DAY_MS), rest));
            }
            rest -= n;
        }
        Ok((lo, rest))
    }

    async fn fetch_summaries(&self, w: SqlWhere, limit: u32, offset: u64) -> Result<Vec<history_rows::SummaryRow>> {
        let mut w = w;
        let limit_at = w.arg(SqlArg::Int(i64::from(limit)));
        let offset_at = w.arg(SqlArg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
        let sql = format!(
            "{SUMMARY_SELECT} WHERE {} ORDER BY c.started_at DESC, c.id DESC LIMIT {limit_at} OFFSET {offset_at}",
            w.sql()
        );
        let q = sqlx::query_as::<Db, history_rows::SummaryRow>(sqlx::AssertSqlSafe(sql));
        Ok(bind_sql_args!(q, w.args).fetch_all(&self.reader).await?)
    }

    /// Fills the tool history of `summaries` with one query.
    async fn attach_tool_history(
        &self,
        tenant: &TenantId,
        summaries: &mut [docent_domain::analytics::ConversationSummary],
    ) -> Result<()> {
        if summaries.is_empty() {
            return Ok(());
        }
        let mut w = SqlWhere::default();
        w.add("tenant_id = {}", SqlArg::Text(tenant.as_str().to_owned()));
        let ids: Vec<String> =
            summaries.iter().map(|s| w.arg(SqlArg::Text(s.conversation.id.as_str().to_owned()))).collect();
        let sql = format!(
            "SELECT conversation_id, tool_name, tool_type, input, result, success, summary, created_at \
             FROM tool_executions WHERE {} AND conversation_id IN ({}) ORDER BY created_at, id",
            w.sql(),
            ids.join(", ")
        );
        let q = sqlx::query_as::<Db, history_rows::HistoryExecutionRow>(sqlx::AssertSqlSafe(sql));
        for row in bind_sql_args!(q, w.args).fetch_all(&self.reader).await? {
            if let Some(s) = summaries.iter_mut().find(|s| s.conversation.id.as_str() == row.conversation_id) {
                s.tool_history.push(row.execution.into_execution()?);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl crate::HistoryStore for ThisStore {
    async fn list_conversations(
        &self,
        tenant: &TenantId,
        filter: &docent_domain::analytics::ConversationFilter,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<docent_domain::analytics::ConversationSummary>, u64)> {
        let total = self.count_conversations(tenant, filter).await?;
        let offset = u64::from(page.saturating_sub(1)) * u64::from(limit);
        if offset >= total {
            return Ok((Vec::new(), total));
        }
        let (to, skip) = self.seek(tenant, filter, offset).await?;
        let w = conversation_conditions(tenant, filter, filter.from.map(Timestamp::millis), to);
        let rows = self.fetch_summaries(w, limit, skip).await?;
        let segments = self.segment_names(tenant).await?;
        let mut summaries = rows.into_iter().map(|r| r.into_summary(&segments)).collect::<Result<Vec<_>>>()?;
        self.attach_tool_history(tenant, &mut summaries).await?;
        Ok((summaries, total))
    }

    async fn conversation_detail(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
    ) -> Result<Option<docent_domain::analytics::ConversationDetail>> {
        use crate::ConversationStore;
        let mut w = SqlWhere::default();
        w.add("c.tenant_id = {}", SqlArg::Text(tenant.as_str().to_owned()));
        w.add("c.id = {}", SqlArg::Text(id.as_str().to_owned()));
        let Some(row) = self.fetch_summaries(w, 1, 0).await?.into_iter().next() else { return Ok(None) };
        let mut summaries = vec![row.into_summary(&self.segment_names(tenant).await?)?];
        self.attach_tool_history(tenant, &mut summaries).await?;
        let messages = self.list_messages(tenant, id).await?;
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE tenant_id = $1 AND conversation_id = $2 \
             ORDER BY created_at, id"
        );
        let submissions = sqlx::query_as::<Db, history_rows::SubmissionRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_all(&self.reader)
            .await?
            .into_iter()
            .map(history_rows::SubmissionRow::into_submission)
            .collect::<Result<Vec<_>>>()?;
        let votes: Vec<history_rows::VoteRow> = sqlx::query_as(
            "SELECT message_id, rating, comment, created_at, updated_at FROM message_feedback \
             WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY created_at, message_id",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_all(&self.reader)
        .await?;
        let votes = votes
            .into_iter()
            .map(|v| docent_domain::analytics::FeedbackVote {
                message_id: docent_domain::MessageId::from_stored(v.message_id),
                rating: v.rating,
                comment: v.comment,
                created_at: Timestamp::from_millis(v.created_at),
                updated_at: Timestamp::from_millis(v.updated_at),
            })
            .collect();
        let summary = summaries.remove(0);
        Ok(Some(docent_domain::analytics::ConversationDetail { summary, messages, submissions, votes }))
    }

    async fn export_conversations(
        &self,
        tenant: &TenantId,
        filter: &docent_domain::analytics::ConversationFilter,
        after: Option<(i64, ConversationId)>,
        limit: u32,
    ) -> Result<Vec<docent_domain::analytics::ConversationSummary>> {
        // After a page, `started_at <= at` replaces the window's end as the index's upper bound
        // (both backends use it as a range; a row-value comparison SQLite only filters with).
        let to = if after.is_some() { None } else { filter.to.map(Timestamp::millis) };
        let mut w = conversation_conditions(tenant, filter, filter.from.map(Timestamp::millis), to);
        if let Some((at, id)) = after {
            let at = w.arg(SqlArg::Int(at));
            let id = w.arg(SqlArg::Text(id.as_str().to_owned()));
            w.conditions.push(format!("c.started_at <= {at}"));
            w.conditions.push(format!("(c.started_at < {at} OR c.id < {id})"));
        }
        let rows = self.fetch_summaries(w, limit, 0).await?;
        let segments = self.segment_names(tenant).await?;
        rows.into_iter().map(|r| r.into_summary(&segments)).collect()
    }

    async fn list_submissions(
        &self,
        tenant: &TenantId,
        filter: &docent_domain::analytics::SubmissionFilter,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<docent_domain::conversation::Submission>, u64)> {
        let mut w = SqlWhere::default();
        w.add("tenant_id = {}", SqlArg::Text(tenant.as_str().to_owned()));
        if let Some(status) = &filter.status {
            w.add("status = {}", SqlArg::Text(status.clone()));
        }
        if let Some(tool) = &filter.tool_id {
            w.add("tool_id = {}", SqlArg::Text(tool.as_str().to_owned()));
        }
        if let Some(from) = filter.from {
            w.add("created_at >= {}", SqlArg::Int(from.millis()));
        }
        if let Some(to) = filter.to {
            w.add("created_at < {}", SqlArg::Int(to.millis()));
        }
        let sql = format!("SELECT COUNT(*) FROM submissions WHERE {}", w.sql());
        let q = sqlx::query_as::<Db, (i64,)>(sqlx::AssertSqlSafe(sql));
        let (total,) = bind_sql_args!(q, w.args.clone()).fetch_one(&self.reader).await?;
        let limit_at = w.arg(SqlArg::Int(i64::from(limit)));
        let offset = i64::from(page.saturating_sub(1)) * i64::from(limit);
        let offset_at = w.arg(SqlArg::Int(offset));
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE {} ORDER BY created_at DESC, id DESC \
             LIMIT {limit_at} OFFSET {offset_at}",
            w.sql()
        );
        let q = sqlx::query_as::<Db, history_rows::SubmissionRow>(sqlx::AssertSqlSafe(sql));
        let rows = bind_sql_args!(q, w.args).fetch_all(&self.reader).await?;
        let submissions = rows.into_iter().map(history_rows::SubmissionRow::into_submission).collect::<Result<_>>()?;
        Ok((submissions, count(total)))
    }

    async fn get_submission(
        &self,
        tenant: &TenantId,
        id: &docent_domain::SubmissionId,
    ) -> Result<Option<docent_domain::conversation::Submission>> {
        let sql = format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE tenant_id = $1 AND id = $2");
        sqlx::query_as::<Db, history_rows::SubmissionRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await?
            .map(history_rows::SubmissionRow::into_submission)
            .transpose()
    }

    async fn set_submission_status(
        &self,
        tenant: &TenantId,
        id: &docent_domain::SubmissionId,
        status: &str,
    ) -> Result<crate::SubmissionMove> {
        let mut tx = self.begin_write().await?;
        let current: Option<(String,)> =
            sqlx::query_as("SELECT status FROM submissions WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let Some((current,)) = current else { return Ok(crate::SubmissionMove::NotFound) };
        if !docent_domain::analytics::submission_moves(&current).contains(&status) {
            return Ok(crate::SubmissionMove::Refused { current });
        }
        sqlx::query("UPDATE submissions SET status = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4")
            .bind(status)
            .bind(Timestamp::now().millis())
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let sql = format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE tenant_id = $1 AND id = $2");
        let row = sqlx::query_as::<Db, history_rows::SubmissionRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(id.as_str())
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(crate::SubmissionMove::Moved(row.into_submission()?))
    }
}
