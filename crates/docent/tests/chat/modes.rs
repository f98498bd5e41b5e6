//! Agent JSON mode, SSE mode, the explicit `stream` switch, multi-turn sessions.

use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::json;

use super::{agent, post, tenant_with_tools};

async fn an_agent_declared_by_header_gets_the_json_envelope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    tenant_with_tools(&app, "acme").await;
    let r = agent(
        &server,
        "acme",
        json!({"message": "What are your business hours?", "sessionId": "agent-session-abc123"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.is_sse());
    assert_eq!(r.headers["x-ai-generated"], "true");
    let e = r.json();
    assert_eq!(e["sessionId"], "agent-session-abc123");
    assert_eq!(e["visitorType"], "agent");
    assert_eq!(e["agentModel"], "claude-opus-4-7");
    assert_eq!(e["messageCount"], 2);
    assert_eq!(e["contactSubmitted"], false);
    assert_eq!(e["toolExecutions"], json!([]));
    assert_eq!(e["llmSource"], "managed");
    assert_eq!(e["llmProvider"], "builtin");
    assert!(e["message"].as_str().unwrap().len() > 5);
    let id = e["conversationId"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(id.matches('-').count(), 4, "a UUID: {id}");
}

async fn the_agent_prefix_is_stripped_and_the_conversation_stays_agent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    app.tenant("acme").await;
    let first = post(&server, "/chat/acme", &json!({"message": "[AGENT:gpt-4o] Hello", "sessionId": "s"}), &[]).await;
    let e = first.json();
    assert_eq!(e["visitorType"], "agent");
    assert_eq!(e["agentModel"], "gpt-4o");
    let tenant = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let conv = app.app.store.conversation_by_session(&tenant.id, "s").await.unwrap().unwrap();
    assert_eq!(conv.channel, "agent");
    let messages = app.app.store.list_messages(&tenant.id, &conv.id).await.unwrap();
    assert_eq!(messages[0].content, "Hello", "the prefix never reaches the model or the history");
    // The next message, without prefix or header, continues in agent mode (JSON).
    let second = post(&server, "/chat/acme", &json!({"message": "And on Sunday?", "sessionId": "s"}), &[]).await;
    assert!(!second.is_sse());
    assert_eq!(second.json()["messageCount"], 4);
    let long = format!("[AGENT:{}] Hi", "m".repeat(150));
    let e = post(&server, "/chat/acme", &json!({"message": long, "sessionId": "s2"}), &[]).await.json();
    assert_eq!(e["agentModel"].as_str().unwrap().len(), 100);
}

async fn humans_get_sse_chunks_then_a_done_event_with_the_envelope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    tenant_with_tools(&app, "acme").await;
    let r = post(
        &server,
        "/chat/acme",
        &json!({"message": "Please remember that my favorite color is blue", "sessionId": "h1"}),
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.is_sse());
    assert_eq!(r.headers["x-ai-generated"], "true");
    let events = r.events();
    let (last, chunks) = events.split_last().unwrap();
    assert!(chunks.len() >= 2, "streamed in pieces: {events:?}");
    let text: String = chunks.iter().map(|c| c["text"].as_str().unwrap()).collect();
    assert_eq!(last["done"], true);
    assert_eq!(last["message"], text);
    assert_eq!(last["visitorType"], "human");
    assert!(last.get("agentModel").is_none());
    assert_eq!(last["toolExecutions"][0]["type"], "REMEMBER_FACT");
    assert_eq!(last["toolResults"]["remember_fact"], true);
}

async fn an_explicit_stream_flag_always_wins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    app.tenant("acme").await;
    let r = agent(&server, "acme", json!({"message": "Hi", "sessionId": "a", "stream": true})).await;
    assert!(r.is_sse());
    assert_eq!(r.events().last().unwrap()["agentModel"], "claude-opus-4-7");
    let r = post(&server, "/chat/acme", &json!({"message": "Hi", "sessionId": "b", "stream": false}), &[]).await;
    assert!(!r.is_sse());
    assert_eq!(r.json()["visitorType"], "human");
}

async fn a_session_continues_with_its_context_by_session_or_conversation_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    tenant_with_tools(&app, "acme").await;
    let first =
        agent(&server, "acme", json!({"message": "My name is Ann", "sessionId": "agent-session-xyz"})).await.json();
    let second =
        agent(&server, "acme", json!({"message": "What is my name?", "sessionId": "agent-session-xyz"})).await.json();
    assert_eq!(second["conversationId"], first["conversationId"]);
    assert_eq!(second["messageCount"], 4);
    assert_eq!(second["message"], "Your name is Ann.");
    let third =
        agent(&server, "acme", json!({"message": "What is my name?", "conversationId": first["conversationId"]}))
            .await
            .json();
    assert_eq!(third["sessionId"], "agent-session-xyz");
    assert_eq!(third["messageCount"], 6);
    let other =
        agent(&server, "acme", json!({"message": "What is my name?", "sessionId": "someone-else"})).await.json();
    assert_eq!(other["message"], "I don't know your name yet.", "memory is per visitor");
}

backend_suite!(
    an_agent_declared_by_header_gets_the_json_envelope,
    the_agent_prefix_is_stripped_and_the_conversation_stays_agent,
    humans_get_sse_chunks_then_a_done_event_with_the_envelope,
    an_explicit_stream_flag_always_wins,
    a_session_continues_with_its_context_by_session_or_conversation_id,
);
