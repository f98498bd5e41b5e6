//! Visitors and memory per seed 000.

use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::{Value, json};

async fn visitors_are_created_searched_counted_updated_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let t = &acme.token;
    let alice: Value = app
        .post("/tenants/acme/visitors", json!({"email": "Alice@Example.com", "displayName": "Alice Martin", "externalId": "user_42", "metadata": {"plan": "pro"}}))
        .bearer(t)
        .send()
        .await
        .expect(201)
        .json();
    assert!(alice["id"].as_str().unwrap().starts_with("vis_"));
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(alice["metadata"]["plan"], "pro");
    for i in 0..3 {
        app.post(
            "/tenants/acme/visitors",
            json!({"externalId": format!("ext_{i}"), "displayName": format!("Bob {i}")}),
        )
        .bearer(t)
        .send()
        .await
        .expect(201);
    }
    let page: Value = app.get("/tenants/acme/visitors?limit=2&offset=1").bearer(t).send().await.expect(200).json();
    assert_eq!(page["total"], 4);
    assert_eq!(page["limit"], 2);
    assert_eq!(page["offset"], 1);
    assert_eq!(page["visitors"].as_array().unwrap().len(), 2);
    let found: Value = app.get("/tenants/acme/visitors?search=MARTIN").bearer(t).send().await.expect(200).json();
    assert_eq!(found["total"], 1);
    let found: Value = app.get("/tenants/acme/visitors?search=ext_").bearer(t).send().await.expect(200).json();
    assert_eq!(found["total"], 3);
    let default: Value = app.get("/tenants/acme/visitors").bearer(t).send().await.expect(200).json();
    assert_eq!(default["limit"], 50);
    app.get("/tenants/acme/visitors?limit=201").bearer(t).send().await.expect_error(400, "validation_failed");

    let id = alice["id"].as_str().unwrap();
    app.post(&format!("/tenants/acme/visitors/{id}/memory"), json!({"key": "favorite_color", "value": "blue"}))
        .bearer(t)
        .send()
        .await
        .expect(201);
    let detail: Value = app.get(&format!("/tenants/acme/visitors/{id}")).bearer(t).send().await.expect(200).json();
    assert_eq!(detail["memoryFactCount"], 1);
    assert_eq!(detail["conversationCount"], 0);
    assert_eq!(detail["displayName"], "Alice Martin");

    let patched: Value = app
        .patch(&format!("/tenants/acme/visitors/{id}"), json!({"phone": "+33 6 12 34 56 78", "displayName": null}))
        .bearer(t)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(patched["phone"], "+33 6 12 34 56 78");
    assert!(patched["displayName"].is_null());
    assert_eq!(patched["externalId"], "user_42");

    app.delete(&format!("/tenants/acme/visitors/{id}")).bearer(t).send().await.expect(200);
    app.get(&format!("/tenants/acme/visitors/{id}")).bearer(t).send().await.expect_error(404, "not_found");
    app.get(&format!("/tenants/acme/visitors/{id}/memory")).bearer(t).send().await.expect_error(404, "not_found");
}

async fn deleting_a_visitor_cascades_to_conversations_and_memory(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let v: Value = app
        .post("/tenants/acme/visitors", json!({"email": "c@example.com"}))
        .bearer(&acme.token)
        .send()
        .await
        .expect(201)
        .json();
    let id = v["id"].as_str().unwrap();
    let tenant = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let visitor = docent_domain::VisitorId::parse(id).unwrap();
    app.app
        .store
        .create_conversation(
            &tenant.id,
            docent_store::NewConversation {
                session_id: "s1".into(),
                visitor_id: Some(visitor.clone()),
                segment_id: None,
                channel: "web".into(),
                visitor_type: "human".into(),
                agent_model: None,
                page_url: None,
                metadata: serde_json::json!({}),
            },
        )
        .await
        .unwrap();
    app.post(&format!("/tenants/acme/visitors/{id}/memory"), json!({"key": "k", "value": "v"}))
        .bearer(&acme.token)
        .send()
        .await
        .expect(201);
    let detail: Value =
        app.get(&format!("/tenants/acme/visitors/{id}")).bearer(&acme.token).send().await.expect(200).json();
    assert_eq!(detail["conversationCount"], 1);
    let before: Value = app.get("/tenants/acme").bearer(&acme.token).send().await.expect(200).json();
    assert_eq!(before["conversationsUsed"], 1);
    app.delete(&format!("/tenants/acme/visitors/{id}")).bearer(&acme.token).send().await.expect(200);
    let after: Value = app.get("/tenants/acme").bearer(&acme.token).send().await.expect(200).json();
    assert_eq!(after["conversationsUsed"], 0);
    assert!(app.app.store.get_memory(&tenant.id, &visitor, "k").await.unwrap().is_none());
}

async fn visitor_input_is_validated_and_duplicates_conflict(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let t = &acme.token;
    app.post("/tenants/acme/visitors", json!({"displayName": "Nobody"}))
        .bearer(t)
        .send()
        .await
        .expect_error(400, "validation_failed");
    app.post("/tenants/acme/visitors", json!({"email": "not-an-email"}))
        .bearer(t)
        .send()
        .await
        .expect_error(400, "validation_failed");
    app.post("/tenants/acme/visitors", json!({"externalId": "x".repeat(201)}))
        .bearer(t)
        .send()
        .await
        .expect_error(400, "validation_failed");
    app.post("/tenants/acme/visitors", json!({"email": "a@b.co", "metadata": [1]}))
        .bearer(t)
        .send()
        .await
        .expect_error(400, "validation_failed");
    app.post("/tenants/acme/visitors", json!({"email": "dup@example.com"})).bearer(t).send().await.expect(201);
    let err: Value = app
        .post("/tenants/acme/visitors", json!({"email": "DUP@example.com"}))
        .bearer(t)
        .send()
        .await
        .expect(409)
        .json();
    assert_eq!(err["field"], "email");
    app.post("/tenants/acme/visitors", json!({"externalId": "e1"})).bearer(t).send().await.expect(201);
    let err: Value =
        app.post("/tenants/acme/visitors", json!({"externalId": "e1"})).bearer(t).send().await.expect(409).json();
    assert_eq!(err["field"], "externalId");
    // The same email in another tenant is another visitor.
    app.post("/tenants/other/visitors", json!({"email": "dup@example.com"}))
        .bearer(&other.token)
        .send()
        .await
        .expect(201);
    let list: Value = app.get("/tenants/acme/visitors").bearer(t).send().await.expect(200).json();
    assert_eq!(list["total"], 2);
}

async fn memory_facts_are_upserted_by_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let t = &acme.token;
    let v: Value =
        app.post("/tenants/acme/visitors", json!({"externalId": "u"})).bearer(t).send().await.expect(201).json();
    let base = format!("/tenants/acme/visitors/{}/memory", v["id"].as_str().unwrap());
    let first: Value =
        app.post(&base, json!({"key": "favorite_color", "value": "blue"})).bearer(t).send().await.expect(201).json();
    assert_eq!(first["value"], "blue");
    let second: Value =
        app.post(&base, json!({"key": "favorite_color", "value": "green"})).bearer(t).send().await.expect(200).json();
    assert_eq!(second["value"], "green");
    app.post(&base, json!({"key": "city", "value": "Lyon"})).bearer(t).send().await.expect(201);
    let list: Value = app.get(&base).bearer(t).send().await.expect(200).json();
    let keys: Vec<&str> = list["facts"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["city", "favorite_color"]);
    let one: Value = app.get(&format!("{base}/favorite_color")).bearer(t).send().await.expect(200).json();
    assert_eq!(one["value"], "green");
    app.delete(&format!("{base}/city")).bearer(t).send().await.expect(200);
    app.get(&format!("{base}/city")).bearer(t).send().await.expect_error(404, "not_found");
    app.post(&base, json!({"key": "bad key", "value": "v"}))
        .bearer(t)
        .send()
        .await
        .expect_error(400, "validation_failed");
    app.post(&base, json!({"key": "k", "value": "x".repeat(2001)}))
        .bearer(t)
        .send()
        .await
        .expect_error(400, "validation_failed");
    app.post(&base, json!({"key": "k"})).bearer(t).send().await.expect_error(422, "invalid_body");
    app.post("/tenants/acme/visitors/vis_missing/memory", json!({"key": "k", "value": "v"}))
        .bearer(t)
        .send()
        .await
        .expect_error(404, "not_found");
}

backend_suite!(
    visitors_are_created_searched_counted_updated_and_deleted,
    deleting_a_visitor_cascades_to_conversations_and_memory,
    visitor_input_is_validated_and_duplicates_conflict,
    memory_facts_are_upserted_by_key,
);
