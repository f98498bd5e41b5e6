//! Who is calling: the instance admin, an `ak_` token of a tenant, or a tenant's legacy key.
//! Order of checks on a tenant route: 401 without valid credentials (403 for an expired token),
//! then 404 when the tenant is unknown *or* not the caller's (no existence leak), then 403 for a
//! missing scope.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use docent_domain::scope::{Scope, grants};
use docent_domain::secret::hash_secret;
use docent_domain::tenant::Tenant;
use docent_domain::token::ApiToken;
use docent_domain::{TenantId, Timestamp};

use super::error::ApiError;
use crate::app::App;

/// Refresh `lastUsedAt` at most this often per token, to keep reads read-only.
const TOUCH_EVERY_MS: i64 = 60_000;

#[derive(Clone, Debug)]
pub enum Principal {
    Admin,
    Token(ApiToken),
    /// The tenant's legacy plain key (`X-API-Key`): full access to that tenant.
    LegacyKey(TenantId),
}

impl Principal {
    fn home_tenant(&self) -> Option<&TenantId> {
        match self {
            Principal::Admin => None,
            Principal::Token(t) => Some(&t.tenant_id),
            Principal::LegacyKey(id) => Some(id),
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::Admin)
    }

    pub fn has(&self, scope: Scope) -> bool {
        match self {
            Principal::Admin | Principal::LegacyKey(_) => true,
            Principal::Token(t) => grants(&t.scopes, scope),
        }
    }

    /// Fails with the documented 403 when the scope is missing.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.has(scope) {
            return Ok(());
        }
        Err(ApiError::forbidden("missing_scope", format!("Missing required scope: {scope}")))
    }

    /// Whether this caller may act on `tenant`: its own, or a child of its own.
    pub fn can_see(&self, tenant: &Tenant) -> bool {
        match self.home_tenant() {
            None => true,
            Some(home) => &tenant.id == home || tenant.parent_id.as_ref() == Some(home),
        }
    }

    pub fn tenant_id(&self) -> Option<&TenantId> {
        self.home_tenant()
    }
}

impl FromRequestParts<App> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        if let Some(key) = header(parts, "x-api-key") {
            // Seed 003: `ak_` tokens are accepted only as `Authorization: Bearer`.
            if key.starts_with("ak_") {
                return Err(ApiError::unauthorized());
            }
            let tenant = app.store.tenant_by_api_key_hash(&hash_secret(key)).await.map_err(ApiError::storage)?;
            return tenant.map(|t| Principal::LegacyKey(t.id)).ok_or_else(ApiError::unauthorized);
        }
        let Some(bearer) = header(parts, AUTHORIZATION.as_str()).and_then(|v| v.strip_prefix("Bearer ")) else {
            return Err(ApiError::unauthorized());
        };
        let bearer = bearer.trim();
        let hash = hash_secret(bearer);
        if app.is_admin_token_hash(&hash) {
            return Ok(Principal::Admin);
        }
        if !bearer.starts_with("ak_") {
            return Err(ApiError::unauthorized());
        }
        let token = app.store.token_by_hash(&hash).await.map_err(ApiError::storage)?;
        let Some(token) = token else { return Err(ApiError::unauthorized()) };
        let now = Timestamp::now();
        if token.is_expired(now) {
            return Err(ApiError::forbidden("token_expired", "Token expired"));
        }
        if token.last_used_at.is_none_or(|at| now.millis() - at.millis() > TOUCH_EVERY_MS) {
            let store = app.store.clone();
            let (tenant, id) = (token.tenant_id.clone(), token.id.clone());
            tokio::spawn(async move {
                if let Err(e) = store.touch_token(&tenant, &id, now).await {
                    tracing::debug!(error = %e, "could not record token use");
                }
            });
        }
        Ok(Principal::Token(token))
    }
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

impl App {
    /// Resolves `slug` for `principal` and checks `scope`: the one gate of every tenant route.
    pub async fn authorize(&self, principal: &Principal, slug: &str, scope: Scope) -> Result<Tenant, ApiError> {
        let tenant = self.store.tenant_by_slug(slug).await.map_err(ApiError::storage)?;
        let tenant = tenant.filter(|t| principal.can_see(t)).ok_or_else(ApiError::tenant_not_found)?;
        principal.require(scope)?;
        Ok(tenant)
    }

    /// As [`App::authorize`], from the checked in-memory copy of the tenant's configuration
    /// (one indexed read, which also gives the knowledge version a search needs).
    pub async fn authorize_cached(
        &self,
        principal: &Principal,
        slug: &str,
        scope: Scope,
    ) -> Result<std::sync::Arc<crate::tenant_cache::ChatTenant>, ApiError> {
        let found = self.tenants.get(self.store.as_ref(), slug).await.map_err(ApiError::storage)?;
        let chat = found.filter(|c| principal.can_see(&c.tenant)).ok_or_else(ApiError::tenant_not_found)?;
        principal.require(scope)?;
        Ok(chat)
    }
}
