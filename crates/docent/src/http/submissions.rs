//! Form submissions (seed 002): `GET /tenants/{slug}/submissions` (filters `status`, `toolId`,
//! `from`, `to`; paginated), `GET …/submissions/{id}`, and `PATCH …/submissions/{id}` moving the
//! status one step along `NEW → CONTACTED → RESOLVED` (409 `invalid_transition` otherwise, with
//! the allowed moves). Reading needs `conversations:read`, changing `conversations:write`.

use axum::extract::State;
use axum::http::StatusCode;
use docent_domain::analytics::window::WindowRules;
use docent_domain::analytics::{SUBMISSION_STATUSES, SubmissionFilter, submission_moves};
use docent_domain::conversation::Submission;
use docent_domain::scope::Scope;
use docent_domain::{ConversationId, SubmissionId, Timestamp, ToolId, VisitorId};
use docent_store::SubmissionMove;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::Principal;
use super::conversations::{PageInfo, paging, window};
use super::docs::TenantRouteErrors;
use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Path, Query};
use crate::app::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_submissions)).routes(routes!(get_submission, update_submission))
}

/// A form submission.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionOut {
    id: SubmissionId,
    tool_id: Option<ToolId>,
    conversation_id: Option<ConversationId>,
    visitor_id: Option<VisitorId>,
    /// The form's fields as the visitor filled them.
    #[schema(value_type = Object)]
    data: Value,
    /// `NEW`, `CONTACTED` or `RESOLVED`.
    status: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<Submission> for SubmissionOut {
    fn from(s: Submission) -> Self {
        Self {
            id: s.id,
            tool_id: s.tool_id,
            conversation_id: s.conversation_id,
            visitor_id: s.visitor_id,
            data: s.data,
            status: s.status,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListParams {
    /// `NEW`, `CONTACTED` or `RESOLVED`.
    status: Option<String>,
    /// Only submissions of this tool.
    tool_id: Option<String>,
    /// Created at or after: a date `YYYY-MM-DD` or an RFC 3339 date-time.
    from: Option<String>,
    /// Created before (a date includes that whole day).
    to: Option<String>,
    /// Page, from 1 (default 1).
    page: Option<i64>,
    /// Per page (default 20, max 100).
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubmissionList {
    submissions: Vec<SubmissionOut>,
    pagination: PageInfo,
}

fn status(raw: &str) -> Result<String, ApiError> {
    let upper = raw.to_ascii_uppercase();
    if SUBMISSION_STATUSES.contains(&upper.as_str()) {
        return Ok(upper);
    }
    Err(ApiError::bad_request("validation_failed", "status must be NEW, CONTACTED or RESOLVED").with("field", "status"))
}

fn submission_id(raw: &str) -> Result<SubmissionId, ApiError> {
    SubmissionId::parse(raw).ok_or_else(|| ApiError::not_found("Submission"))
}

/// List submissions, newest first.
#[utoipa::path(get, path = "/tenants/{slug}/submissions", tag = "submissions",
    security(("bearer" = ["conversations:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ListParams),
    responses((status = 200, body = SubmissionList), TenantRouteErrors))]
async fn list_submissions(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<axum::Json<SubmissionList>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ConversationsRead).await?;
    let (page, limit) = paging(p.page, p.limit, 20, 100)?;
    let rules = WindowRules { default_days: None, capped: false, whole_days: false };
    let w = window(p.from.as_deref(), p.to.as_deref(), rules)?;
    let tool_id = match p.tool_id.as_deref() {
        None => None,
        Some(raw) => Some(ToolId::parse(raw).ok_or_else(|| {
            ApiError::bad_request("validation_failed", "toolId must be a tool ID (tool_…)").with("field", "toolId")
        })?),
    };
    let filter = SubmissionFilter {
        status: p.status.as_deref().map(status).transpose()?,
        tool_id,
        from: w.from.map(Timestamp::from_millis),
        to: w.to.map(Timestamp::from_millis),
    };
    let (rows, total) =
        app.store.list_submissions(&tenant.id, &filter, page, limit).await.map_err(ApiError::storage)?;
    Ok(axum::Json(SubmissionList {
        submissions: rows.into_iter().map(SubmissionOut::from).collect(),
        pagination: PageInfo::new(page, limit, total),
    }))
}

/// Get a submission.
#[utoipa::path(get, path = "/tenants/{slug}/submissions/{id}", tag = "submissions",
    security(("bearer" = ["conversations:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = SubmissionOut), TenantRouteErrors))]
async fn get_submission(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<SubmissionOut>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ConversationsRead).await?;
    let found = app.store.get_submission(&tenant.id, &submission_id(&id)?).await.map_err(ApiError::storage)?;
    Ok(axum::Json(found.map(SubmissionOut::from).ok_or_else(|| ApiError::not_found("Submission"))?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionPatch {
    /// The next status: `CONTACTED` after `NEW`, `RESOLVED` after `CONTACTED`.
    status: String,
}

/// Move a submission one step along `NEW → CONTACTED → RESOLVED`; any other move is 409
/// `invalid_transition` with `allowed` (the moves possible from the current status).
#[utoipa::path(patch, path = "/tenants/{slug}/submissions/{id}", tag = "submissions",
    security(("bearer" = ["conversations:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    request_body = SubmissionPatch,
    responses((status = 200, body = SubmissionOut), (status = 409, body = ErrorBody), TenantRouteErrors))]
async fn update_submission(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
    Json(patch): Json<SubmissionPatch>,
) -> Result<axum::Json<SubmissionOut>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ConversationsWrite).await?;
    let id = submission_id(&id)?;
    let to = status(&patch.status)?;
    match app.store.set_submission_status(&tenant.id, &id, &to).await.map_err(ApiError::storage)? {
        SubmissionMove::Moved(s) => Ok(axum::Json(s.into())),
        SubmissionMove::NotFound => Err(ApiError::not_found("Submission")),
        SubmissionMove::Refused { current } => {
            let allowed = submission_moves(&current);
            let hint = match allowed {
                [] => format!("{current} is final"),
                moves => format!("allowed: {}", moves.join(", ")),
            };
            Err(ApiError::new(
                StatusCode::CONFLICT,
                "invalid_transition",
                format!("Cannot move a submission from {current} to {to} ({hint})"),
            )
            .with("status", current.clone())
            .with("allowed", allowed.to_vec()))
        }
    }
}
