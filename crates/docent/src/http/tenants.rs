//! `POST /tenants`, `GET`, `PUT` and `PATCH /tenants/{slug}`.

use axum::extract::State;
use axum::response::Response;
use docent_domain::TenantId;
use docent_domain::scope::Scope;
use docent_domain::tenant::{TenantPatch, TenantView};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::Principal;
use super::docs::TenantRouteErrors;
use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Path};
use crate::app::App;
use crate::tenancy::{CreateTenant, CreatedTenant, create_tenant};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(post_tenant)).routes(routes!(get_tenant, put_tenant, patch_tenant))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantIn {
    pub slug: String,
    pub name: String,
    /// Instance admin only; a child tenant is on its parent's plan.
    pub plan: Option<String>,
    /// The parent tenant's id (multi-tenant). A tenant token may only name its own tenant.
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<String>,
    /// Instance admin only (default true).
    pub is_activated: Option<bool>,
}

/// Create a tenant: the instance admin creates any tenant; a tenant's token (scope
/// `settings:write`) creates a child of its own tenant, within its plan's child-tenant limit.
#[utoipa::path(post, path = "/tenants", tag = "tenants",
    security(("bearer" = ["settings:write"]), ("legacyKey" = [])),
    request_body = TenantIn,
    responses(
        (status = 201, body = CreatedTenant),
        (status = 409, body = ErrorBody, description = "The slug is taken"),
        TenantRouteErrors,
    ))]
async fn post_tenant(
    State(app): State<App>,
    principal: Principal,
    Json(body): Json<TenantIn>,
) -> Result<Response, ApiError> {
    let parent_id = match &principal {
        Principal::Admin => match body.parent_id.as_deref() {
            None => None,
            Some(raw) => {
                let id = TenantId::parse(raw).ok_or_else(|| ApiError::not_found("Parent tenant"))?;
                let parent = app.store.tenant_by_id(&id).await.map_err(ApiError::storage)?;
                Some(parent.ok_or_else(|| ApiError::not_found("Parent tenant"))?.id)
            }
        },
        _ => Some(authorize_child(&app, &principal, &body).await?),
    };
    let (plan, is_activated) = match (&principal, &parent_id) {
        (Principal::Admin, _) => (body.plan, body.is_activated.unwrap_or(true)),
        (_, Some(parent)) => {
            let parent = app.store.tenant_by_id(parent).await.map_err(ApiError::storage)?;
            let parent = parent.ok_or_else(ApiError::tenant_not_found)?;
            (Some(parent.plan), parent.is_activated)
        }
        (_, None) => return Err(ApiError::unauthorized()),
    };
    let created =
        create_tenant(&app, CreateTenant { slug: body.slug, name: body.name, plan, parent_id, is_activated }).await?;
    Ok(super::created(created))
}

/// Checks that a tenant caller may create a child, and returns the parent's id.
async fn authorize_child(app: &App, principal: &Principal, body: &TenantIn) -> Result<TenantId, ApiError> {
    principal.require(Scope::SettingsWrite)?;
    if body.plan.is_some() || body.is_activated.is_some() {
        let field = if body.plan.is_some() { "plan" } else { "isActivated" };
        return Err(admin_only(field));
    }
    let home = principal.tenant_id().ok_or_else(ApiError::unauthorized)?.clone();
    if body.parent_id.as_deref().is_some_and(|p| p != home.as_str()) {
        return Err(ApiError::forbidden("forbidden_parent", "A token may only create children of its own tenant"));
    }
    let parent = app.store.tenant_by_id(&home).await.map_err(ApiError::storage)?;
    let parent = parent.ok_or_else(ApiError::tenant_not_found)?;
    let allowed = app.plan(&parent.plan).limits.child_tenants;
    if let Some(max) = allowed {
        let existing = app.store.count_child_tenants(&home).await.map_err(ApiError::storage)?;
        if existing >= max {
            return Err(ApiError::forbidden(
                "child_tenant_limit",
                format!("The {} plan allows {max} child tenants", parent.plan),
            )
            .with("limit", max));
        }
    }
    Ok(home)
}

fn admin_only(field: &str) -> ApiError {
    ApiError::forbidden("admin_only_field", format!("Only the instance admin may change {field}")).with("field", field)
}

/// Read a tenant's settings, plan and usage.
#[utoipa::path(get, path = "/tenants/{slug}", tag = "tenants",
    security(("bearer" = ["settings:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = TenantView), TenantRouteErrors))]
async fn get_tenant(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
) -> Result<axum::Json<TenantView>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::SettingsRead).await?;
    Ok(axum::Json(app.tenant_view(tenant).await?))
}

/// Update a tenant: only the fields sent change (`null` clears an optional field); returns the
/// full tenant. `plan`, `isActivated` and `conversationsLimit` are the instance admin's (403
/// `admin_only_field` otherwise).
#[utoipa::path(put, path = "/tenants/{slug}", tag = "tenants",
    security(("bearer" = ["settings:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path, description = "Tenant slug")),
    request_body = TenantPatch,
    responses((status = 200, body = TenantView), TenantRouteErrors))]
async fn put_tenant(
    app: State<App>,
    principal: Principal,
    slug: Path<String>,
    body: Json<TenantPatch>,
) -> Result<axum::Json<TenantView>, ApiError> {
    update_tenant(app, principal, slug, body).await
}

/// Same as `PUT`: a partial update.
#[utoipa::path(patch, path = "/tenants/{slug}", tag = "tenants",
    security(("bearer" = ["settings:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path, description = "Tenant slug")),
    request_body = TenantPatch,
    responses((status = 200, body = TenantView), TenantRouteErrors))]
async fn patch_tenant(
    app: State<App>,
    principal: Principal,
    slug: Path<String>,
    body: Json<TenantPatch>,
) -> Result<axum::Json<TenantView>, ApiError> {
    update_tenant(app, principal, slug, body).await
}

async fn update_tenant(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Json(patch): Json<TenantPatch>,
) -> Result<axum::Json<TenantView>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::SettingsWrite).await?;
    if let Some(field) = patch.admin_field()
        && !principal.is_admin()
    {
        return Err(admin_only(field));
    }
    if let Some(plan) = &patch.plan
        && !app.config.plans.contains_key(plan)
    {
        return Err(ApiError::bad_request("validation_failed", format!("unknown plan `{plan}`")).with("field", "plan"));
    }
    let updated = patch.apply(&tenant, |secret| app.sealer.seal(secret))?;
    let saved = app.store.update_tenant(&tenant.id, &updated).await.map_err(ApiError::storage)?;
    Ok(axum::Json(app.tenant_view(saved).await?))
}
