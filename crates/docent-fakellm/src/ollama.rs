//! Ollama native `/api/chat` wire format (wire-formats.md §4): NDJSON lines, tool calls whole
//! with object arguments, a last `done: true` line with the metrics, and `{"error": "…"}`
//! bodies (also as a line mid-stream, status 200).

use std::io::Write;

use serde_json::{Value, json};

use crate::{
    ErrorKind,
    render::{Ctx, Vendor, json_str},
    reply::{Reply, ToolPart},
    script::Step,
};

/// Ollama's `created_at`; clients do not read it, so a fixed RFC 3339 value with nanoseconds.
const CREATED_AT: &str = "2026-01-01T00:00:00.000000000Z";

fn line(out: &mut Vec<u8>, value: &Value) {
    let _ = writeln!(out, "{value}");
}

fn tool_call(ctx: &Ctx, call: usize, tool: &ToolPart) -> Value {
    json!({"id": ctx.tool_id(Vendor::Ollama, call),
           "function": {"index": call, "name": tool.name, "arguments": tool.args}})
}

pub(crate) fn render(ctx: &Ctx, reply: &Reply, step: &Step<'_>, out: &mut Vec<u8>) {
    match *step {
        Step::Text { text, .. } => {
            let _ = writeln!(
                out,
                r#"{{"model":{},"created_at":"{CREATED_AT}","message":{{"role":"assistant","content":{}}},"done":false}}"#,
                ctx.model_json,
                json_str(text)
            );
        }
        Step::ToolStart { call, tool, .. } => {
            let message = json!({"role": "assistant", "content": "", "tool_calls": [tool_call(ctx, call, tool)]});
            let value = json!({"model": ctx.model, "created_at": CREATED_AT, "message": message, "done": false});
            line(out, &value);
        }
        Step::Finish => line(out, &final_line(ctx, reply, false)),
        Step::Error(kind) => line(out, &error_body(kind)),
        Step::Malformed => out.extend_from_slice(b"{\"model\":\"x\",\"message\":{\"role\":\"assis\n"),
        _ => {}
    }
}

/// The `done: true` object: the last NDJSON line, or (with `whole`) the non-streaming answer.
pub(crate) fn final_line(ctx: &Ctx, reply: &Reply, whole: bool) -> Value {
    let mut message = json!({"role": "assistant", "content": if whole { reply.full_text() } else { String::new() }});
    if whole && reply.has_tool_calls() {
        message["tool_calls"] = reply.tools().enumerate().map(|(i, t)| tool_call(ctx, i, t)).collect();
    }
    json!({
        "model": ctx.model, "created_at": CREATED_AT, "message": message,
        "done_reason": "stop", "done": true,
        "total_duration": 182_242_375u64, "load_duration": 41_295_167u64,
        "prompt_eval_count": ctx.input_tokens, "prompt_eval_duration": 24_573_166u64,
        "eval_count": ctx.output_tokens, "eval_duration": 115_959_084u64,
    })
}

pub(crate) fn error_body(kind: ErrorKind) -> Value {
    json!({"error": kind.message()})
}

/// Validation the real server would do before answering.
pub(crate) fn check(body: &crate::request::Head<'_>) -> Result<(), String> {
    if body.model().is_none_or(str::is_empty) {
        return Err("model is required".into());
    }
    Ok(())
}
