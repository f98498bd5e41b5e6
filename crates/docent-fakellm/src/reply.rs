//! What the fake answers: a vendor-neutral [`Reply`] (text chunks, tool calls, an HTTP error,
//! or a stream that breaks part-way) with latency knobs. Each endpoint renders the same reply in
//! its own wire format, so one script drives all three.

use std::time::Duration;

use serde_json::Value;

/// A vendor error kind; each endpoint renders it with its own error body shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidRequest,
    Authentication,
    Permission,
    NotFound,
    /// Retryable rate limit (OpenAI code `rate_limit_exceeded`).
    RateLimited,
    /// Billing quota exhausted: a 429 that must not be retried (OpenAI `insufficient_quota`).
    QuotaExceeded,
    /// Anthropic's `overloaded_error`.
    Overloaded,
    Server,
    Timeout,
}

impl ErrorKind {
    /// The status each kind usually comes with (529 for `Overloaded`, as Anthropic sends it).
    pub fn default_status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Authentication => 401,
            Self::Permission => 403,
            Self::NotFound => 404,
            Self::RateLimited | Self::QuotaExceeded => 429,
            Self::Overloaded => 529,
            Self::Server => 500,
            Self::Timeout => 504,
        }
    }

    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid request",
            Self::Authentication => "invalid x-api-key",
            Self::Permission => "your API key does not have permission to use the specified resource",
            Self::NotFound => "model not found",
            Self::RateLimited => "rate limit exceeded, please try again later",
            Self::QuotaExceeded => "you exceeded your current quota, please check your plan and billing details",
            Self::Overloaded => "Overloaded",
            Self::Server => "internal server error",
            Self::Timeout => "request timed out",
        }
    }
}

/// One block of a reply's content.
#[derive(Clone, Debug)]
pub(crate) enum Part {
    Text(Vec<String>),
    Tool(ToolPart),
}

#[derive(Clone, Debug)]
pub(crate) struct ToolPart {
    pub name: String,
    pub args: Value,
    /// `args` serialized once; the fragments are byte ranges into it.
    pub args_json: String,
    pub fragments: Vec<(usize, usize)>,
}

impl ToolPart {
    pub fn fragment(&self, i: usize) -> &str {
        self.fragments.get(i).and_then(|&(a, b)| self.args_json.get(a..b)).unwrap_or("")
    }
}

/// How a streamed reply ends after `after` content chunks (text chunks and argument fragments).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    Complete,
    /// The connection is closed without the final events.
    Cut {
        after: usize,
    },
    /// A frame that is not valid JSON, then a clean end of the body.
    Malformed {
        after: usize,
    },
    /// The vendor's in-stream error (Anthropic `event: error`, an Ollama `{"error"}` line…).
    Error {
        after: usize,
        kind: ErrorKind,
    },
}

impl Ending {
    pub fn after(self) -> Option<usize> {
        match self {
            Self::Complete => None,
            Self::Cut { after } | Self::Malformed { after } | Self::Error { after, .. } => Some(after),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Body {
    Content { parts: Vec<Part>, ending: Ending },
    Error { status: u16, kind: ErrorKind },
}

/// A scripted answer. Build with the constructors, adjust with the `with_*` knobs:
///
/// ```
/// # use docent_fakellm::{Reply, ErrorKind};
/// # use std::time::Duration;
/// let text = Reply::chunks(["Hel", "lo"]).with_chunk_delay(Duration::from_millis(5));
/// let tool = Reply::text("Let me check.").then_tool_call("get_weather", serde_json::json!({"city": "Paris"}));
/// let busy = Reply::error(529, ErrorKind::Overloaded);
/// let cut = Reply::tokens(10, Duration::ZERO).cut_after(3);
/// ```
#[derive(Clone, Debug)]
pub struct Reply {
    pub(crate) body: Body,
    pub(crate) ttfb: Duration,
    pub(crate) chunk_delay: Duration,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) usage: Option<(u64, u64)>,
}

const DEFAULT_ARG_FRAGMENTS: usize = 3;

impl Reply {
    fn content(parts: Vec<Part>) -> Self {
        Self {
            body: Body::Content { parts, ending: Ending::Complete },
            ttfb: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            retry_after: None,
            usage: None,
        }
    }

    /// A text answer in one chunk.
    pub fn text(text: impl Into<String>) -> Self {
        Self::content(vec![Part::Text(vec![text.into()])])
    }

    /// A text answer streamed as the given chunks, in order.
    pub fn chunks<I, S>(chunks: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::content(vec![Part::Text(chunks.into_iter().map(Into::into).collect())])
    }

    /// `n` text chunks (`"t0 "`, `"t1 "`, …) sent `gap` apart: the benchmark's token stream.
    pub fn tokens(n: usize, gap: Duration) -> Self {
        Self::chunks((0..n).map(|i| format!("t{i} "))).with_chunk_delay(gap)
    }

    /// A tool call with no text before it; the arguments stream in several fragments.
    pub fn tool_call(name: impl Into<String>, args: Value) -> Self {
        Self::content(Vec::new()).then_tool_call(name, args)
    }

    /// Appends a tool call (after any text or earlier calls: parallel calls are several of these).
    pub fn then_tool_call(mut self, name: impl Into<String>, args: Value) -> Self {
        if let Body::Content { parts, .. } = &mut self.body {
            let args_json = args.to_string();
            let fragments = split(&args_json, DEFAULT_ARG_FRAGMENTS);
            parts.push(Part::Tool(ToolPart { name: name.into(), args, args_json, fragments }));
        }
        self
    }

    /// Splits every tool call's arguments into `n` fragments (at least one).
    pub fn with_arg_fragments(mut self, n: usize) -> Self {
        if let Body::Content { parts, .. } = &mut self.body {
            for part in parts {
                if let Part::Tool(tool) = part {
                    tool.fragments = split(&tool.args_json, n.max(1));
                }
            }
        }
        self
    }

    /// An HTTP error with the vendor's error body for `kind`.
    pub fn error(status: u16, kind: ErrorKind) -> Self {
        Self { body: Body::Error { status, kind }, ..Self::content(Vec::new()) }
    }

    /// 529 `overloaded_error` (Anthropic's "try again later").
    pub fn overloaded() -> Self {
        Self::error(529, ErrorKind::Overloaded)
    }

    /// 429 with a `retry-after` header (whole seconds, rounded up).
    pub fn rate_limited(retry_after: Duration) -> Self {
        Self::error(429, ErrorKind::RateLimited).with_retry_after(retry_after)
    }

    /// A stream that starts, sends `after` content chunks, then loses its connection.
    pub fn cut_after(self, after: usize) -> Self {
        self.ending(Ending::Cut { after })
    }

    /// A stream that sends `after` content chunks, then a frame that is not JSON.
    pub fn malformed_after(self, after: usize) -> Self {
        self.ending(Ending::Malformed { after })
    }

    /// A stream (HTTP 200) that sends `after` content chunks, then the vendor's in-stream error.
    pub fn error_after(self, after: usize, kind: ErrorKind) -> Self {
        self.ending(Ending::Error { after, kind })
    }

    fn ending(mut self, new: Ending) -> Self {
        if let Body::Content { ending, .. } = &mut self.body {
            *ending = new;
        }
        self
    }

    /// Waits this long before sending the status line and headers.
    pub fn with_ttfb(mut self, ttfb: Duration) -> Self {
        self.ttfb = ttfb;
        self
    }

    /// Waits this long before each content chunk but the first.
    pub fn with_chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }

    /// Adds a `retry-after` header to an error response.
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = Some(retry_after);
        self
    }

    /// Reports these token counts instead of the estimate (request bytes / 4, one per chunk).
    pub fn with_usage(mut self, input_tokens: u64, output_tokens: u64) -> Self {
        self.usage = Some((input_tokens, output_tokens));
        self
    }

    pub(crate) fn parts(&self) -> &[Part] {
        match &self.body {
            Body::Content { parts, .. } => parts,
            Body::Error { .. } => &[],
        }
    }

    pub(crate) fn has_tool_calls(&self) -> bool {
        self.parts().iter().any(|p| matches!(p, Part::Tool(_)))
    }

    pub(crate) fn full_text(&self) -> String {
        let mut out = String::new();
        for part in self.parts() {
            if let Part::Text(chunks) = part {
                chunks.iter().for_each(|c| out.push_str(c));
            }
        }
        out
    }

    pub(crate) fn tools(&self) -> impl Iterator<Item = &ToolPart> {
        self.parts().iter().filter_map(|p| match p {
            Part::Tool(t) => Some(t),
            Part::Text(_) => None,
        })
    }

    pub(crate) fn content_chunks(&self) -> usize {
        self.parts()
            .iter()
            .map(|p| match p {
                Part::Text(chunks) => chunks.len(),
                Part::Tool(t) => t.fragments.len(),
            })
            .sum()
    }
}

/// Splits `s` into `n` pieces of about equal length, on char boundaries.
fn split(s: &str, n: usize) -> Vec<(usize, usize)> {
    let target = s.len().div_ceil(n.max(1)).max(1);
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    while start < s.len() {
        let mut end = (start + target).min(s.len());
        while !s.is_char_boundary(end) {
            end += 1;
        }
        out.push((start, end));
        start = end;
    }
    if out.is_empty() {
        out.push((0, 0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_into_fragments_that_join_back() {
        let reply = Reply::tool_call("f", serde_json::json!({"city": "Zürich", "n": 12345})).with_arg_fragments(4);
        let tool = reply.tools().next().expect("a tool call");
        let joined: String = (0..tool.fragments.len()).map(|i| tool.fragment(i)).collect();
        assert_eq!(joined, tool.args_json);
        assert!(tool.fragments.len() >= 3);
    }
}
