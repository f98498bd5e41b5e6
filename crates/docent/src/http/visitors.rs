//! Visitor profiles: `GET`, `POST /tenants/{slug}/visitors`, and `GET`, `PATCH`, `DELETE
//! …/visitors/{id}`. Their memory facts live in `memory.rs`.

use axum::extract::State;
use axum::response::Response;
use docent_domain::VisitorId;
use docent_domain::scope::Scope;
use docent_domain::visitor::{Visitor, VisitorDetail, VisitorIn, VisitorPatch, VisitorQuery};
use docent_store::StorageError;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::Principal;
use super::docs::TenantRouteErrors;
use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Path, Query};
use super::{Deleted, created};
use crate::app::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_visitors, create_visitor))
        .routes(routes!(get_visitor, update_visitor, delete_visitor))
        .merge(super::memory::router())
}

/// Parses a visitor ID from a path; an ID that cannot exist is simply not found.
pub(super) fn visitor_id(raw: &str) -> Result<VisitorId, ApiError> {
    VisitorId::parse(raw).ok_or_else(|| ApiError::not_found("Visitor"))
}

fn conflict(e: StorageError) -> ApiError {
    match e {
        StorageError::Conflict { what } => ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "visitor_exists",
            format!("A visitor with this {what} already exists"),
        )
        .with("field", what),
        other => ApiError::storage(other),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Results per page (default 50, max 200).
    limit: Option<u32>,
    /// Offset (default 0).
    offset: Option<u64>,
    /// Matches email, displayName or externalId (case-insensitive substring).
    search: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VisitorList {
    visitors: Vec<Visitor>,
    total: u64,
    limit: u32,
    offset: u64,
}

/// List visitors, newest first.
#[utoipa::path(get, path = "/tenants/{slug}/visitors", tag = "visitors",
    security(("bearer" = ["visitors:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ListParams),
    responses((status = 200, body = VisitorList), TenantRouteErrors))]
async fn list_visitors(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<VisitorList>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::VisitorsRead).await?;
    let limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(
            ApiError::bad_request("validation_failed", "limit must be between 1 and 200").with("field", "limit")
        );
    }
    if params.search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(
            ApiError::bad_request("validation_failed", "search must be at most 200 characters").with("field", "search")
        );
    }
    let query = VisitorQuery { limit, offset: params.offset.unwrap_or(0), search: params.search };
    let (visitors, total) = app.store.list_visitors(&tenant.id, &query).await.map_err(ApiError::storage)?;
    Ok(axum::Json(VisitorList { visitors, total, limit, offset: query.offset }))
}

/// Create a visitor; at least one of `email` and `externalId` is required, and each is unique
/// in the tenant (409 `visitor_exists`).
#[utoipa::path(post, path = "/tenants/{slug}/visitors", tag = "visitors",
    security(("bearer" = ["visitors:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path)),
    request_body = VisitorIn,
    responses((status = 201, body = Visitor), (status = 409, body = ErrorBody), TenantRouteErrors))]
async fn create_visitor(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Json(body): Json<VisitorIn>,
) -> Result<Response, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::VisitorsWrite).await?;
    let fields = body.into_fields()?;
    let visitor = app.store.create_visitor(&tenant.id, fields).await.map_err(conflict)?;
    Ok(created(visitor))
}

/// Get a visitor with `conversationCount` and `memoryFactCount`.
#[utoipa::path(get, path = "/tenants/{slug}/visitors/{id}", tag = "visitors",
    security(("bearer" = ["visitors:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = VisitorDetail), TenantRouteErrors))]
async fn get_visitor(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<VisitorDetail>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::VisitorsRead).await?;
    let detail = app.store.get_visitor(&tenant.id, &visitor_id(&id)?).await.map_err(ApiError::storage)?;
    Ok(axum::Json(detail.ok_or_else(|| ApiError::not_found("Visitor"))?))
}

/// Update a visitor: only the fields sent change (`null` clears one).
#[utoipa::path(patch, path = "/tenants/{slug}/visitors/{id}", tag = "visitors",
    security(("bearer" = ["visitors:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    request_body = VisitorPatch,
    responses((status = 200, body = Visitor), (status = 409, body = ErrorBody), TenantRouteErrors))]
async fn update_visitor(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
    Json(patch): Json<VisitorPatch>,
) -> Result<axum::Json<Visitor>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::VisitorsWrite).await?;
    let id = visitor_id(&id)?;
    let current = app.store.get_visitor(&tenant.id, &id).await.map_err(ApiError::storage)?;
    let current = current.ok_or_else(|| ApiError::not_found("Visitor"))?;
    let fields = patch.apply(&current.visitor)?;
    let visitor = app.store.update_visitor(&tenant.id, &id, fields).await.map_err(conflict)?;
    Ok(axum::Json(visitor))
}

/// Delete a visitor with their conversations, memory facts and submissions.
#[utoipa::path(delete, path = "/tenants/{slug}/visitors/{id}", tag = "visitors",
    security(("bearer" = ["visitors:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Deleted), TenantRouteErrors))]
async fn delete_visitor(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<Deleted>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::VisitorsWrite).await?;
    let id = visitor_id(&id)?;
    if !app.store.delete_visitor(&tenant.id, &id).await.map_err(ApiError::storage)? {
        return Err(ApiError::not_found("Visitor"));
    }
    Ok(Deleted::of(id))
}
