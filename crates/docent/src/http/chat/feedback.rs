//! `POST /chat/{slug}/feedback`: a visitor's (or agent's) vote on an answer, public like the chat
//! and behind the same gates and per-IP rate limit. One vote per assistant message, changeable:
//! voting again replaces the vote (201 the first time, 200 after). Votes feed the owner's
//! `feedback` counts and the stats' `satisfaction`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use docent_domain::analytics::{NewFeedback, Rating};
use docent_domain::{MessageId, Timestamp};
use docent_store::StorageError;
use serde::{Deserialize, Serialize};

use super::{client_ip, cors, error_response, gates};
use crate::app::App;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Path, parse_json};

const MAX_COMMENT_CHARS: usize = 1_000;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackIn {
    /// The chat session the vote is about (or `conversationId`).
    session_id: Option<String>,
    /// The conversation's UUID, as the chat envelope gives it.
    conversation_id: Option<String>,
    /// The answer voted on (the envelope's `messageId`); default: the conversation's last answer.
    message_id: Option<String>,
    /// `positive` or `negative`.
    rating: Option<String>,
    /// At most 1,000 characters.
    comment: Option<String>,
    /// The tenant's widget key, when it requires one (also `X-Widget-Key`).
    widget_key: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackOut {
    ok: bool,
    message_id: MessageId,
    rating: String,
    comment: Option<String>,
    /// Whether an earlier vote on this message was replaced.
    updated: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
}

fn bad(field: &'static str, message: &str) -> ApiError {
    ApiError::bad_request("invalid_request", message).with("field", field)
}

/// Vote on an answer. Gates as for the chat: 404 unknown tenant, 402 `NOT_ACTIVATED`, 403 public
/// chat disabled, 403 `Origin not allowed`, 403 widget key, 429 rate limit; then 400 for the body
/// and 404 `conversation_not_found` / `message_not_found`.
#[utoipa::path(post, path = "/chat/{slug}/feedback", tag = "chat",
    params(("slug" = String, Path)),
    request_body = FeedbackIn,
    responses(
        (status = 201, body = FeedbackOut), (status = 200, description = "The vote was changed", body = FeedbackOut),
        (status = 400, body = ErrorBody), (status = 402, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 429, body = ErrorBody),
    ))]
pub async fn post_feedback(
    State(app): State<App>,
    Path(slug): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let tenant = gates::tenant(&app, &slug).await?;
    gates::activated(&app, &tenant)?;
    let origin = gates::origin(&tenant, &headers)?;
    let outcome = async {
        let bytes = axum::body::to_bytes(body, app.config.body_limit).await.map_err(|_| {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Request body is too large")
        })?;
        let body_key = serde_json::from_slice::<FeedbackIn>(&bytes).ok().and_then(|b| b.widget_key);
        gates::widget_key(&tenant, &headers, body_key.as_deref())?;
        gates::rate_limit(&app, client_ip::client_ip(peer, &headers, app.config.trusted_proxies))
            .map_err(gates::rate_limited)?;
        let input: FeedbackIn = parse_json(&bytes)?;
        let rating = input.rating.as_deref().ok_or_else(|| bad("rating", "rating is required"))?;
        let rating = Rating::parse(rating).ok_or_else(|| bad("rating", "rating must be positive or negative"))?;
        let comment = input.comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        if comment.as_ref().is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
            return Err(bad("comment", "comment must be at most 1000 characters"));
        }
        let conversation_not_found =
            || ApiError::new(StatusCode::NOT_FOUND, "conversation_not_found", "Conversation not found");
        let message_not_found = || ApiError::new(StatusCode::NOT_FOUND, "message_not_found", "Message not found");
        let conversation = match (&input.session_id, &input.conversation_id) {
            (Some(session), _) => app.store.conversation_by_session(&tenant.id, session).await,
            (None, Some(public_id)) => app.store.conversation_by_public_id(&tenant.id, public_id).await,
            (None, None) => return Err(bad("sessionId", "sessionId or conversationId is required")),
        };
        let conversation = conversation.map_err(ApiError::storage)?.ok_or_else(conversation_not_found)?;
        let message_id = match input.message_id.as_deref() {
            None => None,
            Some(raw) => Some(MessageId::parse(raw).ok_or_else(message_not_found)?),
        };
        let vote = NewFeedback { conversation_id: conversation.id, message_id, rating, comment };
        let (vote, created) = app.store.record_feedback(&tenant.id, vote).await.map_err(|e| match e {
            StorageError::NotFound => message_not_found(),
            other => ApiError::storage(other),
        })?;
        let status = if created { StatusCode::CREATED } else { StatusCode::OK };
        let out = FeedbackOut {
            ok: true,
            message_id: vote.message_id,
            rating: vote.rating,
            comment: vote.comment,
            updated: !created,
            created_at: vote.created_at,
            updated_at: vote.updated_at,
        };
        Ok((status, axum::Json(out)).into_response())
    }
    .await;
    let mut response = outcome.unwrap_or_else(error_response);
    if let Some(origin) = &origin {
        cors(response.headers_mut(), origin);
    }
    Ok(response)
}
