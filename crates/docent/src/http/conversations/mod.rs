//! Conversation history and analytics for owners (seed 003): `GET /tenants/{slug}/conversations`
//! (list), `…/conversations/{id}` (detail), `…/conversations/stats`, and the exports
//! `…/conversations/export` and `…/conversations/stats/export`. Query parsing shared by them lives
//! here; each concern has its module.

mod csv_out;
mod export;
mod list;
mod stats;

pub use list::PageInfo;

use docent_domain::analytics::window::{DateParam, Window, WindowRules};
use docent_domain::analytics::{ConversationFilter, SegmentRef};
use docent_domain::conversation::{STATUS_ACTIVE, STATUS_ESCALATED};
use docent_domain::tenant::Tenant;
use docent_domain::tool::ToolType;
use docent_domain::{SegmentId, Timestamp, VisitorId};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use crate::app::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list::list_conversations))
        .routes(routes!(stats::get_stats))
        .routes(routes!(export::export_conversations))
        .routes(routes!(export::export_stats))
        .routes(routes!(list::get_conversation))
}

/// The owner API's name of a stored status: `BOT` while the bot handles it, `ESCALATED` after a
/// handoff to a human.
pub fn status_label(stored: &str) -> &'static str {
    if stored == STATUS_ESCALATED { "ESCALATED" } else { "BOT" }
}

/// A `status` filter (`BOT`/`ESCALATED`, any case) as stored.
fn parse_status(raw: &str) -> Result<String, ApiError> {
    match raw.to_ascii_uppercase().as_str() {
        "BOT" | "ACTIVE" => Ok(STATUS_ACTIVE.to_owned()),
        "ESCALATED" => Ok(STATUS_ESCALATED.to_owned()),
        _ => Err(invalid("status", "status must be BOT or ESCALATED")),
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request("validation_failed", message).with("field", field)
}

/// `page` (from 1) and `limit` (1..=max, default `default`).
pub fn paging(page: Option<i64>, limit: Option<i64>, default: u32, max: u32) -> Result<(u32, u32), ApiError> {
    let page = page.unwrap_or(1);
    if !(1..=1_000_000).contains(&page) {
        return Err(invalid("page", "page must be a whole number from 1"));
    }
    let limit = limit.unwrap_or(i64::from(default));
    if !(1..=i64::from(max)).contains(&limit) {
        return Err(invalid("limit", format!("limit must be between 1 and {max}")));
    }
    Ok((page as u32, limit as u32))
}

/// `from`/`to` resolved under `rules`.
pub fn window(from: Option<&str>, to: Option<&str>, rules: WindowRules) -> Result<Window, ApiError> {
    let from = from.map(|raw| DateParam::parse("from", raw)).transpose()?;
    let to = to.map(|raw| DateParam::parse("to", raw)).transpose()?;
    Ok(Window::resolve(from, to, Timestamp::now().millis(), rules)?)
}

/// A segment filter by slug; an unknown slug is 404 `segment_not_found`.
pub async fn segment_filter(app: &App, tenant: &Tenant, slug: Option<&str>) -> Result<Option<SegmentId>, ApiError> {
    let Some(slug) = slug else { return Ok(None) };
    let found = app.store.segment_by_slug(&tenant.id, slug).await.map_err(ApiError::storage)?;
    let segment = found.ok_or_else(|| {
        ApiError::new(axum::http::StatusCode::NOT_FOUND, "segment_not_found", "Segment not found")
            .with("field", "segment")
    })?;
    Ok(Some(segment.id))
}

fn channel_filter(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let ok =
        !raw.is_empty() && raw.len() <= 32 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(invalid("channel", "channel must be a channel name such as web or agent"));
    }
    Ok(Some(raw.to_ascii_lowercase()))
}

/// The filters the list and the export share.
#[derive(Default)]
pub struct RawFilter<'a> {
    pub window: Window,
    pub channel: Option<&'a str>,
    pub segment: Option<&'a str>,
    pub visitor_id: Option<&'a str>,
    pub tool_type: Option<&'a str>,
    pub status: Option<&'a str>,
}

pub async fn conversation_filter(
    app: &App,
    tenant: &Tenant,
    raw: RawFilter<'_>,
) -> Result<ConversationFilter, ApiError> {
    let visitor_id = match raw.visitor_id {
        None => None,
        Some(v) => Some(visitor_filter(app, tenant, v).await?),
    };
    let tool_type = match raw.tool_type {
        None => None,
        Some(t) => Some(
            ToolType::parse(&t.to_ascii_uppercase())
                .ok_or_else(|| invalid("toolType", format!("unknown toolType `{t}`")))?
                .as_str()
                .to_owned(),
        ),
    };
    Ok(ConversationFilter {
        from: raw.window.from.map(Timestamp::from_millis),
        to: raw.window.to.map(Timestamp::from_millis),
        channel: channel_filter(raw.channel)?,
        segment_id: segment_filter(app, tenant, raw.segment).await?,
        visitor_id,
        tool_type,
        status: raw.status.map(parse_status).transpose()?,
    })
}

/// A `vis_` ID or the tenant's external ID for the visitor; another tenant's is not found.
async fn visitor_filter(app: &App, tenant: &Tenant, raw: &str) -> Result<VisitorId, ApiError> {
    let not_found = || {
        ApiError::new(axum::http::StatusCode::NOT_FOUND, "visitor_not_found", "Visitor not found")
            .with("field", "visitorId")
    };
    if let Some(id) = VisitorId::parse(raw) {
        let found = app.store.get_visitor(&tenant.id, &id).await.map_err(ApiError::storage)?;
        return found.map(|v| v.visitor.id).ok_or_else(not_found);
    }
    let found = app.store.visitor_by_external_id(&tenant.id, raw).await.map_err(ApiError::storage)?;
    found.map(|v| v.id).ok_or_else(not_found)
}

/// The segment column of exports: its slug, or empty.
pub fn segment_label(segment: Option<&SegmentRef>) -> &str {
    segment.map_or("", |s| s.slug.as_str())
}
