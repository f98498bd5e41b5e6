//! `GET /tenants/{slug}/conversations` (newest first, paginated, filtered) and
//! `GET /tenants/{slug}/conversations/{id}` (the whole conversation).

use axum::extract::State;
use docent_domain::analytics::window::WindowRules;
use docent_domain::analytics::{ConversationSummary, FeedbackCounts, FeedbackVote, SegmentRef};
use docent_domain::conversation::{StoredMessage, ToolExecution};
use docent_domain::scope::Scope;
use docent_domain::{ConversationId, MessageId, Timestamp, VisitorId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{RawFilter, conversation_filter, paging, status_label, window};
use crate::app::App;
use crate::http::auth::Principal;
use crate::http::docs::TenantRouteErrors;
use crate::http::error::ApiError;
use crate::http::extract::{Path, Query};
use crate::http::submissions::SubmissionOut;

const PREVIEW_CHARS: usize = 120;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListParams {
    /// Page, from 1 (default 1).
    page: Option<i64>,
    /// Conversations per page (default 20, max 100).
    limit: Option<i64>,
    /// Start (inclusive): a date `YYYY-MM-DD` or an RFC 3339 date-time.
    from: Option<String>,
    /// End: a date includes that whole day; a date-time is exclusive.
    to: Option<String>,
    /// `web`, `agent`, …
    channel: Option<String>,
    /// Segment slug (404 `segment_not_found` if unknown).
    segment: Option<String>,
    /// A visitor ID (`vis_…`) or the tenant's external ID for the visitor.
    visitor_id: Option<String>,
    /// Only conversations that used this tool type (`SUBMIT_FORM`, …).
    tool_type: Option<String>,
    /// `BOT` or `ESCALATED` (any case).
    status: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolHistoryItem {
    tool_name: String,
    tool_type: String,
    /// The arguments the model passed (owners see them; chat clients never do).
    #[schema(value_type = Object)]
    input: Value,
    #[schema(value_type = Object)]
    result: Value,
    success: bool,
    timestamp: Timestamp,
}

impl From<ToolExecution> for ToolHistoryItem {
    fn from(e: ToolExecution) -> Self {
        Self {
            tool_name: e.tool_name,
            tool_type: e.tool_type,
            input: e.input,
            result: e.result,
            success: e.success,
            timestamp: e.created_at,
        }
    }
}

/// One conversation of the list (seed 003's fields, plus `startedAt`, `lastMessageAt`,
/// `visitorId` and `agentModel`).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationItem {
    id: ConversationId,
    session_id: String,
    created_at: Timestamp,
    started_at: Timestamp,
    last_message_at: Timestamp,
    message_count: u64,
    page_url: Option<String>,
    channel: String,
    /// `BOT` or `ESCALATED`.
    status: &'static str,
    visitor_type: String,
    visitor_id: Option<VisitorId>,
    agent_model: Option<String>,
    segment: Option<SegmentRef>,
    /// The visitor's first message.
    intent: Option<String>,
    first_user_message: Option<String>,
    /// The first message, cut to 120 characters.
    preview: Option<String>,
    /// Tool calls in the persisted tool history.
    tool_calls_count: u64,
    feedback: FeedbackCounts,
    tool_history: Vec<ToolHistoryItem>,
}

impl From<ConversationSummary> for ConversationItem {
    fn from(s: ConversationSummary) -> Self {
        let c = s.conversation;
        let preview = s.first_message.as_deref().map(preview);
        Self {
            id: c.id,
            session_id: c.session_id,
            created_at: c.started_at,
            started_at: c.started_at,
            last_message_at: c.last_message_at,
            message_count: c.message_count,
            page_url: c.page_url,
            channel: c.channel,
            status: status_label(&c.status),
            visitor_type: c.visitor_type,
            visitor_id: c.visitor_id,
            agent_model: c.agent_model,
            segment: s.segment,
            intent: s.first_message.clone(),
            first_user_message: s.first_message,
            preview,
            tool_calls_count: s.tool_calls,
            feedback: s.feedback,
            tool_history: s.tool_history.into_iter().map(ToolHistoryItem::from).collect(),
        }
    }
}

fn preview(text: &str) -> String {
    if text.chars().count() <= PREVIEW_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(PREVIEW_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PageInfo {
    pub page: u32,
    pub limit: u32,
    pub total: u64,
    pub pages: u64,
}

impl PageInfo {
    pub fn new(page: u32, limit: u32, total: u64) -> Self {
        Self { page, limit, total, pages: total.div_ceil(u64::from(limit)) }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConversationList {
    conversations: Vec<ConversationItem>,
    pagination: PageInfo,
}

/// List conversations, newest first. `toolCallsCount` and `toolHistory` come from the persisted
/// tool history; `intent`, `firstUserMessage` and `preview` from the visitor's first message.
#[utoipa::path(get, path = "/tenants/{slug}/conversations", tag = "conversations",
    security(("bearer" = ["conversations:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ListParams),
    responses((status = 200, body = ConversationList), TenantRouteErrors))]
pub async fn list_conversations(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<axum::Json<ConversationList>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ConversationsRead).await?;
    let (page, limit) = paging(p.page, p.limit, 20, 100)?;
    let rules = WindowRules { default_days: None, capped: false, whole_days: false };
    let raw = RawFilter {
        window: window(p.from.as_deref(), p.to.as_deref(), rules)?,
        channel: p.channel.as_deref(),
        segment: p.segment.as_deref(),
        visitor_id: p.visitor_id.as_deref(),
        tool_type: p.tool_type.as_deref(),
        status: p.status.as_deref(),
    };
    let filter = conversation_filter(&app, &tenant, raw).await?;
    let (rows, total) =
        app.store.list_conversations(&tenant.id, &filter, page, limit).await.map_err(ApiError::storage)?;
    Ok(axum::Json(ConversationList {
        conversations: rows.into_iter().map(ConversationItem::from).collect(),
        pagination: PageInfo::new(page, limit, total),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageOut {
    id: MessageId,
    /// `user` or `assistant`.
    role: String,
    content: String,
    timestamp: Timestamp,
    /// `complete`, or `interrupted` (the answer was cut off).
    status: String,
}

impl From<StoredMessage> for MessageOut {
    fn from(m: StoredMessage) -> Self {
        Self { id: m.id, role: m.role, content: m.content, timestamp: m.created_at, status: m.status }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FeedbackDetail {
    positive: u64,
    negative: u64,
    votes: Vec<FeedbackVote>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationMetadata {
    user_agent: Option<String>,
    referrer: Option<String>,
    page: Option<String>,
}

/// A whole conversation: the list's fields (with `segment` as its slug, as in the detail's
/// reference, and `segmentName`), messages, tool history, submissions, votes and metadata.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDetailOut {
    id: ConversationId,
    session_id: String,
    /// The UUID chat clients know the conversation by.
    conversation_id: String,
    segment: Option<String>,
    segment_name: Option<String>,
    created_at: Timestamp,
    started_at: Timestamp,
    last_message_at: Timestamp,
    channel: String,
    status: &'static str,
    visitor_type: String,
    visitor_id: Option<VisitorId>,
    agent_model: Option<String>,
    page_url: Option<String>,
    message_count: u64,
    intent: Option<String>,
    first_user_message: Option<String>,
    tool_calls_count: u64,
    messages: Vec<MessageOut>,
    tool_history: Vec<ToolHistoryItem>,
    submissions: Vec<SubmissionOut>,
    feedback: FeedbackDetail,
    metadata: ConversationMetadata,
}

/// Get a whole conversation by its `conv_` ID (or the UUID chat clients know it by).
#[utoipa::path(get, path = "/tenants/{slug}/conversations/{id}", tag = "conversations",
    security(("bearer" = ["conversations:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ConversationDetailOut), TenantRouteErrors))]
pub async fn get_conversation(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<ConversationDetailOut>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ConversationsRead).await?;
    let not_found =
        || ApiError::new(axum::http::StatusCode::NOT_FOUND, "conversation_not_found", "Conversation not found");
    let id = match ConversationId::parse(&id) {
        Some(id) => id,
        None if id.len() == 36 => {
            let found = app.store.conversation_by_public_id(&tenant.id, &id).await.map_err(ApiError::storage)?;
            found.ok_or_else(not_found)?.id
        }
        None => return Err(not_found()),
    };
    let detail = app.store.conversation_detail(&tenant.id, &id).await.map_err(ApiError::storage)?;
    let d = detail.ok_or_else(not_found)?;
    let s = d.summary;
    let c = s.conversation;
    let meta = |key: &str| c.metadata.get(key).and_then(Value::as_str).map(str::to_owned);
    let metadata = ConversationMetadata {
        user_agent: meta("userAgent"),
        referrer: meta("referrer"),
        page: meta("page").or_else(|| c.page_url.clone()),
    };
    Ok(axum::Json(ConversationDetailOut {
        conversation_id: c.public_id,
        segment: s.segment.as_ref().map(|g| g.slug.clone()),
        segment_name: s.segment.map(|g| g.name),
        id: c.id,
        session_id: c.session_id,
        created_at: c.started_at,
        started_at: c.started_at,
        last_message_at: c.last_message_at,
        channel: c.channel,
        status: status_label(&c.status),
        visitor_type: c.visitor_type,
        visitor_id: c.visitor_id,
        agent_model: c.agent_model,
        page_url: c.page_url,
        message_count: c.message_count,
        intent: s.first_message.clone(),
        first_user_message: s.first_message,
        tool_calls_count: s.tool_calls,
        messages: d.messages.into_iter().map(MessageOut::from).collect(),
        tool_history: s.tool_history.into_iter().map(ToolHistoryItem::from).collect(),
        submissions: d.submissions.into_iter().map(SubmissionOut::from).collect::<Vec<_>>(),
        feedback: FeedbackDetail { positive: s.feedback.positive, negative: s.feedback.negative, votes: d.votes },
        metadata,
    }))
}
