//! `GET /discover/{slug}`: what a bot is and offers, for agents deciding how to talk to it and
//! for the widget's header: persona, active segments (no system prompts), capabilities, the
//! public welcome message. Nothing secret: a widget key shows only as `widgetKeyRequired`.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use docent_domain::segment::ConversationStarter;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::Path;
use crate::app::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(discover)).layer(axum::middleware::map_response(allow_any_origin))
}

/// Refusals too: a widget on another origin must be able to read "Tenant not found".
async fn allow_any_origin(mut response: Response) -> Response {
    response.headers_mut().insert("access-control-allow-origin", HeaderValue::from_static("*"));
    response
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Bot {
    name: String,
    title: Option<String>,
    avatar: Option<String>,
    tone: docent_domain::tenant::BotTone,
    primary_color: String,
    secondary_color: Option<String>,
    show_ai_badge: bool,
    locale: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicSegment {
    slug: String,
    name: String,
    welcome_message: Option<String>,
    conversation_starters: Vec<ConversationStarter>,
    is_default: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// Whether `/chat/{slug}` accepts public messages now (plan, activation, public chat).
    chat: bool,
    streaming: bool,
    agent_mode: bool,
    /// Tool types the bot may use in its default segment.
    tool_types: Vec<String>,
    /// Visitor authentication modes (`jwt`, `otp`); empty when none is required.
    auth_modes: Vec<String>,
    widget_key_required: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Discovery {
    slug: String,
    name: String,
    bot: Bot,
    welcome_message: Option<String>,
    segments: Vec<PublicSegment>,
    capabilities: Capabilities,
    content_policy: docent_domain::tenant::ContentPolicy,
    age_gate_enabled: bool,
    age_gate_min_age: u8,
    content_warning: Option<String>,
    /// The chat endpoint, relative to this server.
    chat_endpoint: String,
    /// Replies are AI-generated (EU AI Act Art. 50).
    ai_generated: bool,
}

/// Describe a tenant's bot before talking to it.
#[utoipa::path(get, path = "/discover/{slug}", tag = "discovery",
    params(("slug" = String, Path)),
    responses((status = 200, body = Discovery), (status = 404, body = ErrorBody)))]
async fn discover(State(app): State<App>, Path(slug): Path<String>) -> Result<Response, ApiError> {
    let chat = app.tenants.get(app.store.as_ref(), &slug).await.map_err(ApiError::storage)?;
    let chat = chat.ok_or_else(ApiError::tenant_not_found)?;
    let (tenant, segments) = (&chat.tenant, &chat.segments);
    let default = segments.iter().find(|s| s.is_default);
    let mut tool_types: Vec<String> = match default {
        Some(d) => chat.offer(&d.id).tools.iter().map(|t| t.tool_type.as_str().to_owned()).collect(),
        None => Vec::new(),
    };
    tool_types.dedup();
    let s = &tenant.settings;
    let auth_modes = match s.visitor_auth_mode {
        None => vec![],
        Some(docent_domain::tenant::VisitorAuthMode::Jwt) => vec!["jwt".to_owned()],
        Some(docent_domain::tenant::VisitorAuthMode::Otp) => vec!["otp".to_owned()],
        Some(docent_domain::tenant::VisitorAuthMode::All) => vec!["jwt".to_owned(), "otp".to_owned()],
    };
    let chat = tenant.is_activated && app.plan(&tenant.plan).capabilities.widget && s.public_chat_enabled;
    let body = Discovery {
        chat_endpoint: format!("/chat/{}", tenant.slug),
        welcome_message: default.and_then(|d| d.welcome_message.clone()),
        segments: segments
            .iter()
            .filter(|s| s.is_active)
            .map(|s| PublicSegment {
                slug: s.slug.clone(),
                name: s.name.clone(),
                welcome_message: s.welcome_message.clone(),
                conversation_starters: s.conversation_starters.clone(),
                is_default: s.is_default,
            })
            .collect(),
        capabilities: Capabilities {
            chat,
            streaming: true,
            agent_mode: true,
            tool_types,
            auth_modes,
            widget_key_required: s.widget_key.is_some(),
        },
        bot: Bot {
            name: s.bot_name.clone(),
            title: s.bot_title.clone(),
            avatar: s.bot_avatar.clone(),
            tone: s.bot_tone,
            primary_color: s.primary_color.clone(),
            secondary_color: s.secondary_color.clone(),
            show_ai_badge: s.show_ai_badge,
            locale: s.locale.clone(),
        },
        content_policy: s.content_policy,
        age_gate_enabled: s.age_gate_enabled,
        age_gate_min_age: s.age_gate_min_age,
        content_warning: s.content_warning.clone(),
        slug: tenant.slug.clone(),
        name: tenant.name.clone(),
        ai_generated: true,
    };
    let mut response = axum::Json(body).into_response();
    response.headers_mut().insert("cache-control", HeaderValue::from_static("public, max-age=30"));
    Ok(response)
}
