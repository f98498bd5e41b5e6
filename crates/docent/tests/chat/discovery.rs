//! `GET /discover/{slug}`.

use docent_testkit::{Backend, TestApp, backend_suite};
use serde_json::{Value, json};

async fn discovery_describes_the_bot_without_secrets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let server = app.serve().await;
    let t = super::tenant_with_tools(&app, "acme").await;
    app.patch("/tenants/acme", json!({"botName": "Sophie", "widgetKey": "wk_hidden", "visitorAuthMode": "otp"}))
        .bearer(&t.token)
        .send()
        .await
        .expect(200);
    app.post(
        "/tenants/acme/segments",
        json!({"name": "Support", "systemPrompt": "SECRET-PROMPT", "welcomeMessage": "Need help?"}),
    )
    .bearer(&t.token)
    .send()
    .await
    .expect(201);
    let r = reqwest::get(server.url("/discover/acme")).await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(!text.contains("SECRET-PROMPT") && !text.contains("wk_hidden") && !text.contains("systemPrompt"));
    let d: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(d["bot"]["name"], "Sophie");
    assert_eq!(d["welcomeMessage"], "Hello! How can I help you?");
    assert_eq!(d["segments"].as_array().unwrap().len(), 2);
    assert_eq!(d["capabilities"]["chat"], true);
    assert_eq!(d["capabilities"]["streaming"], true);
    assert_eq!(d["capabilities"]["widgetKeyRequired"], true);
    assert_eq!(d["capabilities"]["authModes"], json!(["otp"]));
    assert_eq!(d["capabilities"]["toolTypes"], json!(["SUBMIT_FORM", "REMEMBER_FACT", "ESCALATE_TO_HUMAN"]));
    assert_eq!(reqwest::get(server.url("/discover/nobody")).await.unwrap().status(), 404);
}

backend_suite!(discovery_describes_the_bot_without_secrets);
