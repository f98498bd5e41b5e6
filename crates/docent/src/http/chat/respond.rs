//! The two response modes of a turn. The turn runs in its own task and reports through a
//! channel: JSON mode waits for the envelope; SSE mode forwards `{"text"}` chunks as they come,
//! then `{"done": true, …envelope}` or a final `{"error", "code"}`, with keep-alive comments on
//! long waits. When the client goes, the channel closes and the turn stops, keeping what was said.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use docent_agent::{AgentConfig, TurnEvent, TurnFailure, TurnRequest};
use docent_llm::FaultClass;
use docent_store::Store;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::http::error::ApiError;

/// Spawns the turn at once and answers as it reports. Not an `async fn`, whose future would keep
/// the turn's request (moved into the task) for as long as a JSON answer is awaited.
pub fn respond(
    store: Arc<dyn Store>,
    config: AgentConfig,
    turn: TurnRequest,
    stream: bool,
) -> impl Future<Output = Response> + Send {
    let (tx, rx) = mpsc::channel(64);
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
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "The turn ended without a reply").into_response()
}

fn data(value: &Value) -> Event {
    Event::default().data(value.to_string())
}

/// `{"text": …}`, written straight from the text: one per token of a streamed reply.
fn text_event(text: &str) -> Event {
    #[derive(serde::Serialize)]
    struct Text<'a> {
        text: &'a str,
    }
    Event::default().data(serde_json::to_string(&Text { text }).unwrap_or_default())
}

fn sse(rx: mpsc::Receiver<TurnEvent>) -> Response {
    let events = futures::stream::unfold(Some(rx), |state| async move {
        let mut rx = state?;
        let event = match rx.recv().await {
            Some(TurnEvent::Text(text)) => return Some((Ok::<_, Infallible>(text_event(&text)), Some(rx))),
            Some(TurnEvent::Done(envelope)) => {
                let mut body = serde_json::Map::new();
                body.insert("done".to_owned(), Value::Bool(true));
                if let Ok(Value::Object(fields)) = serde_json::to_value(&*envelope) {
                    body.extend(fields);
                }
                data(&Value::Object(body))
            }
            Some(TurnEvent::Failed(f)) => {
                let (_, code) = failure(&f);
                data(&json!({"error": failure_message(&f), "code": code}))
            }
            None => data(&json!({"error": "The turn ended without a reply", "code": "internal"})),
        };
        // The last event: the stream ends after it.
        Some((Ok(event), None))
    });
    let mut response = Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response();
    let h = response.headers_mut();
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
