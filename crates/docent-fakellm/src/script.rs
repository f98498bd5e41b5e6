//! Playing a reply as a stream: a [`Cursor`] walks the reply as vendor-neutral [`Step`]s (start,
//! text chunk, tool call start / fragment / stop, finish, end, or a fault), and [`play`] turns the
//! steps into the response body lazily, so a connection costs a few words of state rather than a
//! pre-rendered body. Steps that are not delayed are coalesced into one write.

use std::{io, sync::Arc, time::Duration};

use axum::body::Bytes;
use futures::Stream;

use crate::{
    render::{Ctx, Vendor},
    reply::{Ending, ErrorKind, Part, Reply, ToolPart},
};

/// One thing the stream says, before any vendor shapes it.
pub(crate) enum Step<'a> {
    Begin,
    TextStart { block: usize },
    Text { block: usize, text: &'a str },
    TextStop { block: usize },
    ToolStart { block: usize, call: usize, tool: &'a ToolPart },
    ToolArgs { block: usize, call: usize, fragment: &'a str },
    ToolStop { block: usize },
    Finish,
    End,
    Cut,
    Malformed,
    Error(ErrorKind),
}

impl Step<'_> {
    fn is_content(&self) -> bool {
        matches!(self, Self::Text { .. } | Self::ToolArgs { .. })
    }
}

#[derive(Clone, Copy)]
enum Pos {
    Begin,
    /// `sub` 0 is the block start, 1..=n its chunks, n+1 its stop.
    Part {
        part: usize,
        sub: usize,
    },
    Finish,
    End,
    Done,
}

pub(crate) struct Cursor {
    pos: Pos,
    content_seen: usize,
    /// Tool calls started so far (a call's position among the reply's calls).
    calls: usize,
    ending: Ending,
}

impl Cursor {
    pub fn new(reply: &Reply) -> Self {
        let ending = match &reply.body {
            crate::reply::Body::Content { ending, .. } => *ending,
            crate::reply::Body::Error { .. } => Ending::Complete,
        };
        Self { pos: Pos::Begin, content_seen: 0, calls: 0, ending }
    }

    /// The step at the cursor, or `None` once the stream is over.
    pub fn current<'a>(&self, reply: &'a Reply) -> Option<Step<'a>> {
        let step = self.natural(reply)?;
        let fault_due = self.ending.after() == Some(self.content_seen);
        if fault_due && (step.is_content() || matches!(step, Step::Finish)) {
            return Some(match self.ending {
                Ending::Cut { .. } => Step::Cut,
                Ending::Malformed { .. } => Step::Malformed,
                Ending::Error { kind, .. } => Step::Error(kind),
                Ending::Complete => step,
            });
        }
        Some(step)
    }

    fn natural<'a>(&self, reply: &'a Reply) -> Option<Step<'a>> {
        Some(match self.pos {
            Pos::Begin => Step::Begin,
            Pos::Part { part, sub } => match reply.parts().get(part)? {
                Part::Text(chunks) => match sub {
                    0 => Step::TextStart { block: part },
                    s if s <= chunks.len() => Step::Text { block: part, text: &chunks[s - 1] },
                    _ => Step::TextStop { block: part },
                },
                Part::Tool(tool) => match sub {
                    0 => Step::ToolStart { block: part, call: self.calls, tool },
                    s if s <= tool.fragments.len() => {
                        Step::ToolArgs { block: part, call: self.calls - 1, fragment: tool.fragment(s - 1) }
                    }
                    _ => Step::ToolStop { block: part },
                },
            },
            Pos::Finish => Step::Finish,
            Pos::End => Step::End,
            Pos::Done => return None,
        })
    }

    pub fn advance(&mut self, reply: &Reply) {
        match self.current(reply) {
            Some(Step::Cut | Step::Malformed | Step::Error(_)) | None => {
                self.pos = Pos::Done;
                return;
            }
            Some(step) => {
                if step.is_content() {
                    self.content_seen += 1;
                }
                if matches!(step, Step::ToolStart { .. }) {
                    self.calls += 1;
                }
            }
        }
        self.pos = match self.pos {
            Pos::Begin if reply.parts().is_empty() => Pos::Finish,
            Pos::Begin => Pos::Part { part: 0, sub: 0 },
            Pos::Part { part, sub } => {
                let len = match reply.parts().get(part) {
                    Some(Part::Text(chunks)) => chunks.len(),
                    Some(Part::Tool(tool)) => tool.fragments.len(),
                    None => 0,
                };
                if sub <= len {
                    Pos::Part { part, sub: sub + 1 }
                } else if part + 1 < reply.parts().len() {
                    Pos::Part { part: part + 1, sub: 0 }
                } else {
                    Pos::Finish
                }
            }
            Pos::Finish => Pos::End,
            Pos::End | Pos::Done => Pos::Done,
        };
    }
}

#[derive(PartialEq, Eq)]
enum State {
    Running,
    /// Bytes before the cut went out; the next poll breaks the connection.
    CutNext,
    Over,
}

struct Playback {
    reply: Arc<Reply>,
    vendor: Vendor,
    ctx: Ctx,
    cursor: Cursor,
    sent_content: bool,
    state: State,
}

fn cut_error() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "stream cut by the script")
}

/// The response body of a streamed reply. A cut ends the body with an error, which makes hyper
/// drop the connection without the chunked terminator, as a real network cut would.
pub(crate) fn play(
    reply: Arc<Reply>,
    vendor: Vendor,
    ctx: Ctx,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    let cursor = Cursor::new(&reply);
    let playback = Playback { reply, vendor, ctx, cursor, sent_content: false, state: State::Running };
    futures::stream::unfold(playback, |mut p| async move {
        match p.state {
            State::Over => return None,
            State::CutNext => {
                // Let hyper flush the bytes before the cut: an error right behind them would
                // drop them from its write buffer.
                tokio::time::sleep(Duration::from_millis(5)).await;
                p.state = State::Over;
                return Some((Err(cut_error()), p));
            }
            State::Running => {}
        }
        let mut buf = Vec::new();
        while let Some(step) = p.cursor.current(&p.reply) {
            if let Step::Cut = step {
                if buf.is_empty() {
                    p.state = State::Over;
                    return Some((Err(cut_error()), p));
                }
                p.state = State::CutNext;
                return Some((Ok(Bytes::from(buf)), p));
            }
            let visible = step.is_content() && p.vendor.renders_fragment(&step);
            if visible && p.sent_content && p.reply.chunk_delay > Duration::ZERO {
                if !buf.is_empty() {
                    return Some((Ok(Bytes::from(buf)), p));
                }
                tokio::time::sleep(p.reply.chunk_delay).await;
            }
            p.sent_content |= visible;
            p.vendor.render(&p.ctx, &p.reply, &step, &mut buf);
            p.cursor.advance(&p.reply);
        }
        p.state = State::Over;
        if buf.is_empty() { None } else { Some((Ok(Bytes::from(buf)), p)) }
    })
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use futures::StreamExt;
    use serde_json::{Value, json};

    use super::*;

    async fn body_of(reply: Reply, vendor: Vendor, request: Value) -> (String, Option<io::Error>) {
        let reply = Arc::new(reply);
        let head = serde::Deserialize::deserialize(&request).unwrap();
        let ctx = Ctx::new(7, &head, 40, &reply);
        let mut stream = Box::pin(play(reply, vendor, ctx));
        let mut text = String::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
                Err(e) => return (text, Some(e)),
            }
        }
        (text, None)
    }

    fn sse_data(body: &str) -> Vec<(String, String)> {
        body.split("\n\n")
            .filter(|frame| !frame.is_empty())
            .map(|frame| {
                let event = frame.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("message");
                let data = frame.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or("");
                (event.to_owned(), data.to_owned())
            })
            .collect()
    }

    #[tokio::test]
    async fn anthropic_stream_follows_the_documented_event_order() {
        let reply = Reply::chunks(["Hi", " there"]).then_tool_call("get_weather", json!({"city": "Paris"}));
        let (body, err) = body_of(reply, Vendor::Anthropic, json!({"model": "claude"})).await;
        assert!(err.is_none());
        let events: Vec<String> = sse_data(&body).into_iter().map(|(e, _)| e).filter(|e| e != "ping").collect();
        let expected = [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ];
        assert_eq!(events, expected);
        let partial: String = sse_data(&body)
            .iter()
            .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
            .filter_map(|v| v.pointer("/delta/partial_json").and_then(Value::as_str).map(str::to_owned))
            .collect();
        assert_eq!(serde_json::from_str::<Value>(&partial).ok(), Some(json!({"city": "Paris"})));
        assert!(body.contains(r#""stop_reason":"tool_use""#));
    }

    #[tokio::test]
    async fn openai_stream_sends_argument_fragments_usage_and_done() {
        let reply = Reply::tool_call("lookup", json!({"q": "rust"})).with_arg_fragments(4);
        let request = json!({"model": "gpt", "stream_options": {"include_usage": true}});
        let (body, _) = body_of(reply, Vendor::OpenAi, request).await;
        let frames = sse_data(&body);
        assert_eq!(frames.last().map(|(_, d)| d.as_str()), Some("[DONE]"));
        let chunks: Vec<Value> = frames.iter().filter_map(|(_, d)| serde_json::from_str(d).ok()).collect();
        let args: String = chunks
            .iter()
            .filter_map(|c| c.pointer("/choices/0/delta/tool_calls/0/function/arguments")?.as_str().map(str::to_owned))
            .collect();
        assert_eq!(args, r#"{"q":"rust"}"#);
        assert!(chunks.iter().filter(|c| c.pointer("/choices/0/delta/tool_calls").is_some()).count() >= 4);
        assert!(chunks.last().and_then(|c| c.pointer("/usage/total_tokens")).is_some());
    }

    #[tokio::test]
    async fn mistral_stream_sends_each_tool_call_whole() {
        let reply = Reply::tool_call("lookup", json!({"q": "rust"}));
        let (body, _) = body_of(reply, Vendor::Mistral, json!({"model": "mistral-small"})).await;
        let chunks: Vec<Value> = sse_data(&body).iter().filter_map(|(_, d)| serde_json::from_str(d).ok()).collect();
        let with_calls: Vec<&Value> =
            chunks.iter().filter(|c| c.pointer("/choices/0/delta/tool_calls").is_some()).collect();
        assert_eq!(with_calls.len(), 1);
        let call = &with_calls[0]["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(call["function"]["arguments"], r#"{"q":"rust"}"#);
        assert_eq!(call["id"].as_str().map(str::len), Some(9));
        assert_eq!(with_calls[0]["choices"][0]["finish_reason"], "tool_calls");
    }

    #[tokio::test]
    async fn ollama_stream_is_ndjson_ending_with_done() {
        let reply = Reply::chunks(["a", "b"]).then_tool_call("f", json!({"x": 1}));
        let (body, _) = body_of(reply, Vendor::Ollama, json!({"model": "llama3.2"})).await;
        let lines: Vec<Value> = body.lines().map(serde_json::from_str).collect::<Result<_, _>>().expect("ndjson");
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[2]["message"]["tool_calls"][0]["function"]["arguments"], json!({"x": 1}));
        assert_eq!(lines[3]["done"], true);
        assert_eq!(lines[3]["done_reason"], "stop");
    }

    #[tokio::test]
    async fn a_cut_stream_ends_in_an_error_before_the_final_events() {
        let (body, err) = body_of(Reply::tokens(5, Duration::ZERO).cut_after(2), Vendor::Anthropic, json!({})).await;
        assert!(err.is_some());
        assert_eq!(body.matches("text_delta").count(), 2);
        assert!(!body.contains("message_stop"));
    }

    #[tokio::test]
    async fn an_in_stream_error_replaces_the_rest_of_the_stream() {
        let reply = Reply::tokens(5, Duration::ZERO).error_after(1, ErrorKind::Overloaded);
        let (body, err) = body_of(reply, Vendor::Anthropic, json!({})).await;
        assert!(err.is_none());
        let last = sse_data(&body).pop().expect("frames");
        assert_eq!(last.0, "error");
        assert!(last.1.contains("overloaded_error"));
    }

    #[tokio::test]
    async fn chunks_are_spaced_by_the_chunk_delay() {
        let started = Instant::now();
        let (body, _) = body_of(Reply::tokens(4, Duration::from_millis(25)), Vendor::Ollama, json!({})).await;
        assert!(started.elapsed() >= Duration::from_millis(75));
        assert_eq!(body.lines().count(), 5);
    }
}
