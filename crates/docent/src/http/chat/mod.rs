//! `POST /chat/{slug}`: the public chat surface for browsers (SSE) and other AI agents (one JSON
//! envelope), with its CORS preflight. Every response carries `X-AI-Generated: true`.

mod client_ip;
mod feedback;
mod gates;
mod history;
pub mod input;
mod llm;
pub use llm::Configured;
pub mod rate_limit;
mod respond;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use docent_agent::{AgentConfig, TurnRequest};
use docent_domain::conversation::{CHANNEL_AGENT, CHANNEL_WEB, Conversation};
use docent_domain::segment::Segment;
use docent_domain::tenant::Tenant;
use docent_domain::{Timestamp, VisitorId};
use docent_store::{NewConversation, StartTurn, TurnStart};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{Path, Query};
use crate::app::App;
use crate::tenant_cache::ChatTenant;
use input::ChatRequestIn;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(post_chat))
        .route("/chat/{slug}", axum::routing::options(preflight))
        .routes(routes!(feedback::post_feedback))
        .route("/chat/{slug}/feedback", axum::routing::options(preflight))
        .routes(routes!(history::get_history))
        .route("/chat/{slug}/history", axum::routing::options(history::preflight_history))
        .layer(axum::middleware::map_response(mark_ai_generated))
}

async fn mark_ai_generated(mut response: Response) -> Response {
    response.headers_mut().insert("x-ai-generated", HeaderValue::from_static("true"));
    response
}

const ALLOWED_HEADERS: &str = "content-type, x-agent-model, x-visitor-id, x-visitor-token, x-llm-key, \
     x-llm-provider, x-llm-model, x-llm-base-url, x-api-key, x-animam-locale, x-widget-key";

/// CORS headers for an allowed origin (the widget calls from the tenant's site).
pub fn cors(headers: &mut HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        headers.insert("access-control-allow-origin", v);
        headers.insert("vary", HeaderValue::from_static("Origin"));
        headers.insert("access-control-expose-headers", HeaderValue::from_static("retry-after, x-ai-generated"));
    }
}

async fn preflight(State(app): State<App>, Path(slug): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let tenant = gates::tenant(&app, &slug).await?;
    let origin = gates::origin(&tenant, &headers)?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = origin {
        let h = response.headers_mut();
        cors(h, &origin);
        h.insert("access-control-allow-methods", HeaderValue::from_static("POST, OPTIONS"));
        h.insert("access-control-allow-headers", HeaderValue::from_static(ALLOWED_HEADERS));
        h.insert("access-control-max-age", HeaderValue::from_static("600"));
    }
    Ok(response)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ChatQuery {
    /// Segment slug (wins over the body's `segment`).
    segment: Option<String>,
}

/// Send a message to a tenant's bot. Humans get SSE by default (`data: {"text": …}` chunks,
/// then `data: {"done": true, …envelope}`; a failure after the stream started arrives as a final
/// `data: {"error": …, "code": …}`); a declared agent (`X-Agent-Model` or `[AGENT:model]`) gets
/// one JSON envelope; `stream` always wins. Gates, in order: 404 unknown tenant, 402
/// `NOT_ACTIVATED`, 403 public chat disabled, 403 `Origin not allowed`, 403 `Invalid or missing
/// widget key`, 429 per-IP rate limit (`Retry-After`), 400 body, 404 segment / visitor /
/// conversation, 429 `LIMIT_REACHED` (`nextResetAt`). Model failures: 502 (vendor error), 503
/// (vendor rate limit), 504 (timeout).
#[utoipa::path(post, path = "/chat/{slug}", tag = "chat",
    params(("slug" = String, Path), ChatQuery),
    request_body = input::ChatIn,
    responses(
        (status = 200, description = "The JSON envelope (agents), or an SSE stream (text/event-stream)", body = Object),
        (status = 400, body = ErrorBody), (status = 402, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 503, body = ErrorBody), (status = 504, body = ErrorBody),
    ))]
fn post_chat(
    State(app): State<App>,
    Path(slug): Path<String>,
    Query(query): Query<ChatQuery>,
    request: Request,
) -> impl Future<Output = Result<Response, ApiError>> + Send {
    // Not an `async fn`: the request is taken apart before the future is built, which then
    // holds the parts it reads and not the request as well (an `async fn` keeps its arguments
    // twice, rust-lang/rust#62958), for every request waiting on a busy server.
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let (parts, body) = request.into_parts();
    let mut incoming =
        Incoming { headers: parts.headers, peer, segment: query.segment, body: Body::Unread(body), rate: None };
    async move {
        // The tenant's copy as last loaded, not checked against the store: the turn's first write
        // checks it (`seen_versions`). A refusal or a stale write is retried on a checked copy, so
        // nothing is ever decided on a configuration the store has moved on from.
        let (mut chat, mut checked) = match app.tenants.cached(&slug) {
            Some(copy) => (copy, false),
            None => (gates::chat_tenant(&app, &slug).await?, true),
        };
        let mut attempt = 1;
        loop {
            let last = attempt == MAX_ATTEMPTS;
            let outcome = attempt_turn(&app, &chat, &mut incoming, !last).await;
            let refused = match outcome {
                Attempt::Answered(response) => return Ok(response),
                Attempt::Refused(response) if checked || last => return Ok(response),
                Attempt::Refused(response) => Some(response),
                Attempt::Stale => None,
            };
            let current = gates::chat_tenant(&app, &slug).await?;
            if let Some(response) = refused
                && current.versions == chat.versions
            {
                return Ok(response);
            }
            (chat, checked) = (current, true);
            attempt += 1;
        }
    }
}

/// Attempts at a turn: a stale copy is reloaded and tried again, the last attempt unchecked
/// (a configuration rewritten between every reload and write would otherwise refuse the turn).
const MAX_ATTEMPTS: u32 = 3;

/// The request as every attempt sees it: the body is read once, the rate limit counted once.
struct Incoming {
    headers: HeaderMap,
    peer: Option<std::net::IpAddr>,
    /// `?segment=`, which wins over the body's.
    segment: Option<String>,
    body: Body,
    /// The rate limit's verdict, once asked.
    rate: Option<Result<(), u64>>,
}

enum Body {
    Unread(axum::body::Body),
    Read(axum::body::Bytes),
    /// Over `body_limit`.
    TooLarge,
}

impl Body {
    /// The body's bytes, read on first use.
    async fn bytes(&mut self, limit: usize) -> Result<axum::body::Bytes, ApiError> {
        if let Self::Unread(body) = self {
            let body = std::mem::take(body);
            *self = axum::body::to_bytes(body, limit).await.map_or(Self::TooLarge, Self::Read);
        }
        match self {
            Self::Read(bytes) => Ok(bytes.clone()),
            _ => Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Request body is too large")),
        }
    }
}

enum Attempt {
    Answered(Response),
    /// A refusal decided on the copy (with its CORS headers).
    Refused(Response),
    /// The store moved on from the copy; nothing was written.
    Stale,
}

/// Why a turn did not start.
enum NotStarted {
    Refused(ApiError),
    Stale,
}

impl From<ApiError> for NotStarted {
    fn from(error: ApiError) -> Self {
        Self::Refused(error)
    }
}

async fn attempt_turn(app: &App, chat: &ChatTenant, incoming: &mut Incoming, check: bool) -> Attempt {
    let tenant = &chat.tenant;
    let gated = gates::activated(app, tenant).and_then(|()| gates::origin(tenant, &incoming.headers));
    let origin = match gated {
        Ok(origin) => origin,
        Err(error) => return Attempt::Refused(error.into_response()),
    };
    let with_cors = |mut response: Response| {
        if let Some(origin) = &origin {
            cors(response.headers_mut(), origin);
        }
        response
    };
    match gated_turn(app, chat, incoming, check).await {
        Ok(response) => Attempt::Answered(with_cors(response)),
        Err(NotStarted::Refused(error)) => Attempt::Refused(with_cors(error_response(error))),
        Err(NotStarted::Stale) => Attempt::Stale,
    }
}

/// The gates after the origin (body, widget key, rate limit, body validation), then the turn.
async fn gated_turn(
    app: &App,
    chat: &ChatTenant,
    incoming: &mut Incoming,
    check: bool,
) -> Result<Response, NotStarted> {
    let bytes = incoming.body.bytes(app.config.body_limit).await?;
    // The input goes straight into `start`: a local of its own would keep a second copy in
    // this future while the turn starts.
    start(app, chat, checked_input(app, chat, incoming, &bytes)?, &incoming.headers, check).await
}

/// The body's gates (widget key, rate limit, validation); the input they let through.
fn checked_input(
    app: &App,
    chat: &ChatTenant,
    incoming: &mut Incoming,
    bytes: &[u8],
) -> Result<ChatRequestIn, ApiError> {
    let headers = &incoming.headers;
    let parsed = input::body(bytes);
    let body_key = parsed.as_ref().ok().and_then(|b| b.widget_key.as_deref());
    gates::widget_key(&chat.tenant, headers, body_key)?;
    let ip = client_ip::client_ip(incoming.peer, headers, app.config.trusted_proxies);
    let rate = *incoming.rate.get_or_insert_with(|| gates::rate_limit(app, ip));
    rate.map_err(gates::rate_limited)?;
    let mut input = input::validate(parsed?, headers, app.config.chat.max_message_chars)?;
    if incoming.segment.is_some() {
        input.segment = incoming.segment.clone();
    }
    Ok(input)
}

/// Adds `Retry-After` to rate-limit refusals.
fn error_response(error: ApiError) -> Response {
    let retry = error.extra("retryAfter").and_then(serde_json::Value::as_u64);
    let mut response = error.into_response();
    if let Some(secs) = retry
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert("retry-after", v);
    }
    response
}

/// The turn from its validated input. Its future is built from a block, which keeps `input`
/// once where an `async fn` keeps its arguments twice (rust-lang/rust#62958), for every request
/// waiting on a busy server.
#[expect(clippy::manual_async_fn, reason = "an async fn keeps its arguments twice (above)")]
fn start<'a>(
    app: &'a App,
    chat: &'a ChatTenant,
    input: ChatRequestIn,
    headers: &'a HeaderMap,
    check: bool,
) -> impl Future<Output = Result<Response, NotStarted>> + Send + 'a {
    async move {
        let tenant = &chat.tenant;
        // With a `sessionId` the turn's first write finds the conversation (or opens it), so it is
        // not read beforehand, as long as every refusal can still be given before that write: the
        // segment asked for exists, or there is a default one to fall back on.
        let by_session =
            input.session_id.is_some() && (input.segment.is_some() || chat.segments.iter().any(|s| s.is_default));
        // In a block: the conversation looked up is not kept past what is taken from it.
        let (session_id, first_segment, agent_model) = {
            let existing = if by_session { None } else { find_conversation(app, tenant, &input).await? };
            let session_id = match (&input.session_id, &existing) {
                (Some(s), _) => s.clone(),
                (None, Some(c)) => c.session_id.clone(),
                (None, None) => {
                    return Err(ApiError::bad_request("invalid_request", "message and sessionId are required").into());
                }
            };
            let first_segment = segment(chat, input.segment.as_deref(), existing.as_ref())?;
            // A conversation opened by an agent stays an agent conversation.
            let agent_model = input.agent_model.clone().or_else(|| existing.and_then(|c| c.agent_model));
            (session_id, first_segment, agent_model)
        };
        let visitor_id = visitor(app, tenant, input.visitor_id.as_deref()).await?;
        let locale = input.locale.clone().unwrap_or_else(|| tenant.settings.locale.clone());
        let remote_llm = llm::resolve(app, chat, headers).await?;
        let plan = app.plan(&tenant.plan);
        let cap = tenant.conversations_limit.or(plan.limits.conversations_per_month);
        let started = app
            .store
            .start_turn(
                &tenant.id,
                StartTurn {
                    conversation: NewConversation {
                        session_id,
                        visitor_id: visitor_id.clone(),
                        segment_id: Some(first_segment.id.clone()),
                        channel: if agent_model.is_some() { CHANNEL_AGENT } else { CHANNEL_WEB }.to_owned(),
                        visitor_type: if agent_model.is_some() { "agent" } else { "human" }.to_owned(),
                        agent_model: agent_model.clone(),
                        page_url: input.page_url.clone(),
                        metadata: conversation_metadata(headers, input.page_url.as_deref()),
                    },
                    user_message: input.message.clone(),
                    monthly_cap: cap.map(|c| (c, Timestamp::now().month_start())),
                    seen_versions: check.then_some((chat.versions.config, chat.versions.kb)),
                },
            )
            .await
            .map_err(ApiError::storage)?;
        let (conversation, history) = match started {
            TurnStart::Started { conversation, history, .. } => (*conversation, history),
            TurnStart::LimitReached => return Err(gates::limit_reached().into()),
            TurnStart::Stale => return Err(NotStarted::Stale),
        };
        let agent_model = agent_model.or_else(|| conversation.agent_model.clone());
        // Cannot fail now: the segment asked for exists, else there is a default (`by_session`).
        let segment = segment(chat, input.segment.as_deref(), Some(&conversation))?;
        let llm = remote_llm.unwrap_or_else(|| llm::builtin(&segment, &locale));
        let stream = input.stream.unwrap_or(agent_model.is_none());
        let two_tier = tenant.settings.corpus_summary_mode;
        // Boxed: the search's future would otherwise size every waiting request's.
        let knowledge = Box::pin(crate::knowledge::retrieve(app, chat, &segment.id, &input.message, two_tier)).await;
        let turn = TurnRequest {
            visitor_id: visitor_id.or_else(|| conversation.visitor_id.clone()),
            tenant: tenant.clone(),
            offer: chat.offer(&segment.id),
            segment,
            conversation,
            history,
            agent_model,
            page_url: input.page_url,
            page_context: input.page_context,
            locale,
            llm,
            knowledge: knowledge.into(),
            search: app.knowledge.clone(),
        };
        let config = agent_config(app);
        Ok(respond::respond(app.store.clone(), config, turn, stream).await)
    }
}

/// What the owner's conversation detail shows of where a conversation started.
fn conversation_metadata(headers: &HeaderMap, page_url: Option<&str>) -> serde_json::Value {
    let clip = |v: Option<&str>| v.map(|s| s.chars().take(500).collect::<String>());
    serde_json::json!({
        "userAgent": clip(input::header(headers, "user-agent")),
        "referrer": clip(input::header(headers, "referer")),
        "page": clip(page_url),
    })
}

pub fn agent_config(app: &App) -> AgentConfig {
    let a = &app.config.agent;
    AgentConfig {
        max_rounds: a.max_rounds,
        context_tokens: a.context_tokens,
        max_output_tokens: a.max_output_tokens,
        attempts: a.attempts,
        backoff: std::time::Duration::from_millis(250),
        idle_timeout: std::time::Duration::from_millis(a.timeout_ms),
    }
}

async fn find_conversation(
    app: &App,
    tenant: &Tenant,
    input: &ChatRequestIn,
) -> Result<Option<Conversation>, ApiError> {
    if let Some(session) = &input.session_id {
        return app.store.conversation_by_session(&tenant.id, session).await.map_err(ApiError::storage);
    }
    let Some(public_id) = &input.conversation_id else { return Ok(None) };
    let found = app.store.conversation_by_public_id(&tenant.id, public_id).await.map_err(ApiError::storage)?;
    found
        .map(Some)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "conversation_not_found", "Conversation not found"))
}

/// The segment asked for, else the conversation's (while active), else the default one.
fn segment(chat: &ChatTenant, slug: Option<&str>, existing: Option<&Conversation>) -> Result<Arc<Segment>, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "segment_not_found", "Segment not found");
    let segments = &chat.segments;
    if let Some(slug) = slug {
        return segments.iter().find(|s| s.slug == slug && s.is_active).cloned().ok_or_else(not_found);
    }
    if let Some(id) = existing.and_then(|c| c.segment_id.as_ref())
        && let Some(s) = segments.iter().find(|s| &s.id == id && s.is_active)
    {
        return Ok(s.clone());
    }
    segments.iter().find(|s| s.is_default).cloned().ok_or_else(not_found)
}

/// `X-Visitor-Id` or body `visitorId`: a `vis_` ID or the tenant's external ID, of this tenant only.
async fn visitor(app: &App, tenant: &Tenant, raw: Option<&str>) -> Result<Option<VisitorId>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "visitor_not_found", "Visitor not found");
    if let Some(id) = VisitorId::parse(raw) {
        let found = app.store.get_visitor(&tenant.id, &id).await.map_err(ApiError::storage)?;
        return found.map(|v| Some(v.visitor.id)).ok_or_else(not_found);
    }
    let found = app.store.visitor_by_external_id(&tenant.id, raw).await.map_err(ApiError::storage)?;
    found.map(|v| Some(v.id)).ok_or_else(not_found)
}
