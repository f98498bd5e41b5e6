//! Which vendor, where and with which key: [`ProviderKind`] (parsed from the strings tenants and
//! operators write), [`ProviderConfig`] with the vendors' default base URLs, and [`provider`],
//! which builds the matching wire client.

use std::{fmt, str::FromStr, time::Duration};

use crate::{
    LlmProvider,
    anthropic::Anthropic,
    ollama::Ollama,
    openai::{OpenAi, Quirks},
};

/// The wire format (and quirks) to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ProviderKind {
    Anthropic,
    /// OpenAI Chat Completions, and every server that copies it (vLLM, llama.cpp, LM Studio,
    /// OpenRouter…).
    OpenAi,
    /// OpenAI-shaped, with Mistral's tool call ids and `tool_choice` values.
    Mistral,
    /// Ollama's native `/api/chat` (its `/v1` endpoint has lost streamed tool calls in the past).
    Ollama,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anthropic => "anthropic",
            Self::OpenAi => "openai",
            Self::Mistral => "mistral",
            Self::Ollama => "ollama",
        }
    }

    /// The vendor's base URL; OpenAI-style ones include the `/v1` version segment.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Self::Anthropic => "https://api.anthropic.com",
            Self::OpenAi => "https://api.openai.com/v1",
            Self::Mistral => "https://api.mistral.ai/v1",
            Self::Ollama => "http://localhost:11434",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown llm provider `{0}` (expected anthropic, openai, mistral or ollama)")]
pub struct UnknownProviderKind(pub String);

impl FromStr for ProviderKind {
    type Err = UnknownProviderKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "anthropic" => Ok(Self::Anthropic),
            "openai" | "openai-compatible" | "vllm" | "lmstudio" | "openrouter" | "llamacpp" => Ok(Self::OpenAi),
            "mistral" => Ok(Self::Mistral),
            "ollama" => Ok(Self::Ollama),
            _ => Err(UnknownProviderKind(s.to_owned())),
        }
    }
}

impl TryFrom<String> for ProviderKind {
    type Error = UnknownProviderKind;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ProviderKind> for String {
    fn from(kind: ProviderKind) -> Self {
        kind.as_str().to_owned()
    }
}

/// Everything needed to reach one vendor. `Debug` never prints the key.
#[derive(Clone)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// `None` for the vendor's default ([`ProviderKind::default_base_url`]).
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    /// Used when a [`crate::ChatRequest`] leaves `model` empty.
    pub model: String,
    /// How long to wait for the response headers, and for each later piece of the stream.
    pub timeout: Duration,
}

impl ProviderConfig {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

    pub fn new(kind: ProviderKind, model: impl Into<String>) -> Self {
        Self { kind, base_url: None, api_key: None, model: model.into(), timeout: Self::DEFAULT_TIMEOUT }
    }

    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    pub fn with_api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The base URL in use, without a trailing slash.
    pub fn resolved_base_url(&self) -> &str {
        self.base_url.as_deref().unwrap_or(self.kind.default_base_url()).trim_end_matches('/')
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("kind", &self.kind)
            .field("base_url", &self.resolved_base_url())
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Where a request goes and how it authenticates; shared by the three clients.
#[derive(Clone)]
pub(crate) struct Target {
    pub http: reqwest::Client,
    /// Parsed once for every request; one that does not parse is left to reqwest, which
    /// refuses it on each request as a request that cannot be built.
    url: Result<reqwest::Url, String>,
    pub api_key: Option<String>,
    pub model: String,
    pub timeout: Duration,
}

impl Target {
    /// A POST to the vendor's endpoint.
    pub fn post(&self) -> reqwest::RequestBuilder {
        match &self.url {
            Ok(url) => self.http.post(url.clone()),
            Err(raw) => self.http.post(raw),
        }
    }
}

/// The client for `config`, sending through `http` (the process's shared outbound client).
pub fn provider(config: ProviderConfig, http: reqwest::Client) -> Box<dyn LlmProvider> {
    let base = config.resolved_base_url().to_owned();
    let target = |path: &str| Target {
        http: http.clone(),
        url: {
            let url = format!("{base}{path}");
            reqwest::Url::parse(&url).map_err(|_| url)
        },
        api_key: config.api_key.clone(),
        model: config.model.clone(),
        timeout: config.timeout,
    };
    match config.kind {
        ProviderKind::Anthropic => Box::new(Anthropic::new(target("/v1/messages"))),
        ProviderKind::OpenAi => Box::new(OpenAi::new(target("/chat/completions"), Quirks::openai(&base))),
        ProviderKind::Mistral => Box::new(OpenAi::new(target("/chat/completions"), Quirks::mistral())),
        ProviderKind::Ollama => Box::new(Ollama::new(target("/api/chat"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_kinds_parse_with_openai_compatible_aliases() {
        for (text, kind) in [
            ("anthropic", ProviderKind::Anthropic),
            ("OpenAI", ProviderKind::OpenAi),
            ("vllm", ProviderKind::OpenAi),
            ("openai-compatible", ProviderKind::OpenAi),
            ("lmstudio", ProviderKind::OpenAi),
            ("openrouter", ProviderKind::OpenAi),
            ("llamacpp", ProviderKind::OpenAi),
            ("mistral", ProviderKind::Mistral),
            (" ollama ", ProviderKind::Ollama),
        ] {
            assert_eq!(text.parse::<ProviderKind>(), Ok(kind), "{text}");
        }
        assert!("gemini".parse::<ProviderKind>().is_err());
    }

    #[test]
    fn config_debug_hides_the_key_and_shows_the_default_url() {
        let config = ProviderConfig::new(ProviderKind::Mistral, "mistral-small").with_api_key("sk-secret");
        let debug = format!("{config:?}");
        assert!(!debug.contains("sk-secret"));
        assert!(debug.contains("https://api.mistral.ai/v1"));
    }
}
