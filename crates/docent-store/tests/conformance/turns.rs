//! Chat turns: history, votes, submissions, rollups, failed and concurrent writes.

use super::*;

pub(crate) async fn turns_votes_and_submission_moves_keep_history_and_rollups_in_step(db: Db) {
    use docent_domain::analytics::{ConversationFilter, NewFeedback, Rating, StatsQuery, day_floor};
    use docent_domain::conversation::{NewSubmission, ToolExecution};
    use docent_store::{FinishTurn, StartTurn, SubmissionMove, TurnStart};
    let (acme, _) = tenant(&db, "acme").await;
    let (other, _) = tenant(&db, "other").await;
    let start = |message: &str| StartTurn {
        conversation: conversation("s1", None),
        user_message: message.to_owned(),
        monthly_cap: None,
        seen_versions: None,
    };
    let TurnStart::Started { conversation: c, created: true, history } =
        db.start_turn(&acme, start("Où sont les prix ?")).await.unwrap()
    else {
        panic!("a new conversation starts")
    };
    let texts = |h: &[docent_domain::conversation::StoredMessage]| {
        h.iter().map(|m| format!("{}: {}", m.role, m.content)).collect::<Vec<_>>()
    };
    assert_eq!(texts(&history), ["user: Où sont les prix ?"], "a new conversation's history is its first message");
    let reply = docent_domain::MessageId::generate();
    let execution = ToolExecution {
        tool_name: "escalate".into(),
        tool_type: "ESCALATE_TO_HUMAN".into(),
        input: json!({}),
        result: json!({}),
        success: true,
        summary: "s".into(),
        created_at: Timestamp::now(),
    };
    let finish = FinishTurn {
        conversation_id: c.id.clone(),
        assistant: Some((reply.clone(), "answer".into(), "complete")),
        executions: vec![execution],
        escalated: true,
        visitor_id: None,
    };
    db.finish_turn(&acme, finish).await.unwrap();
    let TurnStart::Started { created: false, history, .. } = db.start_turn(&acme, start("and then?")).await.unwrap()
    else {
        panic!("the conversation goes on")
    };
    assert_eq!(
        texts(&history),
        ["user: Où sont les prix ?", "assistant: answer", "user: and then?"],
        "a known conversation's turn sees every message so far, its own last"
    );
    assert_eq!(
        history,
        db.list_messages(&acme, &c.id).await.unwrap(),
        "the start's history (one JSON row) carries what the messages hold: ids, statuses, times"
    );
    let vote = |rating| NewFeedback { conversation_id: c.id.clone(), message_id: None, rating, comment: None };
    assert!(db.record_feedback(&acme, vote(Rating::Positive)).await.unwrap().1);
    let (changed, created) = db.record_feedback(&acme, vote(Rating::Negative)).await.unwrap();
    assert!(!created);
    assert_eq!(changed.message_id, reply);
    assert!(matches!(db.record_feedback(&other, vote(Rating::Positive)).await, Err(StorageError::NotFound)));

    let (rows, total) = db.list_conversations(&acme, &ConversationFilter::default(), 1, 20).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(rows[0].first_message.as_deref(), Some("Où sont les prix ?"));
    assert_eq!((rows[0].tool_calls, rows[0].feedback.positive, rows[0].feedback.negative), (1, 0, 1));
    assert_eq!(rows[0].conversation.status, "escalated");
    let day = day_floor(Timestamp::now().millis());
    let q = StatsQuery { from_day: day, to_day: day + 86_400_000, channel: None, segment_id: None, top: 10 };
    let stats = db.conversation_stats(&acme, &q).await.unwrap();
    let totals = stats.days.iter().fold(docent_domain::analytics::Totals::default(), |mut t, d| {
        t.add(&d.totals);
        t
    });
    assert_eq!((totals.conversations, totals.messages, totals.escalated, totals.tool_calls), (1, 3, 1, 1));
    assert_eq!((totals.positive, totals.negative, totals.with_tool_calls), (0, 1, 1));
    assert_eq!(stats.intents, vec![("Où sont les prix ?".to_owned(), 1)]);
    assert!(db.conversation_stats(&other, &q).await.unwrap().days.is_empty());

    let tool = db.create_tool(&acme, tool("Form", None)).await.unwrap();
    let new = NewSubmission { tool_id: tool.id, conversation_id: c.id.clone(), visitor_id: None, data: json!({}) };
    let sub = db.create_submission(&acme, new).await.unwrap();
    assert_eq!(
        db.set_submission_status(&acme, &sub.id, "RESOLVED").await.unwrap(),
        SubmissionMove::Refused { current: "NEW".into() }
    );
    assert!(
        matches!(db.set_submission_status(&acme, &sub.id, "CONTACTED").await.unwrap(), SubmissionMove::Moved(s) if s.status == "CONTACTED")
    );
    assert_eq!(db.set_submission_status(&other, &sub.id, "RESOLVED").await.unwrap(), SubmissionMove::NotFound);
    let detail = db.conversation_detail(&acme, &c.id).await.unwrap().unwrap();
    assert_eq!((detail.messages.len(), detail.submissions.len(), detail.votes.len()), (3, 1, 1));
    assert!(db.conversation_detail(&other, &c.id).await.unwrap().is_none());
}

/// A conversation's later tool turns add their calls, but it counts once as "with tool calls"
/// and once as escalated, however many turns call tools or escalate; each tool's calls count
/// under its name. A close for a conversation that is gone writes nothing.
pub(crate) async fn repeated_tool_turns_count_the_conversation_once_and_every_call(db: Db) {
    use docent_domain::analytics::{StatsQuery, day_floor};
    use docent_domain::conversation::ToolExecution;
    use docent_store::{FinishTurn, StartTurn, StorageError, TurnStart};
    let (acme, _) = tenant(&db, "acme").await;
    let start = || StartTurn {
        conversation: conversation("s1", None),
        user_message: "hello".to_owned(),
        monthly_cap: None,
        seen_versions: None,
    };
    let call = |name: &str| ToolExecution {
        tool_name: name.into(),
        tool_type: "REMEMBER_FACT".into(),
        input: json!({"key": "k"}),
        result: json!({}),
        success: true,
        summary: "s".into(),
        created_at: Timestamp::now(),
    };
    let finish =
        |c: &docent_domain::conversation::Conversation, executions: Vec<ToolExecution>, escalated| FinishTurn {
            conversation_id: c.id.clone(),
            assistant: Some((docent_domain::MessageId::generate(), "answer".into(), "complete")),
            executions,
            escalated,
            visitor_id: None,
        };
    let TurnStart::Started { conversation: c, .. } = db.start_turn(&acme, start()).await.unwrap() else {
        panic!("a new conversation starts")
    };
    let after = db.finish_turn(&acme, finish(&c, vec![call("remember")], false)).await.unwrap();
    assert_eq!((after.message_count, after.status.as_str()), (2, "active"));
    for escalated in [true, true, false] {
        db.start_turn(&acme, start()).await.unwrap();
        let calls = vec![call("remember"), call("escalate")];
        let after = db.finish_turn(&acme, finish(&c, calls, escalated)).await.unwrap();
        assert_eq!(after.status, "escalated", "escalated once, escalated for good");
    }
    assert_eq!(db.list_tool_executions(&acme, &c.id).await.unwrap().len(), 7);
    let day = day_floor(Timestamp::now().millis());
    let q = StatsQuery { from_day: day, to_day: day + 86_400_000, channel: None, segment_id: None, top: 10 };
    let stats = db.conversation_stats(&acme, &q).await.unwrap();
    let totals = stats.days.iter().fold(docent_domain::analytics::Totals::default(), |mut t, d| {
        t.add(&d.totals);
        t
    });
    assert_eq!((totals.conversations, totals.messages, totals.tool_calls), (1, 8, 7));
    assert_eq!((totals.with_tool_calls, totals.escalated), (1, 1));
    let mut tools = stats.tools.clone();
    tools.sort();
    assert_eq!(tools, [("escalate".to_owned(), 3), ("remember".to_owned(), 4)]);

    let gone = docent_domain::conversation::Conversation { id: docent_domain::ConversationId::generate(), ..*c };
    let lost = db.finish_turn(&acme, finish(&gone, vec![call("remember")], true)).await;
    assert!(matches!(lost, Err(StorageError::NotFound)), "{lost:?}");
    assert!(db.list_tool_executions(&acme, &gone.id).await.unwrap().is_empty());
    assert!(db.list_messages(&acme, &gone.id).await.unwrap().is_empty());
    let again = db.all_time_totals(&acme, None, None).await.unwrap();
    assert_eq!((again.messages, again.tool_calls, again.escalated), (8, 7, 1), "nothing counted for it");
}

pub(crate) async fn a_failed_turn_write_leaves_nothing_behind_and_the_writer_usable(db: Db) {
    use docent_store::{FinishTurn, StartTurn, StorageError, TurnStart};
    let (acme, _) = tenant(&db, "acme").await;
    let start = |session: &str| StartTurn {
        conversation: conversation(session, None),
        user_message: "hello".to_owned(),
        monthly_cap: None,
        seen_versions: None,
    };
    let TurnStart::Started { conversation: c, .. } = db.start_turn(&acme, start("s1")).await.unwrap() else {
        panic!("a new conversation starts")
    };
    // A reply for a conversation that does not exist fails inside the one-command write…
    let missing = FinishTurn {
        conversation_id: docent_domain::ConversationId::generate(),
        assistant: Some((docent_domain::MessageId::generate(), "lost".into(), "complete")),
        executions: Vec::new(),
        escalated: false,
        visitor_id: None,
    };
    let failed = db.finish_turn(&acme, missing).await;
    assert!(matches!(failed, Err(StorageError::NotFound | StorageError::Other(_))), "{failed:?}");
    // …and leaves no transaction open: the next writes go through and nothing of it remains.
    for _ in 0..3 {
        db.start_turn(&acme, start("s1")).await.unwrap();
    }
    let finish = FinishTurn {
        conversation_id: c.id.clone(),
        assistant: Some((docent_domain::MessageId::generate(), "kept".into(), "complete")),
        executions: Vec::new(),
        escalated: false,
        visitor_id: None,
    };
    let after = db.finish_turn(&acme, finish).await.unwrap();
    assert_eq!(after.message_count, 5);
    let contents: Vec<String> = db.list_messages(&acme, &c.id).await.unwrap().into_iter().map(|m| m.content).collect();
    assert_eq!(contents, ["hello", "hello", "hello", "hello", "kept"]);
    let totals = db.all_time_totals(&acme, None, None).await.unwrap();
    assert_eq!((totals.conversations, totals.messages), (1, 5), "the rollup counts each stored message once");
}

/// A turn links its conversation to a visitor: a start names one only while the conversation
/// has none, a close (plain or with tool calls) names the visitor it created; a turn that names
/// no visitor leaves the link as it is.
pub(crate) async fn turns_link_the_conversation_to_a_visitor_and_never_unlink_it(db: Db) {
    use docent_domain::conversation::ToolExecution;
    use docent_store::{FinishTurn, StartTurn, TurnStart};
    let (acme, _) = tenant(&db, "acme").await;
    let ann = db.create_visitor(&acme, visitor(None, Some("Ann"), None)).await.unwrap().id;
    let bob = db.create_visitor(&acme, visitor(None, Some("Bob"), None)).await.unwrap().id;
    let start = |visitor: Option<&VisitorId>| StartTurn {
        conversation: conversation("s1", visitor),
        user_message: "hello".to_owned(),
        monthly_cap: None,
        seen_versions: None,
    };
    let started = |outcome| match outcome {
        TurnStart::Started { conversation, .. } => conversation,
        _ => panic!("the turn starts"),
    };
    let c = started(db.start_turn(&acme, start(None)).await.unwrap());
    assert_eq!(c.visitor_id, None, "a new conversation without a visitor");
    // Checked against the tenant's versions, as the chat path does (the guard binds after the visitor).
    let versions = db.tenant_versions("acme").await.unwrap().map(|v| (v.config, v.kb));
    let start = |visitor| StartTurn { seen_versions: versions, ..start(visitor) };
    assert_eq!(started(db.start_turn(&acme, start(None)).await.unwrap()).visitor_id, None);
    assert_eq!(started(db.start_turn(&acme, start(Some(&ann))).await.unwrap()).visitor_id, Some(ann.clone()));
    let later = started(db.start_turn(&acme, start(Some(&bob))).await.unwrap());
    assert_eq!(later.visitor_id, Some(ann.clone()), "a start does not replace the conversation's visitor");
    let finish = |visitor: Option<&VisitorId>, executions| FinishTurn {
        conversation_id: c.id.clone(),
        assistant: Some((docent_domain::MessageId::generate(), "ok".into(), "complete")),
        executions,
        escalated: false,
        visitor_id: visitor.cloned(),
    };
    assert_eq!(db.finish_turn(&acme, finish(None, Vec::new())).await.unwrap().visitor_id, Some(ann.clone()));
    assert_eq!(db.finish_turn(&acme, finish(Some(&bob), Vec::new())).await.unwrap().visitor_id, Some(bob.clone()));
    let execution = ToolExecution {
        tool_name: "remember".into(),
        tool_type: "REMEMBER_FACT".into(),
        input: json!({}),
        result: json!({}),
        success: true,
        summary: "s".into(),
        created_at: Timestamp::now(),
    };
    let with_tool = db.finish_turn(&acme, finish(None, vec![execution.clone()])).await.unwrap();
    assert_eq!(with_tool.visitor_id, Some(bob.clone()), "a close with tool calls keeps the link too");
    assert_eq!(db.finish_turn(&acme, finish(Some(&ann), vec![execution])).await.unwrap().visitor_id, Some(ann.clone()));
    let stored = db.conversation_by_session(&acme, "s1").await.unwrap().unwrap();
    assert_eq!((stored.visitor_id, stored.message_count), (Some(ann), 8), "what the turns returned is what is stored");
}

/// On SQLite, concurrent turns are committed in groups: a failing write must fail only itself,
/// and every other one lands exactly once. New conversations start in transactions on the other
/// writer connection meanwhile: the two take turns without a "database is locked".
pub(crate) async fn concurrent_turn_writes_each_land_once_beside_a_failing_one(db: Db) {
    use docent_store::{FinishTurn, StartTurn, TurnStart};
    let (acme, _) = tenant(&db, "acme").await;
    let start = |session: String| StartTurn {
        conversation: conversation(&session, None),
        user_message: "hello".to_owned(),
        monthly_cap: None,
        seen_versions: None,
    };
    let mut ids = Vec::new();
    for i in 0..20 {
        let TurnStart::Started { conversation: c, .. } = db.start_turn(&acme, start(format!("s{i}"))).await.unwrap()
        else {
            panic!("a new conversation starts")
        };
        ids.push(c.id);
    }
    let mut writes = tokio::task::JoinSet::new();
    for (i, id) in ids.iter().enumerate() {
        let (db1, acme1) = (db.clone(), acme.clone());
        // Conversation 7's reply names a conversation that does not exist.
        let conversation_id = if i == 7 { docent_domain::ConversationId::generate() } else { id.clone() };
        let finish = FinishTurn {
            conversation_id,
            assistant: Some((docent_domain::MessageId::generate(), format!("reply {i}"), "complete")),
            executions: Vec::new(),
            escalated: false,
            visitor_id: None,
        };
        writes.spawn(async move { (format!("finish {i}"), db1.finish_turn(&acme1, finish).await.map(|_| ())) });
        let (db2, acme2, next) = (db.clone(), acme.clone(), start(format!("s{i}")));
        writes.spawn(async move { (format!("start {i}"), db2.start_turn(&acme2, next).await.map(|_| ())) });
        let (db3, acme3, new) = (db.clone(), acme.clone(), start(format!("new {i}")));
        writes.spawn(async move { (format!("new {i}"), db3.start_turn(&acme3, new).await.map(|_| ())) });
    }
    let mut failed = Vec::new();
    while let Some(done) = writes.join_next().await {
        let (what, result) = done.unwrap();
        if result.is_err() {
            failed.push(what);
        }
    }
    assert_eq!(failed, ["finish 7"], "only the bad write fails");
    for (i, id) in ids.iter().enumerate() {
        let messages = db.list_messages(&acme, id).await.unwrap();
        assert_eq!(messages.len(), if i == 7 { 2 } else { 3 }, "conversation {i}: {messages:?}");
    }
    let totals = db.all_time_totals(&acme, None, None).await.unwrap();
    assert_eq!((totals.conversations, totals.messages), (40, 79), "the rollup counts each stored message once");
}

/// A turn checked against a tenant copy the store has moved on from writes nothing and says so,
/// on a known conversation (the one-command path) as on a new one; a current copy writes.
pub(crate) async fn a_turn_checked_against_an_old_tenant_copy_writes_nothing(db: Db) {
    use docent_store::{StartTurn, TurnStart};
    let (acme, _) = tenant(&db, "acme").await;
    let versions = |db: Db| async move {
        let v = db.tenant_versions("acme").await.unwrap().unwrap();
        (v.config, v.kb)
    };
    let start = |session: &str, seen| StartTurn {
        conversation: conversation(session, None),
        user_message: "hello".to_owned(),
        monthly_cap: None,
        seen_versions: Some(seen),
    };
    let before = versions(db.clone()).await;
    assert!(matches!(db.start_turn(&acme, start("known", before)).await.unwrap(), TurnStart::Started { .. }));
    let mut changed = db.tenant_by_id(&acme).await.unwrap().unwrap();
    changed.name = "Acme renamed".into();
    db.update_tenant(&acme, &changed).await.unwrap();
    let after = versions(db.clone()).await;
    assert_ne!(before, after, "a tenant write moves its versions");
    for session in ["known", "new"] {
        let stale = db.start_turn(&acme, start(session, before)).await.unwrap();
        assert!(matches!(stale, TurnStart::Stale), "{session}: {stale:?}");
    }
    let known = db.conversation_by_session(&acme, "known").await.unwrap().unwrap();
    assert_eq!(known.message_count, 1, "the stale turn stored nothing");
    assert!(db.conversation_by_session(&acme, "new").await.unwrap().is_none(), "nor opened a conversation");
    let totals = db.all_time_totals(&acme, None, None).await.unwrap();
    assert_eq!((totals.conversations, totals.messages), (1, 1), "nor counted anything");
    for session in ["known", "new"] {
        let TurnStart::Started { history, .. } = db.start_turn(&acme, start(session, after)).await.unwrap() else {
            panic!("{session}: a current copy writes")
        };
        assert_eq!(history.last().map(|m| m.content.as_str()), Some("hello"));
    }
    let totals = db.all_time_totals(&acme, None, None).await.unwrap();
    assert_eq!((totals.conversations, totals.messages), (2, 3));
}

/// First turns of one new session racing each other open one conversation: one of them is
/// told it created it, every message lands in it, and the rollups count one conversation with
/// its page and opening question. With a monthly cap reached, a new session is refused and
/// writes nothing, while a known conversation goes on.
pub(crate) async fn racing_first_turns_open_one_conversation_and_the_cap_refuses_only_new_ones(db: Db) {
    use docent_domain::analytics::{StatsQuery, day_floor};
    use docent_store::{StartTurn, TurnStart};
    let (acme, _) = tenant(&db, "acme").await;
    let start = |session: &str, cap: Option<u64>| StartTurn {
        conversation: NewConversation {
            page_url: Some("https://shop.example/pricing?utm=x".into()),
            ..conversation(session, None)
        },
        user_message: "What are your prices?".to_owned(),
        monthly_cap: cap.map(|c| (c, Timestamp::now().month_start())),
        seen_versions: None,
    };
    let mut turns = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (db, acme, turn) = (db.clone(), acme.clone(), start("race", None));
        turns.spawn(async move { db.start_turn(&acme, turn).await });
    }
    let (mut ids, mut created) = (std::collections::HashSet::new(), 0);
    while let Some(done) = turns.join_next().await {
        let TurnStart::Started { conversation, created: c, .. } = done.unwrap().unwrap() else {
            panic!("every racing turn starts")
        };
        ids.insert(conversation.id);
        created += usize::from(c);
    }
    assert_eq!((ids.len(), created), (1, 1), "one conversation, created by one of the turns");
    let id = ids.into_iter().next().unwrap();
    assert_eq!(db.list_messages(&acme, &id).await.unwrap().len(), 8, "every racing turn's message is in it");
    let day = day_floor(Timestamp::now().millis());
    let q = StatsQuery { from_day: day, to_day: day + 86_400_000, channel: None, segment_id: None, top: 10 };
    let stats = db.conversation_stats(&acme, &q).await.unwrap();
    let (conversations, messages) =
        stats.days.iter().fold((0, 0), |(c, m), d| (c + d.totals.conversations, m + d.totals.messages));
    assert_eq!((conversations, messages), (1, 8));
    assert_eq!(stats.intents, vec![("What are your prices?".to_owned(), 1)]);
    assert_eq!(stats.pages.len(), 1, "the opening page counts once: {:?}", stats.pages);
    assert_eq!(stats.pages[0].1, 1);

    assert!(matches!(db.start_turn(&acme, start("over", Some(1))).await.unwrap(), TurnStart::LimitReached));
    let TurnStart::Started { created: false, .. } = db.start_turn(&acme, start("race", Some(1))).await.unwrap() else {
        panic!("a known conversation goes on past the cap")
    };
    let totals = db.all_time_totals(&acme, None, None).await.unwrap();
    assert_eq!((totals.conversations, totals.messages), (1, 9), "the refused turn wrote nothing");
    let TurnStart::Started { created: true, .. } = db.start_turn(&acme, start("under", Some(2))).await.unwrap() else {
        panic!("a new conversation under the cap opens")
    };
}

pub(crate) async fn a_long_conversations_turn_reads_back_only_its_latest_messages(db: Db) {
    use docent_store::{FinishTurn, StartTurn, TURN_HISTORY_LIMIT, TurnStart};
    let (acme, _) = tenant(&db, "acme").await;
    let start = |n: usize| StartTurn {
        conversation: conversation("long", None),
        user_message: format!("question {n}"),
        monthly_cap: None,
        seen_versions: None,
    };
    // Each turn adds a question and its answer: past the limit after this many.
    let turns = TURN_HISTORY_LIMIT / 2 + 5;
    for n in 0..turns {
        let TurnStart::Started { conversation, .. } = db.start_turn(&acme, start(n)).await.unwrap() else {
            panic!("turn {n} starts")
        };
        let finish = FinishTurn {
            conversation_id: conversation.id.clone(),
            assistant: Some((docent_domain::MessageId::generate(), format!("answer {n}"), "complete")),
            executions: Vec::new(),
            escalated: false,
            visitor_id: None,
        };
        db.finish_turn(&acme, finish).await.unwrap();
    }
    let TurnStart::Started { conversation, history, .. } = db.start_turn(&acme, start(turns)).await.unwrap() else {
        panic!("the last turn starts")
    };
    assert_eq!(history.len(), TURN_HISTORY_LIMIT, "the newest messages up to the limit");
    assert_eq!(history.last().unwrap().content, format!("question {turns}"), "the turn's own message last");
    let all = db.list_messages(&acme, &conversation.id).await.unwrap();
    assert_eq!(all.len(), turns * 2 + 1, "every message is still stored");
    assert_eq!(history, all[all.len() - TURN_HISTORY_LIMIT..], "in order, oldest of them first");
}

/// A turn's history is its conversation's messages whether the process starting it remembered
/// them or read them back: with another process (a second store on the same database) writing
/// to the conversation between two turns, between a turn's start and its close, and deleting
/// it with its visitor.
pub(crate) async fn a_turn_sees_every_message_whichever_process_wrote_it((a, b): (Db, Db)) {
    use docent_domain::conversation::Conversation;
    use docent_store::{FinishTurn, StartTurn, TurnStart};
    let (acme, _) = tenant(&a, "acme").await;
    let ann = add_visitor(&a, &acme, "ann@x.test").await;
    let start = |text: &str| StartTurn {
        conversation: conversation("shared", Some(&ann)),
        user_message: text.to_owned(),
        monthly_cap: None,
        seen_versions: None,
    };
    let begin = |db: Db, text: &'static str| {
        let start = start(text);
        let acme = acme.clone();
        async move {
            let TurnStart::Started { conversation, history, .. } = db.start_turn(&acme, start).await.unwrap() else {
                panic!("{text}: the turn starts")
            };
            (*conversation, history)
        }
    };
    let close = |db: Db, c: Conversation, text: &'static str| {
        let acme = acme.clone();
        async move {
            let finish = FinishTurn {
                conversation_id: c.id,
                assistant: Some((docent_domain::MessageId::generate(), text.to_owned(), "complete")),
                executions: Vec::new(),
                escalated: false,
                visitor_id: None,
            };
            db.finish_turn(&acme, finish).await.unwrap();
        }
    };
    let texts =
        |h: &[docent_domain::conversation::StoredMessage]| h.iter().map(|m| m.content.clone()).collect::<Vec<_>>();
    let stored = |c: Conversation| {
        let (a, acme) = (a.clone(), acme.clone());
        async move { a.list_messages(&acme, &c.id).await.unwrap() }
    };

    let (c, history) = begin(a.clone(), "q1").await;
    assert_eq!(texts(&history), ["q1"]);
    close(a.clone(), c, "r1").await;
    let (c, history) = begin(a.clone(), "q2").await;
    assert_eq!(texts(&history), ["q1", "r1", "q2"], "the process's own turns");
    assert_eq!(history, stored(c.clone()).await, "ids, statuses and times as stored");
    close(a.clone(), c, "r2").await;

    // The other process takes a turn between two of this one's.
    let (c, history) = begin(b.clone(), "q3").await;
    assert_eq!(texts(&history), ["q1", "r1", "q2", "r2", "q3"]);
    close(b.clone(), c, "r3").await;
    let (c, history) = begin(a.clone(), "q4").await;
    assert_eq!(texts(&history), ["q1", "r1", "q2", "r2", "q3", "r3", "q4"], "what the other process wrote");
    assert_eq!(history, stored(c.clone()).await);

    // ... and inside one of this one's, between its start and its close.
    let (other, history) = begin(b.clone(), "q5").await;
    assert_eq!(texts(&history).last().map(String::as_str), Some("q5"));
    close(a.clone(), c, "r4").await;
    close(b.clone(), other, "r5").await;
    let (c, history) = begin(a.clone(), "q6").await;
    assert_eq!(history, stored(c.clone()).await, "both turns' messages, in the store's order");
    assert_eq!(history.len(), 11);
    close(a.clone(), c, "r6").await;

    // The other process deletes the conversation with its visitor: the session starts afresh.
    assert!(b.delete_visitor(&acme, &ann).await.unwrap());
    let ann = add_visitor(&a, &acme, "ann@x.test").await;
    let start = StartTurn { conversation: conversation("shared", Some(&ann)), ..start("again") };
    let TurnStart::Started { conversation: c, created: true, history } = a.start_turn(&acme, start).await.unwrap()
    else {
        panic!("a new conversation starts")
    };
    assert_eq!(texts(&history), ["again"], "nothing of the deleted conversation");
    assert_eq!(history, stored(*c).await);
}

/// Many conversations of one day, channel, segment and visitor type count in one cell, however
/// many rows the backend spreads that cell over (PostgreSQL spreads them so concurrent turns do
/// not wait on one row's lock): the stats show the cell once, with every conversation in it.
pub(crate) async fn a_busy_days_turns_add_up_in_one_rollup_cell(db: Db) {
    use docent_domain::analytics::{StatsQuery, day_floor};
    use docent_store::{FinishTurn, StartTurn, TurnStart};
    let (acme, _) = tenant(&db, "acme").await;
    let conversations = 40;
    for i in 0..conversations {
        let start = StartTurn {
            conversation: conversation(&format!("busy-{i}"), None),
            user_message: format!("question {i}"),
            monthly_cap: None,
            seen_versions: None,
        };
        let TurnStart::Started { conversation, .. } = db.start_turn(&acme, start).await.unwrap() else {
            panic!("turn {i} starts")
        };
        let finish = FinishTurn {
            conversation_id: conversation.id,
            assistant: Some((docent_domain::MessageId::generate(), format!("answer {i}"), "complete")),
            executions: Vec::new(),
            escalated: false,
            visitor_id: None,
        };
        db.finish_turn(&acme, finish).await.unwrap();
        // Conversations started in different milliseconds (what spreads them).
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let day = day_floor(Timestamp::now().millis());
    let q =
        StatsQuery { from_day: day - 86_400_000, to_day: day + 86_400_000, channel: None, segment_id: None, top: 10 };
    let stats = db.conversation_stats(&acme, &q).await.unwrap();
    let cells: Vec<_> = stats.days.iter().map(|d| (d.day, d.channel.as_str(), d.visitor_type.as_str())).collect();
    // Each conversation counts on the day it started: one cell, two if the run crossed midnight.
    let mut distinct = cells.clone();
    distinct.dedup();
    assert_eq!(cells, distinct, "each cell once");
    let (c, m) = stats.days.iter().fold((0, 0), |(c, m), d| (c + d.totals.conversations, m + d.totals.messages));
    assert_eq!((c, m), (conversations, 2 * conversations));
    let totals = db.all_time_totals(&acme, None, None).await.unwrap();
    assert_eq!((totals.conversations, totals.messages), (conversations, 2 * conversations));
}
