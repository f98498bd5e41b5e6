//! Authentication failures and each class of bad input get the documented JSON error, and
//! nothing is half-written.

use docent_testkit::{ADMIN_TOKEN, Backend, TestApp, backend_suite};
use serde_json::{Value, json};

async fn missing_or_unknown_credentials_get_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let msg = app.get("/tenants/acme").send().await.expect_error(401, "unauthorized");
    assert_eq!(msg, "Unauthorized");
    app.get("/tenants/acme").bearer("ak_doesnotexist").send().await.expect_error(401, "unauthorized");
    app.get("/tenants/acme").bearer("garbage").send().await.expect_error(401, "unauthorized");
    app.get("/tenants/acme").header("x-api-key", "lk_wrong").send().await.expect_error(401, "unauthorized");
    // Seed 003: an ak_ token in X-API-Key is refused, even a valid one.
    app.get("/tenants/acme").header("x-api-key", &acme.token).send().await.expect_error(401, "unauthorized");
    // An unknown tenant without credentials is 401 too: no existence leak to anonymous callers.
    app.get("/tenants/nobody").send().await.expect_error(401, "unauthorized");
}

async fn the_legacy_key_has_full_access_to_its_tenant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    app.get("/tenants/acme/tokens").header("x-api-key", &acme.api_key).send().await.expect(200);
    app.patch("/tenants/acme", json!({"botName": "Key"})).header("x-api-key", &acme.api_key).send().await.expect(200);
}

async fn an_expired_token_gets_403_token_expired(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let soon = docent_domain::Timestamp::now().plus_millis(1_500).to_string();
    let created: Value = app
        .post("/tenants/acme/tokens", json!({"name": "short", "scopes": ["*"], "expiresAt": soon}))
        .bearer(&acme.token)
        .send()
        .await
        .expect(201)
        .json();
    let token = created["token"].as_str().unwrap().to_owned();
    app.get("/tenants/acme").bearer(&token).send().await.expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
    let msg = app.get("/tenants/acme").bearer(&token).send().await.expect_error(403, "token_expired");
    assert_eq!(msg, "Token expired");
}

async fn bad_bodies_get_json_errors_and_write_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let t = &acme.token;
    let path = "/tenants/acme/segments";
    // Malformed JSON: 400.
    app.request("POST".parse().unwrap(), path)
        .bearer(t)
        .raw_body("{\"name\": ")
        .send()
        .await
        .expect_error(400, "invalid_json");
    // Wrong types and unknown fields: 422.
    app.post(path, json!({"name": 5, "systemPrompt": "p"})).bearer(t).send().await.expect_error(422, "invalid_body");
    app.post(path, json!({"name": "n", "systemPrompt": "p", "color": "red"}))
        .bearer(t)
        .send()
        .await
        .expect_error(422, "invalid_body");
    // Bad enum value: 422.
    app.patch("/tenants/acme", json!({"botTone": "GRUMPY"})).bearer(t).send().await.expect_error(422, "invalid_body");
    // Too long: 400 naming the field.
    let body: Value =
        app.post(path, json!({"name": "x".repeat(101), "systemPrompt": "p"})).bearer(t).send().await.expect(400).json();
    assert_eq!(body["field"], "name");
    // Oversized body: 413.
    let big = json!({"name": "n", "systemPrompt": "x".repeat(app.config.body_limit + 1)});
    app.post(path, big).bearer(t).send().await.expect_error(413, "payload_too_large");
    // Unknown routes and methods.
    app.get("/nope").send().await.expect_error(404, "route_not_found");
    app.delete("/tenants/acme/segments").bearer(t).send().await.expect_error(405, "method_not_allowed");
    // Unknown IDs: 404.
    app.get("/tenants/acme/segments/cls_nothing").bearer(t).send().await.expect_error(404, "not_found");
    app.get("/tenants/acme/segments/not-an-id").bearer(t).send().await.expect_error(404, "not_found");
    // Bad query values: 400.
    app.get("/tenants/acme/visitors?limit=abc").bearer(t).send().await.expect_error(400, "invalid_query");
    // Only the default segment exists still.
    let list: Value = app.get(path).bearer(t).send().await.expect(200).json();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

async fn health_and_openapi_are_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.get("/healthz").send().await.expect(200);
    app.get("/readyz").send().await.expect(200);
    let spec: Value = app.get("/openapi.json").send().await.expect(200).json();
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["paths"]["/tenants/{slug}/visitors/{id}/memory/{key}"]["delete"].is_object());
    let _ = ADMIN_TOKEN;
}

backend_suite!(
    missing_or_unknown_credentials_get_401,
    the_legacy_key_has_full_access_to_its_tenant,
    an_expired_token_gets_403_token_expired,
    bad_bodies_get_json_errors_and_write_nothing,
    health_and_openapi_are_served,
);
