// Stats reads, visitor votes and bulk imports, shared by both backends (see the head of `sql.rs`
// for how it is included). The rollups they read and write are described in `sql_analytics.rs`.

/// `sum` of each count of a daily rollup cell, in the order of `Totals`' fields.
fn daily_sums(sum: impl Fn(&str) -> String) -> String {
    ["conversations", "messages", "escalated", "with_tool_calls", "tool_calls", "positive", "negative"]
        .map(sum)
        .join(", ")
}

#[async_trait]
impl crate::AnalyticsStore for ThisStore {
    async fn conversation_stats(
        &self,
        tenant: &TenantId,
        q: &docent_domain::analytics::StatsQuery,
    ) -> Result<docent_domain::analytics::StatsData> {
        use crate::SegmentStore;
        let w =
            rollup_conditions(tenant, q.channel.as_deref(), q.segment_id.as_ref(), Some(q.from_day), Some(q.to_day));
        // A cell's counts may be spread over rows (`shard`): they are added up here.
        let sql = format!(
            "SELECT day, channel, segment_id, visitor_type, {} FROM analytics_daily WHERE {} \
             GROUP BY day, channel, segment_id, visitor_type ORDER BY day",
            daily_sums(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}")),
            w.sql()
        );
        let query = sqlx::query_as::<Db, analytics_rows::DailyRow>(sqlx::AssertSqlSafe(sql));
        let rows = bind_sql_args!(query, w.args).fetch_all(&self.reader).await?;
        let slugs: std::collections::HashMap<String, String> =
            self.list_segments(tenant).await?.into_iter().map(|s| (s.id.as_str().to_owned(), s.slug)).collect();
        let days = rows
            .into_iter()
            .map(|r| docent_domain::analytics::DailyCounts {
                day: r.day,
                totals: r.totals(),
                segment: slugs.get(&r.segment_id).cloned(),
                channel: r.channel,
                visitor_type: r.visitor_type,
            })
            .filter(|d| d.totals != docent_domain::analytics::Totals::default())
            .collect();
        Ok(docent_domain::analytics::StatsData {
            days,
            tools: self.rollup_top(tenant, q, "analytics_daily_tools", "tool_name", "calls").await?,
            pages: self.rollup_top(tenant, q, "analytics_daily_pages", "page", "conversations").await?,
            intents: self
                .rollup_top(tenant, q, "analytics_daily_intents", "intent_key, MIN(question)", "conversations")
                .await?,
        })
    }

    async fn all_time_totals(
        &self,
        tenant: &TenantId,
        channel: Option<&str>,
        segment: Option<&SegmentId>,
    ) -> Result<docent_domain::analytics::Totals> {
        let w = rollup_conditions(tenant, channel, segment, None, None);
        let sql = format!(
            "SELECT {} FROM analytics_daily WHERE {}",
            daily_sums(|c| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT)")),
            w.sql()
        );
        let query = sqlx::query_as::<Db, (i64, i64, i64, i64, i64, i64, i64)>(sqlx::AssertSqlSafe(sql));
        let (c, m, e, w_, t, p, n) = bind_sql_args!(query, w.args).fetch_one(&self.reader).await?;
        Ok(docent_domain::analytics::Totals {
            conversations: count(c),
            messages: count(m),
            escalated: count(e),
            with_tool_calls: count(w_),
            tool_calls: count(t),
            positive: count(p),
            negative: count(n),
        })
    }

    async fn record_feedback(
        &self,
        tenant: &TenantId,
        vote: docent_domain::analytics::NewFeedback,
    ) -> Result<(docent_domain::analytics::FeedbackVote, bool)> {
        let now = Timestamp::now().millis();
        let mut tx = self.begin_write().await?;
        let conversation = Self::conversation_where(&mut *tx, tenant, "id", vote.conversation_id.as_str())
            .await?
            .ok_or(StorageError::NotFound)?;
        let message: Option<(String,)> = match &vote.message_id {
            Some(id) => {
                sqlx::query_as(
                    "SELECT id FROM messages WHERE tenant_id = $1 AND conversation_id = $2 AND id = $3 \
                     AND role = 'assistant'",
                )
                .bind(tenant.as_str())
                .bind(conversation.id.as_str())
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?
            }
            None => {
                sqlx::query_as(
                    "SELECT id FROM messages WHERE tenant_id = $1 AND conversation_id = $2 AND role = 'assistant' \
                     ORDER BY created_at DESC, id DESC LIMIT 1",
                )
                .bind(tenant.as_str())
                .bind(conversation.id.as_str())
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let (message_id,) = message.ok_or(StorageError::NotFound)?;
        let before: Option<(String, i64)> =
            sqlx::query_as("SELECT rating, created_at FROM message_feedback WHERE message_id = $1")
                .bind(&message_id)
                .fetch_optional(&mut *tx)
                .await?;
        let rating = vote.rating.as_str();
        sqlx::query(
            "INSERT INTO message_feedback (message_id, tenant_id, conversation_id, rating, comment, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (message_id) DO UPDATE SET \
             rating = excluded.rating, comment = excluded.comment, updated_at = excluded.updated_at",
        )
        .bind(&message_id)
        .bind(tenant.as_str())
        .bind(conversation.id.as_str())
        .bind(rating)
        .bind(&vote.comment)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let old = before.as_ref().map(|(r, _)| r.as_str());
        if old != Some(rating) {
            let delta = |r: &str| i64::from(rating == r) - i64::from(old == Some(r));
            let (positive, negative) = (delta("positive"), delta("negative"));
            sqlx::query(
                "UPDATE conversations SET feedback_positive = feedback_positive + $1, \
                 feedback_negative = feedback_negative + $2 WHERE tenant_id = $3 AND id = $4",
            )
            .bind(positive)
            .bind(negative)
            .bind(tenant.as_str())
            .bind(conversation.id.as_str())
            .execute(&mut *tx)
            .await?;
            let mut batch = RollupBatch::default();
            let d = batch.daily(&RollupDims::of_conversation(&conversation));
            d.positive = positive;
            d.negative = negative;
            batch.write(&mut tx, tenant).await?;
        }
        tx.commit().await?;
        let created = before.is_none();
        let created_at = before.map_or(now, |(_, at)| at);
        let vote = docent_domain::analytics::FeedbackVote {
            message_id: docent_domain::MessageId::from_stored(message_id),
            rating: rating.to_owned(),
            comment: vote.comment,
            created_at: Timestamp::from_millis(created_at),
            updated_at: Timestamp::from_millis(now),
        };
        Ok((vote, created))
    }

    async fn import_conversations(&self, tenant: &TenantId, batch: Vec<crate::ImportedConversation>) -> Result<()> {
        let t = || SqlArg::Text(tenant.as_str().to_owned());
        let (mut conversations, mut messages, mut executions, mut votes) = (vec![], vec![], vec![], vec![]);
        let mut rollups = RollupBatch::default();
        for c in batch {
            let new = &c.conversation;
            let id = c.id.as_str().to_owned();
            let first = c.messages.iter().find(|m| m.role == "user").map(|m| m.content.as_str());
            let last_at = c.messages.iter().map(|m| m.created_at.millis()).max().unwrap_or(c.started_at.millis());
            let calls = i64::try_from(c.executions.len()).unwrap_or(i64::MAX);
            let rated = |r| c.messages.iter().filter(|m| m.rating == Some(r)).count() as i64;
            let (positive, negative) =
                (rated(docent_domain::analytics::Rating::Positive), rated(docent_domain::analytics::Rating::Negative));
            let segment = new.segment_id.as_ref().map(SegmentId::as_str);
            let dims = RollupDims::of(c.started_at.millis(), &new.channel, segment, &new.visitor_type);
            let d = rollups.daily(&dims);
            d.conversations += 1;
            d.messages += c.messages.len() as i64;
            d.escalated += i64::from(c.status == docent_domain::conversation::STATUS_ESCALATED);
            d.with_tool_calls += i64::from(calls > 0);
            d.tool_calls += calls;
            d.positive += positive;
            d.negative += negative;
            rollups.opening(&dims, new.page_url.as_deref(), first, 1);
            for e in &c.executions {
                rollups.tool(&dims, &e.tool_name, 1);
                executions.push(execution_row(tenant, &id, e)?);
            }
            conversations.push(vec![
                SqlArg::Text(id.clone()),
                t(),
                SqlArg::Text(public_uuid(&c.id)),
                SqlArg::Text(new.session_id.clone()),
                SqlArg::OptText(new.visitor_id.as_ref().map(|v| v.as_str().to_owned())),
                SqlArg::OptText(segment.map(str::to_owned)),
                SqlArg::Text(new.channel.clone()),
                SqlArg::Text(new.visitor_type.clone()),
                SqlArg::OptText(new.agent_model.clone()),
                SqlArg::Text(c.status.clone()),
                SqlArg::OptText(new.page_url.clone()),
                SqlArg::Text(to_json(&new.metadata)?),
                SqlArg::Int(c.messages.len() as i64),
                SqlArg::Int(c.started_at.millis()),
                SqlArg::Int(last_at),
                SqlArg::OptText(first.map(docent_domain::analytics::clip_first_message)),
                SqlArg::OptText(first.and_then(docent_domain::analytics::intent_key)),
                SqlArg::Int(calls),
                SqlArg::Int(positive),
                SqlArg::Int(negative),
            ]);
            for m in c.messages {
                let at = m.created_at.millis();
                if let Some(r) = m.rating {
                    votes.push(vec![
                        SqlArg::Text(m.id.as_str().to_owned()),
                        t(),
                        SqlArg::Text(id.clone()),
                        SqlArg::Text(r.as_str().to_owned()),
                        SqlArg::OptText(None),
                        SqlArg::Int(at),
                        SqlArg::Int(at),
                    ]);
                }
                messages.push(vec![
                    SqlArg::Text(m.id.as_str().to_owned()),
                    t(),
                    SqlArg::Text(id.clone()),
                    SqlArg::Text(m.role),
                    SqlArg::Text(m.content),
                    SqlArg::Text("complete".to_owned()),
                    SqlArg::Int(at),
                ]);
            }
        }
        let mut tx = self.begin_write().await?;
        insert_rows(
            &mut tx,
            "INSERT INTO conversations (id, tenant_id, public_id, session_id, visitor_id, segment_id, channel, \
             visitor_type, agent_model, status, page_url, metadata, message_count, started_at, last_message_at, \
             first_message, intent_key, tool_calls, feedback_positive, feedback_negative) VALUES ",
            "",
            20,
            conversations,
        )
        .await?;
        insert_rows(
            &mut tx,
            "INSERT INTO messages (id, tenant_id, conversation_id, role, content, status, created_at) VALUES ",
            "",
            7,
            messages,
        )
        .await?;
        insert_rows(
            &mut tx,
            "INSERT INTO tool_executions (id, tenant_id, conversation_id, tool_name, tool_type, input, result, \
             success, summary, created_at) VALUES ",
            "",
            10,
            executions,
        )
        .await?;
        insert_rows(
            &mut tx,
            "INSERT INTO message_feedback (message_id, tenant_id, conversation_id, rating, comment, created_at, \
             updated_at) VALUES ",
            "",
            7,
            votes,
        )
        .await?;
        rollups.write(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(())
    }
}
