//! Submissions: listing with filters and pages, and the `NEW → CONTACTED → RESOLVED` workflow
//! under `conversations:write`.

use docent_domain::ToolId;
use docent_domain::conversation::NewSubmission;
use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::{Value, json};

use super::fixture::hand_built;

async fn submissions_are_listed_filtered_and_move_one_step_at_a_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = hand_built(&app).await;
    let t = &f.tenant.token;
    let mut tools = Vec::new();
    for name in ["Contact", "Quote"] {
        let tool: Value = app
            .post(
                "/tenants/acme/tools",
                json!({"name": name, "description": "d", "type": "SUBMIT_FORM",
                "config": {"fields": [{"name": "email", "label": "Email", "type": "email", "required": true}]}}),
            )
            .bearer(t)
            .send()
            .await
            .expect(201)
            .json();
        tools.push(tool["id"].as_str().unwrap().to_owned());
    }
    let store = &app.app.store;
    let acme = store.tenant_by_slug("acme").await.unwrap().unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let new = NewSubmission {
            tool_id: ToolId::parse(&tools[usize::from(i == 2)]).unwrap(),
            conversation_id: docent_domain::ConversationId::parse(&f.ids[0]).unwrap(),
            visitor_id: None,
            data: json!({"email": format!("lead{i}@example.com")}),
        };
        ids.push(store.create_submission(&acme.id, new).await.unwrap().id.to_string());
    }
    let list: Value = app.get("/tenants/acme/submissions").bearer(t).send().await.expect(200).json();
    assert_eq!(list["pagination"], json!({"page": 1, "limit": 20, "total": 3, "pages": 1}));
    assert_eq!(list["submissions"][0]["status"], "NEW");
    assert_eq!(list["submissions"][0]["data"]["email"], "lead2@example.com", "newest first");
    assert_eq!(list["submissions"][0]["conversationId"], f.ids[0].as_str());
    let by_tool: Value =
        app.get(&format!("/tenants/acme/submissions?toolId={}", tools[1])).bearer(t).send().await.expect(200).json();
    assert_eq!(by_tool["pagination"]["total"], 1);
    let paged: Value = app.get("/tenants/acme/submissions?limit=2&page=2").bearer(t).send().await.expect(200).json();
    assert_eq!(paged["submissions"].as_array().unwrap().len(), 1);
    let future: Value = app.get("/tenants/acme/submissions?from=2999-01-01").bearer(t).send().await.expect(200).json();
    assert_eq!(future["pagination"]["total"], 0);

    let path = format!("/tenants/acme/submissions/{}", ids[0]);
    let one: Value = app.get(&path).bearer(t).send().await.expect(200).json();
    assert_eq!(one["id"], ids[0].as_str());
    let skip: Value = app.patch(&path, json!({"status": "RESOLVED"})).bearer(t).send().await.expect(409).json();
    assert_eq!(skip["code"], "invalid_transition");
    assert_eq!(skip["allowed"], json!(["CONTACTED"]));
    let contacted: Value = app.patch(&path, json!({"status": "CONTACTED"})).bearer(t).send().await.expect(200).json();
    assert_eq!(contacted["status"], "CONTACTED");
    let again: Value = app.patch(&path, json!({"status": "CONTACTED"})).bearer(t).send().await.expect(409).json();
    assert_eq!(again["allowed"], json!(["RESOLVED"]));
    app.patch(&path, json!({"status": "NEW"})).bearer(t).send().await.expect(409);
    let resolved: Value = app.patch(&path, json!({"status": "resolved"})).bearer(t).send().await.expect(200).json();
    assert_eq!(resolved["status"], "RESOLVED");
    let done: Value = app.patch(&path, json!({"status": "CONTACTED"})).bearer(t).send().await.expect(409).json();
    assert_eq!(done["allowed"], json!([]));
    let filtered: Value =
        app.get("/tenants/acme/submissions?status=resolved").bearer(t).send().await.expect(200).json();
    assert_eq!(filtered["pagination"]["total"], 1);

    let detail: Value =
        app.get(&format!("/tenants/acme/conversations/{}", f.ids[0])).bearer(t).send().await.expect(200).json();
    assert_eq!(detail["submissions"].as_array().unwrap().len(), 3);

    app.patch(&path, json!({"status": "LOST"})).bearer(t).send().await.expect_error(400, "validation_failed");
    app.patch(&path, json!({"state": "NEW"})).bearer(t).send().await.expect(422);
    app.get("/tenants/acme/submissions?status=LOST").bearer(t).send().await.expect_error(400, "validation_failed");
    app.get("/tenants/acme/submissions?toolId=nope").bearer(t).send().await.expect_error(400, "validation_failed");
    app.get("/tenants/acme/submissions?limit=101").bearer(t).send().await.expect_error(400, "validation_failed");
    app.get("/tenants/acme/submissions/sub_missing").bearer(t).send().await.expect_error(404, "not_found");
    app.patch("/tenants/acme/submissions/sub_missing", json!({"status": "CONTACTED"}))
        .bearer(t)
        .send()
        .await
        .expect_error(404, "not_found");
    let reader = app.token(&f.tenant, &["conversations:read"]).await;
    app.get(&path).bearer(&reader).send().await.expect(200);
    let refused = app.patch(&format!("/tenants/acme/submissions/{}", ids[1]), json!({"status": "CONTACTED"}));
    let message = refused.bearer(&reader).send().await.expect_error(403, "missing_scope");
    assert_eq!(message, "Missing required scope: conversations:write");
    let bob = app.tenant("bob").await;
    app.get(&format!("/tenants/bob/submissions/{}", ids[1]))
        .bearer(&bob.token)
        .send()
        .await
        .expect_error(404, "not_found");
}

backend_suite!(submissions_are_listed_filtered_and_move_one_step_at_a_time);
