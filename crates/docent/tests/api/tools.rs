//! Tools per seed 002.

use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::{Value, json};

fn contact_form() -> Value {
    json!({
        "name": "Contact Form",
        "description": "Collect visitor contact details",
        "type": "SUBMIT_FORM",
        "config": {"fields": [
            {"name": "name", "label": "Full Name", "type": "text", "required": true},
            {"name": "email", "label": "Email", "type": "email", "required": true},
            {"name": "message", "label": "Message", "type": "textarea", "required": false}
        ]},
        "isActive": true,
        "position": 1
    })
}

async fn tools_are_created_listed_by_position_updated_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let t = &acme.token;
    let segment: Value = app
        .post("/tenants/acme/segments", json!({"name": "Contact", "systemPrompt": "p"}))
        .bearer(t)
        .send()
        .await
        .expect(201)
        .json();
    let mut form = contact_form();
    form["segmentId"] = segment["id"].clone();
    form["position"] = json!(5);
    let created: Value = app.post("/tenants/acme/tools", form).bearer(t).send().await.expect(201).json();
    assert!(created["id"].as_str().unwrap().starts_with("tool_"));
    assert_eq!(created["segment"], "contact");
    assert_eq!(created["type"], "SUBMIT_FORM");
    let second: Value = app
        .post(
            "/tenants/acme/tools",
            json!({"name": "Memory", "description": "Remember facts", "type": "REMEMBER_FACT", "position": 1}),
        )
        .bearer(t)
        .send()
        .await
        .expect(201)
        .json();
    assert!(second["segment"].is_null());
    assert_eq!(second["config"], json!({}));
    let list: Value = app.get("/tenants/acme/tools").bearer(t).send().await.expect(200).json();
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Memory", "Contact Form"]);

    let id = created["id"].as_str().unwrap();
    let patched: Value = app
        .patch(
            &format!("/tenants/acme/tools/{id}"),
            json!({"isActive": false, "description": "Updated description", "segmentId": null}),
        )
        .bearer(t)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(patched["isActive"], false);
    assert_eq!(patched["description"], "Updated description");
    assert_eq!(patched["name"], "Contact Form");
    assert!(patched["segment"].is_null());
    let deleted: Value = app.delete(&format!("/tenants/acme/tools/{id}")).bearer(t).send().await.expect(200).json();
    assert_eq!(deleted, json!({"deleted": true, "id": id}));
    app.get(&format!("/tenants/acme/tools/{id}")).bearer(t).send().await.expect_error(404, "not_found");
}

async fn synthetic_and_unknown_types_are_refused_naming_the_allowed_ones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    for ty in ["EXPLORE_CORPUS", "MCP_PROXY", "COLLECT_PAYMENT", "TELEPORT"] {
        let msg = app
            .post("/tenants/acme/tools", json!({"name": "x", "description": "d", "type": ty}))
            .bearer(&acme.token)
            .send()
            .await
            .expect_error(400, "validation_failed");
        assert!(msg.contains("SUBMIT_FORM") && msg.contains("RECOMMEND_PRODUCT"), "{msg}");
    }
    let list: Value = app.get("/tenants/acme/tools").bearer(&acme.token).send().await.expect(200).json();
    assert_eq!(list, json!([]));
}

async fn form_fields_and_segment_references_are_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let foreign: Value = app
        .post("/tenants/other/segments", json!({"name": "Theirs", "systemPrompt": "p"}))
        .bearer(&other.token)
        .send()
        .await
        .expect(201)
        .json();
    let mut form = contact_form();
    form["segmentId"] = foreign["id"].clone();
    let err: Value = app.post("/tenants/acme/tools", form).bearer(&acme.token).send().await.expect(400).json();
    assert_eq!(err["field"], "segmentId");
    for fields in [
        json!([{"name": "Email", "label": "E", "type": "email", "required": true}]),
        json!([{"name": "a", "label": "A", "type": "text", "required": true}, {"name": "a", "label": "B", "type": "text", "required": true}]),
        json!([{"name": "a", "label": "A", "type": "date", "required": true}]),
        json!([{"name": "a", "label": "A", "type": "text"}]),
        json!([]),
    ] {
        let mut form = contact_form();
        form["config"] = json!({"fields": fields});
        app.post("/tenants/acme/tools", form).bearer(&acme.token).send().await.expect_error(400, "validation_failed");
    }
    let list: Value = app.get("/tenants/acme/tools").bearer(&acme.token).send().await.expect(200).json();
    assert_eq!(list, json!([]));
}

async fn webhook_secrets_are_sealed_and_never_returned(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let created: Value = app
        .post(
            "/tenants/acme/tools",
            json!({"name": "Human", "description": "Hand off", "type": "ESCALATE_TO_HUMAN",
                   "webhookUrl": "https://hooks.example.com/escalate", "webhookSecret": "whsec_top_secret"}),
        )
        .bearer(&acme.token)
        .send()
        .await
        .expect(201)
        .json();
    assert_eq!(created["hasWebhookSecret"], true);
    assert!(!created.to_string().contains("whsec_top_secret"));
    let id = created["id"].as_str().unwrap();
    let tool_id = docent_domain::ToolId::parse(id).unwrap();
    let tenant = app.app.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let stored = app.app.store.get_tool(&tenant.id, &tool_id).await.unwrap().unwrap();
    let sealed = stored.webhook_secret.unwrap();
    assert!(!sealed.contains("whsec_top_secret"), "stored in clear");
    assert_eq!(app.app.sealer.open(&sealed).unwrap(), "whsec_top_secret");
    let cleared: Value = app
        .patch(&format!("/tenants/acme/tools/{id}"), json!({"webhookSecret": null}))
        .bearer(&acme.token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(cleared["hasWebhookSecret"], false);
    // A webhook on a tool that never calls one is refused.
    app.post(
        "/tenants/acme/tools",
        json!({"name": "M", "description": "d", "type": "REMEMBER_FACT", "webhookUrl": "https://x.example"}),
    )
    .bearer(&acme.token)
    .send()
    .await
    .expect_error(400, "validation_failed");
}

async fn quote_pricing_grids_are_validated_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let grid = || {
        json!({"items": [
            {"sku": "site", "label": "Website", "unit": 150000, "per": "flat"},
            {"sku": "page", "label": "Extra page", "unit": 12000, "max": 20}],
            "rules": [{"whenTotalGte": 300000, "discountPct": 5}], "vat": 5.5})
    };
    let quote = |pricing: Value| json!({"name": "Quote", "description": "Quotes", "type": "GENERATE_QUOTE", "config": {"pricing": pricing}});
    let created: Value =
        app.post("/tenants/acme/tools", quote(grid())).bearer(&acme.token).send().await.expect(201).json();
    assert_eq!(created["config"]["pricing"]["vat"], 5.5);
    type Spoil = fn(&mut Value);
    let bad: [(&str, Spoil); 8] = [
        ("config.pricing.items", |g| g["items"] = json!([])),
        ("config.pricing.items[1].sku", |g| g["items"][1]["sku"] = json!("site")),
        ("config.pricing.items[0].unit", |g| g["items"][0]["unit"] = json!(-100)),
        ("config.pricing.items[0].unit", |g| g["items"][0]["unit"] = json!(99.5)),
        ("config.pricing.items[1].max", |g| g["items"][1]["max"] = json!(0)),
        ("config.pricing.rules[0].discountPct", |g| g["rules"][0]["discountPct"] = json!(0)),
        ("config.pricing.vat", |g| g["vat"] = json!(120)),
        ("config.pricing.currency", |g| g["currency"] = json!("euro")),
    ];
    for (field, mutate) in bad {
        let mut g = grid();
        mutate(&mut g);
        let err: Value = app.post("/tenants/acme/tools", quote(g)).bearer(&acme.token).send().await.expect(400).json();
        assert_eq!((err["code"].as_str(), err["field"].as_str()), (Some("validation_failed"), Some(field)), "{err}");
    }
    // An update is validated too; removing the grid switches back to legacy mode.
    let id = created["id"].as_str().unwrap();
    let path = format!("/tenants/acme/tools/{id}");
    let mut g = grid();
    g["rules"][0]["discountPct"] = json!(150);
    let err: Value =
        app.patch(&path, json!({"config": {"pricing": g}})).bearer(&acme.token).send().await.expect(400).json();
    assert_eq!(err["field"], "config.pricing.rules[0].discountPct");
    app.patch(&path, json!({"config": {}})).bearer(&acme.token).send().await.expect(200);
    let legacy = json!({"name": "Q", "description": "d", "type": "GENERATE_QUOTE",
                        "config": {"fields": [{"name": "Bad Name", "label": "x", "type": "text", "required": true}]}});
    app.post("/tenants/acme/tools", legacy).bearer(&acme.token).send().await.expect_error(400, "validation_failed");
}

backend_suite!(
    quote_pricing_grids_are_validated_naming_the_field,
    tools_are_created_listed_by_position_updated_and_deleted,
    synthetic_and_unknown_types_are_refused_naming_the_allowed_ones,
    form_fields_and_segment_references_are_validated,
    webhook_secrets_are_sealed_and_never_returned,
);
