//! OpenAI Chat Completions wire format (wire-formats.md §2) and its Mistral flavor (§3):
//! data-only SSE chunks ending in `data: [DONE]`, tool call arguments in fragments keyed by
//! `index` (Mistral: whole calls in one chunk with `finish_reason` and `usage`), the
//! non-streaming completion, and each flavor's error body.

use serde_json::{Value, json};

use crate::{
    ErrorKind,
    render::{Ctx, Vendor, json_str, sse},
    reply::{Part, Reply},
    request::Head,
    script::Step,
};

fn finish_reason(reply: &Reply) -> &'static str {
    if reply.has_tool_calls() { "tool_calls" } else { "stop" }
}

fn completion_id(vendor: Vendor, ctx: &Ctx) -> String {
    match vendor {
        Vendor::Mistral => format!("{:032x}", ctx.serial),
        _ => format!("chatcmpl-fake{:016}", ctx.serial),
    }
}

/// One `data:` chunk: the common head plus `rest` (which starts with `"choices":`).
fn chunk(vendor: Vendor, ctx: &Ctx, rest: &str, out: &mut Vec<u8>) {
    let data = format!(
        r#"{{"id":"{}","object":"chat.completion.chunk","created":{},"model":{},{rest}}}"#,
        completion_id(vendor, ctx),
        ctx.created,
        ctx.model_json
    );
    sse(out, None, &data);
}

fn delta(vendor: Vendor, ctx: &Ctx, delta: &str, out: &mut Vec<u8>) {
    chunk(
        vendor,
        ctx,
        &format!(r#""choices":[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":null}}]"#),
        out,
    );
}

fn usage(ctx: &Ctx) -> Value {
    json!({"prompt_tokens": ctx.input_tokens, "completion_tokens": ctx.output_tokens,
           "total_tokens": ctx.input_tokens + ctx.output_tokens})
}

pub(crate) fn render(vendor: Vendor, ctx: &Ctx, reply: &Reply, step: &Step<'_>, out: &mut Vec<u8>) {
    let mistral = vendor == Vendor::Mistral;
    match *step {
        Step::Begin => {
            let text_first = matches!(reply.parts().first(), Some(Part::Text(_)));
            let content = if text_first || mistral { r#""""# } else { "null" };
            delta(vendor, ctx, &format!(r#"{{"role":"assistant","content":{content}}}"#), out);
        }
        Step::Text { text, .. } => delta(vendor, ctx, &format!(r#"{{"content":{}}}"#, json_str(text)), out),
        Step::ToolStart { call, tool, .. } if !mistral => {
            let calls = json!([{"index": call, "id": ctx.tool_id(vendor, call), "type": "function",
                                "function": {"name": tool.name, "arguments": ""}}]);
            delta(vendor, ctx, &format!(r#"{{"tool_calls":{calls}}}"#), out);
        }
        Step::ToolArgs { call, fragment, .. } if !mistral => {
            let calls = format!(r#"[{{"index":{call},"function":{{"arguments":{}}}}}]"#, json_str(fragment));
            delta(vendor, ctx, &format!(r#"{{"tool_calls":{calls}}}"#), out);
        }
        Step::Finish if mistral => {
            // Mistral: every call whole in one delta, with finish_reason and usage on that chunk.
            let calls: Vec<Value> = reply
                .tools()
                .enumerate()
                .map(|(i, tool)| {
                    json!({"id": ctx.tool_id(vendor, i), "type": "function", "index": i,
                           "function": {"name": tool.name, "arguments": tool.args_json}})
                })
                .collect();
            let delta = if calls.is_empty() { json!({"content": ""}) } else { json!({"tool_calls": calls}) };
            let choices = json!([{"index": 0, "delta": delta, "finish_reason": finish_reason(reply)}]);
            chunk(vendor, ctx, &format!(r#""choices":{choices},"usage":{}"#, usage(ctx)), out);
        }
        Step::Finish => {
            let rest = format!(
                r#""choices":[{{"index":0,"delta":{{}},"logprobs":null,"finish_reason":"{}"}}]"#,
                finish_reason(reply)
            );
            chunk(vendor, ctx, &rest, out);
            if ctx.include_usage {
                chunk(vendor, ctx, &format!(r#""choices":[],"usage":{}"#, usage(ctx)), out);
            }
        }
        Step::End => sse(out, None, "[DONE]"),
        Step::Error(kind) => sse(out, None, &vendor_error(vendor, kind, kind.default_status()).to_string()),
        Step::Malformed => {
            sse(out, None, r#"{"id":"chatcmpl-x","object":"chat.completion.chunk","choices":[{"index":0,"del"#)
        }
        _ => {}
    }
}

fn vendor_error(vendor: Vendor, kind: ErrorKind, status: u16) -> Value {
    if vendor == Vendor::Mistral { mistral_error_body(kind, status) } else { error_body(kind) }
}

/// The non-streaming response.
pub(crate) fn completion(vendor: Vendor, ctx: &Ctx, reply: &Reply) -> Value {
    let text = reply.full_text();
    let calls: Vec<Value> = reply
        .tools()
        .enumerate()
        .map(|(i, tool)| {
            json!({"id": ctx.tool_id(vendor, i), "type": "function",
                   "function": {"name": tool.name, "arguments": tool.args_json}})
        })
        .collect();
    let mut message = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { text.into() },
                             "refusal": null});
    if !calls.is_empty() {
        message["tool_calls"] = calls.into();
    }
    json!({
        "id": completion_id(vendor, ctx), "object": "chat.completion", "created": ctx.created,
        "model": ctx.model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish_reason(reply)}],
        "usage": usage(ctx),
    })
}

pub(crate) fn error_body(kind: ErrorKind) -> Value {
    let (kind_name, code) = match kind {
        ErrorKind::InvalidRequest => ("invalid_request_error", None),
        ErrorKind::Authentication => ("invalid_request_error", Some("invalid_api_key")),
        ErrorKind::Permission => ("invalid_request_error", Some("insufficient_permissions")),
        ErrorKind::NotFound => ("invalid_request_error", Some("model_not_found")),
        ErrorKind::RateLimited => ("requests", Some("rate_limit_exceeded")),
        ErrorKind::QuotaExceeded => ("insufficient_quota", Some("insufficient_quota")),
        ErrorKind::Overloaded | ErrorKind::Server => ("server_error", None),
        ErrorKind::Timeout => ("server_error", Some("timeout")),
    };
    json!({"error": {"message": kind.message(), "type": kind_name, "param": null, "code": code}})
}

pub(crate) fn mistral_error_body(kind: ErrorKind, status: u16) -> Value {
    let (kind_name, code) = match kind {
        ErrorKind::RateLimited | ErrorKind::QuotaExceeded => ("rate_limited", Some("1300")),
        ErrorKind::Overloaded | ErrorKind::Server | ErrorKind::Timeout => ("internal_server_error", None),
        _ => ("invalid_request_error", None),
    };
    json!({"object": "error", "message": kind.message(), "type": kind_name, "param": null, "code": code,
           "raw_status_code": status})
}

fn mistral_id_ok(id: &str) -> bool {
    id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Validation the real API would do before answering: `(status, message)` on failure.
pub(crate) fn check(vendor: Vendor, body: &Head<'_>) -> Result<(), (u16, String)> {
    if let Some(field) =
        crate::request::first_absent([("model", body.model.is_some()), ("messages", body.messages.is_some())])
    {
        return Err((400, format!("you must provide a {field} parameter")));
    }
    if vendor != Vendor::Mistral {
        return Ok(());
    }
    if body.max_completion_tokens.is_some() {
        return Err((422, "max_completion_tokens: Extra inputs are not permitted".into()));
    }
    let mut ids = Vec::new();
    for message in body.messages() {
        if let Some(id) = message.tool_call_id.as_deref() {
            ids.push(id);
        }
        for call in message.tool_calls.as_deref().unwrap_or_default() {
            ids.push(call.id.as_deref().unwrap_or(""));
        }
    }
    match ids.into_iter().find(|id| !mistral_id_ok(id)) {
        Some(bad) => Err((400, format!("Tool call id was {bad} but must be a-z, A-Z, 0-9, with a length of 9."))),
        None => Ok(()),
    }
}
