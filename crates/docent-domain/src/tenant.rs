//! Tenants: an account with its own bot, its settings (personality, appearance, security,
//! content policy) and its plan. Settings are one value object so that adding a setting never
//! needs a new column on two backends.

use serde::{Deserialize, Serialize};

use crate::plan::Capabilities;
use crate::validate::{self, ValidationError, double_option};
use crate::{TenantId, Timestamp};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum BotTone {
    Formal,
    Neutral,
    #[default]
    Friendly,
    Playful,
    Technical,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContentPolicy {
    SfwStrict,
    #[default]
    Sfw,
    Moderate,
    Unfiltered,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VisitorAuthMode {
    Jwt,
    Otp,
    All,
}

/// Everything a tenant owner may change about their bot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct TenantSettings {
    pub bot_name: String,
    pub bot_title: Option<String>,
    pub bot_lore: Option<String>,
    pub bot_tone: BotTone,
    pub use_tutoiement: bool,
    pub allow_emojis: bool,
    pub primary_color: String,
    pub secondary_color: Option<String>,
    pub show_ai_badge: bool,
    /// URL of the avatar image shown in the widget header.
    pub bot_avatar: Option<String>,
    /// Origins allowed to embed the widget and call chat from a browser: an exact host
    /// (`app.example.com`), a bare domain (`example.com`, also matching `www.example.com`), or a
    /// wildcard (`*.example.com`, any subdomain); an optional `:port` pins the port. Empty allows all.
    pub allowed_domains: Vec<String>,
    pub visitor_auth_mode: Option<VisitorAuthMode>,
    /// When set, chat requests must carry this key (`data-widget-key` in the embed).
    pub widget_key: Option<String>,
    /// Public chat on `/chat/{slug}`; when off, only the owner's tokens may chat.
    pub public_chat_enabled: bool,
    pub content_policy: ContentPolicy,
    pub age_gate_enabled: bool,
    pub age_gate_min_age: u8,
    pub content_warning: Option<String>,
    pub booking_cta_enabled: bool,
    /// BCP 47 language tag of the bot (`en`, `fr`, `fr-CA`).
    pub locale: String,
    /// Where submissions are emailed.
    pub notification_email: Option<String>,
    /// Two-tier corpus: the context holds titles and summaries only, and EXPLORE_CORPUS fetches
    /// full entries on demand.
    pub corpus_summary_mode: bool,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            bot_name: "Assistant".to_owned(),
            bot_title: None,
            bot_lore: None,
            bot_tone: BotTone::default(),
            use_tutoiement: false,
            allow_emojis: true,
            primary_color: "#6366f1".to_owned(),
            secondary_color: None,
            show_ai_badge: true,
            bot_avatar: None,
            allowed_domains: Vec::new(),
            visitor_auth_mode: None,
            widget_key: None,
            public_chat_enabled: true,
            content_policy: ContentPolicy::default(),
            age_gate_enabled: false,
            age_gate_min_age: 18,
            content_warning: None,
            booking_cta_enabled: false,
            locale: "en".to_owned(),
            notification_email: None,
            corpus_summary_mode: false,
        }
    }
}

/// A tenant as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub parent_id: Option<TenantId>,
    pub plan: String,
    pub is_activated: bool,
    /// The instance admin's override of the plan's monthly conversation cap.
    pub conversations_limit: Option<u64>,
    pub settings: TenantSettings,
    pub llm: TenantLlm,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The tenant's own model settings (`llmSource` "stored" or "webhook"). Secrets are sealed by
/// the server's master key before they are stored and are never returned.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TenantLlm {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub base_url: Option<String>,
    /// Sealed.
    pub api_key: Option<String>,
    pub webhook_url: Option<String>,
    /// Sealed.
    pub webhook_secret: Option<String>,
}

/// What the API shows of `TenantLlm`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantLlmView {
    pub llm_provider: Option<String>,
    pub llm_model: Option<String>,
    pub llm_base_url: Option<String>,
    pub has_llm_api_key: bool,
    pub llm_webhook_url: Option<String>,
    pub has_llm_webhook_secret: bool,
}

impl From<&TenantLlm> for TenantLlmView {
    fn from(l: &TenantLlm) -> Self {
        Self {
            llm_provider: l.provider.clone(),
            llm_model: l.model.clone(),
            llm_base_url: l.base_url.clone(),
            has_llm_api_key: l.api_key.is_some(),
            llm_webhook_url: l.webhook_url.clone(),
            has_llm_webhook_secret: l.webhook_secret.is_some(),
        }
    }
}

/// What creating a tenant needs.
#[derive(Clone, Debug)]
pub struct NewTenant {
    pub slug: String,
    pub name: String,
    pub parent_id: Option<TenantId>,
    pub plan: String,
    pub is_activated: bool,
    /// SHA-256 of the tenant's legacy API key.
    pub api_key_hash: String,
}

impl NewTenant {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !crate::slug::is_valid_slug(&self.slug) {
            return Err(ValidationError::new(
                "slug",
                "slug must be 2-64 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            ));
        }
        validate::required("name", &self.name, 200)
    }
}

/// The tenant object of the API: its columns, settings and usage.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub parent_id: Option<TenantId>,
    pub plan: String,
    pub is_activated: bool,
    pub capabilities: Capabilities,
    pub conversations_used: u64,
    /// The effective monthly cap (admin override, else the plan's); null is unlimited.
    pub conversations_limit: Option<u64>,
    #[serde(flatten)]
    pub settings: TenantSettings,
    #[serde(flatten)]
    pub llm: TenantLlmView,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A partial update of a tenant (`PUT` and `PATCH` both take it). `null` clears an optional
/// field. `plan`, `isActivated` and `conversationsLimit` are the instance admin's alone.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub bot_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub bot_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub bot_lore: Option<Option<String>>,
    pub bot_tone: Option<BotTone>,
    pub use_tutoiement: Option<bool>,
    pub allow_emojis: Option<bool>,
    pub primary_color: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub secondary_color: Option<Option<String>>,
    pub show_ai_badge: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub bot_avatar: Option<Option<String>>,
    pub allowed_domains: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<VisitorAuthMode>)]
    pub visitor_auth_mode: Option<Option<VisitorAuthMode>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub widget_key: Option<Option<String>>,
    pub public_chat_enabled: Option<bool>,
    pub content_policy: Option<ContentPolicy>,
    pub age_gate_enabled: Option<bool>,
    pub age_gate_min_age: Option<u8>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub content_warning: Option<Option<String>>,
    pub booking_cta_enabled: Option<bool>,
    pub locale: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notification_email: Option<Option<String>>,
    pub corpus_summary_mode: Option<bool>,
    /// `anthropic`, `openai`, `mistral`, `ollama` (or an OpenAI-compatible name); null: none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub llm_provider: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub llm_model: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub llm_base_url: Option<Option<String>>,
    /// Write-only: sealed at rest, shown as `hasLlmApiKey`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub llm_api_key: Option<Option<String>>,
    /// The tenant's own endpoint that answers chat turns (`llmSource` "webhook").
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub llm_webhook_url: Option<Option<String>>,
    /// Write-only: sealed at rest, shown as `hasLlmWebhookSecret`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub llm_webhook_secret: Option<Option<String>>,
    /// Instance admin only.
    pub plan: Option<String>,
    /// Instance admin only.
    pub is_activated: Option<bool>,
    /// Instance admin only: overrides the plan's monthly conversation cap (null: the plan's).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<u64>)]
    pub conversations_limit: Option<Option<u64>>,
}

impl TenantPatch {
    /// The first admin-only field this patch touches, if any.
    pub fn admin_field(&self) -> Option<&'static str> {
        if self.plan.is_some() {
            Some("plan")
        } else if self.is_activated.is_some() {
            Some("isActivated")
        } else if self.conversations_limit.is_some() {
            Some("conversationsLimit")
        } else {
            None
        }
    }

    /// Applies the patch to a copy of the tenant and validates the result. `seal` turns a secret
    /// into its stored (sealed) form.
    pub fn apply(self, tenant: &Tenant, seal: impl Fn(&str) -> String) -> Result<Tenant, ValidationError> {
        let mut t = tenant.clone();
        validate_llm_patch(&self)?;
        let l = &mut t.llm;
        if let Some(v) = self.llm_provider {
            l.provider = v;
        }
        if let Some(v) = self.llm_model {
            l.model = v;
        }
        if let Some(v) = self.llm_base_url {
            l.base_url = v;
        }
        if let Some(v) = self.llm_api_key {
            l.api_key = v.map(|k| seal(&k));
        }
        if let Some(v) = self.llm_webhook_url {
            l.webhook_url = v;
        }
        if let Some(v) = self.llm_webhook_secret {
            l.webhook_secret = v.map(|k| seal(&k));
        }
        let s = &mut t.settings;
        if let Some(v) = self.name {
            t.name = v;
        }
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { s.$field = v; } )* };
        }
        set!(
            bot_name,
            bot_title,
            bot_lore,
            bot_tone,
            use_tutoiement,
            allow_emojis,
            primary_color,
            secondary_color,
            show_ai_badge,
            bot_avatar,
            allowed_domains,
            visitor_auth_mode,
            widget_key,
            public_chat_enabled,
            content_policy,
            age_gate_enabled,
            age_gate_min_age,
            content_warning,
            booking_cta_enabled,
            locale,
            notification_email,
            corpus_summary_mode
        );
        if let Some(v) = self.plan {
            t.plan = v;
        }
        if let Some(v) = self.is_activated {
            t.is_activated = v;
        }
        if let Some(v) = self.conversations_limit {
            t.conversations_limit = v;
        }
        validate_tenant(&t)?;
        Ok(t)
    }
}

const LLM_PROVIDERS: [&str; 9] =
    ["anthropic", "openai", "mistral", "ollama", "openai-compatible", "vllm", "lmstudio", "openrouter", "llamacpp"];

fn validate_llm_patch(p: &TenantPatch) -> Result<(), ValidationError> {
    if let Some(Some(provider)) = &p.llm_provider
        && !LLM_PROVIDERS.contains(&provider.as_str())
    {
        return Err(ValidationError::new(
            "llmProvider",
            format!("llmProvider must be one of {}", LLM_PROVIDERS.join(", ")),
        ));
    }
    if let Some(Some(model)) = &p.llm_model {
        validate::required("llmModel", model, 200)?;
    }
    for (field, url) in [("llmBaseUrl", &p.llm_base_url), ("llmWebhookUrl", &p.llm_webhook_url)] {
        if let Some(Some(url)) = url {
            validate::max_len(field, url, 2_000)?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ValidationError::new(field, format!("{field} must be an http(s) URL")));
            }
        }
    }
    for (field, secret) in [("llmApiKey", &p.llm_api_key), ("llmWebhookSecret", &p.llm_webhook_secret)] {
        if let Some(Some(secret)) = secret {
            validate::required(field, secret, 1_000)?;
        }
    }
    Ok(())
}

fn validate_tenant(t: &Tenant) -> Result<(), ValidationError> {
    let s = &t.settings;
    validate::required("name", &t.name, 200)?;
    validate::required("botName", &s.bot_name, 100)?;
    validate::optional_max_len("botTitle", s.bot_title.as_deref(), 200)?;
    validate::optional_max_len("botLore", s.bot_lore.as_deref(), 5_000)?;
    validate::optional_max_len("contentWarning", s.content_warning.as_deref(), 1_000)?;
    if !validate::is_hex_color(&s.primary_color) {
        return Err(ValidationError::new("primaryColor", "primaryColor must be a hex colour like #6366f1"));
    }
    if let Some(c) = &s.secondary_color
        && !validate::is_hex_color(c)
    {
        return Err(ValidationError::new("secondaryColor", "secondaryColor must be a hex colour like #6366f1"));
    }
    if let Some(url) = &s.bot_avatar {
        validate::max_len("botAvatar", url, 2_000)?;
        if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with("data:image/")) {
            return Err(ValidationError::new("botAvatar", "botAvatar must be an http(s) URL or a data:image URL"));
        }
    }
    if s.allowed_domains.len() > 50 {
        return Err(ValidationError::new("allowedDomains", "allowedDomains takes at most 50 entries"));
    }
    for d in &s.allowed_domains {
        if !is_domain_pattern(d) {
            return Err(ValidationError::new(
                "allowedDomains",
                format!("`{d}` is not a host, a bare domain or a *.wildcard (optionally with :port)"),
            ));
        }
    }
    if let Some(k) = &s.widget_key {
        validate::required("widgetKey", k, 200)?;
    }
    if !(13..=99).contains(&s.age_gate_min_age) {
        return Err(ValidationError::new("ageGateMinAge", "ageGateMinAge must be between 13 and 99"));
    }
    if !is_locale(&s.locale) {
        return Err(ValidationError::new("locale", "locale must be a language tag like en or fr-CA"));
    }
    if let Some(e) = &s.notification_email
        && (!validate::is_email(e) || e.len() > 254)
    {
        return Err(ValidationError::new("notificationEmail", "notificationEmail must be an email address"));
    }
    Ok(())
}

fn is_locale(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let lang = parts.next().unwrap_or_default();
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// `host`, `*.host`, either with an optional `:port`.
pub fn is_domain_pattern(pattern: &str) -> bool {
    let (host, port) = split_port(pattern);
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return false;
    }
    let host = host.strip_prefix("*.").unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn split_port(s: &str) -> (&str, Option<&str>) {
    match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    }
}

/// Whether a browser `Origin` (`https://app.example.com:8443`) may use this tenant's chat.
pub fn origin_allowed(patterns: &[String], origin: &str) -> bool {
    if patterns.is_empty() {
        return true;
    }
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let authority = authority.trim_end_matches('/').to_ascii_lowercase();
    let (host, port) = split_port(&authority);
    patterns.iter().any(|p| {
        let (p_host, p_port) = split_port(p);
        if p_port.is_some() && p_port != port {
            return false;
        }
        if let Some(base) = p_host.strip_prefix("*.") {
            return host.len() > base.len() + 1
                && host.ends_with(base)
                && host.as_bytes()[host.len() - base.len() - 1] == b'.';
        }
        host == p_host || (p_host.matches('.').count() == 1 && host.strip_prefix("www.") == Some(p_host))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pats(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn origins_match_exact_bare_and_wildcard_forms() {
        let p = pats(&["app.example.com", "example.org", "*.shop.io", "localhost:3000"]);
        assert!(origin_allowed(&p, "https://app.example.com"));
        assert!(!origin_allowed(&p, "https://evil.example.com"));
        assert!(origin_allowed(&p, "https://www.example.org"));
        assert!(origin_allowed(&p, "https://example.org"));
        assert!(origin_allowed(&p, "https://a.b.shop.io"));
        assert!(!origin_allowed(&p, "https://shop.io"));
        assert!(!origin_allowed(&p, "https://evilshop.io"));
        assert!(origin_allowed(&p, "http://localhost:3000"));
        assert!(!origin_allowed(&p, "http://localhost:4000"));
        assert!(origin_allowed(&[], "https://anything.test"));
    }

    #[test]
    fn domain_patterns_are_validated() {
        assert!(is_domain_pattern("*.mycompany.com"));
        assert!(is_domain_pattern("localhost:3000"));
        assert!(!is_domain_pattern("https://x.com"));
        assert!(!is_domain_pattern("x.com:99999"));
        assert!(!is_domain_pattern("UPPER.com"));
    }

    #[test]
    fn locales() {
        assert!(is_locale("fr"));
        assert!(is_locale("fr-CA"));
        assert!(!is_locale("french!"));
    }
}
