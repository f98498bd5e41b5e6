//! Talking to language models. One [`LlmProvider`] trait, streamed: a provider turns a
//! [`ChatRequest`] into a stream of [`StreamEvent`]s (text deltas as the model writes them,
//! complete tool calls, then one `Done`). Errors carry a [`FaultClass`] that decides the HTTP
//! status our API answers with and whether a retry makes sense.
//!
//! [`provider`] builds the client for a [`ProviderConfig`]: Anthropic Messages, OpenAI Chat
//! Completions (also Mistral, vLLM, llama.cpp, LM Studio, OpenRouter) or Ollama's native
//! `/api/chat`. [`retrying`] wraps any provider with bounded retries of early failures.

mod anthropic;
mod config;
mod decode;
mod idle;
mod lines;
mod ndjson;
mod ollama;
mod openai;
mod retry;
mod sse;
mod transport;
pub mod webhook;

use std::time::Duration;

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::{
    config::{ProviderConfig, ProviderKind, UnknownProviderKind, provider},
    idle::{Idle, IdleTimeout},
    retry::{Retrying, retrying},
};

/// A tool offered to the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// snake_case name the model calls it by (e.g. `submit_form`, `remember_fact`).
    pub name: String,
    pub description: String,
    /// JSON Schema (an object schema) of the arguments.
    pub input_schema: Value,
}

/// A tool call the model made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's call id (generated when the provider has none, e.g. Ollama).
    pub id: String,
    pub name: String,
    /// Parsed JSON arguments (an object).
    pub arguments: Value,
}

/// One message of the conversation sent to the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    User {
        text: String,
    },
    Assistant {
        text: String,
        tool_calls: Vec<ToolCall>,
    },
    /// The result of one tool call, fed back to the model.
    Tool {
        call_id: String,
        name: String,
        content: String,
        is_error: bool,
    },
}

/// A knowledge entry placed in the context; providers ignore it (it is already in `system`),
/// the built-in engine answers from it (`LlmProvider::reads_knowledge`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snippet {
    pub id: String,
    pub title: String,
    pub content: String,
}

/// Whether the model may, must or must not call a tool (sent only when `tools` is not empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides (the vendors' default).
    #[default]
    Auto,
    /// At least one tool call (OpenAI `"required"`, Anthropic and Mistral `"any"`).
    Required,
    /// No tool call, though the tools stay described.
    None,
    /// This tool, by name.
    Tool(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    pub system: String,
    pub messages: Vec<Message>,
    /// Shared: the same specs serve every turn of a segment.
    pub tools: std::sync::Arc<[ToolSpec]>,
    pub max_tokens: u32,
    pub temperature: Option<f32>,
    #[serde(default)]
    pub knowledge: std::sync::Arc<[Snippet]>,
    #[serde(default)]
    pub tool_choice: ToolChoice,
}

/// An id for a tool call the vendor left without one (Ollama before v0.12.10).
pub(crate) fn generated_call_id() -> String {
    format!("call_{}", docent_domain::secret::random_base62(12))
}

impl ChatRequest {
    /// The request's model, or the provider's configured one when the request leaves it empty.
    pub(crate) fn model_or<'a>(&'a self, configured: &'a str) -> &'a str {
        if self.model.is_empty() { configured } else { &self.model }
    }

    /// `temperature` as JSON without f32 noise (0.7, not 0.699999988079071).
    pub(crate) fn temperature_json(&self) -> Option<Value> {
        let t = self.temperature?;
        t.to_string().parse::<f64>().ok().map(Value::from)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndTurn,
    ToolUse,
    MaxTokens,
    Other,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// A piece of the reply, to forward to the visitor as it comes.
    Text(String),
    /// A complete tool call (partial argument JSON is assembled by the provider).
    ToolCall(ToolCall),
    /// The last event of a successful stream.
    Done { stop: StopReason, usage: Usage, model: Option<String> },
}

/// Who is at fault, which decides our status code and retry policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultClass {
    /// The request or the caller's key is wrong (4xx from the vendor other than 429): no retry, 502
    /// to our client with the vendor's reason (a passthrough key belongs to the caller).
    Caller,
    /// The vendor failed (5xx, overloaded, cut or malformed stream): retry, then 502.
    Provider,
    /// The vendor rate-limited us (429): retry after the hint, then 503.
    RateLimited,
    /// No answer in time: retry once, then 504.
    Timeout,
    /// Our bug (a response we could not have caused): no retry, 500.
    Bug,
}

#[derive(Clone, Debug, thiserror::Error)]
#[error("{provider}: {message}")]
pub struct LlmError {
    pub class: FaultClass,
    pub provider: String,
    pub message: String,
    /// The vendor's HTTP status, when there was one.
    pub status: Option<u16>,
    /// The vendor's `retry-after` hint.
    pub retry_after: Option<Duration>,
}

impl LlmError {
    pub fn new(class: FaultClass, provider: &str, message: impl Into<String>) -> Self {
        Self { class, provider: provider.to_owned(), message: message.into(), status: None, retry_after: None }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self.class, FaultClass::Provider | FaultClass::RateLimited | FaultClass::Timeout)
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }
}

pub type LlmStream = BoxStream<'static, Result<StreamEvent, LlmError>>;

#[async_trait::async_trait]
pub trait LlmProvider: Send + Sync {
    /// The provider's name as reported in `llmProvider` (`anthropic`, `openai`, `mistral`, `ollama`, `webhook`, `builtin`).
    fn name(&self) -> &str;

    /// Whether the provider reads `ChatRequest::knowledge` (the built-in engine answers from
    /// it). The others have the snippets in `system` and are given the list empty.
    fn reads_knowledge(&self) -> bool {
        false
    }

    /// Starts a completion. Errors before the first event (connect failures, HTTP errors) are
    /// returned here; errors after it arrive in the stream, which then ends.
    async fn stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError>;
}

#[async_trait::async_trait]
impl<P: LlmProvider + ?Sized> LlmProvider for Box<P> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn reads_knowledge(&self) -> bool {
        (**self).reads_knowledge()
    }

    async fn stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError> {
        (**self).stream(request).await
    }
}

#[async_trait::async_trait]
impl<P: LlmProvider + ?Sized> LlmProvider for std::sync::Arc<P> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn reads_knowledge(&self) -> bool {
        (**self).reads_knowledge()
    }

    async fn stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError> {
        (**self).stream(request).await
    }
}
