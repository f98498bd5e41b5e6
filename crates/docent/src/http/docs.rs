//! The OpenAPI document's frame: info, security schemes, and the shared error responses that
//! every route lists.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Docent API",
        description = "Manage tenants, tokens, segments, tools and visitors of a Docent instance. \
            Errors are always JSON `{\"error\", \"code\"}`. Tenant routes answer 401 without valid \
            credentials, 403 `Token expired` for an expired token, 404 `Tenant not found` for an \
            unknown tenant or one the caller may not see, then 403 `Missing required scope: <scope>`.",
    ),
    modifiers(&Security),
    components(schemas(ErrorBody)),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "tenants", description = "Tenant settings (personality, appearance, security, content policy, plan)"),
        (name = "tokens", description = "Scoped API tokens"),
        (name = "segments", description = "Personas: system prompt, welcome message, starters"),
        (name = "tools", description = "Actions the bot may take"),
        (name = "visitors", description = "Visitor profiles and their memory facts"),
        (name = "corpus", description = "The knowledge base and its search"),
        (name = "products", description = "The product catalog RECOMMEND_PRODUCT searches"),
        (name = "conversations", description = "Conversation history, stats and exports for owners"),
        (name = "submissions", description = "Form submissions and their NEW → CONTACTED → RESOLVED workflow"),
        (name = "chat", description = "The public chat surface for browsers (SSE) and AI agents (JSON)"),
        (name = "discovery", description = "What a bot is and offers, before talking to it"),
        (name = "widget", description = "The embeddable chat widget script and its demo page"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An `ak_` API token (scopes as listed per operation), or the instance admin token",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "legacyKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "The tenant's legacy key: full access to that tenant. `ak_` tokens are refused here (401).",
            ))),
        );
    }
}

/// The error responses every authenticated tenant route may give.
#[derive(utoipa::IntoResponses)]
pub enum TenantRouteErrors {
    /// Malformed JSON, or a value that fails validation.
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// Missing or unknown credentials.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Expired token, or missing scope.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Unknown tenant or resource, or one of another tenant.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The body exceeds the configured limit.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body does not fit the schema (wrong types, unknown fields).
    #[response(status = 422)]
    Unprocessable(ErrorBody),
}
