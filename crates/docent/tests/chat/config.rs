//! The chat path keeps each tenant's configuration in memory and checks it against the store's
//! change counters on every turn (in the turn's first write; a refusal is checked before it is
//! given): a change made through any replica reaches the very next turn on every other one.

use docent_testkit::fakellm::{FakeLlm, Reply};
use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::{Value, json};

use super::post;

/// One agent turn on `server` answered by `fake`; returns what the model was sent.
async fn turn(server: &docent_testkit::TestServer, fake: &FakeLlm, session: &str) -> (u16, Value) {
    fake.push(Reply::text("Noted."));
    let base = fake.base_url();
    let headers =
        [("x-agent-model", "m"), ("x-llm-provider", "anthropic"), ("x-llm-key", "k"), ("x-llm-base-url", &base)];
    let r = post(server, "/chat/acme", &json!({"message": "Hello there", "sessionId": session}), &headers).await;
    let sent = if r.status == 200 { fake.last_request().unwrap().body } else { r.json() };
    (r.status, sent)
}

fn tool_names(sent: &Value) -> Vec<String> {
    let tools = sent["tools"].as_array().cloned().unwrap_or_default();
    tools.iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

async fn a_change_on_one_replica_reaches_the_next_turn_on_another(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let b = a.restart().await;
    let server_b = b.serve().await;
    let t = a.tenant("acme").await;
    let fake = FakeLlm::start().await.unwrap();

    let (status, sent) = turn(&server_b, &fake, "c1").await;
    assert_eq!(status, 200, "{sent}");
    assert!(tool_names(&sent).is_empty(), "no tools yet: {sent}");

    // A segment's prompt, edited on A, is what B sends with its next turn.
    let segments: Value = a.get("/tenants/acme/segments").bearer(&t.token).send().await.expect(200).json();
    let general = segments["segments"].as_array().or(segments.as_array()).unwrap()[0].clone();
    let edited = json!({"name": general["name"], "systemPrompt": "Always mention the lighthouse tour."});
    let path = format!("/tenants/acme/segments/{}", general["id"].as_str().unwrap());
    a.put(&path, edited).bearer(&t.token).send().await.expect(200);
    let (_, sent) = turn(&server_b, &fake, "c1").await;
    assert!(sent.to_string().contains("lighthouse tour"), "B uses A's new prompt at once: {sent}");

    // A tool created on A is offered by B's next turn; deleted, it is gone again.
    let tool: Value = a
        .post(
            "/tenants/acme/tools",
            json!({"name": "Memory", "description": "Remember facts", "type": "REMEMBER_FACT"}),
        )
        .bearer(&t.token)
        .send()
        .await
        .expect(201)
        .json();
    let (_, sent) = turn(&server_b, &fake, "c1").await;
    assert_eq!(tool_names(&sent).len(), 1, "{sent}");
    a.delete(&format!("/tenants/acme/tools/{}", tool["id"].as_str().unwrap()))
        .bearer(&t.token)
        .send()
        .await
        .expect(200);
    let (_, sent) = turn(&server_b, &fake, "c1").await;
    assert!(tool_names(&sent).is_empty(), "{sent}");

    // Switching public chat off on A closes B's chat on the next request.
    a.patch("/tenants/acme", json!({"publicChatEnabled": false})).bearer(&t.token).send().await.expect(200);
    let (status, body) = turn(&server_b, &fake, "c1").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("public_chat_disabled")), "{body}");
    // Back on: B's copy still says off, and the refusal is checked before it is given.
    a.patch("/tenants/acme", json!({"publicChatEnabled": true})).bearer(&t.token).send().await.expect(200);
    let (status, body) = turn(&server_b, &fake, "c1").await;
    assert_eq!(status, 200, "{body}");
}

/// A turn retried on a fresh copy of the tenant is still one request to the rate limit.
async fn a_turn_retried_on_a_fresh_copy_counts_once_against_the_rate_limit(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let b = a.restart_with(|c| c.chat.per_minute = 2).await;
    let server_b = b.serve().await;
    let t = a.tenant("acme").await;
    let fake = FakeLlm::start().await.unwrap();
    assert_eq!(turn(&server_b, &fake, "c1").await.0, 200);
    a.patch("/tenants/acme", json!({"name": "Acme renamed"})).bearer(&t.token).send().await.expect(200);
    let (status, body) = turn(&server_b, &fake, "c1").await;
    assert_eq!(status, 200, "the stale copy is reloaded and the turn retried: {body}");
    let (status, body) = turn(&server_b, &fake, "c1").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")), "the third request: {body}");
}

/// A body refused as too large on a copy that turns out stale is refused again on the fresh one
/// (it was read once, and its verdict is kept).
async fn an_oversized_body_is_413_when_the_copy_was_stale(backend: Backend) {
    let a = TestApp::spawn(backend).await;
    let b = a.restart_with(|c| c.body_limit = 4_096).await;
    let server_b = b.serve().await;
    let t = a.tenant("acme").await;
    let fake = FakeLlm::start().await.unwrap();
    assert_eq!(turn(&server_b, &fake, "c1").await.0, 200);
    a.patch("/tenants/acme", json!({"name": "Acme renamed"})).bearer(&t.token).send().await.expect(200);
    let big = json!({"message": "x".repeat(8_000), "sessionId": "c1"});
    let r = post(&server_b, "/chat/acme", &big, &[("x-agent-model", "m")]).await;
    assert_eq!((r.status, r.json()["code"].as_str()), (413, Some("payload_too_large")), "{}", r.body);
}

backend_suite!(
    a_change_on_one_replica_reaches_the_next_turn_on_another,
    a_turn_retried_on_a_fresh_copy_counts_once_against_the_rate_limit,
    an_oversized_body_is_413_when_the_copy_was_stale,
);
