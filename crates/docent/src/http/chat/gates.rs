//! The chat gates, in this order: unknown tenant 404 → plan without `widget` or tenant not
//! activated 402 `NOT_ACTIVATED` → public chat disabled 403 → `Origin` outside `allowedDomains`
//! 403 → widget key 403 → per-IP rate limit 429 (with `Retry-After`). Body validation (400),
//! unknown segment or visitor (404) and the monthly conversation cap (429 `LIMIT_REACHED`,
//! new conversations only) follow in the handler.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use docent_domain::Timestamp;
use docent_domain::tenant::{Tenant, origin_allowed};

use super::input::header;
use crate::app::App;
use crate::http::error::ApiError;
use crate::tenant_cache::ChatTenant;

pub async fn tenant(app: &App, slug: &str) -> Result<Arc<Tenant>, ApiError> {
    Ok(chat_tenant(app, slug).await?.tenant.clone())
}

/// The tenant with its segments and tools, from the checked in-memory copy.
pub async fn chat_tenant(app: &App, slug: &str) -> Result<Arc<ChatTenant>, ApiError> {
    let found = app.tenants.get(app.store.as_ref(), slug).await.map_err(ApiError::storage)?;
    found.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "tenant_not_found", "Tenant not found"))
}

pub fn activated(app: &App, tenant: &Tenant) -> Result<(), ApiError> {
    if !tenant.is_activated || !app.plan(&tenant.plan).capabilities.widget {
        return Err(ApiError::new(StatusCode::PAYMENT_REQUIRED, "NOT_ACTIVATED", "Plan not activated"));
    }
    if !tenant.settings.public_chat_enabled {
        return Err(ApiError::forbidden("public_chat_disabled", "Public chat is disabled for this tenant"));
    }
    Ok(())
}

/// The request's `Origin`, when it is allowed to call this tenant's chat.
pub fn origin(tenant: &Tenant, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(origin) = header(headers, "origin") else { return Ok(None) };
    if origin_allowed(&tenant.settings.allowed_domains, origin) {
        Ok(Some(origin.to_owned()))
    } else {
        Err(ApiError::forbidden("origin_not_allowed", "Origin not allowed"))
    }
}

pub fn widget_key(tenant: &Tenant, headers: &HeaderMap, body_key: Option<&str>) -> Result<(), ApiError> {
    let Some(expected) = &tenant.settings.widget_key else { return Ok(()) };
    let given = header(headers, "x-widget-key").or(body_key).unwrap_or_default();
    let equal = given.len() == expected.len()
        && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if equal { Ok(()) } else { Err(ApiError::forbidden("invalid_widget_key", "Invalid or missing widget key")) }
}

/// Counts the request against its IP's limits; `Err` holds the seconds to wait.
pub fn rate_limit(app: &App, ip: std::net::IpAddr) -> Result<(), u64> {
    let key = super::client_ip::limit_key(ip);
    app.chat_limiter.check(key, Timestamp::now().millis()).map_err(|wait| wait.as_secs())
}

/// The rate limit's refusal, with `retryAfter` (also sent as `Retry-After`).
pub fn rate_limited(retry_after_secs: u64) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many requests, slow down")
        .with("retryAfter", retry_after_secs)
}

/// The monthly cap's refusal, with the instant the count resets.
pub fn limit_reached() -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "LIMIT_REACHED", "Conversation limit reached")
        .with("nextResetAt", Timestamp::now().next_month_start().to_string())
}
