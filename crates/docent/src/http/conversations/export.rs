//! `GET /tenants/{slug}/conversations/export` (one row per conversation, CSV or NDJSON, streamed
//! in keyset pages so an export never sits whole in memory) and
//! `GET /tenants/{slug}/conversations/stats/export` (one aggregated dataset).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use docent_domain::analytics::window::{Window, WindowRules, date_label};
use docent_domain::analytics::{ConversationFilter, ConversationSummary};
use docent_domain::scope::Scope;
use docent_domain::{ConversationId, TenantId, Timestamp};
use docent_store::Store;
use serde::Deserialize;

use super::csv_out::{Cell, Format, encode};
use super::stats::{resolve, timeline};
use super::{RawFilter, conversation_filter, paging, segment_label, status_label, window};
use crate::app::App;
use crate::http::auth::Principal;
use crate::http::docs::TenantRouteErrors;
use crate::http::error::ApiError;
use crate::http::extract::{Path, Query};

/// The seed's columns, in its order.
const COLUMNS: [&str; 11] = [
    "id",
    "created_at",
    "updated_at",
    "channel",
    "status",
    "visitor_type",
    "segment",
    "page_url",
    "message_count",
    "tool_calls_count",
    "intent",
];

/// Rows fetched per keyset page while streaming.
const PAGE: u32 = 1_000;

/// Rows kept by the `byPage`, `topIntents` and `topTools` datasets.
const DATASET_TOP: u32 = 1_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// Start: a date or RFC 3339 (default: 30 days before `to`; the window is capped to one year).
    from: Option<String>,
    /// End: a date includes that day; a date-time is exclusive (default: now).
    to: Option<String>,
    channel: Option<String>,
    /// Segment slug.
    segment: Option<String>,
    /// `BOT` or `ESCALATED`.
    status: Option<String>,
    /// `csv` (default) or `ndjson`.
    format: Option<String>,
    /// Maximum rows (default 1000, max 5000).
    limit: Option<i64>,
}

fn cells(s: ConversationSummary) -> Vec<Cell> {
    let c = &s.conversation;
    vec![
        Cell::Text(c.id.to_string()),
        Cell::Text(c.started_at.to_string()),
        Cell::Text(c.last_message_at.to_string()),
        Cell::Text(c.channel.clone()),
        Cell::Text(status_label(&c.status).to_owned()),
        Cell::Text(c.visitor_type.clone()),
        Cell::Text(segment_label(s.segment.as_ref()).to_owned()),
        Cell::Text(c.page_url.clone().unwrap_or_default()),
        Cell::Number(c.message_count),
        Cell::Number(s.tool_calls),
        Cell::Text(s.first_message.clone().unwrap_or_default()),
    ]
}

/// Where the streamed export stands between pages.
struct Export {
    store: Arc<dyn Store>,
    tenant: TenantId,
    filter: ConversationFilter,
    format: Format,
    remaining: u32,
    pending: Option<Vec<ConversationSummary>>,
    after: Option<(i64, ConversationId)>,
    header: bool,
    done: bool,
}

impl Export {
    async fn next_chunk(mut self) -> Option<(Result<Bytes, std::io::Error>, Export)> {
        if self.done {
            return None;
        }
        let asked = PAGE.min(self.remaining);
        let rows = match self.pending.take() {
            Some(rows) => rows,
            None if asked == 0 => Vec::new(),
            None => match self.store.export_conversations(&self.tenant, &self.filter, self.after.take(), asked).await {
                Ok(rows) => rows,
                Err(e) => {
                    self.done = true;
                    return Some((Err(std::io::Error::other(e.to_string())), self));
                }
            },
        };
        let n = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        self.remaining = self.remaining.saturating_sub(n);
        self.done = n < asked || self.remaining == 0;
        if n == 0 && !self.header {
            return None;
        }
        self.after = rows.last().map(|s| (s.conversation.started_at.millis(), s.conversation.id.clone()));
        let rows: Vec<Vec<Cell>> = rows.into_iter().map(cells).collect();
        let chunk = encode(self.format, &COLUMNS, &rows, self.header)
            .map_err(|e| std::io::Error::other(e.message))
            .map(Bytes::from);
        self.header = false;
        Some((chunk, self))
    }
}

fn window_headers(headers: &mut HeaderMap, w: &Window) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    if let Some(from) = w.from {
        set("x-window-from", Timestamp::from_millis(from).to_string());
    }
    if let Some(to) = w.to {
        set("x-window-to", Timestamp::from_millis(to).to_string());
    }
    set("x-window-capped", w.capped_from.is_some().to_string());
}

fn stem(kind: &str, slug: &str, w: &Window) -> String {
    let from = w.from.map(date_label).unwrap_or_default();
    let to = w.to.map(|t| date_label(t - 1)).unwrap_or_default();
    format!("{kind}-{slug}-{from}-to-{to}")
}

/// Export conversations, newest first, as CSV (the seed's columns, RFC 4180, formula cells
/// neutralised with a leading `'`) or NDJSON. The window (default 30 days, capped to one year)
/// is echoed in `X-Window-From`, `X-Window-To` and `X-Window-Capped`.
#[utoipa::path(get, path = "/tenants/{slug}/conversations/export", tag = "conversations",
    security(("bearer" = ["conversations:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ExportParams),
    responses((status = 200, description = "text/csv or application/x-ndjson", body = String), TenantRouteErrors))]
pub async fn export_conversations(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Query(p): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ConversationsRead).await?;
    let format = Format::parse(p.format.as_deref())?;
    let (_, limit) = paging(None, p.limit, 1_000, 5_000)?;
    let rules = WindowRules { default_days: Some(30), capped: true, whole_days: false };
    let w = window(p.from.as_deref(), p.to.as_deref(), rules)?;
    let raw = RawFilter {
        window: w,
        channel: p.channel.as_deref(),
        segment: p.segment.as_deref(),
        status: p.status.as_deref(),
        ..RawFilter::default()
    };
    let filter = conversation_filter(&app, &tenant, raw).await?;
    // The first page is read before answering, so a failure is still a proper error response.
    let first =
        app.store.export_conversations(&tenant.id, &filter, None, PAGE.min(limit)).await.map_err(ApiError::storage)?;
    let export = Export {
        store: app.store.clone(),
        tenant: tenant.id,
        filter,
        format,
        remaining: limit,
        pending: Some(first),
        after: None,
        header: true,
        done: false,
    };
    let body = Body::from_stream(futures::stream::unfold(export, Export::next_chunk));
    let mut headers = format.headers(&stem("conversations", &slug, &w));
    window_headers(&mut headers, &w);
    Ok((headers, body).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsExportParams {
    /// As for the stats: a date or RFC 3339, widened to whole UTC days (default the last 30 days).
    from: Option<String>,
    to: Option<String>,
    /// `day` (default), `week` or `month`, for the timeline.
    granularity: Option<String>,
    segment: Option<String>,
    channel: Option<String>,
    /// `timeline` (default), `byPage`, `topIntents` or `topTools`.
    dataset: Option<String>,
    /// `csv` (default) or `ndjson`.
    format: Option<String>,
}

/// Export one aggregated dataset of the stats: `timeline` (date, conversations, messages),
/// `byPage` (page, conversations), `topIntents` (question, count) or `topTools` (name, calls);
/// the last three keep the top 1,000.
#[utoipa::path(get, path = "/tenants/{slug}/conversations/stats/export", tag = "conversations",
    security(("bearer" = ["stats:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), StatsExportParams),
    responses((status = 200, description = "text/csv or application/x-ndjson", body = String), TenantRouteErrors))]
pub async fn export_stats(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Query(p): Query<StatsExportParams>,
) -> Result<Response, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::StatsRead).await?;
    let format = Format::parse(p.format.as_deref())?;
    let dataset = p.dataset.as_deref().unwrap_or("timeline");
    if !["timeline", "byPage", "topIntents", "topTools"].contains(&dataset) {
        return Err(ApiError::bad_request(
            "validation_failed",
            "dataset must be timeline, byPage, topIntents or topTools",
        )
        .with("field", "dataset"));
    }
    let (from, to, granularity) = (p.from.as_deref(), p.to.as_deref(), p.granularity.as_deref());
    let (segment, channel) = (p.segment.as_deref(), p.channel.as_deref());
    let req = resolve(&app, &tenant, from, to, granularity, segment, channel, DATASET_TOP).await?;
    let data = app.store.conversation_stats(&tenant.id, &req.query).await.map_err(ApiError::storage)?;
    let text = |s: String| Cell::Text(s);
    let (columns, rows): (&[&str], Vec<Vec<Cell>>) = match dataset {
        "byPage" => {
            (&["page", "conversations"], data.pages.into_iter().map(|(p, n)| vec![text(p), Cell::Number(n)]).collect())
        }
        "topIntents" => {
            (&["question", "count"], data.intents.into_iter().map(|(q, n)| vec![text(q), Cell::Number(n)]).collect())
        }
        "topTools" => {
            (&["name", "calls"], data.tools.into_iter().map(|(t, n)| vec![text(t), Cell::Number(n)]).collect())
        }
        _ => (
            &["date", "conversations", "messages"],
            timeline(&data.days, &req.query, req.granularity)
                .into_iter()
                .map(|t| vec![text(t.date), Cell::Number(t.conversations), Cell::Number(t.messages)])
                .collect(),
        ),
    };
    // Aggregates are bounded (a year of days, or the top 1,000), so they are encoded at once.
    let body = encode(format, columns, &rows, true)?;
    let mut headers = format.headers(&stem(&format!("stats-{dataset}"), &slug, &req.window));
    window_headers(&mut headers, &req.window);
    Ok((headers, body).into_response())
}
