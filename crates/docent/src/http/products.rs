//! The product catalog API: list, get, create, update, delete and bulk import. RECOMMEND_PRODUCT
//! searches it; prices are integer cents and always come from here.

use axum::extract::{Request, State};
use axum::response::Response;
use docent_domain::product::{Product, ProductId, ProductIn, ProductPatch};
use docent_domain::scope::Scope;
use docent_domain::tenant::Tenant;
use docent_store::StorageError;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::Principal;
use super::corpus::{ImportParams, Pagination, import_body, paging};
use super::docs::TenantRouteErrors;
use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Path, Query};
use super::{Deleted, created};
use crate::app::App;
use crate::knowledge;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_products, create_product))
        .routes(routes!(import_products))
        .routes(routes!(get_product, update_product, delete_product))
}

fn sku_conflict(e: StorageError) -> ApiError {
    match e {
        StorageError::Conflict { .. } => {
            ApiError::new(axum::http::StatusCode::CONFLICT, "sku_taken", "A product with this sku already exists")
                .with("field", "sku")
        }
        other => ApiError::storage(other),
    }
}

async fn find(app: &App, tenant: &Tenant, id: &str) -> Result<Product, ApiError> {
    let id = ProductId::parse(id).ok_or_else(|| ApiError::not_found("Product"))?;
    let found = app.store.get_product(&tenant.id, &id).await.map_err(ApiError::storage)?;
    found.ok_or_else(|| ApiError::not_found("Product"))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    page: Option<i64>,
    limit: Option<i64>,
    /// Case-insensitive substring of name or sku.
    search: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProductList {
    products: Vec<Product>,
    pagination: Pagination,
}

/// List products, newest first.
#[utoipa::path(get, path = "/tenants/{slug}/products", tag = "products",
    security(("bearer" = ["products:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ListParams),
    responses((status = 200, body = ProductList), TenantRouteErrors))]
async fn list_products(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<ProductList>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ProductsRead).await?;
    let (page, limit) = paging(params.page, params.limit)?;
    let offset = (page - 1) * u64::from(limit);
    let (products, total) = app
        .store
        .list_products(&tenant.id, limit, offset, params.search.as_deref())
        .await
        .map_err(ApiError::storage)?;
    Ok(axum::Json(ProductList { products, pagination: Pagination::new(page, limit, total) }))
}

/// Get one product.
#[utoipa::path(get, path = "/tenants/{slug}/products/{id}", tag = "products",
    security(("bearer" = ["products:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Product), TenantRouteErrors))]
async fn get_product(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<Product>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ProductsRead).await?;
    Ok(axum::Json(find(&app, &tenant, &id).await?))
}

/// Create a product: `sku` (unique in the tenant), `name`, `price` in cents required.
#[utoipa::path(post, path = "/tenants/{slug}/products", tag = "products",
    security(("bearer" = ["products:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path)),
    request_body = ProductIn,
    responses((status = 201, body = Product), (status = 409, body = ErrorBody), TenantRouteErrors))]
async fn create_product(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Json(body): Json<ProductIn>,
) -> Result<Response, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ProductsWrite).await?;
    let fields = body.into_fields()?;
    let product = app.store.create_product(&tenant.id, fields).await.map_err(sku_conflict)?;
    Ok(created(product))
}

/// Update a product: only the fields sent change.
#[utoipa::path(patch, path = "/tenants/{slug}/products/{id}", tag = "products",
    security(("bearer" = ["products:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    request_body = ProductPatch,
    responses((status = 200, body = Product), (status = 409, body = ErrorBody), TenantRouteErrors))]
async fn update_product(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
    Json(patch): Json<ProductPatch>,
) -> Result<axum::Json<Product>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ProductsWrite).await?;
    let current = find(&app, &tenant, &id).await?;
    let fields = patch.apply(&current)?;
    let product = app.store.update_product(&tenant.id, &current.id, fields).await.map_err(sku_conflict)?;
    Ok(axum::Json(product))
}

/// Delete a product.
#[utoipa::path(delete, path = "/tenants/{slug}/products/{id}", tag = "products",
    security(("bearer" = ["products:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Deleted), TenantRouteErrors))]
async fn delete_product(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<Deleted>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ProductsWrite).await?;
    let id = ProductId::parse(&id).ok_or_else(|| ApiError::not_found("Product"))?;
    if !app.store.delete_product(&tenant.id, &id).await.map_err(ApiError::storage)? {
        return Err(ApiError::not_found("Product"));
    }
    Ok(Deleted::of(id))
}

/// Bulk import: CSV (`sku,name,description,price,currency,url,imageUrl,tags,inStock`) or NDJSON.
/// All or nothing (422 `import_rejected` with every rejected row); known skus are updated.
#[utoipa::path(post, path = "/tenants/{slug}/products/import", tag = "products",
    security(("bearer" = ["products:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = crate::knowledge::ImportReport), (status = 422, body = ErrorBody), TenantRouteErrors))]
async fn import_products(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Query(params): Query<ImportParams>,
    request: Request,
) -> Result<axum::Json<crate::knowledge::ImportReport>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::ProductsWrite).await?;
    let (bytes, format) = import_body(request, params.format_ref()).await?;
    let counted = knowledge::import_products(&app, &tenant, &bytes, format).await.map_err(|f| f.into_api())?;
    Ok(axum::Json(counted.into()))
}
