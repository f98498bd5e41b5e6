//! The per-response context shared by the three wire renderers, and [`Vendor`], which dispatches
//! a [`Step`] to the right one.

use std::io::Write;

use serde_json::Value;

use crate::{anthropic, ollama, openai, reply::Reply, script::Step};

/// Which wire format a response is rendered in. `Mistral` is a flavor of the OpenAI endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Vendor {
    Anthropic,
    OpenAi,
    Mistral,
    Ollama,
}

/// What a response needs to know about its request.
pub(crate) struct Ctx {
    /// Unique per response; tool call and message ids derive from it.
    pub serial: u64,
    /// The request's model, and the same already JSON-quoted.
    pub model: String,
    pub model_json: String,
    pub created: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// OpenAI: the request asked for `stream_options.include_usage`.
    pub include_usage: bool,
}

impl Ctx {
    pub fn new(serial: u64, request: &crate::request::Head<'_>, request_len: usize, reply: &Reply) -> Self {
        let model = request.model().unwrap_or("fake-model");
        let created =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        let (input_tokens, output_tokens) =
            reply.usage.unwrap_or(((request_len / 4) as u64, reply.content_chunks() as u64));
        let include_usage = request.include_usage();
        Self {
            serial,
            model: model.to_owned(),
            model_json: json_str(model),
            created,
            input_tokens,
            output_tokens,
            include_usage,
        }
    }

    /// A tool call id in the vendor's usual shape; stable for a given response and call.
    pub fn tool_id(&self, vendor: Vendor, call: usize) -> String {
        let n = self.serial * 100 + call as u64;
        match vendor {
            Vendor::Anthropic => format!("toolu_01fake{n:012}"),
            Vendor::OpenAi => format!("call_fake{n:015}"),
            // Mistral insists on exactly 9 characters of [a-zA-Z0-9].
            Vendor::Mistral => digits(n, 9, b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            Vendor::Ollama => format!("call_{}", digits(n, 8, b"0123456789abcdefghijklmnopqrstuvwxyz")),
        }
    }
}

/// `n` written in the given alphabet, left-padded to `len` characters.
fn digits(mut n: u64, len: usize, alphabet: &[u8]) -> String {
    let base = alphabet.len() as u64;
    let mut out = vec![alphabet[0]; len];
    for slot in out.iter_mut().rev() {
        *slot = alphabet[(n % base) as usize];
        n /= base;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// `s` as a JSON string literal, quotes included.
pub(crate) fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Appends one SSE event (`event:` line only when named) to `out`.
pub(crate) fn sse(out: &mut Vec<u8>, event: Option<&str>, data: &str) {
    if let Some(event) = event {
        let _ = writeln!(out, "event: {event}");
    }
    let _ = write!(out, "data: {data}\n\n");
}

impl Vendor {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Ollama => "application/x-ndjson",
            _ => "text/event-stream",
        }
    }

    /// Whether argument fragments reach the wire one by one (Ollama and Mistral send whole calls).
    pub fn renders_fragment(self, step: &Step<'_>) -> bool {
        match step {
            Step::ToolArgs { .. } => matches!(self, Self::Anthropic | Self::OpenAi),
            _ => true,
        }
    }

    pub fn render(self, ctx: &Ctx, reply: &Reply, step: &Step<'_>, out: &mut Vec<u8>) {
        match self {
            Self::Anthropic => anthropic::render(ctx, reply, step, out),
            Self::OpenAi | Self::Mistral => openai::render(self, ctx, reply, step, out),
            Self::Ollama => ollama::render(ctx, reply, step, out),
        }
    }

    /// The whole answer as one JSON document (requests with `"stream": false`).
    pub fn json_body(self, ctx: &Ctx, reply: &Reply) -> Value {
        match self {
            Self::Anthropic => anthropic::message(ctx, reply),
            Self::OpenAi | Self::Mistral => openai::completion(self, ctx, reply),
            Self::Ollama => ollama::final_line(ctx, reply, true),
        }
    }

    pub fn error_body(self, kind: crate::ErrorKind, status: u16) -> Value {
        match self {
            Self::Anthropic => anthropic::error_body(kind),
            Self::OpenAi => openai::error_body(kind),
            Self::Mistral => openai::mistral_error_body(kind, status),
            Self::Ollama => ollama::error_body(kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistral_tool_ids_are_nine_alphanumerics() {
        let ctx = Ctx::new(123_456, &Default::default(), 0, &Reply::text("x"));
        let id = ctx.tool_id(Vendor::Mistral, 3);
        assert_eq!(id.len(), 9);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(id, ctx.tool_id(Vendor::Mistral, 4));
    }
}
