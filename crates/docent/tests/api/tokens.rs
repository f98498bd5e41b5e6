//! Tokens: listed without secrets, shown once, revoked, and never broader than their creator.

use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::{Value, json};

async fn a_token_is_shown_once_listed_by_prefix_and_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let created: Value = app
        .post("/tenants/acme/tokens", json!({"name": "CI/CD Pipeline", "scopes": ["corpus:read", "corpus:write"], "expiresAt": "2099-01-01T00:00:00Z"}))
        .bearer(&acme.token)
        .send()
        .await
        .expect(201)
        .json();
    let secret = created["token"].as_str().unwrap();
    assert!(secret.starts_with("ak_"));
    assert_eq!(created["scopes"], json!(["corpus:read", "corpus:write"]));
    assert_eq!(created["expiresAt"], "2099-01-01T00:00:00.000Z");
    let list: Value = app.get("/tenants/acme/tokens").bearer(&acme.token).send().await.expect(200).json();
    let listed = list["tokens"].as_array().unwrap().iter().find(|t| t["id"] == created["id"]).unwrap().clone();
    assert_eq!(listed["prefix"], &secret[..10]);
    assert!(listed.get("token").is_none());
    assert!(!list.to_string().contains(secret));
    for key in ["name", "prefix", "scopes", "createdAt", "lastUsedAt", "expiresAt"] {
        assert!(listed.get(key).is_some(), "{key} missing");
    }
    let id = created["id"].as_str().unwrap();
    let deleted: Value =
        app.delete(&format!("/tenants/acme/tokens/{id}")).bearer(&acme.token).send().await.expect(200).json();
    assert_eq!(deleted, json!({"deleted": true, "id": id}));
    app.get("/tenants/acme").bearer(secret).send().await.expect_error(401, "unauthorized");
    app.delete(&format!("/tenants/acme/tokens/{id}")).bearer(&acme.token).send().await.expect_error(404, "not_found");
}

async fn last_used_at_is_recorded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let reader = app.token(&acme, &["tokens:read"]).await;
    app.get("/tenants/acme/tokens").bearer(&reader).send().await.expect(200);
    let mut seen = false;
    for _ in 0..50 {
        let list: Value = app.get("/tenants/acme/tokens").bearer(&acme.token).send().await.expect(200).json();
        let entry =
            list["tokens"].as_array().unwrap().iter().find(|t| t["scopes"] == json!(["tokens:read"])).unwrap().clone();
        if entry["lastUsedAt"].is_string() {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(seen, "lastUsedAt was never set");
}

async fn bad_token_requests_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let t = &acme.token;
    let msg = app
        .post("/tenants/acme/tokens", json!({"name": "x", "scopes": ["corpus:delete"]}))
        .bearer(t)
        .send()
        .await
        .expect_error(400, "validation_failed");
    assert!(msg.contains("corpus:delete"));
    app.post("/tenants/acme/tokens", json!({"name": "x", "scopes": []}))
        .bearer(t)
        .send()
        .await
        .expect_error(400, "validation_failed");
    app.post("/tenants/acme/tokens", json!({"name": "x", "scopes": ["*"], "expiresAt": "2001-01-01T00:00:00Z"}))
        .bearer(t)
        .send()
        .await
        .expect_error(400, "validation_failed");
    app.post("/tenants/acme/tokens", json!({"name": "x", "scopes": ["*"], "expiresAt": "tomorrow"}))
        .bearer(t)
        .send()
        .await
        .expect_error(422, "invalid_body");
    // A token that may write tokens cannot mint broader ones.
    let minter = app.token(&acme, &["tokens:write"]).await;
    app.post("/tenants/acme/tokens", json!({"name": "x", "scopes": ["*"]}))
        .bearer(&minter)
        .send()
        .await
        .expect_error(403, "scope_escalation");
    app.post("/tenants/acme/tokens", json!({"name": "x", "scopes": ["tokens:write"]}))
        .bearer(&minter)
        .send()
        .await
        .expect(201);
}

backend_suite!(
    a_token_is_shown_once_listed_by_prefix_and_revoked,
    last_used_at_is_recorded,
    bad_token_requests_are_refused,
);
