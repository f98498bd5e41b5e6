//! Tools: `GET`, `POST /tenants/{slug}/tools`, and `GET`, `PATCH`, `DELETE …/tools/{id}`.
//! Webhook secrets are sealed before they reach the store and never returned.

use axum::extract::State;
use axum::response::Response;
use docent_domain::scope::Scope;
use docent_domain::tenant::Tenant;
use docent_domain::tool::{Tool, ToolFields, ToolIn, ToolPatch, ToolType, ToolView, validate_tool};
use docent_domain::{SegmentId, ToolId, ValidationError};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::Principal;
use super::docs::TenantRouteErrors;
use super::error::ApiError;
use super::extract::{Json, Path};
use super::{Deleted, created};
use crate::app::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_tools, create_tool)).routes(routes!(get_tool, update_tool, delete_tool))
}

async fn find(app: &App, tenant: &Tenant, id: &str) -> Result<Tool, ApiError> {
    let id = ToolId::parse(id).ok_or_else(|| ApiError::not_found("Tool"))?;
    app.store.get_tool(&tenant.id, &id).await.map_err(ApiError::storage)?.ok_or_else(|| ApiError::not_found("Tool"))
}

fn parse_segment(raw: Option<&str>) -> Result<Option<SegmentId>, ApiError> {
    raw.map(|r| {
        SegmentId::parse(r).ok_or_else(|| {
            ValidationError::new("segmentId", format!("segmentId {r} is not a segment of this tenant")).into()
        })
    })
    .transpose()
}

/// List tools ordered by `position`.
#[utoipa::path(get, path = "/tenants/{slug}/tools", tag = "tools",
    security(("bearer" = ["tools:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path)),
    responses((status = 200, body = [ToolView]), TenantRouteErrors))]
async fn list_tools(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
) -> Result<axum::Json<Vec<ToolView>>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ToolsRead).await?;
    let tools = app.store.list_tools(&tenant.id).await.map_err(ApiError::storage)?;
    Ok(axum::Json(tools.into_iter().map(ToolView::from).collect()))
}

/// Get one tool.
#[utoipa::path(get, path = "/tenants/{slug}/tools/{id}", tag = "tools",
    security(("bearer" = ["tools:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ToolView), TenantRouteErrors))]
async fn get_tool(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<ToolView>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ToolsRead).await?;
    Ok(axum::Json(find(&app, &tenant, &id).await?.into()))
}

/// Create a tool of a configurable type (SUBMIT_FORM, GENERATE_QUOTE, BOOK_MEETING,
/// ESCALATE_TO_HUMAN, REMEMBER_FACT, RECOMMEND_PRODUCT); synthetic types get 400.
#[utoipa::path(post, path = "/tenants/{slug}/tools", tag = "tools",
    security(("bearer" = ["tools:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path)),
    request_body = ToolIn,
    responses((status = 201, body = ToolView), TenantRouteErrors))]
async fn create_tool(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Json(body): Json<ToolIn>,
) -> Result<Response, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ToolsWrite).await?;
    let tool_type = ToolType::parse_configurable(&body.tool_type)?;
    let config = body.config.unwrap_or_else(|| Value::Object(Default::default()));
    validate_tool(
        &body.name,
        &body.description,
        tool_type,
        &config,
        body.webhook_url.as_deref(),
        body.webhook_secret.as_deref(),
    )?;
    let fields = ToolFields {
        name: body.name.trim().to_owned(),
        description: body.description,
        tool_type,
        config,
        position: body.position,
        is_active: body.is_active.unwrap_or(true),
        segment_id: parse_segment(body.segment_id.as_deref())?,
        webhook_url: body.webhook_url,
        webhook_secret: body.webhook_secret.map(|s| app.sealer.seal(&s)),
    };
    let tool = app.store.create_tool(&tenant.id, fields).await.map_err(ApiError::storage)?;
    Ok(created(ToolView::from(tool)))
}

/// Update a tool: only the fields sent change (`null` clears `segmentId`, `webhookUrl`,
/// `webhookSecret`). The type cannot change.
#[utoipa::path(patch, path = "/tenants/{slug}/tools/{id}", tag = "tools",
    security(("bearer" = ["tools:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    request_body = ToolPatch,
    responses((status = 200, body = ToolView), TenantRouteErrors))]
async fn update_tool(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
    Json(patch): Json<ToolPatch>,
) -> Result<axum::Json<ToolView>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ToolsWrite).await?;
    let current = find(&app, &tenant, &id).await?;
    let name = patch.name.unwrap_or(current.name);
    let description = patch.description.unwrap_or(current.description);
    let config = patch.config.unwrap_or(current.config);
    let webhook_url = patch.webhook_url.unwrap_or(current.webhook_url);
    let new_secret = patch.webhook_secret.clone().flatten();
    validate_tool(&name, &description, current.tool_type, &config, webhook_url.as_deref(), new_secret.as_deref())?;
    let segment_id = match patch.segment_id {
        Some(raw) => parse_segment(raw.as_deref())?,
        None => current.segment_id,
    };
    let webhook_secret = match patch.webhook_secret {
        Some(Some(secret)) => Some(app.sealer.seal(&secret)),
        Some(None) => None,
        None => current.webhook_secret,
    };
    let fields = ToolFields {
        name: name.trim().to_owned(),
        description,
        tool_type: current.tool_type,
        config,
        position: patch.position,
        is_active: patch.is_active.unwrap_or(current.is_active),
        segment_id,
        webhook_url,
        webhook_secret,
    };
    let tool = app.store.update_tool(&tenant.id, &current.id, fields).await.map_err(ApiError::storage)?;
    Ok(axum::Json(tool.into()))
}

/// Delete a tool.
#[utoipa::path(delete, path = "/tenants/{slug}/tools/{id}", tag = "tools",
    security(("bearer" = ["tools:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Deleted), TenantRouteErrors))]
async fn delete_tool(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<Deleted>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ToolsWrite).await?;
    let id = ToolId::parse(&id).ok_or_else(|| ApiError::not_found("Tool"))?;
    if !app.store.delete_tool(&tenant.id, &id).await.map_err(ApiError::storage)? {
        return Err(ApiError::not_found("Tool"));
    }
    Ok(Deleted::of(id))
}
