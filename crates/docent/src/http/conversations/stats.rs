//! `GET /tenants/{slug}/conversations/stats`: aggregated analytics over whole UTC days (default
//! the last 30 days including today, capped to one year), read from the daily rollups.

use std::collections::BTreeMap;

use axum::extract::State;
use docent_domain::analytics::window::{Granularity, Window, WindowRules, date_label};
use docent_domain::analytics::{DailyCounts, StatsData, StatsQuery, Totals};
use docent_domain::scope::Scope;
use docent_domain::tenant::Tenant;
use docent_domain::{SegmentId, Timestamp};
use serde::{Deserialize, Serialize};

use super::{channel_filter, segment_filter, window};
use crate::app::App;
use crate::http::auth::Principal;
use crate::http::docs::TenantRouteErrors;
use crate::http::error::ApiError;
use crate::http::extract::{Path, Query};

/// Entries kept in `topTools`, `byPage` and `topIntents`.
const TOP: u32 = 10;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// Start: a date `YYYY-MM-DD` or RFC 3339 (widened to its UTC day). Default: 30 days before `to`.
    from: Option<String>,
    /// End: a date includes that day; a date-time is widened to the end of its UTC day. Default: today.
    to: Option<String>,
    /// Timeline bucket: `day` (default), `week` (ISO, from Monday) or `month`.
    granularity: Option<String>,
    /// Segment slug.
    segment: Option<String>,
    /// `web`, `agent`, …
    channel: Option<String>,
    /// `all` adds all-time totals (`allTime`).
    window: Option<String>,
}

/// A resolved stats request.
pub struct StatsRequest {
    pub window: Window,
    pub granularity: Granularity,
    pub query: StatsQuery,
    pub segment: Option<SegmentId>,
}

#[allow(clippy::too_many_arguments)]
pub async fn resolve(
    app: &App,
    tenant: &Tenant,
    from: Option<&str>,
    to: Option<&str>,
    granularity: Option<&str>,
    segment: Option<&str>,
    channel: Option<&str>,
    top: u32,
) -> Result<StatsRequest, ApiError> {
    let granularity = match granularity {
        None => Granularity::Day,
        Some(raw) => Granularity::parse(raw).ok_or_else(|| {
            ApiError::bad_request("validation_failed", "granularity must be day, week or month")
                .with("field", "granularity")
        })?,
    };
    let rules = WindowRules { default_days: Some(30), capped: true, whole_days: true };
    let window = window(from, to, rules)?;
    let segment = segment_filter(app, tenant, segment).await?;
    let (Some(from_day), Some(to_day)) = (window.from, window.to) else {
        return Err(ApiError::internal(std::io::Error::other("a stats window is always bounded")));
    };
    let query = StatsQuery { from_day, to_day, channel: channel_filter(channel)?, segment_id: segment.clone(), top };
    Ok(StatsRequest { window, granularity, query, segment })
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WindowOut {
    from: Timestamp,
    /// Exclusive end (a UTC midnight).
    to: Timestamp,
    granularity: &'static str,
    /// Whether the asked window was longer than one year and was cut to its last year.
    capped: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    requested_from: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'static str>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TotalsOut {
    conversations: u64,
    messages: u64,
    escalated: u64,
    avg_messages_per_conversation: f64,
    with_tool_calls: u64,
    tool_calls_total: u64,
}

impl From<Totals> for TotalsOut {
    fn from(t: Totals) -> Self {
        let avg = if t.conversations == 0 { 0.0 } else { round(t.messages as f64 / t.conversations as f64, 2) };
        Self {
            conversations: t.conversations,
            messages: t.messages,
            escalated: t.escalated,
            avg_messages_per_conversation: avg,
            with_tool_calls: t.with_tool_calls,
            tool_calls_total: t.tool_calls,
        }
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Satisfaction {
    positive: u64,
    negative: u64,
    /// positive / (positive + negative); null without votes.
    rate: Option<f64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TimelinePoint {
    /// The bucket's first day.
    pub date: String,
    pub conversations: u64,
    pub messages: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ToolCount {
    pub name: String,
    pub calls: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PageCount {
    pub page: String,
    pub conversations: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IntentCount {
    pub question: String,
    pub count: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatsOut {
    window: WindowOut,
    totals: TotalsOut,
    satisfaction: Satisfaction,
    timeline: Vec<TimelinePoint>,
    by_channel: BTreeMap<String, u64>,
    /// Conversations per segment slug (`none`: no segment, or a deleted one).
    by_segment: BTreeMap<String, u64>,
    /// `BOT` and `ESCALATED`.
    by_status: BTreeMap<String, u64>,
    by_visitor_type: BTreeMap<String, u64>,
    top_tools: Vec<ToolCount>,
    /// Where conversations started (the path of `pageUrl`), most first.
    by_page: Vec<PageCount>,
    /// First user messages grouped after folding case, accents, whitespace and punctuation.
    top_intents: Vec<IntentCount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    all_time: Option<TotalsOut>,
}

/// Every bucket of the window, empty ones included.
pub fn timeline(days: &[DailyCounts], q: &StatsQuery, g: Granularity) -> Vec<TimelinePoint> {
    let buckets = g.buckets(q.from_day, q.to_day);
    let mut points: Vec<TimelinePoint> =
        buckets.iter().map(|b| TimelinePoint { date: date_label(*b), conversations: 0, messages: 0 }).collect();
    for d in days {
        let start = g.bucket_start(d.day);
        if let Ok(i) = buckets.binary_search(&start) {
            points[i].conversations += d.totals.conversations;
            points[i].messages += d.totals.messages;
        }
    }
    points
}

fn shape(data: StatsData, req: &StatsRequest, all_time: Option<Totals>) -> StatsOut {
    let mut totals = Totals::default();
    let (mut by_channel, mut by_segment, mut by_visitor_type) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for d in &data.days {
        totals.add(&d.totals);
        let n = d.totals.conversations;
        *by_channel.entry(d.channel.clone()).or_insert(0) += n;
        *by_segment.entry(d.segment.clone().unwrap_or_else(|| "none".to_owned())).or_insert(0) += n;
        *by_visitor_type.entry(d.visitor_type.clone()).or_insert(0) += n;
    }
    let nonzero = |m: BTreeMap<String, u64>| m.into_iter().filter(|(_, n)| *n > 0).collect::<BTreeMap<_, _>>();
    let by_status = nonzero(BTreeMap::from([
        ("BOT".to_owned(), totals.conversations.saturating_sub(totals.escalated)),
        ("ESCALATED".to_owned(), totals.escalated),
    ]));
    let votes = totals.positive + totals.negative;
    let capped = req.window.capped_from.is_some();
    StatsOut {
        window: WindowOut {
            from: Timestamp::from_millis(req.query.from_day),
            to: Timestamp::from_millis(req.query.to_day),
            granularity: req.granularity.as_str(),
            capped,
            requested_from: req.window.capped_from.map(Timestamp::from_millis),
            note: capped.then_some("the window was capped to one year, ending at `to`"),
        },
        satisfaction: Satisfaction {
            positive: totals.positive,
            negative: totals.negative,
            rate: (votes > 0).then(|| round(totals.positive as f64 / votes as f64, 4)),
        },
        timeline: timeline(&data.days, &req.query, req.granularity),
        totals: totals.into(),
        by_channel: nonzero(by_channel),
        by_segment: nonzero(by_segment),
        by_status,
        by_visitor_type: nonzero(by_visitor_type),
        top_tools: data.tools.into_iter().map(|(name, calls)| ToolCount { name, calls }).collect(),
        by_page: data.pages.into_iter().map(|(page, conversations)| PageCount { page, conversations }).collect(),
        top_intents: data.intents.into_iter().map(|(question, count)| IntentCount { question, count }).collect(),
        all_time: all_time.map(TotalsOut::from),
    }
}

/// Aggregated analytics over a window of whole UTC days: totals, satisfaction, a timeline with
/// empty buckets, breakdowns by channel, segment, status and visitor type, top tools, pages and
/// intents. Longer windows are capped to one year (`window.capped`).
#[utoipa::path(get, path = "/tenants/{slug}/conversations/stats", tag = "conversations",
    security(("bearer" = ["stats:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), StatsParams),
    responses((status = 200, body = StatsOut), TenantRouteErrors))]
pub async fn get_stats(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Query(p): Query<StatsParams>,
) -> Result<axum::Json<StatsOut>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::StatsRead).await?;
    let all = match p.window.as_deref() {
        None => false,
        Some("all") => true,
        Some(_) => {
            return Err(ApiError::bad_request("validation_failed", "window must be all").with("field", "window"));
        }
    };
    let req = resolve(
        &app,
        &tenant,
        p.from.as_deref(),
        p.to.as_deref(),
        p.granularity.as_deref(),
        p.segment.as_deref(),
        p.channel.as_deref(),
        TOP,
    )
    .await?;
    let data = app.store.conversation_stats(&tenant.id, &req.query).await.map_err(ApiError::storage)?;
    let all_time = if all {
        let channel = req.query.channel.as_deref();
        Some(app.store.all_time_totals(&tenant.id, channel, req.segment.as_ref()).await.map_err(ApiError::storage)?)
    } else {
        None
    };
    Ok(axum::Json(shape(data, &req, all_time)))
}
