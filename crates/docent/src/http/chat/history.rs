//! `GET /chat/{slug}/history?sessionId=…`: the messages of a chat session, so the widget shows
//! the conversation again after a reload. The random `sessionId` the widget keeps in
//! `localStorage` is the capability; the chat gates apply as on `POST /chat/{slug}` (tenant,
//! activation, origin, widget key, per-IP rate limit). Every answer, refusals included, echoes
//! the caller's `Origin`, so the widget can read why it is turned off; the messages themselves
//! only leave when the gates pass.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use docent_domain::Timestamp;
use serde::{Deserialize, Serialize};

use super::input::header;
use super::{ALLOWED_HEADERS, client_ip, cors, error_response, gates};
use crate::app::App;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{Path, Query};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    /// The session handle the widget sent with its messages.
    session_id: Option<String>,
}

/// One message of the session, oldest first.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryMessage {
    id: String,
    /// `user` or `assistant`.
    role: String,
    content: String,
    /// `complete`, or `interrupted` when the reply was cut.
    status: String,
    #[schema(value_type = String)]
    timestamp: Timestamp,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct History {
    session_id: String,
    /// The conversation's UUID; null while the session has no message yet.
    conversation_id: Option<String>,
    messages: Vec<HistoryMessage>,
}

/// The messages of a chat session (an unknown session has none). Same gates as
/// `POST /chat/{slug}`: 404 unknown tenant, 402 `NOT_ACTIVATED`, 403 public chat disabled,
/// 403 `Origin not allowed`, 403 `Invalid or missing widget key`, 429 (`Retry-After`).
#[utoipa::path(get, path = "/chat/{slug}/history", tag = "chat",
    params(("slug" = String, Path), HistoryQuery,
        ("X-Widget-Key" = Option<String>, Header, description = "The tenant's widget key, when it requires one")),
    responses(
        (status = 200, body = History),
        (status = 400, body = ErrorBody), (status = 402, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
    ))]
pub async fn get_history(
    State(app): State<App>,
    Path(slug): Path<String>,
    Query(query): Query<HistoryQuery>,
    request: Request,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let headers = request.headers();
    let outcome = history(&app, &slug, query, peer, headers).await;
    let mut response = match outcome {
        Ok(history) => axum::Json(history).into_response(),
        Err(error) => error_response(error),
    };
    if let Some(origin) = header(headers, "origin") {
        cors(response.headers_mut(), origin);
    }
    response.headers_mut().insert("cache-control", HeaderValue::from_static("no-store"));
    response
}

async fn history(
    app: &App,
    slug: &str,
    query: HistoryQuery,
    peer: Option<std::net::IpAddr>,
    headers: &HeaderMap,
) -> Result<History, ApiError> {
    let tenant = gates::tenant(app, slug).await?;
    gates::activated(app, &tenant)?;
    gates::origin(&tenant, headers)?;
    gates::widget_key(&tenant, headers, None)?;
    gates::rate_limit(app, client_ip::client_ip(peer, headers, app.config.trusted_proxies))
        .map_err(gates::rate_limited)?;
    let session_id = query.session_id.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let session_id = session_id.ok_or_else(|| ApiError::bad_request("invalid_request", "sessionId is required"))?;
    if session_id.chars().count() > 100 {
        return Err(ApiError::bad_request("invalid_request", "sessionId must be at most 100 characters"));
    }
    let found = app.store.conversation_by_session(&tenant.id, &session_id).await.map_err(ApiError::storage)?;
    let Some(conversation) = found else {
        return Ok(History { session_id, conversation_id: None, messages: Vec::new() });
    };
    let stored = app.store.list_messages(&tenant.id, &conversation.id).await.map_err(ApiError::storage)?;
    let messages = stored
        .into_iter()
        .filter(|m| m.role == "user" || m.role == "assistant")
        .map(|m| HistoryMessage {
            id: m.id.to_string(),
            role: m.role,
            content: m.content,
            status: m.status,
            timestamp: m.created_at,
        })
        .collect();
    Ok(History { session_id, conversation_id: Some(conversation.public_id), messages })
}

/// The preflight lets any origin ask: the `GET` itself enforces the gates, and its refusal must
/// be readable for the widget to explain it.
pub async fn preflight_history(headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = header(&headers, "origin") {
        let h = response.headers_mut();
        cors(h, origin);
        h.insert("access-control-allow-methods", HeaderValue::from_static("GET, OPTIONS"));
        h.insert("access-control-allow-headers", HeaderValue::from_static(ALLOWED_HEADERS));
        h.insert("access-control-max-age", HeaderValue::from_static("600"));
    }
    response
}
