//! Which model answers a turn (`llmSource`): the caller's own key in `X-LLM-*` headers
//! (`passthrough`), else the tenant's webhook or stored key (`webhook` / `stored`), else the
//! server's provider (`managed`), else the built-in engine (reported as `managed`, provider
//! `builtin`).

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

async fn guard(app: &App, url: Option<&str>, field: &str) -> Result<(), ApiError> {
    match url {
        Some(url) => crate::outbound::check_url(url, app.config.outbound.allow_private)
            .await
            .map_err(|why| ApiError::bad_request("invalid_llm", format!("{field}: {why}"))),
        None => Ok(()),
    }
}

fn remote(app: &App, source: LlmSource, config: ProviderConfig) -> ResolvedLlm {
    let model = Some(config.model.clone());
    let provider: Arc<dyn docent_llm::LlmProvider> = Arc::from(docent_llm::provider(config, app.llm_http.clone()));
    ResolvedLlm { source, provider, model }
}

/// The model the turn uses when one is configured or passed; `None` for the built-in engine
/// (see [`builtin`]), which needs the turn's segment.
pub async fn resolve(app: &App, tenant: &Tenant, headers: &HeaderMap) -> Result<Option<ResolvedLlm>, ApiError> {
    let passthrough_key =
        header(headers, "x-llm-key").or_else(|| header(headers, "x-llm-provider").and(header(headers, "x-api-key")));
    if let Some(key) = passthrough_key {
        let kind = kind(header(headers, "x-llm-provider").unwrap_or("anthropic"), "X-LLM-Provider")?;
        let base_url = header(headers, "x-llm-base-url");
        guard(app, base_url, "X-LLM-Base-Url").await?;
        let model = header(headers, "x-llm-model").unwrap_or(default_model(kind));
        let mut config = ProviderConfig::new(kind, model).with_api_key(key);
        if let Some(url) = base_url {
            config = config.with_base_url(url);
        }
        return Ok(Some(remote(app, LlmSource::Passthrough, config)));
    }
    let llm = &tenant.llm;
    if let Some(url) = &llm.webhook_url {
        guard(app, Some(url), "llmWebhookUrl").await?;
        let secret = match &llm.webhook_secret {
            Some(sealed) => Some(app.sealer.open(sealed).map_err(ApiError::internal)?),
            None => None,
        };
        let provider =
            docent_llm::webhook::WebhookProvider::new(app.http.clone(), url.clone(), secret, tenant.slug.clone());
        return Ok(Some(ResolvedLlm { source: LlmSource::Webhook, provider: Arc::new(provider), model: None }));
    }
    if let Some(provider) = &llm.provider {
        let kind = kind(provider, "llmProvider")?;
        guard(app, llm.base_url.as_deref(), "llmBaseUrl").await?;
        let mut config = ProviderConfig::new(kind, llm.model.clone().unwrap_or_else(|| default_model(kind).to_owned()));
        if let Some(sealed) = &llm.api_key {
            config = config.with_api_key(app.sealer.open(sealed).map_err(ApiError::internal)?);
        }
        if let Some(url) = &llm.base_url {
            config = config.with_base_url(url.clone());
        }
        return Ok(Some(remote(app, LlmSource::Stored, config)));
    }
    let managed = &app.config.llm;
    if let Some(provider) = &managed.provider {
        let kind = kind(provider, "llm.provider")?;
        let mut config =
            ProviderConfig::new(kind, managed.model.clone().unwrap_or_else(|| default_model(kind).to_owned()));
        if let Some(key) = &managed.api_key {
            config = config.with_api_key(key.expose());
        }
        if let Some(url) = &managed.base_url {
            config = config.with_base_url(url.clone());
        }
        return Ok(Some(remote(app, LlmSource::Managed, config)));
    }
    Ok(None)
}

/// The built-in engine (reported as `managed`, provider `builtin`).
pub fn builtin(segment: &Segment, locale: &str) -> ResolvedLlm {
    let engine = Builtin { welcome: segment.welcome_message.clone(), locale: locale.to_owned() };
    ResolvedLlm { source: LlmSource::Managed, provider: Arc::new(engine), model: Some(builtin::MODEL.to_owned()) }
}
