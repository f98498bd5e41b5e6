//! `GET /tenants/{slug}/conversations` and `…/{id}`: every field of seed 003's example, the
//! parameters with their defaults and caps, deep pages, and the refusals.

use docent_domain::analytics::DAY_MS;
use docent_domain::analytics::window::date_label;
use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::{Value, json};

use super::fixture::{Spec, conversation, hand_built, today};

async fn the_list_shows_every_field_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = hand_built(&app).await;
    let list: Value = app.get("/tenants/acme/conversations").bearer(&f.tenant.token).send().await.expect(200).json();
    assert_eq!(list["pagination"], json!({"page": 1, "limit": 20, "total": 5, "pages": 1}));
    let rows = list["conversations"].as_array().unwrap();
    let order: Vec<&str> = rows.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let ids = &f.ids;
    assert_eq!(order, [&ids[1], &ids[0], &ids[4], &ids[2], &ids[3]], "newest first");
    let c1 = &rows[1];
    assert_eq!(c1["sessionId"], "s1");
    assert_eq!(c1["messageCount"], 4);
    assert_eq!(c1["pageUrl"], "/pricing?x=1");
    assert_eq!(c1["channel"], "web");
    assert_eq!(c1["status"], "BOT");
    assert_eq!(c1["visitorType"], "human");
    assert_eq!(c1["segment"], json!({"slug": "general", "name": "General"}));
    assert_eq!(c1["intent"], "What are your prices?");
    assert_eq!(c1["firstUserMessage"], "What are your prices?");
    assert_eq!(c1["preview"], "What are your prices?");
    assert_eq!(c1["toolCallsCount"], 2);
    assert_eq!(c1["feedback"], json!({"positive": 1, "negative": 0}));
    assert_eq!(c1["createdAt"], c1["startedAt"]);
    let history = c1["toolHistory"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["toolName"], "contact_form");
    assert_eq!(history[0]["toolType"], "SUBMIT_FORM");
    assert_eq!(history[0]["input"], json!({"email": "ann@example.com"}), "owners see raw inputs");
    assert_eq!(history[0]["result"], json!({"ok": true}));
    assert!(history[0]["timestamp"].as_str().unwrap().ends_with('Z'));
    let c3 = &rows[3];
    assert_eq!(c3["status"], "ESCALATED");
    assert_eq!(c3["channel"], "agent");
    assert_eq!(c3["visitorType"], "agent");
    assert_eq!(c3["pageUrl"], Value::Null);
}

async fn list_parameters_filter_page_and_refuse_bad_values(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = hand_built(&app).await;
    let t = &f.tenant.token;
    let app = &app;
    let get = |q: String| async move {
        app.get(&format!("/tenants/acme/conversations{q}")).bearer(t).send().await.expect(200).json::<Value>()
    };
    let total = |v: &Value| v["pagination"]["total"].as_u64().unwrap();
    let page = get("?limit=2&page=3".into()).await;
    assert_eq!(page["pagination"], json!({"page": 3, "limit": 2, "total": 5, "pages": 3}));
    assert_eq!(page["conversations"][0]["id"], f.ids[3].as_str());
    assert_eq!(get("?page=9".into()).await["conversations"], json!([]));
    assert_eq!(total(&get("?limit=100".into()).await), 5);
    assert_eq!(total(&get("?channel=agent".into()).await), 1);
    assert_eq!(total(&get("?segment=pricing".into()).await), 1);
    assert_eq!(total(&get("?toolType=SUBMIT_FORM".into()).await), 1);
    assert_eq!(total(&get("?toolType=escalate_to_human".into()).await), 1);
    assert_eq!(total(&get("?status=escalated".into()).await), 1);
    assert_eq!(total(&get("?status=BOT".into()).await), 4);
    let day = today();
    assert_eq!(total(&get(format!("?from={}", date_label(day - 3 * DAY_MS))).await), 2);
    assert_eq!(total(&get(format!("?to={}", date_label(day - 30 * DAY_MS))).await), 1);
    let mid = docent_domain::Timestamp::from_millis(day - 2 * DAY_MS + 12 * 3_600_000);
    let window = get(format!("?from={}&to={}", date_label(day - 5 * DAY_MS), mid)).await;
    assert_eq!(total(&window), 3, "a date-time bound cuts inside a day");
    for (q, field) in [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=100000", "limit"),
        ("?page=0", "page"),
        ("?page=-1", "page"),
        ("?from=2024-02-10&to=2024-01-01", "from"),
        ("?from=not-a-date", "from"),
        ("?toolType=TELEPORT", "toolType"),
        ("?status=SLEEPING", "status"),
        ("?channel=a%20b", "channel"),
    ] {
        let body: Value = app.get(&format!("/tenants/acme/conversations{q}")).bearer(t).send().await.expect(400).json();
        assert_eq!(body["field"], field, "{q}: {body}");
    }
    app.get("/tenants/acme/conversations?limit=abc").bearer(t).send().await.expect_error(400, "invalid_query");
    app.get("/tenants/acme/conversations?segment=nope").bearer(t).send().await.expect_error(404, "segment_not_found");
    app.get("/tenants/acme/conversations?visitorId=vis_nobody")
        .bearer(t)
        .send()
        .await
        .expect_error(404, "visitor_not_found");
}

async fn a_visitor_filter_takes_an_id_or_an_external_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = hand_built(&app).await;
    let t = &f.tenant.token;
    let visitor: Value =
        app.post("/tenants/acme/visitors", json!({"externalId": "user_42"})).bearer(t).send().await.expect(201).json();
    let store = &app.app.store;
    let acme = store.tenant_by_slug("acme").await.unwrap().unwrap();
    let mut c = conversation(
        &Spec {
            at: today(),
            channel: "web",
            segment: None,
            page: None,
            first: "hi",
            messages: 2,
            tools: &[],
            rating: None,
        },
        "visitor-session",
    );
    c.conversation.visitor_id = docent_domain::VisitorId::parse(visitor["id"].as_str().unwrap());
    store.import_conversations(&acme.id, vec![c]).await.unwrap();
    for q in [format!("visitorId={}", visitor["id"].as_str().unwrap()), "visitorId=user_42".to_owned()] {
        let list: Value =
            app.get(&format!("/tenants/acme/conversations?{q}")).bearer(t).send().await.expect(200).json();
        assert_eq!(list["pagination"]["total"], 1);
        assert_eq!(list["conversations"][0]["segment"], Value::Null);
    }
    // Deleting the visitor deletes their conversation, and the counts follow.
    app.delete(&format!("/tenants/acme/visitors/{}", visitor["id"].as_str().unwrap()))
        .bearer(t)
        .send()
        .await
        .expect(200);
    let list: Value = app.get("/tenants/acme/conversations").bearer(t).send().await.expect(200).json();
    assert_eq!(list["pagination"]["total"], 5);
    let stats: Value = app.get("/tenants/acme/conversations/stats").bearer(t).send().await.expect(200).json();
    assert_eq!(stats["totals"]["conversations"], 4);
}

async fn deep_pages_match_the_full_order_under_every_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let store = &app.app.store;
    let tenant = store.tenant_by_slug("acme").await.unwrap().unwrap();
    let now = docent_domain::Timestamp::now().millis();
    // 1,500 conversations, one every 9 minutes going back ~9 days; every third is an agent's.
    let batch: Vec<_> = (0..1_500i64)
        .map(|i| {
            let channel = if i % 3 == 0 { "agent" } else { "web" };
            let spec = Spec {
                at: now - 3_600_000 - i * 540_000,
                channel,
                segment: None,
                page: Some("/"),
                first: "q",
                messages: 2,
                tools: &[],
                rating: None,
            };
            conversation(&spec, &format!("d{i}"))
        })
        .collect();
    let all: Vec<(i64, String, String)> =
        batch.iter().map(|c| (c.started_at.millis(), c.id.to_string(), c.conversation.channel.clone())).collect();
    store.import_conversations(&tenant.id, batch).await.unwrap();
    // The export streams keyset pages of 1,000 in the same order.
    let export =
        app.get("/tenants/acme/conversations/export?format=ndjson&limit=1400").bearer(&acme.token).send().await;
    let exported: Vec<String> = String::from_utf8(export.expect(200).body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_str().unwrap().to_owned())
        .collect();
    let ordered: Vec<String> = all.iter().take(1_400).map(|(_, id, _)| id.clone()).collect();
    assert_eq!(exported, ordered);
    let from = docent_domain::Timestamp::from_millis(now - 7 * DAY_MS - 1_234_567);
    for (q, keep) in [(String::new(), None), ("&channel=web".to_owned(), Some("web")), (format!("&from={from}"), None)]
    {
        let expected: Vec<&str> = all
            .iter()
            .filter(|(_, _, c)| keep.is_none_or(|k| k == c))
            .filter(|(at, _, _)| !q.starts_with("&from") || *at >= from.millis())
            .map(|(_, id, _)| id.as_str())
            .collect();
        for page in [1usize, 30, 55, 56] {
            let path = format!("/tenants/acme/conversations?limit=20&page={page}{q}");
            let list: Value = app.get(&path).bearer(&acme.token).send().await.expect(200).json();
            assert_eq!(list["pagination"]["total"], expected.len(), "{path}");
            let got: Vec<&str> =
                list["conversations"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
            let start = ((page - 1) * 20).min(expected.len());
            let want = &expected[start..(start + 20).min(expected.len())];
            assert_eq!(got, want, "{path}");
        }
    }
}

async fn the_detail_has_messages_tool_history_votes_and_metadata(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = hand_built(&app).await;
    let t = &f.tenant.token;
    let path = format!("/tenants/acme/conversations/{}", f.ids[0]);
    let d: Value = app.get(&path).bearer(t).send().await.expect(200).json();
    assert_eq!(d["id"], f.ids[0].as_str());
    assert_eq!(d["sessionId"], "s1");
    assert_eq!(d["segment"], "general");
    assert_eq!(d["status"], "BOT");
    assert_eq!(
        d["metadata"],
        json!({"userAgent": "Mozilla/5.0 test", "referrer": "https://google.com", "page": "/pricing?x=1"})
    );
    let messages = d["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["content"], "What are your prices?");
    assert_eq!(messages[0]["timestamp"], d["startedAt"]);
    assert_eq!(messages[3]["timestamp"], d["lastMessageAt"]);
    assert!(messages[1]["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(d["toolHistory"].as_array().unwrap().len(), 2);
    assert_eq!(d["toolCallsCount"], 2);
    assert_eq!(d["feedback"]["positive"], 1);
    assert_eq!(d["feedback"]["votes"][0]["rating"], "positive");
    assert_eq!(d["feedback"]["votes"][0]["messageId"], messages[3]["id"]);
    assert_eq!(d["submissions"], json!([]));
    let by_uuid = format!("/tenants/acme/conversations/{}", d["conversationId"].as_str().unwrap());
    assert_eq!(app.get(&by_uuid).bearer(t).send().await.expect(200).json::<Value>()["id"], d["id"]);
    for missing in ["conv_0000", "nonsense", "00000000-0000-0000-0000-000000000000"] {
        app.get(&format!("/tenants/acme/conversations/{missing}"))
            .bearer(t)
            .send()
            .await
            .expect_error(404, "conversation_not_found");
    }
    // Another tenant's conversation is not found, even with that tenant's own token on its slug.
    let bob = app.tenant("bob").await;
    let foreign = format!("/tenants/bob/conversations/{}", f.ids[0]);
    app.get(&foreign).bearer(&bob.token).send().await.expect_error(404, "conversation_not_found");
    app.get(&path).bearer(&bob.token).send().await.expect_error(404, "tenant_not_found");
    let list: Value = app.get("/tenants/bob/conversations").bearer(&bob.token).send().await.expect(200).json();
    assert_eq!(list["pagination"]["total"], 0);
}

backend_suite!(
    the_list_shows_every_field_newest_first,
    list_parameters_filter_page_and_refuse_bad_values,
    a_visitor_filter_takes_an_id_or_an_external_id,
    deep_pages_match_the_full_order_under_every_filter,
    the_detail_has_messages_tool_history_votes_and_metadata,
);
