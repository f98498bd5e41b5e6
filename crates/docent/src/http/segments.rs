//! Segments: `GET`, `POST /tenants/{slug}/segments`, and `GET`, `PUT`, `DELETE …/segments/{id}`.

use axum::extract::State;
use axum::response::Response;
use docent_domain::SegmentId;
use docent_domain::scope::Scope;
use docent_domain::segment::{Segment, SegmentIn, SegmentPatch, SegmentSummary};
use docent_domain::tenant::Tenant;
use docent_store::SegmentDeletion;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::Principal;
use super::docs::TenantRouteErrors;
use super::error::ApiError;
use super::extract::{Json, Path};
use super::{Deleted, created};
use crate::app::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_segments, create_segment)).routes(routes!(
        get_segment,
        update_segment,
        delete_segment
    ))
}

async fn find(app: &App, tenant: &Tenant, id: &str) -> Result<Segment, ApiError> {
    let id = SegmentId::parse(id).ok_or_else(|| ApiError::not_found("Segment"))?;
    app.store
        .get_segment(&tenant.id, &id)
        .await
        .map_err(ApiError::storage)?
        .ok_or_else(|| ApiError::not_found("Segment"))
}

/// List segments, default first (without `systemPrompt`).
#[utoipa::path(get, path = "/tenants/{slug}/segments", tag = "segments",
    security(("bearer" = ["segments:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path)),
    responses((status = 200, body = [SegmentSummary]), TenantRouteErrors))]
async fn list_segments(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
) -> Result<axum::Json<Vec<SegmentSummary>>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::SegmentsRead).await?;
    let list = app.store.list_segments(&tenant.id).await.map_err(ApiError::storage)?;
    Ok(axum::Json(list.into_iter().map(SegmentSummary::from).collect()))
}

/// Get one segment with its system prompt.
#[utoipa::path(get, path = "/tenants/{slug}/segments/{id}", tag = "segments",
    security(("bearer" = ["segments:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Segment), TenantRouteErrors))]
async fn get_segment(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<Segment>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::SegmentsRead).await?;
    Ok(axum::Json(find(&app, &tenant, &id).await?))
}

/// Create a segment; its slug comes from the name, made unique in the tenant.
/// At most 4 `conversationStarters`, each `text` at most 50 characters.
#[utoipa::path(post, path = "/tenants/{slug}/segments", tag = "segments",
    security(("bearer" = ["segments:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path)),
    request_body = SegmentIn,
    responses((status = 201, body = Segment), TenantRouteErrors))]
async fn create_segment(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Json(body): Json<SegmentIn>,
) -> Result<Response, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::SegmentsWrite).await?;
    body.validate()?;
    let segment = app.store.create_segment(&tenant.id, body).await.map_err(ApiError::storage)?;
    Ok(created(segment))
}

/// Update a segment: only the fields sent change. The default segment cannot be deactivated.
#[utoipa::path(put, path = "/tenants/{slug}/segments/{id}", tag = "segments",
    security(("bearer" = ["segments:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    request_body = SegmentPatch,
    responses((status = 200, body = Segment), TenantRouteErrors))]
async fn update_segment(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
    Json(patch): Json<SegmentPatch>,
) -> Result<axum::Json<Segment>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::SegmentsWrite).await?;
    let current = find(&app, &tenant, &id).await?;
    let updated = patch.apply(&current)?;
    let saved = app.store.update_segment(&tenant.id, &updated).await.map_err(ApiError::storage)?;
    Ok(axum::Json(saved))
}

/// Delete a segment (400 `default_segment` for the default one). Its tools become general.
#[utoipa::path(delete, path = "/tenants/{slug}/segments/{id}", tag = "segments",
    security(("bearer" = ["segments:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Deleted), TenantRouteErrors))]
async fn delete_segment(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<Deleted>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::SegmentsWrite).await?;
    let id = SegmentId::parse(&id).ok_or_else(|| ApiError::not_found("Segment"))?;
    match app.store.delete_segment(&tenant.id, &id).await.map_err(ApiError::storage)? {
        SegmentDeletion::Deleted => Ok(Deleted::of(id)),
        SegmentDeletion::NotFound => Err(ApiError::not_found("Segment")),
        SegmentDeletion::IsDefault => {
            Err(ApiError::bad_request("default_segment", "The default segment cannot be deleted"))
        }
    }
}
