//! Tool executors end to end: a form collected field by field and emailed over real SMTP, an
//! escalation whose signed webhook survives a receiver outage and a restart, and memory.

use docent_testkit::{Backend, SmtpSink, TestApp, WebhookReceiver, backend_suite};
use serde_json::{Value, json};

use super::{agent, tenant_with_tools};

async fn a_contact_form_is_collected_stored_and_emailed(backend: Backend) {
    let sink = SmtpSink::start();
    let url = sink.url.clone();
    let app = TestApp::spawn_with(backend, move |c| c.smtp.url = Some(docent::config::Secret::new(url))).await;
    let server = app.serve().await;
    let jobs = app.start_jobs();
    let t = tenant_with_tools(&app, "acme").await;
    app.patch("/tenants/acme", json!({"notificationEmail": "owner@acme.test"}))
        .bearer(&t.token)
        .send()
        .await
        .expect(200);
    let say = |m: &str| json!({"message": m, "sessionId": "lead"});
    assert_eq!(
        agent(&server, "acme", say("I'd like you to contact me")).await.json()["message"],
        "Sure. What is your name?"
    );
    assert_eq!(agent(&server, "acme", say("Ann Martin")).await.json()["message"], "What is your email?");
    let bad = agent(&server, "acme", say("not-an-email")).await.json();
    assert_eq!(bad["contactSubmitted"], false);
    assert_eq!(bad["message"], "That doesn't look like a valid email. What is your email?");
    let done = agent(&server, "acme", say("ann@example.com")).await.json();
    assert_eq!(done["contactSubmitted"], true, "{done}");
    assert_eq!(done["toolExecutions"][0]["type"], "SUBMIT_FORM");
    assert!(!done["toolExecutions"].to_string().contains("ann@example.com"), "no raw inputs");
    let acme = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let conv = app.app.store.conversation_by_session(&acme.id, "lead").await.unwrap().unwrap();
    let history = app.app.store.list_tool_executions(&acme.id, &conv.id).await.unwrap();
    let ok = history.iter().find(|h| h.tool_type == "SUBMIT_FORM").unwrap();
    assert!(ok.success);
    assert_eq!(ok.input["email"], "ann@example.com", "the owner's tool history keeps the input");
    let mails = sink.wait_messages(1, 10).await;
    assert_eq!(mails[0]["to"], json!(["owner@acme.test"]));
    let data = mails[0]["data"].as_str().unwrap();
    assert!(data.contains("ann@example.com") && data.contains("Ann Martin"), "{data}");
    jobs.abort();
}

async fn an_escalation_is_marked_and_its_signed_webhook_survives_an_outage_and_a_restart(backend: Backend) {
    let receiver = WebhookReceiver::start(2).await;
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    let t = app.tenant("acme").await;
    app.post(
        "/tenants/acme/tools",
        json!({"name": "Human", "description": "Hand off", "type": "ESCALATE_TO_HUMAN", "webhookUrl": receiver.url, "webhookSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
    )
    .bearer(&t.token)
    .send()
    .await
    .expect(201);
    let e =
        agent(&server, "acme", json!({"message": "I want to talk to a human please", "sessionId": "esc"})).await.json();
    assert_eq!(e["status"], "escalated");
    assert_eq!(e["toolExecutions"][0]["type"], "ESCALATE_TO_HUMAN");
    // The first worker delivers once and fails (the receiver is down), then "crashes".
    let first = app.start_jobs();
    for _ in 0..100 {
        if !receiver.attempts().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    first.abort();
    // A restarted node on the same database picks the job up and delivers it.
    let restarted = app.restart().await;
    let second = restarted.start_jobs();
    let delivered = receiver.wait_accepted(1, 15).await;
    second.abort();
    let attempts = receiver.attempts();
    assert!(attempts.len() >= 3, "two failures then success: {}", attempts.len());
    let ids: Vec<&String> = attempts.iter().map(|a| &a.headers["webhook-id"]).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "one webhook-id across retries");
    let d = &delivered[0];
    let ts: i64 = d.headers["webhook-timestamp"].parse().unwrap();
    assert!(docent_domain::webhook::verify(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        &d.headers["webhook-id"],
        ts,
        &d.body,
        &d.headers["webhook-signature"]
    ));
    let body: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(body["type"], "conversation.escalated");
    assert_eq!(body["data"]["conversationId"], e["conversationId"]);
    let acme = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let conv = app.app.store.conversation_by_session(&acme.id, "esc").await.unwrap().unwrap();
    assert_eq!(conv.status, "escalated");
}

async fn an_anonymous_session_keeps_its_facts_on_a_session_profile(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    let t = tenant_with_tools(&app, "acme").await;
    agent(&server, "acme", json!({"message": "Remember that my city is Lyon", "sessionId": "anon-1"})).await;
    let e = agent(&server, "acme", json!({"message": "What is my city?", "sessionId": "anon-1"})).await.json();
    assert_eq!(e["message"], "Your city is Lyon.");
    let found: Value =
        app.get("/tenants/acme/visitors?search=session:anon-1").bearer(&t.token).send().await.expect(200).json();
    assert_eq!(found["total"], 1);
    let id = found["visitors"][0]["id"].as_str().unwrap();
    let fact: Value =
        app.get(&format!("/tenants/acme/visitors/{id}/memory/city")).bearer(&t.token).send().await.expect(200).json();
    assert_eq!(fact["value"], "Lyon");
    // A known visitor's facts follow them into a new session.
    let v: Value = app
        .post("/tenants/acme/visitors", json!({"externalId": "user_42"}))
        .bearer(&t.token)
        .send()
        .await
        .expect(201)
        .json();
    app.post(
        &format!("/tenants/acme/visitors/{}/memory", v["id"].as_str().unwrap()),
        json!({"key": "name", "value": "Ann"}),
    )
    .bearer(&t.token)
    .send()
    .await
    .expect(201);
    let e = agent(&server, "acme", json!({"message": "What is my name?", "sessionId": "new", "visitorId": "user_42"}))
        .await
        .json();
    assert_eq!(e["message"], "Your name is Ann.");
}

backend_suite!(
    a_contact_form_is_collected_stored_and_emailed,
    an_escalation_is_marked_and_its_signed_webhook_survives_an_outage_and_a_restart,
    an_anonymous_session_keeps_its_facts_on_a_session_profile,
);
