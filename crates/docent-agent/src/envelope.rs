//! What a chat client receives: the agent-aware JSON envelope of seed 001 (also the payload of
//! the SSE `done` event), and the sanitized view of tool executions.

use serde::Serialize;
use serde_json::{Map, Value};

use docent_domain::Timestamp;

/// A tool execution as shown to chat clients: never the raw inputs the model passed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolExecutionView {
    pub name: String,
    #[serde(rename = "type")]
    pub tool_type: String,
    pub success: bool,
    pub summary: String,
    pub data: Value,
    pub timestamp: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LlmSource {
    Managed,
    Passthrough,
    Stored,
    Webhook,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub message: String,
    /// The reply's ID (`msg_…`), for per-message feedback.
    pub message_id: String,
    pub session_id: String,
    /// The conversation's UUID.
    pub conversation_id: String,
    pub message_count: u64,
    /// `agent` or `human`.
    pub visitor_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_model: Option<String>,
    pub tool_executions: Vec<ToolExecutionView>,
    pub contact_submitted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_results: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    pub llm_source: LlmSource,
    pub llm_provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm_model: Option<String>,
}

impl Envelope {
    /// `toolResults`: tool name → success, present only when a tool ran.
    pub fn tool_results_of(executions: &[ToolExecutionView]) -> Option<Map<String, Value>> {
        if executions.is_empty() {
            return None;
        }
        let mut map = Map::new();
        for e in executions {
            // A tool that failed once and then succeeded counts as a success.
            let prior = map.get(&e.name).and_then(Value::as_bool).unwrap_or(false);
            map.insert(e.name.clone(), Value::Bool(prior || e.success));
        }
        Some(map)
    }
}
