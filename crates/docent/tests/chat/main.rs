//! The chat surface over a real socket: response modes, gates and their documented errors,
//! providers against the fake LLM, tool executors, resilience and discovery.

#![allow(clippy::unwrap_used)]

mod config;
mod discovery;
mod gates;
mod knowledge;
mod modes;
mod providers;
mod quotes;
mod resilience;
mod tools;

use docent_testkit::{TestApp, TestServer, TestTenant};
use serde_json::Value;

pub struct Chat {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Chat {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `data:` payloads of an SSE body, in order.
    pub fn events(&self) -> Vec<Value> {
        self.body
            .split("\n\n")
            .filter_map(|block| block.lines().find_map(|l| l.strip_prefix("data: ")))
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    pub fn is_sse(&self) -> bool {
        self.headers.get("content-type").is_some_and(|v| v.to_str().unwrap().starts_with("text/event-stream"))
    }
}

pub async fn post(server: &TestServer, path: &str, body: &Value, headers: &[(&str, &str)]) -> Chat {
    let mut req = reqwest::Client::new().post(server.url(path)).json(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = req.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    Chat { status, headers, body }
}

pub async fn agent(server: &TestServer, slug: &str, body: Value) -> Chat {
    post(server, &format!("/chat/{slug}"), &body, &[("x-agent-model", "claude-opus-4-7")]).await
}

/// A tenant with the tools the built-in engine drives.
pub async fn tenant_with_tools(app: &TestApp, slug: &str) -> TestTenant {
    let t = app.tenant(slug).await;
    let path = format!("/tenants/{slug}/tools");
    for body in [
        serde_json::json!({"name": "Contact", "description": "Collect contact details", "type": "SUBMIT_FORM",
            "config": {"fields": [
                {"name": "name", "label": "name", "type": "text", "required": true},
                {"name": "email", "label": "email", "type": "email", "required": true}]}}),
        serde_json::json!({"name": "Memory", "description": "Remember facts", "type": "REMEMBER_FACT"}),
        serde_json::json!({"name": "Human", "description": "Hand off to a human", "type": "ESCALATE_TO_HUMAN"}),
    ] {
        app.post(&path, body).bearer(&t.token).send().await.expect(201);
    }
    t
}
