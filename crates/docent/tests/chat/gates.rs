//! Each gate of seed 001 with its exact error body, and CORS per tenant.

use docent_testkit::{ADMIN_TOKEN, Backend, TestApp, backend_suite};
use serde_json::json;

use super::{agent, post};

fn ask() -> serde_json::Value {
    json!({"message": "Hello", "sessionId": "s"})
}

async fn an_unknown_tenant_is_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    let r = agent(&server, "nobody", ask()).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "Tenant not found");
    assert_eq!(r.headers["x-ai-generated"], "true");
}

async fn a_plan_without_widget_or_an_inactive_tenant_is_402(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    app.tenant("acme").await;
    app.patch("/tenants/acme", json!({"isActivated": false})).bearer(ADMIN_TOKEN).send().await.expect(200);
    let r = agent(&server, "acme", ask()).await;
    assert_eq!(r.status, 402);
    assert_eq!(r.json(), json!({"error": "Plan not activated", "code": "NOT_ACTIVATED"}));
    app.patch("/tenants/acme", json!({"isActivated": true, "plan": "free"}))
        .bearer(ADMIN_TOKEN)
        .send()
        .await
        .expect(200);
    assert_eq!(agent(&server, "acme", ask()).await.status, 402);
    app.patch("/tenants/acme", json!({"plan": "builder"})).bearer(ADMIN_TOKEN).send().await.expect(200);
    assert_eq!(agent(&server, "acme", ask()).await.status, 200);
}

async fn origins_outside_allowed_domains_are_403_and_preflight_follows_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    let t = app.tenant("acme").await;
    app.patch("/tenants/acme", json!({"allowedDomains": ["*.acme.com"]})).bearer(&t.token).send().await.expect(200);
    let r = post(&server, "/chat/acme", &ask(), &[("origin", "https://evil.example")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "Origin not allowed");
    let r = post(
        &server,
        "/chat/acme",
        &json!({"message": "Hi", "sessionId": "o", "stream": false}),
        &[("origin", "https://www.acme.com")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["access-control-allow-origin"], "https://www.acme.com");
    let client = reqwest::Client::new();
    let pre = client
        .request(reqwest::Method::OPTIONS, server.url("/chat/acme"))
        .header("origin", "https://shop.acme.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    assert_eq!(pre.headers()["access-control-allow-origin"], "https://shop.acme.com");
    assert!(pre.headers()["access-control-allow-headers"].to_str().unwrap().contains("x-agent-model"));
    let bad = client
        .request(reqwest::Method::OPTIONS, server.url("/chat/acme"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 403);
}

async fn a_required_widget_key_is_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    let t = app.tenant("acme").await;
    app.patch("/tenants/acme", json!({"widgetKey": "wk_secret"})).bearer(&t.token).send().await.expect(200);
    let r = agent(&server, "acme", ask()).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"], "Invalid or missing widget key");
    let r = post(&server, "/chat/acme", &ask(), &[("x-agent-model", "m"), ("x-widget-key", "wk_wrong")]).await;
    assert_eq!(r.status, 403);
    let r = post(&server, "/chat/acme", &ask(), &[("x-agent-model", "m"), ("x-widget-key", "wk_secret")]).await;
    assert_eq!(r.status, 200);
    let r = agent(&server, "acme", json!({"message": "Hi", "sessionId": "k", "widgetKey": "wk_secret"})).await;
    assert_eq!(r.status, 200);
}

async fn a_flood_from_one_ip_gets_429_with_retry_after_and_others_are_served(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.chat.per_minute = 3;
        c.trusted_proxies = 1;
    })
    .await;
    let server = app.serve().await;
    app.tenant("acme").await;
    let from = |ip: &'static str| [("x-agent-model", "m"), ("x-forwarded-for", ip)];
    for _ in 0..3 {
        assert_eq!(post(&server, "/chat/acme", &ask(), &from("203.0.113.7")).await.status, 200);
    }
    let r = post(&server, "/chat/acme", &ask(), &from("203.0.113.7")).await;
    assert_eq!(r.status, 429);
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(post(&server, "/chat/acme", &ask(), &from("198.51.100.1")).await.status, 200, "another client");
    // A spoofed left-most entry does not escape the limit behind one trusted proxy.
    let r = post(&server, "/chat/acme", &ask(), &from("1.1.1.1, 203.0.113.7")).await;
    assert_eq!(r.status, 429);
}

async fn the_monthly_cap_is_429_limit_reached_for_new_conversations_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    app.tenant("acme").await;
    app.patch("/tenants/acme", json!({"conversationsLimit": 1})).bearer(ADMIN_TOKEN).send().await.expect(200);
    assert_eq!(agent(&server, "acme", json!({"message": "Hi", "sessionId": "one"})).await.status, 200);
    let r = agent(&server, "acme", json!({"message": "Hi", "sessionId": "two"})).await;
    assert_eq!(r.status, 429);
    let body = r.json();
    assert_eq!(body["error"], "Conversation limit reached");
    assert_eq!(body["code"], "LIMIT_REACHED");
    assert!(body["nextResetAt"].as_str().unwrap().ends_with("T00:00:00.000Z"));
    assert_eq!(agent(&server, "acme", json!({"message": "Still there?", "sessionId": "one"})).await.status, 200);
}

async fn bad_bodies_unknown_segments_and_foreign_visitors_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    app.tenant("acme").await;
    let other = app.tenant("other").await;
    for body in [json!({}), json!({"message": "hi"}), json!({"sessionId": "s"})] {
        let r = agent(&server, "acme", body).await;
        assert_eq!(r.status, 400);
        assert_eq!(r.json()["error"], "message and sessionId are required");
    }
    let r = agent(&server, "acme", json!({"message": "x".repeat(15_001), "sessionId": "s"})).await;
    assert_eq!(r.status, 400);
    let r = agent(&server, "acme", json!({"message": "hi", "sessionId": "s".repeat(101)})).await;
    assert_eq!(r.status, 400);
    let raw = reqwest::Client::new().post(server.url("/chat/acme")).body("not json").send().await.unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(raw.headers()["x-ai-generated"], "true");
    let r = post(&server, "/chat/acme?segment=nope", &ask(), &[("x-agent-model", "m")]).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "Segment not found");
    let theirs: serde_json::Value = app
        .post("/tenants/other/visitors", json!({"email": "v@other.com"}))
        .bearer(&other.token)
        .send()
        .await
        .expect(201)
        .json();
    let r = post(
        &server,
        "/chat/acme",
        &ask(),
        &[("x-agent-model", "m"), ("x-visitor-id", theirs["id"].as_str().unwrap())],
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "Visitor not found");
    let r = agent(&server, "acme", json!({"message": "hi", "conversationId": "00000000-0000-0000-0000-000000000000"}))
        .await;
    assert_eq!(r.status, 404);
    // Nothing was stored by refused requests.
    let acme = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    assert_eq!(
        app.app.store.count_conversations_since(&acme.id, docent_domain::Timestamp::from_millis(0)).await.unwrap(),
        0
    );
}

async fn segments_are_targeted_by_query_or_body_and_must_be_active(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    let t = app.tenant("acme").await;
    let seg: serde_json::Value = app
        .post("/tenants/acme/segments", json!({"name": "Support", "systemPrompt": "Support agent", "welcomeMessage": "Need help? Describe your issue."}))
        .bearer(&t.token)
        .send()
        .await
        .expect(201)
        .json();
    let r = post(
        &server,
        "/chat/acme?segment=support",
        &json!({"message": "hello", "sessionId": "q"}),
        &[("x-agent-model", "m")],
    )
    .await;
    assert_eq!(r.json()["message"], "Need help? Describe your issue.");
    let r = agent(&server, "acme", json!({"message": "hello", "sessionId": "b", "segment": "support"})).await;
    assert_eq!(r.json()["message"], "Need help? Describe your issue.");
    // A later turn without a segment stays in the conversation's (the turn's write finds it).
    let r = agent(&server, "acme", json!({"message": "hello", "sessionId": "q"})).await;
    assert_eq!(r.json()["message"], "Need help? Describe your issue.");
    // Refusals on a known session come before anything is written.
    let r =
        post(&server, "/chat/acme?segment=nope", &json!({"message": "x", "sessionId": "q"}), &[("x-agent-model", "m")])
            .await;
    assert_eq!(r.status, 404);
    let bad_llm = [("x-agent-model", "m"), ("x-llm-provider", "bogus"), ("x-llm-key", "k")];
    let r = post(&server, "/chat/acme", &json!({"message": "x", "sessionId": "q"}), &bad_llm).await;
    assert_eq!(r.json()["code"], "invalid_llm");
    let acme = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let q = app.app.store.conversation_by_session(&acme.id, "q").await.unwrap().unwrap();
    assert_eq!(q.message_count, 4, "two turns, nothing from the refused ones");
    app.put(&format!("/tenants/acme/segments/{}", seg["id"].as_str().unwrap()), json!({"isActive": false}))
        .bearer(&t.token)
        .send()
        .await
        .expect(200);
    let r = agent(&server, "acme", json!({"message": "hello", "sessionId": "c", "segment": "support"})).await;
    assert_eq!(r.status, 404);
}

backend_suite!(
    an_unknown_tenant_is_404,
    a_plan_without_widget_or_an_inactive_tenant_is_402,
    origins_outside_allowed_domains_are_403_and_preflight_follows_them,
    a_required_widget_key_is_checked,
    a_flood_from_one_ip_gets_429_with_retry_after_and_others_are_served,
    the_monthly_cap_is_429_limit_reached_for_new_conversations_only,
    bad_bodies_unknown_segments_and_foreign_visitors_are_refused,
    segments_are_targeted_by_query_or_body_and_must_be_active,
);
