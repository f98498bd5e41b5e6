//! OpenAI Chat Completions client (wire-formats.md §2), also for every OpenAI-compatible server
//! and, with [`Quirks::mistral`], for Mistral (§3): the system prompt as the first message,
//! `tool_calls` plus `role: tool` messages, and a data-only SSE stream whose tool call argument
//! fragments are assembled by `index` into whole calls.

use std::borrow::Cow;
use std::collections::VecDeque;

use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    ChatRequest, FaultClass, LlmError, LlmProvider, LlmStream, Message, StopReason, StreamEvent, ToolCall, ToolChoice,
    Usage,
    config::Target,
    decode::{self, Decoder, Frame},
    generated_call_id, sse, transport,
};

/// What differs between OpenAI, the servers that copy it, and Mistral.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Quirks {
    /// Mistral: tool call ids must be 9 alphanumerics (others are remapped), `tool_choice` says
    /// `"any"`, tool messages carry the tool's name, usage comes unasked (and unknown request
    /// fields such as `stream_options` are refused).
    pub mistral: bool,
    /// api.openai.com: `max_completion_tokens` (its reasoning models refuse `max_tokens`, which
    /// is what compatible servers and Mistral understand).
    pub max_completion_tokens: bool,
}

impl Quirks {
    pub fn openai(base_url: &str) -> Self {
        Self { mistral: false, max_completion_tokens: base_url.contains("://api.openai.com") }
    }

    pub fn mistral() -> Self {
        Self { mistral: true, max_completion_tokens: false }
    }

    fn name(self) -> &'static str {
        if self.mistral { "mistral" } else { "openai" }
    }
}

pub(crate) struct OpenAi {
    target: Target,
    quirks: Quirks,
}

impl OpenAi {
    pub fn new(target: Target, quirks: Quirks) -> Self {
        Self { target, quirks }
    }
}

#[async_trait::async_trait]
impl LlmProvider for OpenAi {
    fn name(&self) -> &str {
        self.quirks.name()
    }

    async fn stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError> {
        let (t, name) = (&self.target, self.quirks.name());
        let mut builder = t.post().header(ACCEPT, "text/event-stream").json(&body(request, &t.model, self.quirks));
        if let Some(key) = &t.api_key {
            builder = builder.header(AUTHORIZATION, transport::secret_header(name, &format!("Bearer {key}"))?);
        }
        let response = transport::send(name, builder, t.timeout).await?;
        Ok(decode::events(name, sse::frames(name, response), StreamDecoder::new(name), t.timeout))
    }
}

/// The request body, serialized straight from the request it borrows (no JSON tree in between:
/// a turn's history is copied once, into the bytes sent).
#[derive(Serialize)]
pub(crate) struct Body<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// A tool as the vendor reads it, borrowing the segment's shared spec (its schema is not copied).
#[derive(Serialize)]
struct WireTool<'a> {
    r#type: &'static str,
    function: WireFunction<'a>,
}

#[derive(Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
}

/// One message as the vendor reads it: `content` is null only for an assistant turn that is
/// all tool calls.
#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<String>,
    content: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

impl<'a> WireMessage<'a> {
    fn text(role: &'static str, content: &'a str) -> Self {
        Self { role, tool_call_id: None, content: Some(Cow::Borrowed(content)), tool_calls: Vec::new(), name: None }
    }
}

pub(crate) fn body<'a>(request: &'a ChatRequest, model: &'a str, quirks: Quirks) -> Body<'a> {
    let (max_tokens, max_completion_tokens) =
        if quirks.max_completion_tokens { (None, Some(request.max_tokens)) } else { (Some(request.max_tokens), None) };
    let tools = request
        .tools
        .iter()
        .map(|t| WireTool {
            r#type: "function",
            function: WireFunction { name: &t.name, description: &t.description, parameters: &t.input_schema },
        })
        .collect::<Vec<_>>();
    let tool_choice = (!tools.is_empty()).then(|| match &request.tool_choice {
        ToolChoice::Auto => "auto".into(),
        ToolChoice::Required if quirks.mistral => "any".into(),
        ToolChoice::Required => "required".into(),
        ToolChoice::None => "none".into(),
        ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
    });
    Body {
        model: request.model_or(model),
        messages: messages(request, quirks),
        stream: true,
        max_tokens,
        max_completion_tokens,
        stream_options: (!quirks.mistral).then_some(StreamOptions { include_usage: true }),
        temperature: request.temperature_json(),
        tools,
        tool_choice,
    }
}

/// The id as the vendor must see it. Mistral's must match `^[a-zA-Z0-9]{9}$`, so any other id
/// (from OpenAI, Anthropic, or generated here) becomes a stable 9-character hash of itself, the
/// same for the assistant's call and the tool's answer.
fn wire_id(id: &str, quirks: Quirks) -> String {
    if !quirks.mistral || (id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric())) {
        return id.to_owned();
    }
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    // FNV-1a: stable across processes and releases, unlike std's hasher.
    let mut hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    (0..9)
        .map(|_| {
            let c = char::from(ALPHABET[(hash % 62) as usize]);
            hash /= 62;
            c
        })
        .collect()
}

fn messages(request: &ChatRequest, quirks: Quirks) -> Vec<WireMessage<'_>> {
    let system = (!request.system.is_empty()).then(|| WireMessage::text("system", &request.system));
    let rest = request.messages.iter().map(|message| match message {
        Message::User { text } => WireMessage::text("user", text),
        Message::Assistant { text, tool_calls } => {
            let mut turn = WireMessage::text("assistant", text);
            if !tool_calls.is_empty() {
                if text.is_empty() {
                    turn.content = None;
                }
                turn.tool_calls = tool_calls
                    .iter()
                    .map(|c| {
                        json!({"id": wire_id(&c.id, quirks), "type": "function",
                               "function": {"name": c.name, "arguments": c.arguments.to_string()}})
                    })
                    .collect();
            }
            turn
        }
        Message::Tool { call_id, name, content, is_error } => {
            // No is_error field in this format: say it in the content.
            let content = if *is_error { Cow::Owned(format!("error: {content}")) } else { Cow::Borrowed(&**content) };
            WireMessage {
                role: "tool",
                tool_call_id: Some(wire_id(call_id, quirks)),
                content: Some(content),
                tool_calls: Vec::new(),
                name: quirks.mistral.then_some(&**name),
            }
        }
    });
    system.into_iter().chain(rest).collect()
}

/// A streamed chunk, borrowing from the frame where its strings have no escapes: one arrives
/// per token.
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    object: Option<Cow<'a, str>>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow)]
    choices: Option<Vec<Choice<'a>>>,
    usage: Option<WireUsage>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    index: Option<u64>,
    #[serde(borrow)]
    delta: Option<Delta<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
    tool_calls: Option<Vec<ToolDelta>>,
}

#[derive(Deserialize)]
struct ToolDelta {
    index: Option<u64>,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    /// A string fragment; Mistral may send a whole object.
    arguments: Option<Value>,
}

#[derive(Deserialize)]
struct WireUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

/// A tool call being assembled.
struct Slot {
    index: Option<u64>,
    id: Option<String>,
    name: String,
    arguments: String,
}

pub(crate) struct StreamDecoder {
    provider: &'static str,
    slots: Vec<Slot>,
    usage: Usage,
    model: Option<String>,
    stop: Option<StopReason>,
    saw_tool_call: bool,
}

impl StreamDecoder {
    pub fn new(provider: &'static str) -> Self {
        Self { provider, slots: Vec::new(), usage: Usage::default(), model: None, stop: None, saw_tool_call: false }
    }

    fn slot(&mut self, delta: &ToolDelta) -> &mut Slot {
        let found = match (delta.index, &delta.id) {
            (Some(index), _) => self.slots.iter().position(|s| s.index == Some(index)),
            (None, Some(id)) => self.slots.iter().position(|s| s.id.as_ref() == Some(id)),
            // A nameless fragment continues the last call.
            (None, None) if delta.function.as_ref().is_none_or(|f| f.name.is_none()) => self.slots.len().checked_sub(1),
            (None, None) => None,
        };
        let position = found.unwrap_or_else(|| {
            self.slots.push(Slot { index: delta.index, id: None, name: String::new(), arguments: String::new() });
            self.slots.len() - 1
        });
        &mut self.slots[position]
    }

    fn add_tool_delta(&mut self, delta: ToolDelta) {
        let slot = self.slot(&delta);
        if let Some(id) = delta.id.filter(|id| !id.is_empty()) {
            slot.id = Some(id);
        }
        let Some(function) = delta.function else { return };
        if let Some(name) = function.name.filter(|n| !n.is_empty()) {
            slot.name = name;
        }
        match function.arguments {
            Some(Value::String(fragment)) => slot.arguments.push_str(&fragment),
            Some(Value::Null) | None => {}
            Some(whole) => slot.arguments = whole.to_string(),
        }
    }

    /// Emits the calls assembled so far, in index order.
    fn flush(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), LlmError> {
        let mut slots = std::mem::take(&mut self.slots);
        slots.sort_by_key(|s| s.index);
        for slot in slots {
            let arguments = if slot.arguments.trim().is_empty() {
                json!({})
            } else {
                serde_json::from_str(&slot.arguments).map_err(|e| {
                    transport::malformed(self.provider, format!("arguments of `{}` are not json: {e}", slot.name))
                })?
            };
            let id = slot.id.unwrap_or_else(generated_call_id);
            self.saw_tool_call = true;
            out.push_back(StreamEvent::ToolCall(ToolCall { id, name: slot.name, arguments }));
        }
        Ok(())
    }
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "stop" => StopReason::EndTurn,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "length" | "model_length" => StopReason::MaxTokens,
        _ => StopReason::Other,
    }
}

impl Decoder for StreamDecoder {
    fn decode(&mut self, frame: Frame, out: &mut VecDeque<StreamEvent>) -> Result<bool, LlmError> {
        if frame.data.trim() == "[DONE]" {
            self.flush(out)?;
            let fallback = if self.saw_tool_call { StopReason::ToolUse } else { StopReason::EndTurn };
            let stop = self.stop.unwrap_or(fallback);
            out.push_back(StreamEvent::Done { stop, usage: self.usage, model: self.model.take() });
            return Ok(true);
        }
        let chunk: Chunk = serde_json::from_str(&frame.data).map_err(|e| transport::malformed(self.provider, e))?;
        if chunk.error.is_some() || chunk.object.as_deref() == Some("error") {
            let body: Value = serde_json::from_str(&frame.data).unwrap_or(Value::Null);
            return Err(transport::in_stream_error(self.provider, &body));
        }
        if self.model.is_none() {
            self.model = chunk.model.map(Cow::into_owned);
        }
        if let Some(usage) = chunk.usage {
            self.usage = Usage {
                input_tokens: usage.prompt_tokens.unwrap_or_default(),
                output_tokens: usage.completion_tokens.unwrap_or_default(),
            };
        }
        for choice in chunk.choices.unwrap_or_default().into_iter().filter(|c| c.index.unwrap_or(0) == 0) {
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                    out.push_back(StreamEvent::Text(text.into_owned()));
                }
                for call in delta.tool_calls.unwrap_or_default() {
                    self.add_tool_delta(call);
                }
            }
            if let Some(reason) = choice.finish_reason {
                if reason == "error" {
                    return Err(LlmError::new(FaultClass::Provider, self.provider, "the model stopped with an error"));
                }
                self.stop = Some(stop_reason(&reason));
                self.flush(out)?;
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(decoder: &mut StreamDecoder, data: &str) -> Vec<StreamEvent> {
        let mut out = VecDeque::new();
        decoder.decode(Frame { data: data.into() }, &mut out).expect("decodes");
        out.into()
    }

    #[test]
    fn mistral_ids_are_stable_nine_alphanumerics() {
        let id = wire_id("call_Y6qJ7ofLgOrBnMD5WbVAeiRV", Quirks::mistral());
        assert_eq!(id.len(), 9);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(id, wire_id("call_Y6qJ7ofLgOrBnMD5WbVAeiRV", Quirks::mistral()));
        assert_eq!(wire_id("D681PevKs", Quirks::mistral()), "D681PevKs");
        assert_eq!(wire_id("call_x", Quirks::openai("http://localhost:8000/v1")), "call_x");
    }

    #[test]
    fn parallel_fragments_are_assembled_per_index() {
        let mut d = StreamDecoder::new("openai");
        let tool_delta = |call: Value| json!({"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}).to_string();
        let start = |i: u64, id: &str, name: &str| {
            tool_delta(json!({"index": i, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}))
        };
        let frag = |i: u64, a: &str| tool_delta(json!({"index": i, "function": {"arguments": a}}));
        for data in [start(0, "c0", "a"), frag(0, "{\"x\""), start(1, "c1", "b"), frag(1, "{}"), frag(0, ":1}")] {
            assert!(feed(&mut d, &data).is_empty());
        }
        let events = feed(&mut d, r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#);
        assert_eq!(
            events,
            [
                StreamEvent::ToolCall(ToolCall { id: "c0".into(), name: "a".into(), arguments: json!({"x": 1}) }),
                StreamEvent::ToolCall(ToolCall { id: "c1".into(), name: "b".into(), arguments: json!({}) }),
            ]
        );
    }
}
