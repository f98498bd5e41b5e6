//! Creating a tenant: the use-case shared by `docent tenant create` and `POST /tenants`. A new
//! tenant gets its default segment, a `*`-scoped owner token and a legacy key, each shown once.

use docent_domain::TenantId;
use docent_domain::scope::Scope;
use docent_domain::secret::{display_prefix, hash_secret, new_api_token, new_legacy_key};
use docent_domain::segment::SegmentIn;
use docent_domain::tenant::{NewTenant, TenantView};
use docent_domain::token::NewToken;
use docent_store::StorageError;
use serde::Serialize;

use crate::app::App;
use crate::http::error::ApiError;

pub struct CreateTenant {
    pub slug: String,
    pub name: String,
    pub plan: Option<String>,
    pub parent_id: Option<TenantId>,
    pub is_activated: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedTenant {
    pub tenant: TenantView,
    /// An `ak_` token with scope `*` on the new tenant. Shown only here.
    pub token: String,
    /// The tenant's legacy key for `X-API-Key`. Shown only here.
    pub api_key: String,
}

pub fn default_segment() -> SegmentIn {
    SegmentIn {
        name: "General".to_owned(),
        system_prompt: "You are a helpful assistant for this website. Answer from the knowledge you are \
                        given, be concise, and say plainly when you do not know."
            .to_owned(),
        welcome_message: Some("Hello! How can I help you?".to_owned()),
        conversation_starters: Vec::new(),
        is_active: true,
    }
}

pub async fn create_tenant(app: &App, req: CreateTenant) -> Result<CreatedTenant, ApiError> {
    let plan = req.plan.unwrap_or_else(|| app.config.default_plan.clone());
    if !app.config.plans.contains_key(&plan) {
        let known: Vec<&str> = app.config.plans.keys().map(String::as_str).collect();
        return Err(ApiError::bad_request(
            "validation_failed",
            format!("unknown plan `{plan}`; plans: {}", known.join(", ")),
        )
        .with("field", "plan"));
    }
    let api_key = new_legacy_key();
    let new = NewTenant {
        slug: req.slug,
        name: req.name,
        parent_id: req.parent_id,
        plan,
        is_activated: req.is_activated,
        api_key_hash: hash_secret(&api_key),
    };
    new.validate()?;
    let (tenant, _) = app.store.create_tenant(new, default_segment()).await.map_err(|e| match e {
        StorageError::Conflict { .. } => {
            ApiError::new(axum::http::StatusCode::CONFLICT, "slug_taken", "A tenant with this slug already exists")
                .with("field", "slug")
        }
        other => ApiError::storage(other),
    })?;
    let token = new_api_token();
    app.store
        .create_token(
            &tenant.id,
            NewToken {
                name: "Owner".to_owned(),
                prefix: display_prefix(&token),
                hash: hash_secret(&token),
                scopes: vec![Scope::All],
                expires_at: None,
            },
        )
        .await
        .map_err(ApiError::storage)?;
    Ok(CreatedTenant { tenant: app.tenant_view(tenant).await?, token, api_key })
}
