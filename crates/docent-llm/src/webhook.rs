//! `llmSource: "webhook"`: the tenant's own endpoint answers the turn. Docent POSTs the
//! conversation as a Standard Webhooks message (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature` when a secret is set) whose body is
//! `{"type": "chat.turn", "timestamp", "data": {"tenant", "system", "messages", "tools"}}`, and
//! expects `200 {"message": "…", "toolCalls": [{"id"?, "name", "arguments"}]?}` back.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ChatRequest, FaultClass, LlmError, LlmProvider, LlmStream, StopReason, StreamEvent, ToolCall, Usage};

pub struct WebhookProvider {
    http: reqwest::Client,
    url: String,
    secret: Option<String>,
    tenant: String,
    timeout: Duration,
}

impl WebhookProvider {
    pub fn new(http: reqwest::Client, url: String, secret: Option<String>, tenant: String) -> Self {
        Self { http, url, secret, tenant, timeout: Duration::from_secs(30) }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    #[serde(default)]
    message: String,
    #[serde(default)]
    tool_calls: Vec<AnswerCall>,
}

#[derive(Deserialize)]
struct AnswerCall {
    id: Option<String>,
    name: String,
    #[serde(default)]
    arguments: Value,
}

fn fail(class: FaultClass, message: impl Into<String>) -> LlmError {
    LlmError::new(class, "webhook", message)
}

#[async_trait::async_trait]
impl LlmProvider for WebhookProvider {
    fn name(&self) -> &str {
        "webhook"
    }

    async fn stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let body = json!({
            "type": "chat.turn",
            "timestamp": now,
            "data": {
                "tenant": self.tenant,
                "system": request.system,
                "messages": request.messages,
                "tools": request.tools,
            }
        });
        let bytes = serde_json::to_vec(&body).map_err(|e| fail(FaultClass::Bug, e.to_string()))?;
        let id = format!("msg_{}", docent_domain::secret::random_base62(24));
        let timestamp = i64::try_from(now).unwrap_or(i64::MAX);
        let mut call = self
            .http
            .post(&self.url)
            .timeout(self.timeout)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string());
        if let Some(secret) = &self.secret {
            call = call.header("webhook-signature", docent_domain::webhook::sign(secret, &id, timestamp, &bytes));
        }
        let response = call.body(bytes).send().await.map_err(|e| {
            if e.is_timeout() {
                fail(FaultClass::Timeout, "the webhook did not answer in time")
            } else {
                fail(FaultClass::Provider, format!("cannot reach the webhook: {e}"))
            }
        })?;
        let status = response.status();
        if !status.is_success() {
            let class = match status.as_u16() {
                429 => FaultClass::RateLimited,
                400..=499 => FaultClass::Caller,
                _ => FaultClass::Provider,
            };
            return Err(fail(class, format!("the webhook answered {status}")).with_status(status.as_u16()));
        }
        let answer: Answer = response
            .json()
            .await
            .map_err(|e| fail(FaultClass::Provider, format!("the webhook's answer is not the expected JSON: {e}")))?;
        let mut events = Vec::new();
        if !answer.message.is_empty() {
            events.push(Ok(StreamEvent::Text(answer.message)));
        }
        let stop = if answer.tool_calls.is_empty() { StopReason::EndTurn } else { StopReason::ToolUse };
        for (i, c) in answer.tool_calls.into_iter().enumerate() {
            let arguments = if c.arguments.is_object() { c.arguments } else { json!({}) };
            events.push(Ok(StreamEvent::ToolCall(ToolCall {
                id: c.id.unwrap_or_else(|| format!("call_{i}")),
                name: c.name,
                arguments,
            })));
        }
        events.push(Ok(StreamEvent::Done { stop, usage: Usage::default(), model: None }));
        Ok(Box::pin(futures::stream::iter(events)))
    }
}
