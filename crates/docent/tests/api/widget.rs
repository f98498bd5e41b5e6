//! The widget script (`/widget.js`: type, caching, size budget, CSP-safe code), the demo page
//! that embeds it, and the history endpoint the widget reloads a conversation from.

use std::io::Write;

use docent_testkit::{ADMIN_TOKEN, Backend, TestApp, backend_suite};
use serde_json::{Value, json};

const BUDGET_GZIP_BYTES: usize = 25 * 1024;

fn header<'a>(r: &'a docent_testkit::TestResponse, name: &str) -> &'a str {
    r.headers.get(name).unwrap_or_else(|| panic!("no {name} header")).to_str().unwrap()
}

#[tokio::test]
async fn widget_js_is_javascript_with_an_etag_open_cors_and_a_short_cache() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.get("/widget.js").send().await.expect(200);
    assert_eq!(header(&r, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&r, "access-control-allow-origin"), "*");
    assert_eq!(header(&r, "cache-control"), "public, max-age=300");
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    let etag = header(&r, "etag");
    assert!(etag.len() > 10 && etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let js = String::from_utf8(r.body.clone()).unwrap();
    assert!(js.contains("data-") && js.contains("attachShadow"));
}

#[tokio::test]
async fn a_versioned_url_is_cached_for_a_year() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.get("/widget.js?v=1.1").send().await.expect(200);
    assert_eq!(header(&r, "cache-control"), "public, max-age=31536000, immutable");
    let plain = app.get("/widget.js").send().await.expect(200);
    assert_eq!(header(&r, "etag"), header(&plain, "etag"), "one content, one ETag");
}

#[tokio::test]
async fn a_matching_if_none_match_gets_304_without_a_body() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let first = app.get("/widget.js").send().await.expect(200);
    let etag = header(&first, "etag").to_owned();
    for sent in [etag.clone(), format!("W/{etag}"), format!("\"other\", {etag}"), "*".to_owned()] {
        let r = app.get("/widget.js?v=2").header("if-none-match", &sent).send().await.expect(304);
        assert!(r.body.is_empty(), "a 304 has no body ({sent})");
        assert_eq!(header(&r, "etag"), etag);
        assert_eq!(header(&r, "cache-control"), "public, max-age=31536000, immutable");
    }
    app.get("/widget.js").header("if-none-match", "\"stale\"").send().await.expect(200);
}

#[tokio::test]
async fn widget_js_fits_the_25_kb_gzip_budget() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.get("/widget.js").send().await.expect(200);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&r.body).unwrap();
    let size = gz.finish().unwrap().len();
    println!("widget.js: {} bytes, {size} bytes gzipped", r.body.len());
    assert!(size <= BUDGET_GZIP_BYTES, "widget.js is {size} bytes gzipped, over the {BUDGET_GZIP_BYTES} budget");
}

#[tokio::test]
async fn widget_js_builds_no_markup_from_strings_and_evaluates_no_code() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let js = String::from_utf8(app.get("/widget.js").send().await.expect(200).body).unwrap();
    for banned in
        ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('on"]
    {
        assert!(!js.contains(banned), "widget.js uses {banned}");
    }
}

#[tokio::test]
async fn the_openapi_description_lists_the_widget_routes() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec: Value = app.get("/openapi.json").send().await.expect(200).json();
    for path in ["/widget.js", "/demo/{slug}", "/chat/{slug}/history"] {
        assert!(spec["paths"][path]["get"].is_object(), "{path} is not described");
    }
}

#[tokio::test]
async fn discovery_refusals_are_readable_from_any_origin() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.get("/discover/nobody").header("origin", "https://shop.example").send().await;
    assert_eq!(header(&r, "access-control-allow-origin"), "*", "the widget can tell an unknown tenant");
    r.expect_error(404, "tenant_not_found");
}

async fn the_demo_page_embeds_the_widget_for_its_tenant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.tenant("acme").await;
    let r = app.get("/demo/acme").send().await.expect(200);
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
    let csp = header(&r, "content-security-policy");
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let page = String::from_utf8(r.body.clone()).unwrap();
    let version = header(&app.get("/widget.js").send().await.expect(200), "etag").trim_matches('"').to_owned();
    assert!(page.contains(&format!(r#"<script src="/widget.js?v={version}" data-tenant="acme" defer>"#)), "{page}");
    assert!(page.contains("Tenant acme"), "the page names the tenant");

    app.post("/tenants/acme/segments", json!({"name": "Support", "systemPrompt": "Help."}))
        .bearer(&t.token)
        .send()
        .await
        .expect(201);
    let page = String::from_utf8(app.get("/demo/acme?segment=support").send().await.expect(200).body).unwrap();
    assert!(page.contains(r#"data-tenant="acme" data-segment="support""#), "{page}");
    assert!(page.contains(r#"href="?segment=support" aria-current="page""#));
    let page = String::from_utf8(app.get("/demo/acme?segment=nope").send().await.expect(200).body).unwrap();
    assert!(!page.contains("data-segment="), "an unknown segment is not embedded");

    app.get("/demo/nobody").send().await.expect_error(404, "tenant_not_found");
}

async fn chat(app: &TestApp, slug: &str, message: &str, session: &str) {
    let r = app.post(&format!("/chat/{slug}"), json!({"message": message, "sessionId": session})).send().await;
    let body = String::from_utf8_lossy(&r.body).into_owned();
    assert!(body.contains("\"done\":true"), "the turn did not finish: {body}");
}

async fn history_returns_the_session_messages_oldest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.tenant("acme").await;
    app.tenant("globex").await;
    chat(&app, "acme", "Hello there", "ws_one").await;
    chat(&app, "acme", "<img src=x onerror=alert(1)>", "ws_one").await;
    chat(&app, "acme", "Someone else", "ws_two").await;

    let r = app.get("/chat/acme/history?sessionId=ws_one").send().await.expect(200);
    assert_eq!(header(&r, "cache-control"), "no-store");
    let h: Value = r.json();
    assert_eq!(h["sessionId"], "ws_one");
    assert!(h["conversationId"].as_str().unwrap().len() >= 32);
    let messages = h["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert_eq!(messages[0]["content"], "Hello there");
    assert_eq!(messages[2]["content"], "<img src=x onerror=alert(1)>", "stored as sent; the widget escapes");
    for m in messages {
        assert!(m["id"].as_str().unwrap().starts_with("msg_"), "{m}");
        assert!(m["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(m["status"], "complete");
    }

    let empty: Value = app.get("/chat/acme/history?sessionId=ws_new").send().await.expect(200).json();
    assert_eq!(empty, json!({"sessionId": "ws_new", "conversationId": null, "messages": []}));
    let other: Value = app.get("/chat/globex/history?sessionId=ws_one").send().await.expect(200).json();
    assert_eq!(other["messages"], json!([]), "a session belongs to its tenant");

    app.get("/chat/acme/history").send().await.expect_error(400, "invalid_request");
    let long = "s".repeat(101);
    app.get(&format!("/chat/acme/history?sessionId={long}")).send().await.expect_error(400, "invalid_request");
}

async fn history_applies_the_chat_gates_with_readable_refusals(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.chat.per_minute = 3).await;
    let get = |origin: &'static str| app.get("/chat/acme/history?sessionId=s").header("origin", origin);
    app.get("/chat/nobody/history?sessionId=s").send().await.expect_error(404, "tenant_not_found");

    let t = app.tenant("acme").await;
    app.patch("/tenants/acme", json!({"allowedDomains": ["*.acme.com"]})).bearer(&t.token).send().await.expect(200);
    let r = get("https://evil.example").send().await;
    assert_eq!(header(&r, "access-control-allow-origin"), "https://evil.example", "the refusal is readable");
    r.expect_error(403, "origin_not_allowed");
    let r = get("https://www.acme.com").send().await.expect(200);
    assert_eq!(header(&r, "access-control-allow-origin"), "https://www.acme.com");

    let pre = app
        .request(axum::http::Method::OPTIONS, "/chat/acme/history")
        .header("origin", "https://www.acme.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-widget-key")
        .send()
        .await
        .expect(204);
    assert!(header(&pre, "access-control-allow-headers").contains("x-widget-key"));
    assert!(header(&pre, "access-control-allow-methods").contains("GET"));

    app.patch("/tenants/acme", json!({"widgetKey": "wk_secret"})).bearer(&t.token).send().await.expect(200);
    get("https://www.acme.com").send().await.expect_error(403, "invalid_widget_key");
    get("https://www.acme.com").header("x-widget-key", "wk_wrong").send().await.expect_error(403, "invalid_widget_key");
    get("https://www.acme.com").header("x-widget-key", "wk_secret").send().await.expect(200);

    // Two passed the gates so far; the third is the last one of the minute.
    get("https://www.acme.com").header("x-widget-key", "wk_secret").send().await.expect(200);
    let r = get("https://www.acme.com").header("x-widget-key", "wk_secret").send().await;
    let retry: u64 = header(&r, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    r.expect_error(429, "rate_limited");

    app.patch("/tenants/acme", json!({"isActivated": false})).bearer(ADMIN_TOKEN).send().await.expect(200);
    get("https://www.acme.com").send().await.expect_error(402, "NOT_ACTIVATED");
}

backend_suite!(
    the_demo_page_embeds_the_widget_for_its_tenant,
    history_returns_the_session_messages_oldest_first,
    history_applies_the_chat_gates_with_readable_refusals,
);
