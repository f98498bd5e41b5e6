//! Anthropic Messages client (wire-formats.md §1): `POST /v1/messages` with `stream: true`,
//! the system prompt in the top-level `system`, tool calls and results as `tool_use` /
//! `tool_result` blocks; the SSE stream is assembled into text deltas and whole tool calls.

use std::collections::{BTreeMap, VecDeque};

use reqwest::header::ACCEPT;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    ChatRequest, LlmError, LlmProvider, LlmStream, Message, StopReason, StreamEvent, ToolCall, ToolChoice, Usage,
    config::Target,
    decode::{self, Decoder, Frame},
    sse, transport,
};

const NAME: &str = "anthropic";
const API_VERSION: &str = "2023-06-01";

pub(crate) struct Anthropic {
    target: Target,
}

impl Anthropic {
    pub fn new(target: Target) -> Self {
        Self { target }
    }
}

#[async_trait::async_trait]
impl LlmProvider for Anthropic {
    fn name(&self) -> &str {
        NAME
    }

    async fn stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError> {
        let t = &self.target;
        let mut builder = t
            .post()
            .header("anthropic-version", API_VERSION)
            .header(ACCEPT, "text/event-stream")
            .json(&body(request, &t.model));
        if let Some(key) = &t.api_key {
            builder = builder.header("x-api-key", transport::secret_header(NAME, key)?);
        }
        let response = transport::send(NAME, builder, t.timeout).await?;
        Ok(decode::events(NAME, sse::frames(NAME, response), StreamDecoder::default(), t.timeout))
    }
}

pub(crate) fn body(request: &ChatRequest, model: &str) -> Value {
    let mut body = json!({
        "model": request.model_or(model),
        "max_tokens": request.max_tokens,
        "messages": messages(&request.messages),
        "stream": true,
    });
    if !request.system.is_empty() {
        body["system"] = request.system.clone().into();
    }
    if let Some(t) = request.temperature_json() {
        body["temperature"] = t;
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.input_schema}))
            .collect();
        body["tools"] = tools.into();
        body["tool_choice"] = match &request.tool_choice {
            ToolChoice::Auto => json!({"type": "auto"}),
            ToolChoice::Required => json!({"type": "any"}),
            ToolChoice::None => json!({"type": "none"}),
            ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
        };
    }
    body
}

/// Anthropic ids match `^[a-zA-Z0-9_-]+$`; ids minted by another vendor are made to fit.
fn tool_use_id(id: &str) -> String {
    let id: String = id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    if id.is_empty() { "toolu_".to_owned() } else { id }
}

/// Our messages as Anthropic turns: tool results travel in `user` turns, and consecutive turns
/// of one role are merged (all results of a round go back together, results first).
fn messages(messages: &[Message]) -> Vec<Value> {
    let mut turns: Vec<(&str, Vec<Value>)> = Vec::new();
    for message in messages {
        let (role, blocks) = match message {
            Message::User { text } if text.is_empty() => continue,
            Message::User { text } => ("user", vec![json!({"type": "text", "text": text})]),
            Message::Assistant { text, tool_calls } => {
                let text = (!text.is_empty()).then(|| json!({"type": "text", "text": text}));
                let calls = tool_calls.iter().map(|c| {
                    let input = if c.arguments.is_object() { c.arguments.clone() } else { json!({}) };
                    json!({"type": "tool_use", "id": tool_use_id(&c.id), "name": c.name, "input": input})
                });
                ("assistant", text.into_iter().chain(calls).collect())
            }
            Message::Tool { call_id, content, is_error, .. } => {
                let mut block = json!({"type": "tool_result", "tool_use_id": tool_use_id(call_id), "content": content});
                if *is_error {
                    block["is_error"] = true.into();
                }
                ("user", vec![block])
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    turns
        .into_iter()
        .map(|(role, mut blocks)| {
            let content = match blocks.as_mut_slice() {
                [only] if only["type"] == "text" => only["text"].take(),
                _ => Value::Array(blocks),
            };
            json!({"role": role, "content": content})
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: Start,
    },
    ContentBlockStart {
        index: u64,
        content_block: BlockStart,
    },
    ContentBlockDelta {
        index: u64,
        delta: Delta,
    },
    ContentBlockStop {
        index: u64,
    },
    MessageDelta {
        delta: MessageDelta,
        usage: Option<WireUsage>,
    },
    MessageStop,
    Error,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct Start {
    model: Option<String>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockStart {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Delta {
    #[serde(rename = "text_delta")]
    Text { text: String },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: String },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct MessageDelta {
    stop_reason: Option<String>,
}

/// Counts are cumulative; the input side is split into fresh and cached tokens.
#[derive(Deserialize)]
struct WireUsage {
    input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    output_tokens: Option<u64>,
}

enum Block {
    Tool { id: String, name: String, json: String },
    Other,
}

#[derive(Default)]
pub(crate) struct StreamDecoder {
    blocks: BTreeMap<u64, Block>,
    usage: Usage,
    model: Option<String>,
    stop: Option<StopReason>,
    saw_tool_call: bool,
}

impl StreamDecoder {
    fn add_usage(&mut self, usage: &WireUsage) {
        let input = [usage.input_tokens, usage.cache_creation_input_tokens, usage.cache_read_input_tokens];
        if input.iter().any(Option::is_some) {
            self.usage.input_tokens = input.iter().flatten().sum();
        }
        if let Some(output) = usage.output_tokens {
            self.usage.output_tokens = output;
        }
    }
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "end_turn" | "stop_sequence" => StopReason::EndTurn,
        "tool_use" => StopReason::ToolUse,
        "max_tokens" | "model_context_window_exceeded" => StopReason::MaxTokens,
        _ => StopReason::Other,
    }
}

impl Decoder for StreamDecoder {
    fn decode(&mut self, frame: Frame, out: &mut VecDeque<StreamEvent>) -> Result<bool, LlmError> {
        let event: Event = serde_json::from_str(&frame.data).map_err(|e| transport::malformed(NAME, e))?;
        match event {
            Event::MessageStart { message } => {
                self.model = message.model;
                if let Some(usage) = message.usage {
                    self.add_usage(&usage);
                }
            }
            Event::ContentBlockStart { index, content_block } => {
                let block = match content_block {
                    BlockStart::Text { text } => {
                        if !text.is_empty() {
                            out.push_back(StreamEvent::Text(text));
                        }
                        Block::Other
                    }
                    BlockStart::ToolUse { id, name } => Block::Tool { id, name, json: String::new() },
                    BlockStart::Other => Block::Other,
                };
                self.blocks.insert(index, block);
            }
            Event::ContentBlockDelta { index, delta } => match (delta, self.blocks.get_mut(&index)) {
                (Delta::Text { text }, _) if !text.is_empty() => out.push_back(StreamEvent::Text(text)),
                (Delta::InputJson { partial_json }, Some(Block::Tool { json, .. })) => json.push_str(&partial_json),
                (Delta::InputJson { .. }, _) => {
                    return Err(transport::malformed(NAME, "input_json_delta outside a tool_use block"));
                }
                _ => {}
            },
            Event::ContentBlockStop { index } => {
                if let Some(Block::Tool { id, name, json }) = self.blocks.remove(&index) {
                    let arguments = if json.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(&json).map_err(|e| {
                            transport::malformed(NAME, format!("tool input of `{name}` is not json: {e}"))
                        })?
                    };
                    self.saw_tool_call = true;
                    out.push_back(StreamEvent::ToolCall(ToolCall { id, name, arguments }));
                }
            }
            Event::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    self.stop = Some(stop_reason(&reason));
                }
                if let Some(usage) = usage {
                    self.add_usage(&usage);
                }
            }
            Event::MessageStop => {
                let fallback = if self.saw_tool_call { StopReason::ToolUse } else { StopReason::EndTurn };
                let stop = self.stop.unwrap_or(fallback);
                out.push_back(StreamEvent::Done { stop, usage: self.usage, model: self.model.take() });
                return Ok(true);
            }
            Event::Error => {
                let body: Value = serde_json::from_str(&frame.data).map_err(|e| transport::malformed(NAME, e))?;
                return Err(transport::in_stream_error(NAME, &body));
            }
            Event::Other => {}
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_results_join_the_next_user_turn_and_system_stays_top_level() {
        let call = ToolCall { id: "call_abc.1".into(), name: "lookup".into(), arguments: json!({"q": "x"}) };
        let request = ChatRequest {
            model: String::new(),
            system: "be brief".into(),
            messages: vec![
                Message::User { text: "hi".into() },
                Message::Assistant { text: String::new(), tool_calls: vec![call] },
                Message::Tool {
                    call_id: "call_abc.1".into(),
                    name: "lookup".into(),
                    content: "42".into(),
                    is_error: false,
                },
                Message::User { text: "thanks".into() },
            ],
            tools: Default::default(),
            max_tokens: 100,
            temperature: Some(0.7),
            knowledge: Default::default(),
            tool_choice: ToolChoice::Auto,
        };
        let body = body(&request, "claude-haiku");
        assert_eq!(body["model"], "claude-haiku");
        assert_eq!(body["system"], "be brief");
        assert_eq!(body["temperature"], 0.7);
        assert!(body.get("tool_choice").is_none());
        let messages = body["messages"].as_array().expect("messages");
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[1]["content"][0]["id"], "call_abc_1");
        assert_eq!(messages[2]["content"][0]["type"], "tool_result");
        assert_eq!(messages[2]["content"][0]["tool_use_id"], "call_abc_1");
        assert_eq!(messages[2]["content"][1], json!({"type": "text", "text": "thanks"}));
    }
}
