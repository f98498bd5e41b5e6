//! Each wire format against the fake LLM through the passthrough headers, the stored key and
//! the tenant webhook: streaming, tool calls fed back, and faults mapped to the documented class.

use std::time::Duration;

use docent_testkit::fakellm::{ErrorKind, FakeLlm, Reply, Version};
use docent_testkit::{Backend, TestApp, TestServer, WebhookReceiver, backend_suite};
use serde_json::json;

use super::{Chat, post, tenant_with_tools};

const KINDS: [&str; 3] = ["anthropic", "openai", "ollama"];

fn base(fake: &FakeLlm, kind: &str) -> String {
    if kind == "openai" { fake.openai_base_url() } else { fake.base_url() }
}

async fn via(server: &TestServer, fake: &FakeLlm, kind: &str, body: serde_json::Value, agent: bool) -> Chat {
    let url = base(fake, kind);
    let mut headers = vec![
        ("x-llm-provider", kind),
        ("x-llm-key", "sk-test-caller"),
        ("x-llm-model", "test-model"),
        ("x-llm-base-url", url.as_str()),
    ];
    if agent {
        headers.push(("x-agent-model", "claude-opus-4-7"));
    }
    post(server, "/chat/acme", &body, &headers).await
}

async fn each_wire_format_streams_text_to_the_visitor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    app.tenant("acme").await;
    let fake = FakeLlm::start().await.unwrap();
    for kind in KINDS {
        fake.push(Reply::chunks(["We're ", "open ", "9 to 6."]));
        let r = via(&server, &fake, kind, json!({"message": "Hours?", "sessionId": format!("s-{kind}")}), false).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.body);
        let events = r.events();
        let texts: Vec<&str> = events.iter().filter_map(|e| e["text"].as_str()).collect();
        assert_eq!(texts.concat(), "We're open 9 to 6.", "{kind}");
        assert!(texts.len() >= 2, "{kind}: streamed in chunks");
        let done = events.last().unwrap();
        assert_eq!(done["done"], true);
        assert_eq!(done["llmSource"], "passthrough");
        assert_eq!(done["llmProvider"], kind);
        let sent = fake.last_request().unwrap();
        let auth = sent.header("x-api-key").or(sent.header("authorization")).unwrap_or_default();
        if kind != "ollama" {
            assert!(auth.contains("sk-test-caller"), "{kind} sends the caller's key");
        }
        assert!(sent.body.to_string().contains("Hours?"));
    }
}

async fn each_wire_format_runs_a_tool_call_and_feeds_the_result_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    tenant_with_tools(&app, "acme").await;
    let fake = FakeLlm::start().await.unwrap();
    for kind in KINDS {
        fake.push(
            Reply::tool_call("remember_fact", json!({"key": "favorite_color", "value": "blue"})).with_arg_fragments(3),
        );
        fake.push(Reply::text("Noted: blue."));
        let before = fake.requests().len();
        let session = format!("tool-{kind}");
        let r = via(&server, &fake, kind, json!({"message": "I love blue", "sessionId": session}), true).await;
        assert_eq!(r.status, 200, "{kind}: {}", r.body);
        let e = r.json();
        assert_eq!(e["message"], "Noted: blue.");
        assert_eq!(e["toolExecutions"][0]["name"], "remember_fact");
        assert_eq!(e["toolExecutions"][0]["success"], true);
        assert!(!e.to_string().contains("favorite_color"), "raw inputs stay out of the envelope");
        let requests = fake.requests();
        assert_eq!(requests.len() - before, 2, "{kind}: the result went back to the model");
        let second = requests.last().unwrap().body.to_string();
        assert!(second.contains("Remembered favorite_color"), "{kind}: {second}");
        assert!(second.contains("remember_fact"), "{kind}: the tool is described");
        // The fact is on the session's visitor, visible to the next message's context.
        fake.push(Reply::text("ok"));
        via(&server, &fake, kind, json!({"message": "and?", "sessionId": session}), true).await;
        let system = fake.last_request().unwrap().body.to_string();
        assert!(system.contains("favorite_color: blue"), "{kind}: memory is in the context");
    }
}

async fn provider_faults_become_documented_errors_after_bounded_retries(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    app.tenant("acme").await;
    let fake = FakeLlm::start().await.unwrap();
    let ask = |s: &str| json!({"message": "Hi", "sessionId": s});
    // Overloaded once, then fine: retried.
    fake.push(Reply::overloaded());
    fake.push(Reply::text("Recovered."));
    let r = via(&server, &fake, "anthropic", ask("f1"), true).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["message"], "Recovered.");
    // A rejected key is not retried and is a 502.
    let before = fake.requests().len();
    fake.push(Reply::error(401, ErrorKind::Authentication));
    let r = via(&server, &fake, "openai", ask("f2"), true).await;
    assert_eq!(r.status, 502);
    assert_eq!(r.json()["code"], "llm_rejected");
    assert_eq!(fake.requests().len() - before, 1);
    // Rate limited every time: 503 after the attempts.
    for _ in 0..3 {
        fake.push(Reply::rate_limited(Duration::from_millis(10)));
    }
    let r = via(&server, &fake, "openai", ask("f3"), true).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["code"], "llm_rate_limited");
    // Server errors every time: 502.
    for _ in 0..3 {
        fake.push(Reply::error(500, ErrorKind::Server));
    }
    assert_eq!(via(&server, &fake, "ollama", ask("f4"), true).await.status, 502);
    // The user's messages were kept; no half-answer was stored as complete.
    let acme = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let conv = app.app.store.conversation_by_session(&acme.id, "f2").await.unwrap().unwrap();
    let messages = app.app.store.list_messages(&acme.id, &conv.id).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].role, "user");
}

async fn a_stream_cut_midway_ends_with_an_error_event_and_keeps_the_partial(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    app.tenant("acme").await;
    let fake = FakeLlm::start().await.unwrap();
    for (i, kind) in KINDS.into_iter().enumerate() {
        fake.push(Reply::chunks(["Part ", "one ", "and ", "more"]).cut_after(2));
        let session = format!("cut-{i}");
        let r = via(&server, &fake, kind, json!({"message": "Tell me", "sessionId": session}), false).await;
        assert_eq!(r.status, 200);
        let events = r.events();
        let last = events.last().unwrap();
        assert!(last["error"].is_string(), "{kind}: {events:?}");
        assert_eq!(last["code"], "llm_unavailable");
        assert!(events.iter().all(|e| e.get("done").is_none()));
        let acme = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
        let conv = app.app.store.conversation_by_session(&acme.id, &session).await.unwrap().unwrap();
        let messages = app.app.store.list_messages(&acme.id, &conv.id).await.unwrap();
        assert_eq!(messages.len(), 2, "{kind}");
        assert_eq!(messages[1].status, "interrupted");
        assert_eq!(messages[1].content, "Part one ");
    }
}

async fn a_stored_tenant_key_and_a_tenant_webhook_answer_turns(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    let t = app.tenant("acme").await;
    let fake = FakeLlm::start().await.unwrap();
    let view: serde_json::Value = app
        .patch("/tenants/acme", json!({"llmProvider": "anthropic", "llmModel": "claude-haiku-4-5", "llmBaseUrl": fake.base_url(), "llmApiKey": "sk-tenant-secret"}))
        .bearer(&t.token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(view["hasLlmApiKey"], true);
    assert!(!view.to_string().contains("sk-tenant-secret"));
    fake.push(Reply::text("From the tenant's key."));
    let e = post(&server, "/chat/acme", &json!({"message": "Hi", "sessionId": "k"}), &[("x-agent-model", "m")])
        .await
        .json();
    assert_eq!(e["llmSource"], "stored");
    assert_eq!(e["llmProvider"], "anthropic");
    assert_eq!(fake.last_request().unwrap().header("x-api-key"), Some("sk-tenant-secret"));

    let hook = WebhookReceiver::start(0).await;
    hook.answer_with(json!({"message": "From the tenant's webhook."}));
    app.patch(
        "/tenants/acme",
        json!({"llmWebhookUrl": hook.url, "llmWebhookSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
    )
    .bearer(&t.token)
    .send()
    .await
    .expect(200);
    let e = post(&server, "/chat/acme", &json!({"message": "Hi", "sessionId": "w"}), &[("x-agent-model", "m")])
        .await
        .json();
    assert_eq!(e["llmSource"], "webhook");
    assert_eq!(e["message"], "From the tenant's webhook.");
    assert!(e.get("llmModel").is_none(), "absent for webhook mode");
    let d = &hook.accepted()[0];
    let ts: i64 = d.headers["webhook-timestamp"].parse().unwrap();
    assert!(docent_domain::webhook::verify(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        &d.headers["webhook-id"],
        ts,
        &d.body,
        &d.headers["webhook-signature"]
    ));
}

async fn model_calls_speak_http2_only_when_configured(backend: Backend) {
    for (http2_only, version) in [(false, Version::HTTP_11), (true, Version::HTTP_2)] {
        let app = TestApp::spawn_with(backend, |c| c.outbound.llm_http2_only = http2_only).await;
        let server = app.serve().await;
        app.tenant("acme").await;
        let fake = FakeLlm::start().await.unwrap();
        for kind in KINDS {
            fake.push(Reply::chunks(["Open ", "9 to 6."]));
            let session = format!("h2-{kind}-{http2_only}");
            let r = via(&server, &fake, kind, json!({"message": "Hours?", "sessionId": session}), false).await;
            let texts: Vec<String> = r.events().iter().filter_map(|e| e["text"].as_str().map(str::to_owned)).collect();
            assert_eq!(texts.concat(), "Open 9 to 6.", "{kind}, HTTP/2 only {http2_only}: {}", r.body);
            assert_eq!(fake.last_request().unwrap().version, version, "{kind}");
        }
    }
}

async fn a_passthrough_base_url_inside_the_network_is_refused_unless_allowed(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.outbound.allow_private = false).await;
    let server = app.serve().await;
    app.tenant("acme").await;
    let headers = [
        ("x-agent-model", "m"),
        ("x-llm-provider", "openai"),
        ("x-llm-key", "k"),
        ("x-llm-base-url", "http://169.254.169.254/v1"),
    ];
    let r = post(&server, "/chat/acme", &json!({"message": "Hi", "sessionId": "ssrf"}), &headers).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "invalid_llm");
}

/// The tenant's model is resolved once per copy of its configuration, but a base URL whose host
/// is a name is resolved again on every turn: what a name points at may change.
async fn a_stored_base_url_inside_the_network_is_refused_on_every_turn(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.outbound.allow_private = false).await;
    let server = app.serve().await;
    let t = app.tenant("acme").await;
    let settings = |url: &str| json!({"llmProvider": "openai", "llmBaseUrl": url, "llmApiKey": "k"});
    for url in ["http://localhost:9/v1", "http://127.0.0.1:9/v1"] {
        app.patch("/tenants/acme", settings(url)).bearer(&t.token).send().await.expect(200);
        for session in ["a", "b"] {
            let body = json!({"message": "Hi", "sessionId": format!("{url}-{session}")});
            let r = post(&server, "/chat/acme", &body, &[("x-agent-model", "m")]).await;
            assert_eq!(r.status, 400, "{url}: {}", r.body);
            assert_eq!(r.json()["code"], "invalid_llm");
            assert!(r.body.contains("internal address"), "{url}: {}", r.body);
        }
    }
}

backend_suite!(
    each_wire_format_streams_text_to_the_visitor,
    each_wire_format_runs_a_tool_call_and_feeds_the_result_back,
    provider_faults_become_documented_errors_after_bounded_retries,
    a_stream_cut_midway_ends_with_an_error_event_and_keeps_the_partial,
    a_stored_tenant_key_and_a_tenant_webhook_answer_turns,
    a_passthrough_base_url_inside_the_network_is_refused_unless_allowed,
    a_stored_base_url_inside_the_network_is_refused_on_every_turn,
    model_calls_speak_http2_only_when_configured,
);

/// A tenant's URL is checked before each call, so a redirect from it, which could point
/// anywhere, is not followed: the call fails instead.
#[tokio::test]
async fn a_redirect_from_the_tenants_model_webhook_is_not_followed() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let server = app.serve().await;
    let t = app.tenant("acme").await;
    let hook = WebhookReceiver::start(0).await;
    hook.answer_with(json!({"message": "Reached through a redirect."}));
    let target = hook.url.clone();
    let redirect = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let target = target.clone();
            async move { (axum::http::StatusCode::TEMPORARY_REDIRECT, [("location", target)]) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, redirect).await;
    });
    app.patch("/tenants/acme", json!({"llmWebhookUrl": url})).bearer(&t.token).send().await.expect(200);
    let r = post(&server, "/chat/acme", &json!({"message": "Hi", "sessionId": "r"}), &[("x-agent-model", "m")]).await;
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(hook.attempts().is_empty(), "the redirect was followed");
}

mod timeouts {
    use super::*;

    #[tokio::test]
    async fn a_model_that_does_not_answer_in_time_is_504() {
        let app = TestApp::spawn_with(Backend::Sqlite, |c| {
            c.agent.timeout_ms = 300;
            c.agent.attempts = 1;
        })
        .await;
        let server = app.serve().await;
        app.tenant("acme").await;
        let fake = FakeLlm::start().await.unwrap();
        fake.push(Reply::text("late").with_ttfb(Duration::from_secs(3)));
        let r = via(&server, &fake, "anthropic", json!({"message": "Hi", "sessionId": "slow"}), true).await;
        assert_eq!(r.status, 504, "{}", r.body);
        assert_eq!(r.json()["code"], "llm_timeout");
        fake.push(Reply::chunks(["a ", "b"]).with_chunk_delay(Duration::from_secs(3)));
        let r = via(&server, &fake, "anthropic", json!({"message": "Hi", "sessionId": "slow2"}), false).await;
        assert_eq!(r.events().last().unwrap()["code"], "llm_timeout");
    }
}
