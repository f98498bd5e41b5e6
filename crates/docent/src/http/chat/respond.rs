//! The two response modes of a turn. The turn runs in its own task and reports through a
//! channel: JSON mode waits for the envelope; SSE mode forwards `{"text"}` chunks as they come,
//! then `{"done": true, …envelope}` or a final `{"error", "code"}`, with keep-alive comments on
//! long waits. When the client goes, the channel closes and the turn stops, keeping what was said.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use docent_agent::{AgentConfig, Envelope, TurnEvent, TurnFailure, TurnRequest};
use docent_llm::FaultClass;
use docent_store::Store;
use hyper::body::Frame;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};

use crate::http::error::ApiError;

/// How many events a turn may run ahead of its response: past it the turn waits, and the
/// model's reply waits in the model connection's stream window. A client reading slower than
/// the model makes every stream's queue full, so this is held for each of them.
const EVENTS_AHEAD: usize = 16;

/// The longest silence on an SSE stream before a keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A frame stops taking ready events past this size: a model faster than the client's
/// connection refills the channel while it is drained.
const FRAME_BYTES: usize = 16 * 1024;

/// What a turn that ended without a reply or a failure reports.
const NO_REPLY: &str = "The turn ended without a reply";

/// Spawns the turn at once and answers as it reports. Not an `async fn`, whose future would keep
/// the turn's request (moved into the task) for as long as a JSON answer is awaited.
pub fn respond(
    store: Arc<dyn Store>,
    config: AgentConfig,
    turn: TurnRequest,
    stream: bool,
) -> impl Future<Output = Response> + Send {
    let (tx, rx) = mpsc::channel(EVENTS_AHEAD);
    tokio::spawn(docent_agent::run_turn(store, config, turn, tx));
    async move { if stream { sse(rx) } else { json(rx).await } }
}

/// Status and code of a model failure.
fn failure(f: &TurnFailure) -> (StatusCode, &'static str) {
    match f.class {
        FaultClass::Caller => (StatusCode::BAD_GATEWAY, "llm_rejected"),
        FaultClass::Provider => (StatusCode::BAD_GATEWAY, "llm_unavailable"),
        FaultClass::RateLimited => (StatusCode::SERVICE_UNAVAILABLE, "llm_rate_limited"),
        FaultClass::Timeout => (StatusCode::GATEWAY_TIMEOUT, "llm_timeout"),
        FaultClass::Bug => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

fn failure_message(f: &TurnFailure) -> String {
    format!("The language model failed: {}", f.message)
}

async fn json(mut rx: mpsc::Receiver<TurnEvent>) -> Response {
    while let Some(event) = rx.recv().await {
        match event {
            TurnEvent::Text(_) => {}
            TurnEvent::Done(envelope) => return axum::Json(envelope).into_response(),
            TurnEvent::Failed(f) => {
                let (status, code) = failure(&f);
                return ApiError::new(status, code, failure_message(&f)).into_response();
            }
        }
    }
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", NO_REPLY).into_response()
}

fn sse(rx: mpsc::Receiver<TurnEvent>) -> Response {
    let mut response = Body::new(SseBody::new(rx)).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// Appends `event` as one SSE event (`data: <json>` and a blank line; JSON has no raw line
/// breaks, so one data line always holds it); `None` is a turn that ended without saying how.
/// Returns whether it was the stream's last.
fn write_event(buf: &mut Vec<u8>, event: Option<TurnEvent>) -> bool {
    #[derive(serde::Serialize)]
    struct Text<'a> {
        text: &'a str,
    }
    /// `{"done": true, …envelope}`, written from the envelope without a copy of it.
    #[derive(serde::Serialize)]
    struct Done<'a> {
        done: bool,
        #[serde(flatten)]
        envelope: &'a Envelope,
    }
    buf.extend_from_slice(b"data: ");
    let _ = match &event {
        Some(TurnEvent::Text(text)) => serde_json::to_writer(&mut *buf, &Text { text }),
        Some(TurnEvent::Done(envelope)) => serde_json::to_writer(&mut *buf, &Done { done: true, envelope }),
        Some(TurnEvent::Failed(f)) => {
            let (_, code) = failure(f);
            serde_json::to_writer(&mut *buf, &json!({"error": failure_message(f), "code": code}))
        }
        None => serde_json::to_writer(&mut *buf, &json!({"error": NO_REPLY, "code": "internal"})),
    };
    buf.extend_from_slice(b"\n\n");
    !matches!(event, Some(TurnEvent::Text(_)))
}

/// A streamed turn's body. Each frame holds every event the turn has ready when the connection
/// asks for the next: one while the client keeps up, several for a client (or a server) that
/// fell behind, which then costs one write and one buffer rather than one per token. A comment
/// keeps the connection alive after `KEEP_ALIVE` without an event; the timer is moved only when
/// it fires, not for every event.
struct SseBody {
    events: mpsc::Receiver<TurnEvent>,
    timer: Pin<Box<Sleep>>,
    last_sent: Instant,
    ended: bool,
}

impl SseBody {
    fn new(events: mpsc::Receiver<TurnEvent>) -> Self {
        let now = Instant::now();
        let timer = Box::pin(tokio::time::sleep_until(now + KEEP_ALIVE));
        Self { events, timer, last_sent: now, ended: false }
    }
}

impl hyper::body::Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(None);
        }
        let mut buf = Vec::new();
        while buf.len() < FRAME_BYTES {
            let Poll::Ready(event) = this.events.poll_recv(cx) else { break };
            if write_event(&mut buf, event) {
                this.ended = true;
                break;
            }
        }
        if !buf.is_empty() {
            this.last_sent = Instant::now();
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))));
        }
        while this.timer.as_mut().poll(cx).is_ready() {
            let due = this.last_sent + KEEP_ALIVE;
            let now = Instant::now();
            if now >= due {
                this.last_sent = now;
                this.timer.as_mut().reset(now + KEEP_ALIVE);
                return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b":\n\n")))));
            }
            this.timer.as_mut().reset(due);
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use hyper::body::Body as _;
    use serde_json::Value;

    use super::*;

    fn text(s: &str) -> TurnEvent {
        TurnEvent::Text(s.to_owned())
    }

    async fn next_frame(body: &mut SseBody) -> Option<String> {
        let frame = body.frame().await?.unwrap();
        Some(String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap())
    }

    #[tokio::test]
    async fn events_ready_together_leave_in_one_frame_in_their_order() {
        let (tx, rx) = mpsc::channel(EVENTS_AHEAD);
        let mut body = SseBody::new(rx);
        tx.send(text("one")).await.unwrap();
        assert_eq!(next_frame(&mut body).await.unwrap(), "data: {\"text\":\"one\"}\n\n");
        for t in ["two", "th\"ree\n"] {
            tx.send(text(t)).await.unwrap();
        }
        assert_eq!(
            next_frame(&mut body).await.unwrap(),
            "data: {\"text\":\"two\"}\n\ndata: {\"text\":\"th\\\"ree\\n\"}\n\n"
        );
        tx.send(text("four")).await.unwrap();
        let failure = TurnFailure { class: FaultClass::Timeout, message: "slow".into() };
        tx.send(TurnEvent::Failed(Box::new(failure))).await.unwrap();
        // Nothing is read past the last event.
        let _ = tx.try_send(text("after"));
        let last = next_frame(&mut body).await.unwrap();
        let events: Vec<&str> = last.split_terminator("\n\n").collect();
        assert_eq!(events[0], "data: {\"text\":\"four\"}");
        let error: Value = serde_json::from_str(events[1].strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(error, json!({"error": "The language model failed: slow", "code": "llm_timeout"}));
        assert_eq!(events.len(), 2);
        assert!(body.is_end_stream());
        assert!(next_frame(&mut body).await.is_none());
    }

    #[tokio::test]
    async fn a_frame_stops_taking_events_past_its_size() {
        let (tx, rx) = mpsc::channel(EVENTS_AHEAD);
        let mut body = SseBody::new(rx);
        let chunk = "x".repeat(2_000);
        for _ in 0..12 {
            tx.send(text(&chunk)).await.unwrap();
        }
        let first = next_frame(&mut body).await.unwrap();
        assert!((FRAME_BYTES..FRAME_BYTES + 2_100).contains(&first.len()), "{}", first.len());
        let second = next_frame(&mut body).await.unwrap();
        let events = first.matches("data: ").count() + second.matches("data: ").count();
        assert_eq!(events, 12);
        assert!(second.ends_with("\"}\n\n"));
    }

    #[tokio::test]
    async fn a_turn_that_ends_without_a_reply_says_so() {
        let (tx, rx) = mpsc::channel(EVENTS_AHEAD);
        let mut body = SseBody::new(rx);
        tx.send(text("partial")).await.unwrap();
        drop(tx);
        let frame = next_frame(&mut body).await.unwrap();
        assert!(frame.starts_with("data: {\"text\":\"partial\"}\n\ndata: {\"error\":"), "{frame}");
        assert!(frame.ends_with("\"code\":\"internal\"}\n\n"), "{frame}");
        assert!(next_frame(&mut body).await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_stream_gets_a_comment_after_the_interval_and_events_put_it_off() {
        let (tx, rx) = mpsc::channel(EVENTS_AHEAD);
        let mut body = SseBody::new(rx);
        let start = Instant::now();
        assert_eq!(next_frame(&mut body).await.unwrap(), ":\n\n");
        assert_eq!(start.elapsed(), Duration::from_secs(15));
        // An event 10 s later: the next comment comes 15 s after it, not after the last comment.
        let sender = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            tx.send(text("hi")).await.unwrap();
            tx
        });
        assert_eq!(next_frame(&mut body).await.unwrap(), "data: {\"text\":\"hi\"}\n\n");
        assert_eq!(start.elapsed(), Duration::from_secs(25));
        let _tx = sender.await.unwrap();
        assert_eq!(next_frame(&mut body).await.unwrap(), ":\n\n");
        assert_eq!(start.elapsed(), Duration::from_secs(40));
    }
}
