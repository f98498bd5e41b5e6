//! Segments per seed 004.

use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::{Value, json};

async fn segments_are_created_listed_without_prompt_updated_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let t = &acme.token;
    let created: Value = app
        .post(
            "/tenants/acme/segments",
            json!({"name": "Support", "systemPrompt": "You are a support agent.", "welcomeMessage": "Need help?",
                   "conversationStarters": [{"text": "I have a bug to report", "emoji": ""}, {"text": "My account is locked"}]}),
        )
        .bearer(t)
        .send()
        .await
        .expect(201)
        .json();
    assert_eq!(created["slug"], "support");
    assert!(created["id"].as_str().unwrap().starts_with("cls_"));
    assert_eq!(created["isActive"], true);
    assert_eq!(created["isDefault"], false);
    assert_eq!(created["conversationStarters"][1]["emoji"], "");
    let again: Value = app
        .post("/tenants/acme/segments", json!({"name": "Support", "systemPrompt": "p"}))
        .bearer(t)
        .send()
        .await
        .expect(201)
        .json();
    assert_eq!(again["slug"], "support-2");

    let list: Value = app.get("/tenants/acme/segments").bearer(t).send().await.expect(200).json();
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(list.as_array().unwrap().iter().all(|s| s.get("systemPrompt").is_none()));
    let id = created["id"].as_str().unwrap();
    let one: Value = app.get(&format!("/tenants/acme/segments/{id}")).bearer(t).send().await.expect(200).json();
    assert_eq!(one["systemPrompt"], "You are a support agent.");

    let updated: Value = app
        .put(&format!("/tenants/acme/segments/{id}"), json!({"welcomeMessage": "Bonjour !", "isActive": false}))
        .bearer(t)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(updated["welcomeMessage"], "Bonjour !");
    assert_eq!(updated["systemPrompt"], "You are a support agent.");
    assert_eq!(updated["isActive"], false);

    let deleted: Value = app.delete(&format!("/tenants/acme/segments/{id}")).bearer(t).send().await.expect(200).json();
    assert_eq!(deleted["deleted"], true);
    app.get(&format!("/tenants/acme/segments/{id}")).bearer(t).send().await.expect_error(404, "not_found");
}

async fn the_default_segment_cannot_be_deleted_or_deactivated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let list: Value = app.get("/tenants/acme/segments").bearer(&acme.token).send().await.expect(200).json();
    let id = list[0]["id"].as_str().unwrap();
    let msg = app
        .delete(&format!("/tenants/acme/segments/{id}"))
        .bearer(&acme.token)
        .send()
        .await
        .expect_error(400, "default_segment");
    assert_eq!(msg, "The default segment cannot be deleted");
    app.put(&format!("/tenants/acme/segments/{id}"), json!({"isActive": false}))
        .bearer(&acme.token)
        .send()
        .await
        .expect_error(400, "validation_failed");
}

async fn starters_are_limited_to_four_of_fifty_characters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let five: Vec<Value> = (0..5).map(|i| json!({"text": format!("q{i}")})).collect();
    let err: Value = app
        .post("/tenants/acme/segments", json!({"name": "S", "systemPrompt": "p", "conversationStarters": five}))
        .bearer(&acme.token)
        .send()
        .await
        .expect(400)
        .json();
    assert_eq!(err["field"], "conversationStarters");
    let long = json!([{"text": "x".repeat(51)}]);
    app.post("/tenants/acme/segments", json!({"name": "S", "systemPrompt": "p", "conversationStarters": long}))
        .bearer(&acme.token)
        .send()
        .await
        .expect(400);
    app.post("/tenants/acme/segments", json!({"name": "S"}))
        .bearer(&acme.token)
        .send()
        .await
        .expect_error(422, "invalid_body");
    app.post("/tenants/acme/segments", json!({"name": "S", "systemPrompt": "  "}))
        .bearer(&acme.token)
        .send()
        .await
        .expect(400);
}

backend_suite!(
    segments_are_created_listed_without_prompt_updated_and_deleted,
    the_default_segment_cannot_be_deleted_or_deactivated,
    starters_are_limited_to_four_of_fifty_characters,
);
