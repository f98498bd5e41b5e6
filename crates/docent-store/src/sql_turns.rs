// Chat turn writes shared by both backends (see the head of `sql.rs` for how it is included):
// a turn's start and close, in one command when they can be, with the checks they carry.

/// The counters a turn adds to its conversation's daily rollup cell: `escalated` and
/// `with_tool_calls` are SQL expressions over the conversation's row.
struct DailyCounts<'a> {
    conversations: i64,
    messages: i64,
    escalated: &'a str,
    with_tool_calls: &'a str,
    tool_calls: i64,
}

impl DailyCounts<'_> {
    fn messages(messages: i64) -> Self {
        DailyCounts { conversations: 0, messages, escalated: "0", with_tool_calls: "0", tool_calls: 0 }
    }

    /// A conversation just opened, before its first message is counted.
    fn opened() -> Self {
        DailyCounts { conversations: 1, ..Self::messages(0) }
    }
}

/// The rollup cell's key columns of a conversation, read from its row (the SQL form of
/// `RollupDims::of`, without the visitor type).
fn cell_of_row() -> String {
    format!("tenant_id, started_at - (started_at % {}), channel, COALESCE(segment_id, '')", docent_domain::analytics::DAY_MS)
}

/// Which conversation a rollup or counter write applies to, by the value bound as `$2`.
#[derive(Clone, Copy)]
enum ConversationOf {
    /// The conversation of this id.
    Id,
    /// The conversation the message of this id was inserted into: nothing when it was not.
    Message,
}

impl ConversationOf {
    /// The condition on a `conversations` row, its value bound as `$2`.
    fn condition(self) -> &'static str {
        match self {
            ConversationOf::Id => "id = $2",
            ConversationOf::Message => "id = (SELECT conversation_id FROM messages WHERE id = $2)",
        }
    }
}

/// Adds `counts` to the daily rollup cell of the conversation `of` `value` (see
/// `ConversationOf`), its dimensions read from the conversation row.
fn stage_daily_rollup(
    batch: &mut WriteBatch,
    tenant: &TenantId,
    (of, value): (ConversationOf, &str),
    counts: DailyCounts<'_>,
) {
    let args = vec![
        SqlArg::Text(tenant.to_string()),
        SqlArg::Text(value.to_owned()),
        SqlArg::Int(counts.messages),
        SqlArg::Int(counts.tool_calls),
        SqlArg::Int(counts.conversations),
    ];
    // Most turns add messages only: that statement's two shapes are built once.
    static PLAIN: Shapes<2> = Shapes::new();
    let build = || daily_rollup_sql(of, counts.escalated, counts.with_tool_calls);
    let sql = match (counts.escalated, counts.with_tool_calls) {
        ("0", "0") => PLAIN.get(of as usize, build),
        _ => build().into(),
    };
    batch.push(sql, args);
}

fn daily_rollup_sql(of: ConversationOf, escalated: &str, with_tool_calls: &str) -> String {
    let from = format!("conversations WHERE tenant_id = $1 AND {}", of.condition());
    daily_rollup_insert(&from, ["$5", "$3", escalated, with_tool_calls, "$4"])
}

/// Adds counts to the daily rollup cell of each conversation row `from` yields (a table or
/// `WITH` name, and its condition): `counts` are the SQL expressions of its conversations,
/// messages, escalated, with-tool-calls and tool-calls counts, in that order.
fn daily_rollup_insert(from: &str, counts: [&str; 5]) -> String {
    let [conversations, messages, escalated, with_tool_calls, tool_calls] = counts;
    format!(
        "INSERT INTO analytics_daily (tenant_id, day, channel, segment_id, visitor_type, conversations, messages, \
         escalated, with_tool_calls, tool_calls, positive, negative, shard) \
         SELECT {cell}, visitor_type, {conversations}, {messages}, {escalated}, {with_tool_calls}, {tool_calls}, 0, 0, \
         started_at % {ROLLUP_SHARDS} FROM {from}{DAILY_CONFLICT}",
        cell = cell_of_row(),
    )
}

/// ` AND` the tenant (parameter `$tenant`) still has the versions `seen`, binding them after
/// `args`; empty when there is nothing to check.
fn versions_guard(seen: Option<(i64, i64)>, tenant: usize, args: &mut Vec<SqlArg>) -> String {
    let at = args.len();
    if bind_versions(seen, args) { versions_condition(tenant, at) } else { String::new() }
}

/// Binds the versions `seen` after `args`, if there are any; whether it did.
fn bind_versions(seen: Option<(i64, i64)>, args: &mut Vec<SqlArg>) -> bool {
    let Some((config, kb)) = seen else { return false };
    args.extend([SqlArg::Int(config), SqlArg::Int(kb)]);
    true
}

/// ` AND` the tenant (parameter `$tenant`) has the versions bound after the first `at` parameters.
fn versions_condition(tenant: usize, at: usize) -> String {
    format!(
        " AND EXISTS (SELECT 1 FROM tenants WHERE id = ${tenant} AND config_version = ${} AND kb_version = ${})",
        at + 1,
        at + 2
    )
}

/// Whether the tenant's `(config, kb)` versions, as read in the turn's transaction, are the
/// ones the caller saw (`None` read: the tenant is gone).
fn versions_hold(seen: Option<(i64, i64)>, read: Option<(i64, i64)>) -> bool {
    seen.is_none_or(|seen| read == Some(seen))
}

/// `, visitor_id = …` for a turn that names a visitor (bound after `args`; the conversation's
/// own wins when `keep_existing`), and nothing otherwise: assigning the column at all rewrites
/// its index entry, even with the value it had. Returns whether there is one.
fn bind_visitor(visitor: Option<&VisitorId>, args: &mut Vec<SqlArg>) -> bool {
    let Some(visitor) = visitor else { return false };
    args.push(SqlArg::Text(visitor.to_string()));
    true
}

/// The visitor's assignment for `bind_visitor`'s value bound as `$n`.
fn visitor_assignment(n: usize, keep_existing: bool) -> String {
    if keep_existing { format!(", visitor_id = COALESCE(visitor_id, ${n})") } else { format!(", visitor_id = ${n}") }
}

/// A turn close's first parameters: `$1` the messages it adds, `$2` now, `$3` the tenant, `$4`
/// the conversation.
fn close_args(added: i64, now: Timestamp, tenant: &TenantId, finish: &crate::FinishTurn) -> Vec<SqlArg> {
    vec![
        SqlArg::Int(added),
        SqlArg::Int(now.millis()),
        SqlArg::Text(tenant.to_string()),
        SqlArg::Text(finish.conversation_id.to_string()),
    ]
}

/// The tenant's versions (`$1` its id).
const TENANT_VERSIONS: &str = "SELECT config_version, kb_version FROM tenants WHERE id = $1";

/// Adds the insert of the turn's reply, if there is one (nothing is written for a conversation
/// deleted meanwhile); returns the number of messages added.
fn stage_reply(batch: &mut WriteBatch, tenant: &TenantId, finish: &crate::FinishTurn, now: Timestamp) -> i64 {
    let Some((id, content, status)) = &finish.assistant else { return 0 };
    batch.push(
        "INSERT INTO messages (id, tenant_id, conversation_id, role, content, status, created_at) \
         SELECT $1, $2, $3, 'assistant', $4, $5, $6 FROM conversations WHERE tenant_id = $2 AND id = $3",
        vec![
            SqlArg::Text(id.to_string()),
            SqlArg::Text(tenant.to_string()),
            SqlArg::Text(finish.conversation_id.to_string()),
            SqlArg::Text(content.clone()),
            SqlArg::Text((*status).to_owned()),
            SqlArg::Int(now.millis()),
        ],
    );
    1
}

/// Adds a turn's start for the conversation of `start`'s session: the user's message, then
/// the conversation's counters and the daily rollup's message count, both applied to the
/// conversation the message went into. Nothing is written when the conversation does not exist
/// or the tenant's versions moved from the ones the caller saw. Returns the message as stored.
///
/// On PostgreSQL a conversation opened by a racing command may commit between the message's
/// insert and the later statements: keyed by the message, they still agree with it.
fn stage_turn_start(
    batch: &mut WriteBatch,
    tenant: &TenantId,
    start: &crate::StartTurn,
    now: Timestamp,
) -> docent_domain::conversation::StoredMessage {
    let (new, seen) = (&start.conversation, start.seen_versions);
    let message = docent_domain::MessageId::generate();
    let mut args = vec![
        SqlArg::Text(message.to_string()),
        SqlArg::Text(tenant.to_string()),
        SqlArg::Text(start.user_message.clone()),
        SqlArg::Int(now.millis()),
        SqlArg::Text(new.session_id.clone()),
    ];
    static INSERTS: Shapes<2> = Shapes::new();
    let checked = bind_versions(seen, &mut args);
    let insert = INSERTS.get(usize::from(checked), || {
        let guard = if checked { versions_condition(2, 5) } else { String::new() };
        format!(
            "INSERT INTO messages (id, tenant_id, conversation_id, role, content, status, created_at) \
             SELECT $1, $2, id, 'user', $3, 'complete', $4 FROM conversations \
             WHERE tenant_id = $2 AND session_id = $5{guard}"
        )
    });
    batch.push(insert, args);
    static UPDATES: Shapes<2> = Shapes::new();
    let mut args = vec![SqlArg::Text(tenant.to_string()), SqlArg::Text(message.to_string()), SqlArg::Int(now.millis())];
    let named = bind_visitor(new.visitor_id.as_ref(), &mut args);
    let update = UPDATES.get(usize::from(named), || {
        let visitor = if named { visitor_assignment(4, true) } else { String::new() };
        format!(
            "UPDATE conversations SET message_count = message_count + 1, last_message_at = $3{visitor} \
             WHERE tenant_id = $1 AND {}",
            ConversationOf::Message.condition()
        )
    });
    batch.push(update, args);
    stage_daily_rollup(batch, tenant, (ConversationOf::Message, message.as_str()), DailyCounts::messages(1));
    docent_domain::conversation::StoredMessage {
        id: message,
        role: "user".to_owned(),
        content: start.user_message.clone(),
        status: "complete".to_owned(),
        created_at: now,
    }
}

/// What a turn's start reads back: the conversation of the session, its last
/// `crate::TURN_HISTORY_LIMIT` messages in order, and the tenant's versions. The messages are
/// left out when the conversation is `known`'s and holds one message more than it did then: the
/// turn's own, so they are `known`'s and that one (see `histories`).
fn turn_start_reads(tenant: &TenantId, session_id: &str, known: Option<&Known>) -> Vec<(Sql, Vec<SqlArg>)> {
    static SELECTS: Shapes<2> = Shapes::new();
    let select = SELECTS.get(0, || {
        format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = $1 AND session_id = $2")
    });
    let history = SELECTS.get(1, || {
        format!(
            "SELECT id, role, content, status, created_at FROM (\
             SELECT m.id, m.role, m.content, m.status, m.created_at FROM conversations c \
             JOIN messages m ON m.tenant_id = c.tenant_id AND m.conversation_id = c.id \
             WHERE c.tenant_id = $1 AND c.session_id = $2 AND NOT (c.id = $3 AND c.message_count = $4) \
             ORDER BY m.created_at DESC, m.id DESC LIMIT {}) AS recent ORDER BY created_at, id",
            crate::TURN_HISTORY_LIMIT
        )
    });
    let args = vec![SqlArg::Text(tenant.to_string()), SqlArg::Text(session_id.to_owned())];
    let (id, count) = match known {
        Some(k) => (k.conversation.to_string(), i64::try_from(k.count + 1).unwrap_or(-1)),
        None => (String::new(), -1),
    };
    let mut history_args = args.clone();
    history_args.extend([SqlArg::Text(id), SqlArg::Int(count)]);
    let versions = (TENANT_VERSIONS.into(), vec![SqlArg::Text(tenant.to_string())]);
    vec![(select, args), (history, history_args), versions]
}

/// What a turn's start read back (`turn_start_reads`) says.
enum StartRead {
    /// The tenant's versions moved: nothing was written.
    Stale,
    /// The turn's message is in `conversation` (created by this start when `created`), whose
    /// newest messages are `known`'s.
    Started { conversation: Box<docent_domain::conversation::Conversation>, created: bool, known: Known },
    /// The versions held but there is no conversation of the session.
    NoConversation,
    /// A conversation of the session exists but the turn's message is not in it: the
    /// conversation was opened by a command that committed after the message's insert looked
    /// for it (PostgreSQL), so nothing was written and the start is to be tried again.
    Missed,
}

/// The outcome of a turn's start from what it read back (`turn_start_reads`, given `known`):
/// stale when the tenant's versions moved, started when the conversation holds the turn's
/// message `mine` (created when its id is `opened`).
fn turn_start_outcome(
    parts: Vec<Vec<OwnedRow>>,
    seen: Option<(i64, i64)>,
    mine: &docent_domain::conversation::StoredMessage,
    opened: Option<&ConversationId>,
    known: Option<&Known>,
) -> Result<StartRead> {
    let Ok([conversation, history, versions]) = <[Vec<OwnedRow>; 3]>::try_from(parts) else {
        return Err(StorageError::corrupt("not three result sets for a turn's start".into()));
    };
    let read = versions
        .first()
        .map(|r| Ok::<_, StorageError>((owned_column(r, "config_version")?, owned_column(r, "kb_version")?)))
        .transpose()?;
    if !versions_hold(seen, read) {
        return Ok(StartRead::Stale);
    }
    let Some(row) = conversation.into_iter().next() else { return Ok(StartRead::NoConversation) };
    let conversation = decode_owned::<chat_rows::ConversationRow>(row)?.into_conversation()?;
    let cached = known.filter(|k| {
        history.is_empty() && k.conversation == conversation.id && k.count + 1 == conversation.message_count
    });
    let known = match cached {
        Some(k) => k.extended([mine.clone()]),
        None => {
            let history: Vec<docent_domain::conversation::StoredMessage> = history
                .into_iter()
                .map(|row| Ok(decode_owned::<chat_rows::MessageRow>(row)?.into_message()))
                .collect::<Result<_>>()?;
            if !history.iter().any(|m| m.id == mine.id) {
                return Ok(StartRead::Missed);
            }
            Known::new(conversation.id.clone(), conversation.message_count, history)
        }
    };
    let created = opened == Some(&conversation.id);
    Ok(StartRead::Started { conversation: Box::new(conversation), created, known })
}

/// Adds the insert of `start`'s conversation as `id`: nothing when one of its session exists
/// (another turn opened it first), the tenant's versions moved, or the monthly cap is reached.
fn stage_conversation(
    batch: &mut WriteBatch,
    tenant: &TenantId,
    id: &ConversationId,
    start: &crate::StartTurn,
    now: Timestamp,
) -> Result<()> {
    let new = &start.conversation;
    let mut args = vec![
        SqlArg::Text(id.to_string()),
        SqlArg::Text(tenant.to_string()),
        SqlArg::Text(public_uuid(id)),
        SqlArg::Text(new.session_id.clone()),
        SqlArg::OptText(new.visitor_id.as_ref().map(VisitorId::to_string)),
        SqlArg::OptText(new.segment_id.as_ref().map(SegmentId::to_string)),
        SqlArg::Text(new.channel.clone()),
        SqlArg::Text(new.visitor_type.clone()),
        SqlArg::OptText(new.agent_model.clone()),
        SqlArg::OptText(new.page_url.clone()),
        SqlArg::Int(now.millis()),
        SqlArg::Text(to_json(&new.metadata)?),
        SqlArg::Text(docent_domain::analytics::clip_first_message(&start.user_message)),
        SqlArg::OptText(docent_domain::analytics::intent_key(&start.user_message)),
    ];
    let guard = versions_guard(start.seen_versions, 2, &mut args);
    let cap = match start.monthly_cap {
        Some((cap, since)) => {
            args.extend([SqlArg::Int(since.millis()), SqlArg::Int(i64::try_from(cap).unwrap_or(i64::MAX))]);
            let n = args.len();
            format!(
                " AND (SELECT COUNT(*) FROM conversations WHERE tenant_id = $2 AND started_at >= ${}) < ${n}",
                n - 1
            )
        }
        None => String::new(),
    };
    batch.push(
        format!(
            "INSERT INTO conversations (id, tenant_id, public_id, session_id, visitor_id, segment_id, channel, \
             visitor_type, agent_model, status, page_url, metadata, message_count, started_at, last_message_at, \
             first_message, intent_key) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $12, 0, $11, $11, $13, $14 \
             WHERE NOT EXISTS (SELECT 1 FROM conversations WHERE tenant_id = $2 AND session_id = $4){guard}{cap} \
             ON CONFLICT (tenant_id, session_id) DO NOTHING"
        ),
        args,
    );
    Ok(())
}

/// Adds what a new conversation counts in the rollups (one conversation, its page, its
/// opening question), each read from the conversation row `id`: nothing if it was not inserted.
fn stage_opening_rollups(batch: &mut WriteBatch, tenant: &TenantId, id: &ConversationId, start: &crate::StartTurn) {
    stage_daily_rollup(batch, tenant, (ConversationOf::Id, id.as_str()), DailyCounts::opened());
    let cell = cell_of_row();
    let of_row = |extra: Vec<SqlArg>| {
        let mut args = vec![SqlArg::Text(tenant.to_string()), SqlArg::Text(id.to_string())];
        args.extend(extra);
        args
    };
    if let Some(page) = start.conversation.page_url.as_deref().and_then(docent_domain::analytics::page_key) {
        batch.push(
            format!(
                "INSERT INTO analytics_daily_pages (tenant_id, day, channel, segment_id, page, conversations) \
                 SELECT {cell}, $3, 1 FROM conversations WHERE tenant_id = $1 AND id = $2{PAGES_CONFLICT}"
            ),
            of_row(vec![SqlArg::Text(page)]),
        );
    }
    if let Some(key) = docent_domain::analytics::intent_key(&start.user_message) {
        let question = docent_domain::analytics::clip_question(&start.user_message);
        batch.push(
            format!(
                "INSERT INTO analytics_daily_intents (tenant_id, day, channel, segment_id, intent_key, question, \
                 conversations) SELECT {cell}, $3, $4, 1 FROM conversations WHERE tenant_id = $1 AND id = $2\
                 {INTENTS_CONFLICT}"
            ),
            of_row(vec![SqlArg::Text(key), SqlArg::Text(question)]),
        );
    }
}

impl ThisStore {
    /// A turn's start, in grouped commands (see `write_then_read`). The common case, a known
    /// conversation, is one command matching its rows by session; when the conversation does not
    /// exist yet, a second command opens it. Neither writes anything when the tenant moved on from the
    /// versions the caller saw. Both go through the same writer as every other turn write, so
    /// on SQLite no other connection's write empties the turn writer's page cache.
    async fn start_turn_grouped(&self, tenant: &TenantId, start: crate::StartTurn) -> Result<crate::TurnStart> {
        let now = Timestamp::now();
        let session = start.conversation.session_id.as_str();
        let known = self.histories.get(tenant, session);
        let mut batch = WriteBatch::default();
        let mine = stage_turn_start(&mut batch, tenant, &start, now);
        let parts = self.write_then_read(batch, turn_start_reads(tenant, session, known.as_ref())).await?;
        match turn_start_outcome(parts, start.seen_versions, &mine, None, known.as_ref())? {
            StartRead::Stale => Ok(crate::TurnStart::Stale),
            StartRead::Started { conversation, created, known } => Ok(self.started(tenant, conversation, created, known)),
            // Boxed: the opening's futures would otherwise make every turn's start future (held
            // while the turn waits for the writer) larger.
            StartRead::NoConversation | StartRead::Missed => {
                Box::pin(self.open_conversation_with_turn(tenant, start, now)).await
            }
        }
    }

    /// A turn's start that opens its conversation: the conversation (unless one of its session
    /// exists by now, or the monthly cap is reached), the counts a new conversation adds to the
    /// rollups (only if this command inserted it), then the turn's start as for a known one.
    async fn open_conversation_with_turn(
        &self,
        tenant: &TenantId,
        start: crate::StartTurn,
        now: Timestamp,
    ) -> Result<crate::TurnStart> {
        let id = ConversationId::generate();
        let mut batch = WriteBatch::default();
        stage_conversation(&mut batch, tenant, &id, &start, now)?;
        stage_opening_rollups(&mut batch, tenant, &id, &start);
        let mine = stage_turn_start(&mut batch, tenant, &start, now);
        let parts = self.write_then_read(batch, turn_start_reads(tenant, &start.conversation.session_id, None)).await?;
        Ok(match turn_start_outcome(parts, start.seen_versions, &mine, Some(&id), None)? {
            StartRead::Stale => crate::TurnStart::Stale,
            StartRead::Started { conversation, created, known } => self.started(tenant, conversation, created, known),
            // The versions held and no conversation of this session exists: the cap refused it.
            StartRead::NoConversation if start.monthly_cap.is_some() => crate::TurnStart::LimitReached,
            // Deleted again before this command's reads, or opened by another command after
            // this one's message looked for it (PostgreSQL): nothing was written, the caller
            // retries.
            StartRead::NoConversation | StartRead::Missed => crate::TurnStart::Stale,
        })
    }

    /// A started turn, its conversation's messages remembered for the turn's close and the
    /// conversation's next turn.
    fn started(
        &self,
        tenant: &TenantId,
        conversation: Box<docent_domain::conversation::Conversation>,
        created: bool,
        known: Known,
    ) -> crate::TurnStart {
        let history = known.to_history();
        self.histories.put(tenant, &conversation.session_id, known);
        crate::TurnStart::Started { conversation, created, history }
    }

    /// After a turn's close: the conversation's remembered messages take the turn's `reply`
    /// when the close found the conversation holding exactly those and the reply (see
    /// `histories`), and are forgotten otherwise.
    fn remember_close(
        &self,
        tenant: &TenantId,
        conversation: &docent_domain::conversation::Conversation,
        reply: Option<docent_domain::conversation::StoredMessage>,
    ) {
        let session = &conversation.session_id;
        let Some(known) = self.histories.get(tenant, session) else { return };
        let added = u64::from(reply.is_some());
        if known.conversation == conversation.id && known.count + added == conversation.message_count {
            self.histories.put(tenant, session, known.extended(reply));
        } else {
            self.histories.forget(tenant, session);
        }
    }

    /// Runs a turn's close `batch`, then reads the conversation `id` back in its transaction.
    async fn write_then_read_conversation(
        &self,
        tenant: &TenantId,
        batch: WriteBatch,
        id: &str,
    ) -> Result<docent_domain::conversation::Conversation> {
        static SELECT: Shapes<1> = Shapes::new();
        let select =
            SELECT.get(0, || format!("SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE tenant_id = $1 AND id = $2"));
        let args = vec![SqlArg::Text(tenant.to_string()), SqlArg::Text(id.to_owned())];
        let parts = self.write_then_read(batch, vec![(select, args)]).await?;
        let row = first_row(parts).ok_or(StorageError::NotFound)?;
        decode_owned::<chat_rows::ConversationRow>(row)?.into_conversation()
    }

    /// A turn's close with tool executions or an escalation, in one command like the plain one.
    /// The counters move first and the status last, so the rollup between them reads from the
    /// conversation row whether this turn made its first tool call (`tool_calls` is now this
    /// turn's calls) and whether it was escalated already. The conversation row is written
    /// before the rollup rows, as in every turn write. Nothing is written for a conversation
    /// deleted meanwhile.
    async fn finish_turn_with_tools(
        &self,
        tenant: &TenantId,
        finish: crate::FinishTurn,
        now: Timestamp,
    ) -> Result<docent_domain::conversation::Conversation> {
        use docent_domain::conversation::STATUS_ESCALATED;
        let conv = finish.conversation_id.as_str();
        let mut batch = WriteBatch::default();
        for e in &finish.executions {
            batch.push(
                "INSERT INTO tool_executions (id, tenant_id, conversation_id, tool_name, tool_type, input, result, \
                 success, summary, created_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM conversations \
                 WHERE tenant_id = $2 AND id = $3",
                execution_row(tenant, conv, e)?,
            );
        }
        let added = stage_reply(&mut batch, tenant, &finish, now);
        let calls = i64::try_from(finish.executions.len()).unwrap_or(i64::MAX);
        let mut args = close_args(added, now, tenant, &finish);
        args.push(SqlArg::Int(calls));
        let visitor = if bind_visitor(finish.visitor_id.as_ref(), &mut args) {
            visitor_assignment(6, false)
        } else {
            String::new()
        };
        batch.push(
            format!(
                "UPDATE conversations SET message_count = message_count + $1, last_message_at = $2, \
                 tool_calls = tool_calls + $5{visitor} WHERE tenant_id = $3 AND id = $4"
            ),
            args,
        );
        let first_calls = if calls > 0 { format!("CASE WHEN tool_calls = {calls} THEN 1 ELSE 0 END") } else { "0".into() };
        let newly_escalated = match finish.escalated {
            true => format!("CASE WHEN status = '{STATUS_ESCALATED}' THEN 0 ELSE 1 END"),
            false => "0".into(),
        };
        let counts = DailyCounts {
            conversations: 0,
            messages: added,
            escalated: &newly_escalated,
            with_tool_calls: &first_calls,
            tool_calls: calls,
        };
        stage_daily_rollup(&mut batch, tenant, (ConversationOf::Id, conv), counts);
        let mut per_tool = std::collections::BTreeMap::<&str, i64>::new();
        for e in &finish.executions {
            *per_tool.entry(&e.tool_name).or_default() += 1;
        }
        for (name, n) in per_tool {
            batch.push(
                format!(
                    "INSERT INTO analytics_daily_tools (tenant_id, day, channel, segment_id, tool_name, calls) \
                     SELECT {cell}, $3, $4 FROM conversations WHERE tenant_id = $1 AND id = $2{TOOLS_CONFLICT}",
                    cell = cell_of_row()
                ),
                vec![
                    SqlArg::Text(tenant.to_string()),
                    SqlArg::Text(conv.to_owned()),
                    SqlArg::Text(name.to_owned()),
                    SqlArg::Int(n),
                ],
            );
        }
        if finish.escalated {
            batch.push(
                format!("UPDATE conversations SET status = '{STATUS_ESCALATED}' WHERE tenant_id = $1 AND id = $2"),
                vec![SqlArg::Text(tenant.to_string()), SqlArg::Text(conv.to_owned())],
            );
        }
        self.write_then_read_conversation(tenant, batch, conv).await
    }
}
