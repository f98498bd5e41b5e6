//! `GET`, `POST /tenants/{slug}/tokens` and `DELETE /tenants/{slug}/tokens/{id}`.

use axum::extract::State;
use axum::response::Response;
use docent_domain::scope::Scope;
use docent_domain::secret::{display_prefix, hash_secret, new_api_token};
use docent_domain::token::{ApiToken, CreatedToken, NewToken, TokenIn};
use docent_domain::{Timestamp, TokenId};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::Principal;
use super::docs::TenantRouteErrors;
use super::error::ApiError;
use super::extract::{Json, Path};
use super::{Deleted, created};
use crate::app::App;

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(list_tokens, create_token)).routes(routes!(delete_token))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub tokens: Vec<ApiToken>,
}

/// List the tenant's tokens (never the secret, only its prefix).
#[utoipa::path(get, path = "/tenants/{slug}/tokens", tag = "tokens",
    security(("bearer" = ["tokens:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path)),
    responses((status = 200, body = TokenList), TenantRouteErrors))]
async fn list_tokens(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
) -> Result<axum::Json<TokenList>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::TokensRead).await?;
    let tokens = app.store.list_tokens(&tenant.id).await.map_err(ApiError::storage)?;
    Ok(axum::Json(TokenList { tokens }))
}

/// Create a token; the `token` field is shown only in this response. A token can grant only
/// scopes it holds itself (403 `scope_escalation` otherwise).
#[utoipa::path(post, path = "/tenants/{slug}/tokens", tag = "tokens",
    security(("bearer" = ["tokens:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path)),
    request_body = TokenIn,
    responses((status = 201, body = CreatedToken), TenantRouteErrors))]
async fn create_token(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Json(body): Json<TokenIn>,
) -> Result<Response, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::TokensWrite).await?;
    let scopes = body.validate(Timestamp::now())?;
    if let Some(scope) = scopes.iter().find(|s| !principal.has(**s)) {
        return Err(ApiError::forbidden(
            "scope_escalation",
            format!("Cannot grant scope {scope}: the calling token does not hold it"),
        ));
    }
    let secret = new_api_token();
    let token = app
        .store
        .create_token(
            &tenant.id,
            NewToken {
                name: body.name.trim().to_owned(),
                prefix: display_prefix(&secret),
                hash: hash_secret(&secret),
                scopes,
                expires_at: body.expires_at,
            },
        )
        .await
        .map_err(ApiError::storage)?;
    Ok(created(CreatedToken {
        id: token.id,
        name: token.name,
        token: secret,
        prefix: token.prefix,
        scopes: token.scopes,
        created_at: token.created_at,
        expires_at: token.expires_at,
    }))
}

/// Revoke a token.
#[utoipa::path(delete, path = "/tenants/{slug}/tokens/{id}", tag = "tokens",
    security(("bearer" = ["tokens:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Deleted), TenantRouteErrors))]
async fn delete_token(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<Deleted>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::TokensWrite).await?;
    let id = TokenId::parse(&id).ok_or_else(|| ApiError::not_found("Token"))?;
    if !app.store.delete_token(&tenant.id, &id).await.map_err(ApiError::storage)? {
        return Err(ApiError::not_found("Token"));
    }
    Ok(Deleted::of(id))
}
