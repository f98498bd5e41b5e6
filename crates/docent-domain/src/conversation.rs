//! Conversations and what happens in them: messages, tool executions, form submissions, and the
//! durable jobs (webhooks, emails) that turns leave behind.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ConversationId, MessageId, SegmentId, SubmissionId, Timestamp, ToolId, VisitorId};

pub const CHANNEL_WEB: &str = "web";
pub const CHANNEL_AGENT: &str = "agent";
pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_ESCALATED: &str = "escalated";

/// A message's state: `complete`, or `interrupted` (the client left or the model failed
/// mid-answer: what was said is kept, marked as not finished).
pub const MESSAGE_COMPLETE: &str = "complete";
pub const MESSAGE_INTERRUPTED: &str = "interrupted";

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: ConversationId,
    /// The UUID shown to chat clients as `conversationId`.
    pub public_id: String,
    pub session_id: String,
    pub visitor_id: Option<VisitorId>,
    pub segment_id: Option<SegmentId>,
    pub channel: String,
    pub visitor_type: String,
    pub agent_model: Option<String>,
    pub status: String,
    pub page_url: Option<String>,
    pub metadata: Value,
    pub message_count: u64,
    pub started_at: Timestamp,
    pub last_message_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMessage {
    pub id: MessageId,
    pub role: String,
    pub content: String,
    pub status: String,
    pub created_at: Timestamp,
}

/// One tool run inside a turn, as persisted in the conversation's tool history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolExecution {
    pub tool_name: String,
    pub tool_type: String,
    /// The arguments the model passed: kept for the owner, never shown to chat clients.
    pub input: Value,
    pub result: Value,
    pub success: bool,
    pub summary: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Submission {
    pub id: SubmissionId,
    pub tool_id: Option<ToolId>,
    pub conversation_id: Option<ConversationId>,
    pub visitor_id: Option<VisitorId>,
    pub data: Value,
    pub status: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug)]
pub struct NewSubmission {
    pub tool_id: ToolId,
    pub conversation_id: ConversationId,
    pub visitor_id: Option<VisitorId>,
    pub data: Value,
}

/// A durable background job (outbox): delivered at least once, retried with backoff.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: String,
    pub tenant_id: crate::TenantId,
    pub kind: String,
    pub payload: Value,
    pub attempts: u32,
    pub created_at: Timestamp,
}
