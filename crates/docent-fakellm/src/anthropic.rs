//! Anthropic Messages wire format (wire-formats.md §1): the SSE event sequence
//! (`message_start` … `message_stop`, with `ping`s and `input_json_delta` fragments), the
//! non-streaming message, and the `{"type":"error","error":{…}}` body, also sent in-stream.

use serde_json::{Value, json};

use crate::{
    ErrorKind,
    render::{Ctx, Vendor, json_str, sse},
    reply::{Part, Reply},
    script::Step,
};

fn stop_reason(reply: &Reply) -> &'static str {
    if reply.has_tool_calls() { "tool_use" } else { "end_turn" }
}

pub(crate) fn render(ctx: &Ctx, reply: &Reply, step: &Step<'_>, out: &mut Vec<u8>) {
    match *step {
        Step::Begin => {
            let start = json!({
                "type": "message_start",
                "message": {
                    "id": format!("msg_01fake{:016}", ctx.serial),
                    "type": "message", "role": "assistant",
                    "model": ctx.model,
                    "content": [], "stop_reason": null, "stop_sequence": null,
                    "usage": {"input_tokens": ctx.input_tokens, "cache_creation_input_tokens": 0,
                              "cache_read_input_tokens": 0, "output_tokens": 1},
                },
            });
            sse(out, Some("message_start"), &start.to_string());
            // Real streams interleave pings; the recorded one has a space after the colon.
            sse(out, Some("ping"), r#"{"type": "ping"}"#);
        }
        Step::TextStart { block } => {
            let data = format!(
                r#"{{"type":"content_block_start","index":{block},"content_block":{{"type":"text","text":""}}}}"#
            );
            sse(out, Some("content_block_start"), &data);
        }
        Step::Text { block, text } => {
            let data = format!(
                r#"{{"type":"content_block_delta","index":{block},"delta":{{"type":"text_delta","text":{}}}}}"#,
                json_str(text)
            );
            sse(out, Some("content_block_delta"), &data);
        }
        Step::TextStop { block } | Step::ToolStop { block } => {
            sse(out, Some("content_block_stop"), &format!(r#"{{"type":"content_block_stop","index":{block}}}"#));
        }
        Step::ToolStart { block, call, tool } => {
            let start = json!({
                "type": "content_block_start", "index": block,
                "content_block": {"type": "tool_use", "id": ctx.tool_id(Vendor::Anthropic, call),
                                  "name": tool.name, "caller": {"type": "direct"}, "input": {}},
            });
            sse(out, Some("content_block_start"), &start.to_string());
            input_json_delta(out, block, "");
        }
        Step::ToolArgs { block, fragment, .. } => input_json_delta(out, block, fragment),
        Step::Finish => {
            let delta = json!({
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason(reply), "stop_sequence": null},
                "usage": {"output_tokens": ctx.output_tokens},
            });
            sse(out, Some("message_delta"), &delta.to_string());
        }
        Step::End => sse(out, Some("message_stop"), r#"{"type":"message_stop"}"#),
        Step::Error(kind) => {
            let mut body = error_body(kind);
            if let Some(obj) = body.as_object_mut() {
                obj.remove("request_id");
            }
            sse(out, Some("error"), &body.to_string());
        }
        Step::Malformed => sse(
            out,
            Some("content_block_delta"),
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_del"#,
        ),
        Step::Cut => {}
    }
}

fn input_json_delta(out: &mut Vec<u8>, block: usize, fragment: &str) {
    let data = format!(
        r#"{{"type":"content_block_delta","index":{block},"delta":{{"type":"input_json_delta","partial_json":{}}}}}"#,
        json_str(fragment)
    );
    sse(out, Some("content_block_delta"), &data);
}

/// The non-streaming response.
pub(crate) fn message(ctx: &Ctx, reply: &Reply) -> Value {
    let mut calls = 0;
    let content: Vec<Value> = reply
        .parts()
        .iter()
        .map(|part| match part {
            Part::Text(chunks) => json!({"type": "text", "text": chunks.concat()}),
            Part::Tool(tool) => {
                calls += 1;
                json!({"type": "tool_use", "id": ctx.tool_id(Vendor::Anthropic, calls - 1), "name": tool.name,
                       "input": tool.args, "caller": {"type": "direct"}})
            }
        })
        .collect();
    json!({
        "id": format!("msg_01fake{:016}", ctx.serial),
        "type": "message", "role": "assistant",
        "model": ctx.model,
        "content": content,
        "stop_reason": stop_reason(reply), "stop_sequence": null,
        "usage": {"input_tokens": ctx.input_tokens, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "output_tokens": ctx.output_tokens},
    })
}

pub(crate) fn error_body(kind: ErrorKind) -> Value {
    let kind_name = match kind {
        ErrorKind::InvalidRequest => "invalid_request_error",
        ErrorKind::Authentication => "authentication_error",
        ErrorKind::Permission => "permission_error",
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::RateLimited => "rate_limit_error",
        ErrorKind::QuotaExceeded => "billing_error",
        ErrorKind::Overloaded => "overloaded_error",
        ErrorKind::Server => "api_error",
        ErrorKind::Timeout => "timeout_error",
    };
    json!({"type": "error", "error": {"type": kind_name, "message": kind.message()},
           "request_id": "req_011fake"})
}

/// Validation the real API would do before answering.
pub(crate) fn check(body: &crate::request::Head<'_>) -> Result<(), String> {
    let fields = [
        ("model", body.model.is_some()),
        ("max_tokens", body.max_tokens.is_some()),
        ("messages", body.messages.is_some()),
    ];
    match crate::request::first_absent(fields) {
        Some(field) => Err(format!("{field}: Field required")),
        None => Ok(()),
    }
}
