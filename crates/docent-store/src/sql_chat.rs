// Conversation SQL shared by both backends (see the head of `sql.rs` for how it is included).

mod chat_rows {
    #[derive(sqlx::FromRow)]
    pub(super) struct ConversationRow {
        pub id: String,
        pub public_id: String,
        pub session_id: String,
        pub visitor_id: Option<String>,
        pub segment_id: Option<String>,
        pub channel: String,
        pub visitor_type: String,
        pub agent_model: Option<String>,
        pub status: String,
        pub page_url: Option<String>,
        pub metadata: String,
        pub message_count: i64,
        pub started_at: i64,
        pub last_message_at: i64,
    }

    #[derive(sqlx::FromRow)]
    pub(super) struct MessageRow {
        pub id: String,
        pub role: String,
        pub content: String,
        pub status: String,
        pub created_at: i64,
    }

    #[derive(sqlx::FromRow)]
    pub(super) struct ExecutionRow {
        pub tool_name: String,
        pub tool_type: String,
        pub input: String,
        pub result: String,
        pub success: bool,
        pub summary: String,
        pub created_at: i64,
    }
}

const CONVERSATION_COLUMNS: &str = "id, public_id, session_id, visitor_id, segment_id, channel, visitor_type, \
     agent_model, status, page_url, metadata, message_count, started_at, last_message_at";

impl chat_rows::ConversationRow {
    fn into_conversation(self) -> Result<docent_domain::conversation::Conversation> {
        Ok(docent_domain::conversation::Conversation {
            id: ConversationId::from_stored(self.id),
            public_id: self.public_id,
            session_id: self.session_id,
            visitor_id: self.visitor_id.map(VisitorId::from_stored),
            segment_id: self.segment_id.map(SegmentId::from_stored),
            channel: self.channel,
            visitor_type: self.visitor_type,
            agent_model: self.agent_model,
            status: self.status,
            page_url: self.page_url,
            metadata: json_column("conversation metadata", &self.metadata)?,
            message_count: count(self.message_count),
            started_at: Timestamp::from_millis(self.started_at),
            last_message_at: Timestamp::from_millis(self.last_message_at),
        })
    }
}

impl ThisStore {
    async fn conversation_where(
        executor: impl sqlx::Executor<'_, Database = Db>,
        tenant: &TenantId,
        column: &str,
        value: &str,
    ) -> Result<Option<docent_domain::conversation::Conversation>> {
        let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = $1 AND {column} = $2");
        sqlx::query_as::<Db, chat_rows::ConversationRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(value)
            .fetch_optional(executor)
            .await?
            .map(chat_rows::ConversationRow::into_conversation)
            .transpose()
    }
}

#[async_trait]
impl crate::ConversationStore for ThisStore {
    async fn conversation_by_session(
        &self,
        tenant: &TenantId,
        session_id: &str,
    ) -> Result<Option<docent_domain::conversation::Conversation>> {
        Self::conversation_where(&self.reader, tenant, "session_id", session_id).await
    }

    async fn conversation_by_public_id(
        &self,
        tenant: &TenantId,
        public_id: &str,
    ) -> Result<Option<docent_domain::conversation::Conversation>> {
        Self::conversation_where(&self.reader, tenant, "public_id", public_id).await
    }

    async fn start_turn(&self, tenant: &TenantId, start: crate::StartTurn) -> Result<crate::TurnStart> {
        let now = Timestamp::now();
        let new = &start.conversation;
        let mut tx = self.begin_write().await?;
        let existing = Self::conversation_where(&mut *tx, tenant, "session_id", &new.session_id).await?;
        let created = existing.is_none();
        if created {
            if let Some((cap, since)) = start.monthly_cap {
                let (n,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM conversations WHERE tenant_id = $1 AND started_at >= $2")
                        .bind(tenant.as_str())
                        .bind(since.millis())
                        .fetch_one(&mut *tx)
                        .await?;
                if count(n) >= cap {
                    return Ok(crate::TurnStart::LimitReached);
                }
            }
            let id = ConversationId::generate();
            sqlx::query(
                "INSERT INTO conversations (id, tenant_id, public_id, session_id, visitor_id, segment_id, channel, \
                 visitor_type, agent_model, status, page_url, metadata, message_count, started_at, last_message_at, \
                 first_message, intent_key) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $12, 0, $11, $11, $13, $14)",
            )
            .bind(id.as_str())
            .bind(tenant.as_str())
            .bind(public_uuid(&id))
            .bind(&new.session_id)
            .bind(new.visitor_id.as_ref().map(VisitorId::as_str))
            .bind(new.segment_id.as_ref().map(SegmentId::as_str))
            .bind(&new.channel)
            .bind(&new.visitor_type)
            .bind(&new.agent_model)
            .bind(&new.page_url)
            .bind(now.millis())
            .bind(to_json(&new.metadata)?)
            .bind(docent_domain::analytics::clip_first_message(&start.user_message))
            .bind(docent_domain::analytics::intent_key(&start.user_message))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO messages (id, tenant_id, conversation_id, role, content, status, created_at) \
             SELECT $1, $2, id, 'user', $3, 'complete', $4 FROM conversations WHERE tenant_id = $2 AND session_id = $5",
        )
        .bind(docent_domain::MessageId::generate().as_str())
        .bind(tenant.as_str())
        .bind(&start.user_message)
        .bind(now.millis())
        .bind(&new.session_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE conversations SET message_count = message_count + 1, last_message_at = $1, \
             visitor_id = COALESCE(visitor_id, $2) WHERE tenant_id = $3 AND session_id = $4",
        )
        .bind(now.millis())
        .bind(new.visitor_id.as_ref().map(VisitorId::as_str))
        .bind(tenant.as_str())
        .bind(&new.session_id)
        .execute(&mut *tx)
        .await?;
        let conversation = Self::conversation_where(&mut *tx, tenant, "session_id", &new.session_id)
            .await?
            .ok_or(StorageError::NotFound)?;
        Self::rollup_turn_started(&mut tx, tenant, &conversation, created, &start.user_message).await?;
        tx.commit().await?;
        Ok(crate::TurnStart::Started { conversation: Box::new(conversation), created })
    }

    async fn list_messages(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> Result<Vec<docent_domain::conversation::StoredMessage>> {
        let rows: Vec<chat_rows::MessageRow> = sqlx::query_as(
            "SELECT id, role, content, status, created_at FROM messages \
             WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY created_at, id",
        )
        .bind(tenant.as_str())
        .bind(conversation.as_str())
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| docent_domain::conversation::StoredMessage {
                id: docent_domain::MessageId::from_stored(r.id),
                role: r.role,
                content: r.content,
                status: r.status,
                created_at: Timestamp::from_millis(r.created_at),
            })
            .collect())
    }

    async fn finish_turn(
        &self,
        tenant: &TenantId,
        finish: crate::FinishTurn,
    ) -> Result<docent_domain::conversation::Conversation> {
        let now = Timestamp::now();
        let conv = finish.conversation_id.as_str();
        let mut tx = self.begin_write().await?;
        let before: (String, i64) =
            sqlx::query_as("SELECT status, tool_calls FROM conversations WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(conv)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StorageError::NotFound)?;
        for e in &finish.executions {
            sqlx::query(
                "INSERT INTO tool_executions (id, tenant_id, conversation_id, tool_name, tool_type, input, result, \
                 success, summary, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(format!("tex_{}", secret_suffix()))
            .bind(tenant.as_str())
            .bind(conv)
            .bind(&e.tool_name)
            .bind(&e.tool_type)
            .bind(to_json(&e.input)?)
            .bind(to_json(&e.result)?)
            .bind(e.success)
            .bind(&e.summary)
            .bind(e.created_at.millis())
            .execute(&mut *tx)
            .await?;
        }
        let mut added = 0i64;
        if let Some((id, content, status)) = &finish.assistant {
            sqlx::query(
                "INSERT INTO messages (id, tenant_id, conversation_id, role, content, status, created_at) \
                 VALUES ($1, $2, $3, 'assistant', $4, $5, $6)",
            )
            .bind(id.as_str())
            .bind(tenant.as_str())
            .bind(conv)
            .bind(content)
            .bind(*status)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
            added = 1;
        }
        sqlx::query(
            "UPDATE conversations SET message_count = message_count + $1, last_message_at = $2, \
             status = CASE WHEN $3 THEN 'escalated' ELSE status END, visitor_id = COALESCE($4, visitor_id), \
             tool_calls = tool_calls + $7 WHERE tenant_id = $5 AND id = $6",
        )
        .bind(added)
        .bind(now.millis())
        .bind(finish.escalated)
        .bind(finish.visitor_id.as_ref().map(VisitorId::as_str))
        .bind(tenant.as_str())
        .bind(conv)
        .bind(i64::try_from(finish.executions.len()).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        let conversation =
            Self::conversation_where(&mut *tx, tenant, "id", conv).await?.ok_or(StorageError::NotFound)?;
        let before = (before.0.as_str(), before.1);
        Self::rollup_turn_finished(&mut tx, tenant, &conversation, before, &finish.executions, added).await?;
        tx.commit().await?;
        Ok(conversation)
    }

    async fn list_tool_executions(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> Result<Vec<docent_domain::conversation::ToolExecution>> {
        let rows: Vec<chat_rows::ExecutionRow> = sqlx::query_as(
            "SELECT tool_name, tool_type, input, result, success, summary, created_at FROM tool_executions \
             WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY created_at, id",
        )
        .bind(tenant.as_str())
        .bind(conversation.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(docent_domain::conversation::ToolExecution {
                    tool_name: r.tool_name,
                    tool_type: r.tool_type,
                    input: json_column("tool input", &r.input)?,
                    result: json_column("tool result", &r.result)?,
                    success: r.success,
                    summary: r.summary,
                    created_at: Timestamp::from_millis(r.created_at),
                })
            })
            .collect()
    }

    async fn create_submission(
        &self,
        tenant: &TenantId,
        new: docent_domain::conversation::NewSubmission,
    ) -> Result<docent_domain::conversation::Submission> {
        let now = Timestamp::now();
        let id = docent_domain::SubmissionId::generate();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO submissions (id, tenant_id, tool_id, conversation_id, visitor_id, data, status, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'NEW', $7, $7)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(new.tool_id.as_str())
        .bind(new.conversation_id.as_str())
        .bind(new.visitor_id.as_ref().map(VisitorId::as_str))
        .bind(to_json(&new.data)?)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(docent_domain::conversation::Submission {
            id,
            tool_id: Some(new.tool_id),
            conversation_id: Some(new.conversation_id),
            visitor_id: new.visitor_id,
            data: new.data,
            status: "NEW".to_owned(),
            created_at: now,
            updated_at: now,
        })
    }

    async fn visitor_by_external_id(&self, tenant: &TenantId, external_id: &str) -> Result<Option<Visitor>> {
        let sql = format!("SELECT {VISITOR_COLUMNS} FROM visitors WHERE tenant_id = $1 AND external_id = $2");
        sqlx::query_as::<Db, VisitorRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(external_id)
            .fetch_optional(&self.reader)
            .await?
            .map(VisitorRow::into_visitor)
            .transpose()
    }
}

fn secret_suffix() -> String {
    docent_domain::secret::random_base62(20)
}

/// The public conversation handle: the UUID inside the `conv_` ID, in its hyphenated form.
fn public_uuid(id: &ConversationId) -> String {
    let hex = id.as_str().trim_start_matches(ConversationId::PREFIX);
    if hex.len() != 32 {
        return hex.to_owned();
    }
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}
