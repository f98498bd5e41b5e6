//! Server configuration: built-in defaults, then an optional TOML file, then `DOCENT_*`
//! environment variables (`__` for nesting, e.g. `DOCENT_PLANS__PRO__LIMITS__CONVERSATIONS_PER_MONTH`),
//! then command-line flags; `validate` rejects unknown keys and bad values, naming the key.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use docent_domain::plan::{Plan, SELF_HOSTED, builtin_plans};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// A secret setting: never printed by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address `docent serve` listens on.
    pub addr: String,
    /// `sqlite://PATH` (the embedded default) or `postgres://USER@HOST/DB`.
    pub database_url: String,
    /// Where Docent keeps files of its own (the generated master key).
    pub data_dir: PathBuf,
    /// Bearer token of the instance administrator (creates tenants, changes plans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_token: Option<Secret>,
    /// Base64 of 32 bytes sealing tenant secrets at rest; generated into `data_dir` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_key: Option<Secret>,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Reverse proxies in front of Docent whose `X-Forwarded-For` entries are trusted.
    pub trusted_proxies: u8,
    /// Log filter (`info`, `docent=debug,sqlx=warn`, ...).
    pub log: String,
    pub log_format: LogFormat,
    /// Plan of tenants created without one.
    pub default_plan: String,
    /// Public chat: per-IP limits.
    pub chat: ChatConfig,
    /// The server's own model (`llmSource` "managed"); unset: the built-in engine.
    pub llm: ManagedLlm,
    /// The chat turn's bounds.
    pub agent: AgentSettings,
    /// Outgoing email (submission notifications); unset: no email is sent.
    pub smtp: SmtpConfig,
    /// Calls to addresses that tenants or callers choose (webhooks, LLM base URLs).
    pub outbound: OutboundConfig,
    /// The background job queue (webhooks, emails).
    pub jobs: JobsConfig,
    /// The plan table; operator entries are merged over the built-in plans.
    pub plans: BTreeMap<String, Plan>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".to_owned(),
            database_url: "sqlite://./data/docent.db".to_owned(),
            data_dir: PathBuf::from("./data"),
            admin_token: None,
            master_key: None,
            body_limit: 1024 * 1024,
            trusted_proxies: 0,
            log: "info".to_owned(),
            log_format: LogFormat::Text,
            default_plan: SELF_HOSTED.to_owned(),
            chat: ChatConfig::default(),
            llm: ManagedLlm::default(),
            agent: AgentSettings::default(),
            smtp: SmtpConfig::default(),
            outbound: OutboundConfig::default(),
            jobs: JobsConfig::default(),
            plans: builtin_plans(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChatConfig {
    /// Chat messages per client IP per minute.
    pub per_minute: u32,
    /// Chat messages per client IP per hour.
    pub per_hour: u32,
    /// Largest `message`, in characters.
    pub max_message_chars: usize,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self { per_minute: 20, per_hour: 200, max_message_chars: 15_000 }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ManagedLlm {
    /// `anthropic`, `openai`, `mistral`, `ollama` or an OpenAI-compatible name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentSettings {
    /// Model calls per turn, tool rounds included.
    pub max_rounds: u32,
    /// Context budget in estimated tokens.
    pub context_tokens: usize,
    pub max_output_tokens: u32,
    /// Attempts per model call on retryable failures.
    pub attempts: u32,
    /// Milliseconds without a model event after which a turn fails with 504.
    pub timeout_ms: u64,
}

impl Default for AgentSettings {
    fn default() -> Self {
        Self { max_rounds: 4, context_tokens: 16_000, max_output_tokens: 1_024, attempts: 3, timeout_ms: 60_000 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// `smtp://host:port` (plain), `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host:465`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Secret>,
    pub from: String,
    /// Seconds for one whole SMTP conversation.
    pub timeout_secs: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self { url: None, from: "Docent <docent@localhost>".to_owned(), timeout_secs: 20 }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundConfig {
    /// Allow loopback and private addresses (for a local Ollama or webhook receiver).
    pub allow_private: bool,
    /// Seconds for one outgoing webhook request.
    pub timeout_secs: u64,
    /// Model calls speak HTTP/2 only: h2c with prior knowledge on `http://` base URLs (a local
    /// gateway), HTTP/2 over TLS on `https://` ones. Off: HTTP/2 where TLS negotiates it,
    /// HTTP/1.1 otherwise. Many streams then share few connections.
    pub llm_http2_only: bool,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        Self { allow_private: false, timeout_secs: 15, llm_http2_only: false }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// First retry delay; doubles each attempt (with jitter).
    pub retry_base_ms: u64,
    /// Attempts before a job is marked failed.
    pub max_attempts: u32,
    /// How often the runner looks for due jobs.
    pub poll_ms: u64,
    /// How long a claimed job is a worker's before another may take it (a crashed worker's job
    /// runs again after this).
    pub lease_ms: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self { retry_base_ms: 5_000, max_attempts: 10, poll_ms: 1_000, lease_ms: 120_000 }
    }
}

/// Settings given on the command line, applied last.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Loads defaults → `file` (if any) → `DOCENT_*` environment → `overrides`, then validates.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Load(format!("config file {} does not exist", path.display())));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        // DOCENT_CONFIG names the file; DOCENT_TEST_* belong to the test suites.
        let env = Env::prefixed("DOCENT_")
            .filter(|k| {
                let k = k.as_str().to_ascii_lowercase();
                k != "config" && !k.starts_with("test_")
            })
            .split("__");
        let config: Config = figment
            .merge(env)
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError::Load(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: String| Err(ConfigError::Invalid { key, message });
        if self.addr.parse::<SocketAddr>().is_err() {
            return invalid("addr", format!("`{}` is not an IP:port address", self.addr));
        }
        let db = &self.database_url;
        if !(db.starts_with("sqlite:") || db.starts_with("postgres://") || db.starts_with("postgresql://")) {
            return invalid("database_url", "must start with sqlite:// or postgres://".to_owned());
        }
        if !(1024..=1024 * 1024 * 1024).contains(&self.body_limit) {
            return invalid("body_limit", "must be between 1024 bytes and 1 GiB".to_owned());
        }
        if let Some(token) = &self.admin_token
            && token.expose().len() < 16
        {
            return invalid("admin_token", "must be at least 16 characters".to_owned());
        }
        if let Some(key) = &self.master_key
            && crate::seal::decode_key(key.expose()).is_none()
        {
            return invalid("master_key", "must be the base64 encoding of exactly 32 bytes".to_owned());
        }
        if !self.plans.contains_key(&self.default_plan) {
            return invalid("default_plan", format!("`{}` is not in the plan table", self.default_plan));
        }
        if self.chat.per_minute == 0 || self.chat.per_hour == 0 {
            return invalid("chat", "per_minute and per_hour must be at least 1".to_owned());
        }
        if let Some(provider) = &self.llm.provider
            && provider.parse::<docent_llm::ProviderKind>().is_err()
        {
            return invalid("llm.provider", format!("`{provider}` is not a known provider"));
        }
        if self.agent.max_rounds == 0 || self.agent.attempts == 0 {
            return invalid("agent", "max_rounds and attempts must be at least 1".to_owned());
        }
        if self.jobs.max_attempts == 0 {
            return invalid("jobs.max_attempts", "must be at least 1".to_owned());
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log).is_err() {
            return invalid("log", format!("`{}` is not a log filter", self.log));
        }
        Ok(())
    }
}

/// The commented default configuration that `docent print-default-config` prints.
pub const DEFAULT_CONFIG_TOML: &str = r##"# Docent configuration. Every key can also be set as an environment variable:
# DOCENT_<KEY> (for example DOCENT_ADDR), with "__" between nested keys
# (DOCENT_PLANS__PRO__LIMITS__CONVERSATIONS_PER_MONTH=5000). Unknown keys are errors.

# Address `docent serve` listens on.
addr = "127.0.0.1:8080"

# sqlite://PATH (embedded, the default) or postgres://USER@HOST:5432/DB (several replicas).
database_url = "sqlite://./data/docent.db"

# Directory for Docent's own files (the generated master key).
data_dir = "./data"

# Bearer token of the instance administrator, at least 16 characters. Unset: no admin API.
# admin_token = "change-me-to-a-long-random-string"

# Base64 of 32 random bytes that seals tenant secrets (webhook secrets, stored LLM keys).
# Unset: generated into data_dir/master.key on first start. Replicas must share one key.
# master_key = "..."

# Largest accepted request body, in bytes.
body_limit = 1048576

# Reverse proxies in front of Docent whose X-Forwarded-For entries are trusted (0 = none).
trusted_proxies = 0

# Log filter, and "text" or "json" lines.
log = "info"
log_format = "text"

# Plan given to tenants created without one. "self-hosted" has every capability, no limit.
default_plan = "self-hosted"

# Public chat limits per client IP, and the largest message.
[chat]
per_minute = 20
per_hour = 200
max_message_chars = 15000

# The server's own model ("managed"). Unset: the built-in offline engine answers.
# provider = "anthropic"   # anthropic, openai, mistral, ollama, or an OpenAI-compatible name
# model = "claude-haiku-4-5"
# api_key = "..."
# base_url = "https://api.anthropic.com"
[llm]

# Bounds of one chat turn.
[agent]
max_rounds = 4
context_tokens = 16000
max_output_tokens = 1024
attempts = 3
timeout_ms = 60000

# Outgoing email for submission notifications. Unset url: no email.
# url = "smtp://user:pass@mail.example.com:587?tls=required"
[smtp]
from = "Docent <docent@localhost>"
timeout_secs = 20

# Calls to addresses chosen by tenants or callers (webhooks, LLM base URLs).
[outbound]
allow_private = false
timeout_secs = 15
# Model calls over HTTP/2 only (h2c on http:// base URLs; every model endpoint must speak it).
llm_http2_only = false

# The durable job queue (escalation webhooks, emails).
[jobs]
retry_base_ms = 5000
max_attempts = 10
poll_ms = 1000
lease_ms = 120000

# The plan table. Entries here are merged over the built-in ones (self-hosted, free, builder,
# pro, enterprise); limits left out are unlimited.
[plans.self-hosted]
capabilities = { widget = true, externalMcp = true, mcp_tools = true }
limits = {}

[plans.free]
capabilities = { widget = false, externalMcp = false, mcp_tools = false }
limits = { conversationsPerMonth = 50, childTenants = 0, messagesPerMonth = 500 }

[plans.builder]
capabilities = { widget = true, externalMcp = false, mcp_tools = false }
limits = { conversationsPerMonth = 500, childTenants = 0, messagesPerMonth = 5000 }

[plans.pro]
capabilities = { widget = true, externalMcp = true, mcp_tools = true }
limits = { conversationsPerMonth = 2000, childTenants = 0, messagesPerMonth = 10000 }

[plans.enterprise]
capabilities = { widget = true, externalMcp = true, mcp_tools = true }
limits = { childTenants = 10, messagesPerMonth = 100000 }
"##;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_printed_default_config_is_the_default_config() {
        let parsed: Config = Figment::from(Toml::string(DEFAULT_CONFIG_TOML)).extract().unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docent.toml");
        std::fs::write(&path, "adress = \"1.2.3.4:5\"\n").unwrap();
        let err = Config::load(Some(&path), &Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("adress"), "{err}");

        std::fs::write(&path, "trusted_proxies = \"many\"\n").unwrap();
        let err = Config::load(Some(&path), &Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("trusted_proxies"), "{err}");

        std::fs::write(&path, "addr = \"nowhere\"\n").unwrap();
        let err = Config::load(Some(&path), &Overrides::default()).unwrap_err().to_string();
        assert!(err.contains("`addr`"), "{err}");
    }

    #[test]
    fn operator_plans_merge_over_the_builtin_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docent.toml");
        std::fs::write(
            &path,
            "default_plan = \"agency\"\n[plans.agency]\ncapabilities = { widget = true }\nlimits = { conversationsPerMonth = 10 }\n",
        )
        .unwrap();
        let c = Config::load(Some(&path), &Overrides::default()).unwrap();
        assert_eq!(c.plans["agency"].limits.conversations_per_month, Some(10));
        assert!(c.plans.contains_key("pro"));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let c = Config { admin_token: Some(Secret::new("super-secret-admin-token")), ..Config::default() };
        assert!(!format!("{c:?}").contains("super-secret"));
    }
}
