//! Ollama native chat client (wire-formats.md §4): `POST /api/chat`, the system prompt as the
//! first message, `tool_calls` with object arguments and `role: tool` results, and an NDJSON
//! stream whose tool calls arrive whole on any line, the `done: true` one included.

use std::collections::VecDeque;

use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    ChatRequest, LlmError, LlmProvider, LlmStream, Message, StopReason, StreamEvent, ToolCall, ToolChoice, Usage,
    config::Target,
    decode::{self, Decoder, Frame},
    generated_call_id, ndjson, transport,
};

const NAME: &str = "ollama";

pub(crate) struct Ollama {
    target: Target,
}

impl Ollama {
    pub fn new(target: Target) -> Self {
        Self { target }
    }
}

#[async_trait::async_trait]
impl LlmProvider for Ollama {
    fn name(&self) -> &str {
        NAME
    }

    async fn stream(&self, request: &ChatRequest) -> Result<LlmStream, LlmError> {
        let t = &self.target;
        let mut builder = t.post().json(&body(request, &t.model));
        // Local Ollama needs no key; hosted or proxied ones take a bearer token.
        if let Some(key) = &t.api_key {
            builder = builder.header(AUTHORIZATION, transport::secret_header(NAME, &format!("Bearer {key}"))?);
        }
        let response = transport::send(NAME, builder, t.timeout).await?;
        Ok(decode::events(NAME, ndjson::frames(NAME, response), StreamDecoder::default(), t.timeout))
    }
}

pub(crate) fn body(request: &ChatRequest, model: &str) -> Value {
    let mut options = json!({"num_predict": request.max_tokens});
    if let Some(t) = request.temperature_json() {
        options["temperature"] = t;
    }
    let mut body = json!({
        "model": request.model_or(model),
        "messages": messages(request),
        "stream": true,
        "options": options,
    });
    // Ollama has no tool_choice; "none" is honoured by not offering the tools.
    if !request.tools.is_empty() && request.tool_choice != ToolChoice::None {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function",
                       "function": {"name": t.name, "description": t.description, "parameters": t.input_schema}})
            })
            .collect();
        body["tools"] = tools.into();
    }
    body
}

fn messages(request: &ChatRequest) -> Vec<Value> {
    let system = (!request.system.is_empty()).then(|| json!({"role": "system", "content": request.system}));
    let rest = request.messages.iter().map(|message| match message {
        Message::User { text } => json!({"role": "user", "content": text}),
        Message::Assistant { text, tool_calls } => {
            let mut turn = json!({"role": "assistant", "content": text});
            if !tool_calls.is_empty() {
                let calls: Vec<Value> = tool_calls
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        json!({"id": c.id, "type": "function",
                               "function": {"index": i, "name": c.name, "arguments": c.arguments}})
                    })
                    .collect();
                turn["tool_calls"] = calls.into();
            }
            turn
        }
        Message::Tool { call_id, name, content, is_error } => {
            let content = if *is_error { format!("error: {content}") } else { content.clone() };
            json!({"role": "tool", "tool_name": name, "tool_call_id": call_id, "content": content})
        }
    });
    system.into_iter().chain(rest).collect()
}

#[derive(Deserialize)]
struct Line {
    model: Option<String>,
    message: Option<LineMessage>,
    #[serde(default)]
    done: bool,
    done_reason: Option<String>,
    prompt_eval_count: Option<u64>,
    eval_count: Option<u64>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct LineMessage {
    content: Option<String>,
    tool_calls: Option<Vec<WireCall>>,
}

#[derive(Deserialize)]
struct WireCall {
    id: Option<String>,
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireFunction {
    name: String,
    /// An object; a string is tolerated from proxies that re-encode it.
    #[serde(default)]
    arguments: Value,
}

#[derive(Default)]
pub(crate) struct StreamDecoder {
    model: Option<String>,
    saw_tool_call: bool,
}

fn arguments(call: &WireFunction) -> Result<Value, LlmError> {
    match &call.arguments {
        Value::Null => Ok(json!({})),
        Value::String(s) if s.trim().is_empty() => Ok(json!({})),
        Value::String(s) => serde_json::from_str(s)
            .map_err(|e| transport::malformed(NAME, format!("arguments of `{}` are not json: {e}", call.name))),
        other => Ok(other.clone()),
    }
}

impl Decoder for StreamDecoder {
    fn decode(&mut self, frame: Frame, out: &mut VecDeque<StreamEvent>) -> Result<bool, LlmError> {
        let line: Line = serde_json::from_str(&frame.data).map_err(|e| transport::malformed(NAME, e))?;
        if let Some(error) = line.error {
            return Err(transport::in_stream_error(NAME, &json!({"error": error})));
        }
        if self.model.is_none() {
            self.model = line.model;
        }
        if let Some(message) = line.message {
            if let Some(text) = message.content.filter(|t| !t.is_empty()) {
                out.push_back(StreamEvent::Text(text));
            }
            for call in message.tool_calls.unwrap_or_default() {
                let arguments = arguments(&call.function)?;
                let id = call.id.filter(|id| !id.is_empty()).unwrap_or_else(generated_call_id);
                self.saw_tool_call = true;
                out.push_back(StreamEvent::ToolCall(ToolCall { id, name: call.function.name, arguments }));
            }
        }
        if !line.done {
            return Ok(false);
        }
        // Ollama reports "stop" after a tool call too; it has no tool reason of its own.
        let stop = match line.done_reason.as_deref() {
            Some("length") => StopReason::MaxTokens,
            _ if self.saw_tool_call => StopReason::ToolUse,
            Some("stop") | None => StopReason::EndTurn,
            Some(_) => StopReason::Other,
        };
        let usage = Usage {
            input_tokens: line.prompt_eval_count.unwrap_or_default(),
            output_tokens: line.eval_count.unwrap_or_default(),
        };
        out.push_back(StreamEvent::Done { stop, usage, model: self.model.take() });
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_call_on_the_done_line_is_not_lost() {
        let mut decoder = StreamDecoder::default();
        let mut out = VecDeque::new();
        let call = json!({"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}});
        let data = json!({
            "model": "llama3.2", "message": {"role": "assistant", "content": "", "tool_calls": [call]},
            "done_reason": "stop", "done": true, "prompt_eval_count": 169, "eval_count": 15,
        });
        let done = decoder.decode(Frame { data: data.to_string() }, &mut out).expect("decodes");
        assert!(done);
        let Some(StreamEvent::ToolCall(call)) = out.pop_front() else { panic!("no tool call: {out:?}") };
        assert_eq!(call.arguments, json!({"city": "Tokyo"}));
        assert!(call.id.starts_with("call_"));
        let usage = Usage { input_tokens: 169, output_tokens: 15 };
        assert_eq!(
            out.pop_front(),
            Some(StreamEvent::Done { stop: StopReason::ToolUse, usage, model: Some("llama3.2".into()) })
        );
    }
}
