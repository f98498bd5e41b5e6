//! ESCALATE_TO_HUMAN: marks the conversation escalated and queues a signed webhook (Standard
//! Webhooks) to the tool's `webhookUrl`, delivered by the job runner with retries.

use serde_json::{Value, json};

use super::Outcome;
use crate::turn::TurnScope;

pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "reason": {"type": "string", "description": "why the visitor needs a human"},
            "summary": {"type": "string", "description": "a short summary of the conversation so far"}
        },
        "required": ["reason"],
        "additionalProperties": false
    })
}

pub async fn execute(scope: &TurnScope<'_>, tool: &docent_domain::tool::Tool, args: &Value) -> Outcome {
    let reason = args.get("reason").and_then(Value::as_str).unwrap_or("visitor request");
    let summary = args.get("summary").and_then(Value::as_str).unwrap_or_default();
    let clip = |s: &str| s.chars().take(2_000).collect::<String>();
    let mut queued = false;
    if let Some(url) = &tool.webhook_url {
        let payload = json!({
            "url": url,
            "secret": tool.webhook_secret,
            "body": {
                "type": "conversation.escalated",
                "timestamp": docent_domain::Timestamp::now(),
                "data": {
                    "tenant": scope.tenant.slug,
                    "conversationId": scope.conversation.public_id,
                    "sessionId": scope.conversation.session_id,
                    "visitorId": scope.visitor_id,
                    "reason": clip(reason),
                    "summary": clip(summary),
                }
            }
        });
        match scope.store.enqueue_job(&scope.tenant.id, "webhook", &payload).await {
            Ok(_) => queued = true,
            Err(e) => tracing::error!(error = %e, "could not queue the escalation webhook"),
        }
    }
    Outcome {
        success: true,
        summary: "Escalated to a human".to_owned(),
        data: json!({"status": "escalated", "notified": queued}),
        for_model: "The conversation was handed to a human colleague. Tell the visitor someone will follow up."
            .to_owned(),
        result: json!({"reason": clip(reason), "webhookQueued": queued}),
        contact_submitted: false,
        escalated: true,
    }
}
