//! Which model answers a turn (`llmSource`): the caller's own key in `X-LLM-*` headers
//! (`passthrough`), else the tenant's webhook or stored key (`webhook` / `stored`), else the
//! server's provider (`managed`), else the built-in engine (reported as `managed`, provider
//! `builtin`). All but the caller's own key are resolved once per copy of the tenant.

use std::sync::Arc;

use axum::http::HeaderMap;
use docent_agent::builtin::{self, Builtin};
use docent_agent::{LlmSource, ResolvedLlm};
use docent_domain::segment::Segment;
use docent_domain::tenant::Tenant;
use docent_llm::{ProviderConfig, ProviderKind};

use super::input::header;
use crate::app::App;
use crate::http::error::ApiError;
use crate::outbound::{Host, UrlCheck};
use crate::tenant_cache::ChatTenant;

fn default_model(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Anthropic => "claude-haiku-4-5",
        ProviderKind::OpenAi => "gpt-4o-mini",
        ProviderKind::Mistral => "mistral-small-latest",
        ProviderKind::Ollama => "llama3.2",
    }
}

fn kind(raw: &str, field: &str) -> Result<ProviderKind, ApiError> {
    raw.parse::<ProviderKind>()
        .map_err(|_| ApiError::bad_request("invalid_llm", format!("{field}: unknown provider `{raw}`")))
}

fn remote(app: &App, source: LlmSource, config: ProviderConfig) -> ResolvedLlm {
    let model = Some(config.model.clone());
    let provider: Arc<dyn docent_llm::LlmProvider> = Arc::from(docent_llm::provider(config, app.llm_http.clone()));
    ResolvedLlm { source, provider, model }
}

/// The model of a tenant's configuration (its webhook, its stored key, or the server's),
/// resolved once per copy of the tenant: the provider with its unsealed key and checked URL.
pub struct Configured {
    resolved: Option<ResolvedLlm>,
    /// The host name of a tenant-chosen URL, with the setting it came from: resolved and
    /// checked again on every turn (`outbound`).
    recheck: Option<(Host, &'static str)>,
}

impl std::fmt::Debug for Configured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = self.resolved.as_ref().map(|r| r.source);
        f.debug_struct("Configured").field("source", &source).field("recheck", &self.recheck).finish()
    }
}

/// The model the turn uses when one is configured or passed; `None` for the built-in engine
/// (see [`builtin`]), which needs the turn's segment.
pub async fn resolve(app: &App, chat: &ChatTenant, headers: &HeaderMap) -> Result<Option<ResolvedLlm>, ApiError> {
    if let Some(passthrough) = passthrough(app, headers).await? {
        return Ok(Some(passthrough));
    }
    let configured = match chat.llm.get() {
        Some(configured) => configured,
        None => {
            let fresh = configured(app, &chat.tenant)?;
            chat.llm.get_or_init(|| fresh)
        }
    };
    if let Some((host, field)) = &configured.recheck {
        crate::outbound::check_host(host).await.map_err(|why| refused(field, why))?;
    }
    Ok(configured.resolved.clone())
}

/// The caller's own key in `X-LLM-*` headers, when given.
async fn passthrough(app: &App, headers: &HeaderMap) -> Result<Option<ResolvedLlm>, ApiError> {
    let passthrough_key =
        header(headers, "x-llm-key").or_else(|| header(headers, "x-llm-provider").and(header(headers, "x-api-key")));
    let Some(key) = passthrough_key else { return Ok(None) };
    let kind = kind(header(headers, "x-llm-provider").unwrap_or("anthropic"), "X-LLM-Provider")?;
    let base_url = header(headers, "x-llm-base-url");
    if let Some(url) = base_url {
        guard(app, url, "X-LLM-Base-Url").await?;
    }
    let config = provider_config(kind, header(headers, "x-llm-model"), Some(key.to_owned()), base_url);
    Ok(Some(remote(app, LlmSource::Passthrough, config)))
}

/// A vendor's configuration: the model (the kind's default when none), key and base URL.
fn provider_config(
    kind: ProviderKind,
    model: Option<&str>,
    key: Option<String>,
    base_url: Option<&str>,
) -> ProviderConfig {
    let mut config = ProviderConfig::new(kind, model.unwrap_or(default_model(kind)));
    if let Some(key) = key {
        config = config.with_api_key(key);
    }
    if let Some(url) = base_url {
        config = config.with_base_url(url);
    }
    config
}

fn refused(field: &str, why: String) -> ApiError {
    ApiError::bad_request("invalid_llm", format!("{field}: {why}"))
}

/// Refuses a URL pointing inside the network (unless the operator allows it).
async fn guard(app: &App, url: &str, field: &str) -> Result<(), ApiError> {
    crate::outbound::check_url(url, app.config.outbound.allow_private).await.map_err(|why| refused(field, why))
}

/// The checks of a tenant-chosen URL that hold for as long as the tenant's copy; the host, when
/// it is a name, is left to resolve on each turn.
fn check_form(app: &App, url: &str, field: &'static str) -> Result<Option<(Host, &'static str)>, ApiError> {
    match crate::outbound::check_url_form(url, app.config.outbound.allow_private).map_err(|why| refused(field, why))? {
        UrlCheck::Allowed => Ok(None),
        UrlCheck::ResolveEachUse(host) => Ok(Some((host, field))),
    }
}

/// The tenant's webhook or stored key, else the server's provider, else nothing.
fn configured(app: &App, tenant: &Tenant) -> Result<Configured, ApiError> {
    let llm = &tenant.llm;
    if let Some(url) = &llm.webhook_url {
        let recheck = check_form(app, url, "llmWebhookUrl")?;
        let secret = match &llm.webhook_secret {
            Some(sealed) => Some(app.sealer.open(sealed).map_err(ApiError::internal)?),
            None => None,
        };
        let provider =
            docent_llm::webhook::WebhookProvider::new(app.http.clone(), url.clone(), secret, tenant.slug.clone());
        let resolved = ResolvedLlm { source: LlmSource::Webhook, provider: Arc::new(provider), model: None };
        return Ok(Configured { resolved: Some(resolved), recheck });
    }
    if let Some(provider) = &llm.provider {
        let kind = kind(provider, "llmProvider")?;
        let recheck = match &llm.base_url {
            Some(url) => check_form(app, url, "llmBaseUrl")?,
            None => None,
        };
        let key =
            llm.api_key.as_deref().map(|sealed| app.sealer.open(sealed)).transpose().map_err(ApiError::internal)?;
        let config = provider_config(kind, llm.model.as_deref(), key, llm.base_url.as_deref());
        return Ok(Configured { resolved: Some(remote(app, LlmSource::Stored, config)), recheck });
    }
    let managed = &app.config.llm;
    let Some(provider) = &managed.provider else { return Ok(Configured { resolved: None, recheck: None }) };
    let kind = kind(provider, "llm.provider")?;
    let key = managed.api_key.as_ref().map(|key| key.expose().to_owned());
    let config = provider_config(kind, managed.model.as_deref(), key, managed.base_url.as_deref());
    Ok(Configured { resolved: Some(remote(app, LlmSource::Managed, config)), recheck: None })
}

/// The built-in engine (reported as `managed`, provider `builtin`).
pub fn builtin(segment: &Segment, locale: &str) -> ResolvedLlm {
    let engine = Builtin { welcome: segment.welcome_message.clone(), locale: locale.to_owned() };
    ResolvedLlm { source: LlmSource::Managed, provider: Arc::new(engine), model: Some(builtin::MODEL.to_owned()) }
}
