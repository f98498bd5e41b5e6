//! A visitor's memory facts: `GET`, `POST …/visitors/{id}/memory` (upsert by key), and `GET`,
//! `DELETE …/visitors/{id}/memory/{key}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use docent_domain::scope::Scope;
use docent_domain::visitor::{MemoryFact, MemoryIn, validate_fact_key};
use docent_store::StorageError;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::Principal;
use super::docs::TenantRouteErrors;
use super::error::ApiError;
use super::extract::{Json, Path};
use super::visitors::visitor_id;
use crate::app::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_memory, upsert_memory)).routes(routes!(get_memory, delete_memory))
}

fn visitor_missing(e: StorageError) -> ApiError {
    match e {
        StorageError::NotFound => ApiError::not_found("Visitor"),
        other => ApiError::storage(other),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FactList {
    facts: Vec<MemoryFact>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FactDeleted {
    deleted: bool,
    key: String,
}

/// List a visitor's memory facts, by key.
#[utoipa::path(get, path = "/tenants/{slug}/visitors/{id}/memory", tag = "visitors",
    security(("bearer" = ["visitors:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = FactList), TenantRouteErrors))]
async fn list_memory(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<FactList>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::VisitorsRead).await?;
    let facts = app.store.list_memory(&tenant.id, &visitor_id(&id)?).await.map_err(visitor_missing)?;
    Ok(axum::Json(FactList { facts }))
}

/// Create or replace a fact (upsert by `key`): 201 when created, 200 when replaced.
#[utoipa::path(post, path = "/tenants/{slug}/visitors/{id}/memory", tag = "visitors",
    security(("bearer" = ["visitors:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    request_body = MemoryIn,
    responses((status = 201, body = MemoryFact), (status = 200, body = MemoryFact), TenantRouteErrors))]
async fn upsert_memory(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
    Json(body): Json<MemoryIn>,
) -> Result<Response, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::VisitorsWrite).await?;
    body.validate()?;
    let (fact, created) = app
        .store
        .upsert_memory(&tenant.id, &visitor_id(&id)?, &body.key, &body.value)
        .await
        .map_err(visitor_missing)?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(fact)).into_response())
}

/// Get one fact.
#[utoipa::path(get, path = "/tenants/{slug}/visitors/{id}/memory/{key}", tag = "visitors",
    security(("bearer" = ["visitors:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = MemoryFact), TenantRouteErrors))]
async fn get_memory(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id, key)): Path<(String, String, String)>,
) -> Result<axum::Json<MemoryFact>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::VisitorsRead).await?;
    let visitor = visitor_id(&id)?;
    validate_fact_key(&key).map_err(|_| ApiError::not_found("Memory fact"))?;
    let fact = app.store.get_memory(&tenant.id, &visitor, &key).await.map_err(ApiError::storage)?;
    Ok(axum::Json(fact.ok_or_else(|| ApiError::not_found("Memory fact"))?))
}

/// Delete one fact.
#[utoipa::path(delete, path = "/tenants/{slug}/visitors/{id}/memory/{key}", tag = "visitors",
    security(("bearer" = ["visitors:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = FactDeleted), TenantRouteErrors))]
async fn delete_memory(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id, key)): Path<(String, String, String)>,
) -> Result<axum::Json<FactDeleted>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::VisitorsWrite).await?;
    let visitor = visitor_id(&id)?;
    if !app.store.delete_memory(&tenant.id, &visitor, &key).await.map_err(ApiError::storage)? {
        return Err(ApiError::not_found("Memory fact"));
    }
    Ok(axum::Json(FactDeleted { deleted: true, key }))
}
