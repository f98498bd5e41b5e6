//! Tenants: creation by the admin and by a parent, settings updates, admin-only fields, plans.

use docent_testkit::{ADMIN_TOKEN, Backend, TestApp, backend_suite};
use serde_json::{Value, json};

async fn the_admin_creates_a_tenant_with_a_default_segment_and_owner_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created: Value = app
        .post("/tenants", json!({"slug": "my-company", "name": "My Company"}))
        .bearer(ADMIN_TOKEN)
        .send()
        .await
        .expect(201)
        .json();
    assert_eq!(created["tenant"]["slug"], "my-company");
    assert_eq!(created["tenant"]["plan"], "self-hosted");
    assert_eq!(created["tenant"]["isActivated"], true);
    assert_eq!(created["tenant"]["capabilities"]["widget"], true);
    assert_eq!(created["tenant"]["conversationsUsed"], 0);
    assert!(created["tenant"]["conversationsLimit"].is_null());
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("ak_"));
    let segments: Value = app.get("/tenants/my-company/segments").bearer(token).send().await.expect(200).json();
    assert_eq!(segments[0]["slug"], "general");
    assert_eq!(segments[0]["isDefault"], true);
    let tokens: Value = app.get("/tenants/my-company/tokens").bearer(token).send().await.expect(200).json();
    assert_eq!(tokens["tokens"][0]["scopes"], json!(["*"]));
    // Duplicate slug: 409; bad slug: 400; tenant tokens cannot create top-level tenants of other plans.
    app.post("/tenants", json!({"slug": "my-company", "name": "Again"}))
        .bearer(ADMIN_TOKEN)
        .send()
        .await
        .expect_error(409, "slug_taken");
    app.post("/tenants", json!({"slug": "Bad Slug", "name": "x"}))
        .bearer(ADMIN_TOKEN)
        .send()
        .await
        .expect_error(400, "validation_failed");
    app.post("/tenants", json!({"slug": "p", "name": "x", "plan": "platinum"}))
        .bearer(ADMIN_TOKEN)
        .send()
        .await
        .expect(400);
    app.post("/tenants", json!({"slug": "anon", "name": "x"})).send().await.expect_error(401, "unauthorized");
}

async fn settings_update_partially_and_return_the_full_tenant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    let t = &acme.token;
    let updated: Value = app
        .put(
            "/tenants/acme",
            json!({"botName": "Emma", "botTone": "FORMAL", "primaryColor": "#2563eb",
                   "allowedDomains": ["*.mycompany.com", "localhost:3000", "example.com"],
                   "contentPolicy": "MODERATE", "ageGateEnabled": true, "ageGateMinAge": 21,
                   "contentWarning": "Adults only", "visitorAuthMode": "otp", "useTutoiement": true,
                   "botLore": "Born in Lyon", "locale": "fr", "widgetKey": "wk_123"}),
        )
        .bearer(t)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(updated["botName"], "Emma");
    assert_eq!(updated["botTone"], "FORMAL");
    assert_eq!(updated["allowedDomains"][0], "*.mycompany.com");
    assert_eq!(updated["ageGateMinAge"], 21);
    assert_eq!(updated["visitorAuthMode"], "otp");
    assert_eq!(updated["slug"], "acme");
    // PATCH leaves other fields alone; null clears an optional one.
    let patched: Value = app
        .patch("/tenants/acme", json!({"botLore": null, "showAiBadge": false}))
        .bearer(t)
        .send()
        .await
        .expect(200)
        .json();
    assert!(patched["botLore"].is_null());
    assert_eq!(patched["showAiBadge"], false);
    assert_eq!(patched["botName"], "Emma");
    let read: Value = app.get("/tenants/acme").bearer(t).send().await.expect(200).json();
    assert_eq!(read["locale"], "fr");
    assert_eq!(read["widgetKey"], "wk_123");
    // Bad values: 400 naming the field, nothing changed.
    for (body, field) in [
        (json!({"primaryColor": "blue"}), "primaryColor"),
        (json!({"allowedDomains": ["https://x.com"]}), "allowedDomains"),
        (json!({"ageGateMinAge": 5}), "ageGateMinAge"),
        (json!({"botName": ""}), "botName"),
        (json!({"notificationEmail": "nope"}), "notificationEmail"),
    ] {
        let err: Value = app.patch("/tenants/acme", body).bearer(t).send().await.expect(400).json();
        assert_eq!(err["field"], field);
    }
    let again: Value = app.get("/tenants/acme").bearer(t).send().await.expect(200).json();
    assert_eq!(again["primaryColor"], "#2563eb");
}

async fn only_the_admin_changes_plan_activation_and_limits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.tenant("acme").await;
    for body in [json!({"plan": "pro"}), json!({"isActivated": false}), json!({"conversationsLimit": 10})] {
        app.patch("/tenants/acme", body).bearer(&acme.token).send().await.expect_error(403, "admin_only_field");
    }
    let updated: Value = app
        .patch("/tenants/acme", json!({"plan": "pro", "conversationsLimit": 10}))
        .bearer(ADMIN_TOKEN)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(updated["plan"], "pro");
    assert_eq!(updated["conversationsLimit"], 10);
    let reset: Value = app
        .patch("/tenants/acme", json!({"conversationsLimit": null}))
        .bearer(ADMIN_TOKEN)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(reset["conversationsLimit"], 2000, "falls back to the pro plan's cap");
    app.patch("/tenants/acme", json!({"plan": "gold"})).bearer(ADMIN_TOKEN).send().await.expect(400);
}

async fn a_parent_creates_children_within_its_plan(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let agency = app.tenant("agency").await;
    let child: Value = app
        .post("/tenants", json!({"slug": "client-x", "name": "Client X", "parentId": agency.id}))
        .bearer(&agency.token)
        .send()
        .await
        .expect(201)
        .json();
    assert_eq!(child["tenant"]["parentId"], agency.id.as_str());
    // The parent administers the child; the child does not see the parent.
    app.patch("/tenants/client-x", json!({"botName": "X"})).bearer(&agency.token).send().await.expect(200);
    let child_token = child["token"].as_str().unwrap();
    app.get("/tenants/agency").bearer(child_token).send().await.expect_error(404, "tenant_not_found");
    // A parent cannot pick a plan, nor adopt for another parent.
    app.post("/tenants", json!({"slug": "c2", "name": "C", "plan": "enterprise"}))
        .bearer(&agency.token)
        .send()
        .await
        .expect_error(403, "admin_only_field");
    app.post("/tenants", json!({"slug": "c3", "name": "C", "parentId": "ten_other"}))
        .bearer(&agency.token)
        .send()
        .await
        .expect_error(403, "forbidden_parent");
    // On a plan without child tenants, the parent is refused.
    app.patch("/tenants/agency", json!({"plan": "pro"})).bearer(ADMIN_TOKEN).send().await.expect(200);
    app.post("/tenants", json!({"slug": "client-y", "name": "Y"}))
        .bearer(&agency.token)
        .send()
        .await
        .expect_error(403, "child_tenant_limit");
}

backend_suite!(
    the_admin_creates_a_tenant_with_a_default_segment_and_owner_token,
    settings_update_partially_and_return_the_full_tenant,
    only_the_admin_changes_plan_activation_and_limits,
    a_parent_creates_children_within_its_plan,
);
