//! `POST /chat/{slug}/feedback`: one changeable vote per answer, behind the chat's gates, feeding
//! the owner's `feedback` counts and the stats' `satisfaction`; and turns keep the rollups exact.

use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::{Value, json};

async fn chat(app: &TestApp, session: &str, message: &str) -> Value {
    app.post("/chat/acme", json!({"message": message, "sessionId": session}))
        .header("x-agent-model", "test-agent")
        .send()
        .await
        .expect(200)
        .json()
}

async fn a_visitor_votes_once_per_answer_and_can_change_the_vote(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let first = chat(&app, "fb", "Hello").await;
    let second = chat(&app, "fb", "What can you do?").await;
    let (m1, m2) = (first["messageId"].as_str().unwrap(), second["messageId"].as_str().unwrap());
    let vote = |body: Value| app.post("/chat/acme/feedback", body).send();
    let created: Value =
        vote(json!({"sessionId": "fb", "messageId": m1, "rating": "positive"})).await.expect(201).json();
    assert_eq!(created["messageId"], m1);
    assert_eq!(created["updated"], false);
    let changed: Value = vote(json!({"sessionId": "fb", "messageId": m1, "rating": "negative", "comment": "wrong"}))
        .await
        .expect(200)
        .json();
    assert_eq!(changed["updated"], true);
    assert_eq!(changed["comment"], "wrong");
    let last: Value = vote(json!({"sessionId": "fb", "rating": "positive"})).await.expect(201).json();
    assert_eq!(last["messageId"], m2, "no messageId: the last answer");
    let public_id = second["conversationId"].as_str().unwrap();
    vote(json!({"conversationId": public_id, "rating": "positive"})).await.expect(200);

    let list: Value = app.get("/tenants/acme/conversations").bearer(&acme.token).send().await.expect(200).json();
    assert_eq!(list["conversations"][0]["feedback"], json!({"positive": 1, "negative": 1}));
    let stats: Value = app.get("/tenants/acme/conversations/stats").bearer(&acme.token).send().await.expect(200).json();
    assert_eq!(stats["satisfaction"], json!({"positive": 1, "negative": 1, "rate": 0.5}));

    let e = vote(json!({"sessionId": "fb", "rating": "meh"})).await.expect_error(400, "invalid_request");
    assert!(e.contains("positive or negative"));
    vote(json!({"sessionId": "fb"})).await.expect_error(400, "invalid_request");
    vote(json!({"rating": "positive"})).await.expect_error(400, "invalid_request");
    vote(json!({"sessionId": "fb", "rating": "positive", "comment": "x".repeat(1001)}))
        .await
        .expect_error(400, "invalid_request");
    app.post("/chat/acme/feedback", json!({})).raw_body("{not json").send().await.expect_error(400, "invalid_json");
    vote(json!({"sessionId": "nobody", "rating": "positive"})).await.expect_error(404, "conversation_not_found");
    vote(json!({"sessionId": "fb", "messageId": "msg_nope", "rating": "positive"}))
        .await
        .expect_error(404, "message_not_found");
    let question = chat(&app, "fb", "one more").await;
    let _ = question;
    app.post("/chat/nobody/feedback", json!({"sessionId": "fb", "rating": "positive"}))
        .send()
        .await
        .expect_error(404, "tenant_not_found");
}

async fn feedback_passes_the_chat_gates(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.chat.per_minute = 2).await;
    let acme = app.tenant("acme").await;
    chat(&app, "g", "Hello").await;
    app.patch("/tenants/acme", json!({"allowedDomains": ["acme.test"]})).bearer(&acme.token).send().await.expect(200);
    app.post("/chat/acme/feedback", json!({"sessionId": "g", "rating": "positive"}))
        .header("origin", "https://evil.test")
        .send()
        .await
        .expect_error(403, "origin_not_allowed");
    let ok = app
        .post("/chat/acme/feedback", json!({"sessionId": "g", "rating": "positive"}))
        .header("origin", "https://acme.test")
        .send()
        .await
        .expect(201);
    assert_eq!(ok.headers["access-control-allow-origin"], "https://acme.test");
    let limited =
        app.post("/chat/acme/feedback", json!({"sessionId": "g", "rating": "positive"})).send().await.expect(429);
    assert!(limited.headers.contains_key("retry-after"));
}

async fn chat_turns_keep_list_and_stats_in_step(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    app.post(
        "/tenants/acme/tools",
        json!({"name": "Human", "description": "Hand off to a human", "type": "ESCALATE_TO_HUMAN"}),
    )
    .bearer(&acme.token)
    .send()
    .await
    .expect(201);
    chat(&app, "a", "Hello there").await;
    chat(&app, "a", "Thanks").await;
    chat(&app, "b", "I want to talk to a human").await;
    let list: Value = app.get("/tenants/acme/conversations").bearer(&acme.token).send().await.expect(200).json();
    let stats: Value = app.get("/tenants/acme/conversations/stats").bearer(&acme.token).send().await.expect(200).json();
    let rows = list["conversations"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let messages: u64 = rows.iter().map(|c| c["messageCount"].as_u64().unwrap()).sum();
    let calls: u64 = rows.iter().map(|c| c["toolCallsCount"].as_u64().unwrap()).sum();
    assert_eq!(stats["totals"]["conversations"], 2);
    assert_eq!(stats["totals"]["messages"], messages);
    assert_eq!(stats["totals"]["toolCallsTotal"], calls);
    assert_eq!(stats["byChannel"], json!({"agent": 2}));
    assert_eq!(rows[0]["status"], "ESCALATED", "{}", rows[0]);
    assert_eq!(rows[0]["toolHistory"][0]["toolType"], "ESCALATE_TO_HUMAN");
    assert_eq!(stats["byStatus"], json!({"BOT": 1, "ESCALATED": 1}));
    assert_eq!(stats["topTools"][0]["calls"], 1);
    assert_eq!(rows[1]["intent"], "Hello there");
    assert_eq!(stats["topIntents"].as_array().unwrap().len(), 2);
}

backend_suite!(
    a_visitor_votes_once_per_answer_and_can_change_the_vote,
    feedback_passes_the_chat_gates,
    chat_turns_keep_list_and_stats_in_step,
);
