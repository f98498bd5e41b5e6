//! A fake LLM server for tests and benchmarks. It speaks the vendors' documented wire formats
//! (`shared/reference/wire-formats.md`): Anthropic `POST /v1/messages`, OpenAI (or Mistral)
//! `POST /v1/chat/completions` and Ollama `POST /api/chat`, streamed or not, faults included.
//!
//! Replies are scripted: [`FakeLlm::push`] queues [`Reply`]s that the next requests get in order,
//! whichever endpoint they hit; when the queue is empty every request gets the default reply
//! ([`FakeLlm::set_default`], `Reply::text("ok")` at first). Every request is recorded for
//! assertions ([`FakeLlm::requests`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use docent_fakellm::{FakeLlm, Reply};
//! let fake = FakeLlm::start().await?;
//! fake.push(Reply::chunks(["Hel", "lo"]));
//! // point an Anthropic or Ollama client at fake.base_url(), an OpenAI one at fake.openai_base_url()
//! # Ok(()) }
//! ```

mod anthropic;
mod ollama;
mod openai;
mod render;
mod reply;
mod request;
mod script;

use std::{
    collections::{BTreeMap, VecDeque},
    io,
    net::SocketAddr,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use serde_json::Value;
use tokio::{net::TcpListener, task::JoinHandle};

use crate::render::{Ctx, Vendor};
pub use crate::reply::{ErrorKind, Reply};
pub use axum::http::Version;

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub path: String,
    /// The HTTP version the request came in on.
    pub version: Version,
    /// Header names in lower case (`authorization`, `x-api-key`, `anthropic-version`…).
    pub headers: BTreeMap<String, String>,
    /// The JSON body (`Value::String` with the raw text when it was not JSON).
    pub body: Value,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

/// Which vendor the OpenAI-shaped endpoint imitates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OpenAiFlavor {
    #[default]
    OpenAi,
    /// 9-character tool call ids (and a 400 for any other id in a request), whole tool calls per
    /// chunk, usage on the last chunk, Mistral's error body, 422 on `max_completion_tokens`.
    Mistral,
}

struct Shared {
    script: Mutex<VecDeque<Arc<Reply>>>,
    default: Mutex<Arc<Reply>>,
    /// The default reply for requests whose last message is a tool result, when set.
    after_tool: Mutex<Option<Arc<Reply>>>,
    requests: Mutex<Vec<RecordedRequest>>,
    recording: AtomicBool,
    mistral: AtomicBool,
    serial: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fake server; it stops accepting connections when dropped.
pub struct FakeLlm {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: JoinHandle<()>,
}

impl FakeLlm {
    /// Binds `127.0.0.1:0` and serves in the background.
    pub async fn start() -> io::Result<Self> {
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        Self::serve(TcpListener::bind(addr).await?)
    }

    pub fn serve(listener: TcpListener) -> io::Result<Self> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            script: Mutex::new(VecDeque::new()),
            default: Mutex::new(Arc::new(Reply::text("ok"))),
            after_tool: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
            recording: AtomicBool::new(true),
            mistral: AtomicBool::new(false),
            serial: AtomicU64::new(1),
        });
        let router = Router::new()
            .route("/v1/messages", post(anthropic_messages))
            .route("/v1/chat/completions", post(openai_chat))
            .route("/api/chat", post(ollama_chat))
            .with_state(shared.clone());
        let server = tokio::spawn(accept(listener, router));
        Ok(Self { shared, addr, server })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the base URL for Anthropic and Ollama clients.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1`: OpenAI-style base URLs include the version.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues a reply for the next request (first in, first out, across all endpoints).
    pub fn push(&self, reply: Reply) {
        lock(&self.shared.script).push_back(Arc::new(reply));
    }

    /// The reply used when the script is empty.
    pub fn set_default(&self, reply: Reply) {
        *lock(&self.shared.default) = Arc::new(reply);
    }

    /// The reply used when the script is empty and the request ends with a tool result, so a
    /// default tool call is followed by this answer instead of the same call again.
    pub fn set_after_tool_result(&self, reply: Reply) {
        *lock(&self.shared.after_tool) = Some(Arc::new(reply));
    }

    pub fn set_openai_flavor(&self, flavor: OpenAiFlavor) {
        self.shared.mistral.store(flavor == OpenAiFlavor::Mistral, Ordering::Relaxed);
    }

    /// Turns request recording on or off (off for long benchmark runs).
    pub fn set_recording(&self, on: bool) {
        self.shared.recording.store(on, Ordering::Relaxed);
    }

    /// Every recorded request, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    pub fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.shared.requests).last().cloned()
    }

    /// Scripted replies not yet used.
    pub fn pending(&self) -> usize {
        lock(&self.shared.script).len()
    }
}

/// Serves HTTP/1.1 and HTTP/2 (h2c with prior knowledge, as a client configured for HTTP/2 only
/// speaks to a plain-text endpoint). One HTTP/2 connection may carry every stream its client
/// opens: the fake sets no concurrency limit of its own, and its connection window is large
/// enough for thousands of request bodies waiting to be read: with hyper's 1 MiB, a client
/// opening 10,000 streams at once is held to small DATA frames, and h2 closes the connection
/// on too many of them (`ENHANCE_YOUR_CALM`, "too_many_data_frames"), failing every stream.
async fn accept(listener: TcpListener, router: Router) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http2().max_concurrent_streams(None).initial_connection_window_size(64 * 1024 * 1024);
    let builder = Arc::new(builder);
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            // Out of file descriptors, most likely: wait for connections to close.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        // Small SSE frames must leave at once, not wait for Nagle.
        let _ = tcp.set_nodelay(true);
        let (builder, service) = (builder.clone(), TowerToHyperService::new(router.clone()));
        tokio::spawn(async move {
            let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
        });
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn anthropic_messages(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    respond(&shared, Vendor::Anthropic, request).await
}

async fn openai_chat(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let vendor = if shared.mistral.load(Ordering::Relaxed) { Vendor::Mistral } else { Vendor::OpenAi };
    respond(&shared, vendor, request).await
}

async fn ollama_chat(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    respond(&shared, Vendor::Ollama, request).await
}

/// Largest request body the fake reads.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

async fn respond(shared: &Shared, vendor: Vendor, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(raw) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return error_response(vendor, 400, ErrorKind::InvalidRequest, None, Some("the body could not be read".into()));
    };
    if shared.recording.load(Ordering::Relaxed) {
        record(shared, &parts, &raw);
    }
    let body = match serde_json::from_slice::<request::Head>(&raw) {
        Ok(body) => body,
        Err(e) => {
            let message = if e.is_data() { format!("invalid body: {e}") } else { "the body is not valid JSON".into() };
            return error_response(vendor, 400, ErrorKind::InvalidRequest, None, Some(message));
        }
    };
    let checked = match vendor {
        Vendor::Anthropic => anthropic::check(&body).map_err(|m| (400, m)),
        Vendor::OpenAi | Vendor::Mistral => openai::check(vendor, &body),
        Vendor::Ollama => ollama::check(&body).map_err(|m| (400, m)),
    };
    if let Err((status, message)) = checked {
        return error_response(vendor, status, ErrorKind::InvalidRequest, None, Some(message));
    }
    let scripted = lock(&shared.script).pop_front();
    let after_tool = || lock(&shared.after_tool).clone().filter(|_| body.ends_with_tool_result());
    let reply = scripted.or_else(after_tool).unwrap_or_else(|| lock(&shared.default).clone());
    if !reply.ttfb.is_zero() {
        tokio::time::sleep(reply.ttfb).await;
    }
    if let reply::Body::Error { status, kind } = reply.body {
        return error_response(vendor, status, kind, reply.retry_after, None);
    }
    let ctx = Ctx::new(shared.serial.fetch_add(1, Ordering::Relaxed), &body, raw.len(), &reply);
    // Ollama streams unless told not to; the others only when asked.
    let streamed = body.stream.unwrap_or(vendor == Vendor::Ollama);
    if streamed {
        let mut response = Body::from_stream(script::play(reply, vendor, ctx)).into_response();
        set_content_type(&mut response, vendor.content_type());
        return response;
    }
    // A whole answer takes as long as its stream would have.
    let generation = reply.chunk_delay.saturating_mul(reply.content_chunks().saturating_sub(1) as u32);
    if !generation.is_zero() {
        tokio::time::sleep(generation).await;
    }
    whole_response(vendor, &ctx, &reply)
}

fn record(shared: &Shared, parts: &axum::http::request::Parts, raw: &Bytes) {
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let body = serde_json::from_slice(raw).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()));
    lock(&shared.requests).push(RecordedRequest {
        path: parts.uri.path().to_owned(),
        version: parts.version,
        headers,
        body,
    });
}

fn set_content_type(response: &mut Response, content_type: &'static str) {
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
}

/// A `"stream": false` answer, with the script's faults applied to the whole body.
fn whole_response(vendor: Vendor, ctx: &Ctx, reply: &Reply) -> Response {
    let json = vendor.json_body(ctx, reply).to_string();
    let ending = match &reply.body {
        reply::Body::Content { ending, .. } => *ending,
        reply::Body::Error { .. } => reply::Ending::Complete,
    };
    let mut response = match ending {
        reply::Ending::Complete => Body::from(json).into_response(),
        reply::Ending::Malformed { .. } => Body::from(first_half(&json).to_owned()).into_response(),
        reply::Ending::Error { kind, .. } => {
            return error_response(vendor, kind.default_status(), kind, None, None);
        }
        reply::Ending::Cut { .. } => {
            let half = Bytes::from(first_half(&json).to_owned());
            let parts: [Result<Bytes, io::Error>; 2] =
                [Ok(half), Err(io::Error::new(io::ErrorKind::ConnectionReset, "stream cut by the script"))];
            Body::from_stream(futures::stream::iter(parts)).into_response()
        }
    };
    set_content_type(&mut response, "application/json");
    response
}

fn error_response(
    vendor: Vendor,
    status: u16,
    kind: ErrorKind,
    retry_after: Option<std::time::Duration>,
    message: Option<String>,
) -> Response {
    let mut body = vendor.error_body(kind, status);
    if let Some(message) = message {
        for pointer in ["/error/message", "/message"] {
            if let Some(slot) = body.pointer_mut(pointer) {
                *slot = Value::String(message.clone());
            }
        }
        if let Some(slot) = body.get_mut("error").filter(|e| e.is_string()) {
            *slot = Value::String(message);
        }
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Body::from(body.to_string())).into_response();
    set_content_type(&mut response, "application/json");
    if let Some(after) = retry_after {
        let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        response.headers_mut().insert("retry-after", HeaderValue::from(secs));
    }
    response
}

fn first_half(s: &str) -> &str {
    let mut end = s.len() / 2;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A minimal HTTP/1.0 client: hyper answers 1.0 with a close-delimited body, no chunking.
    async fn post(fake: &FakeLlm, path: &str, extra: &str, body: &Value) -> (u16, String, String) {
        let body = body.to_string();
        let mut tcp = tokio::net::TcpStream::connect(fake.addr()).await.expect("connect");
        let request = format!(
            "POST {path} HTTP/1.0\r\nhost: fake\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{body}",
            body.len()
        );
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        let _ = tcp.read_to_end(&mut raw).await;
        let raw = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, head.to_ascii_lowercase(), body.to_owned())
    }

    #[tokio::test]
    async fn scripted_replies_are_served_in_order_across_endpoints_then_the_default() {
        let fake = FakeLlm::start().await.expect("start");
        fake.push(Reply::text("first"));
        fake.push(Reply::text("second"));
        fake.set_default(Reply::text("fallback"));
        let anthropic = json!({"model": "m", "max_tokens": 10, "messages": []});
        let (_, _, a) = post(&fake, "/v1/messages", "x-api-key: k1\r\n", &anthropic).await;
        let (_, _, b) = post(&fake, "/api/chat", "", &json!({"model": "m", "stream": false})).await;
        let (_, _, c) = post(&fake, "/v1/chat/completions", "", &json!({"model": "m", "messages": []})).await;
        assert_eq!(serde_json::from_str::<Value>(&a).expect("json")["content"][0]["text"], "first");
        assert_eq!(serde_json::from_str::<Value>(&b).expect("json")["message"]["content"], "second");
        assert_eq!(serde_json::from_str::<Value>(&c).expect("json")["choices"][0]["message"]["content"], "fallback");
        let requests = fake.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(requests[0].header("X-Api-Key"), Some("k1"));
        assert_eq!(requests[1].path, "/api/chat");
        assert_eq!(fake.pending(), 0);
    }

    #[tokio::test]
    async fn errors_use_each_vendors_status_body_and_retry_after() {
        let fake = FakeLlm::start().await.expect("start");
        fake.push(Reply::overloaded());
        fake.push(Reply::rate_limited(Duration::from_millis(1500)));
        fake.push(Reply::error(404, ErrorKind::NotFound));
        let anthropic = json!({"model": "m", "max_tokens": 10, "messages": []});
        let (status, _, body) = post(&fake, "/v1/messages", "", &anthropic).await;
        assert_eq!(status, 529);
        assert_eq!(serde_json::from_str::<Value>(&body).expect("json")["error"]["type"], "overloaded_error");
        let (status, head, body) =
            post(&fake, "/v1/chat/completions", "", &json!({"model": "m", "messages": []})).await;
        assert_eq!(status, 429);
        assert!(head.contains("retry-after: 2"));
        assert_eq!(serde_json::from_str::<Value>(&body).expect("json")["error"]["code"], "rate_limit_exceeded");
        let (status, _, body) = post(&fake, "/api/chat", "", &json!({"model": "m"})).await;
        assert_eq!(status, 404);
        assert!(serde_json::from_str::<Value>(&body).expect("json")["error"].is_string());
    }

    #[tokio::test]
    async fn a_default_tool_call_is_followed_by_the_after_tool_reply() {
        let fake = FakeLlm::start().await.expect("start");
        fake.set_default(Reply::tool_call("remember_fact", json!({"key": "k", "value": "v"})));
        fake.set_after_tool_result(Reply::text("noted"));
        let first = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        let (_, _, a) = post(&fake, "/v1/chat/completions", "", &first).await;
        let tool = json!({"model": "m", "messages": [{"role": "tool", "tool_call_id": "c1", "content": "done"}]});
        let (_, _, b) = post(&fake, "/v1/chat/completions", "", &tool).await;
        let a: Value = serde_json::from_str(&a).expect("json");
        assert_eq!(a["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "remember_fact");
        assert_eq!(serde_json::from_str::<Value>(&b).expect("json")["choices"][0]["message"]["content"], "noted");
    }

    #[tokio::test]
    async fn the_mistral_flavor_rejects_foreign_tool_call_ids() {
        let fake = FakeLlm::start().await.expect("start");
        fake.set_openai_flavor(OpenAiFlavor::Mistral);
        let messages = json!([{"role": "tool", "tool_call_id": "call_abc", "content": "x"}]);
        let (status, _, body) =
            post(&fake, "/v1/chat/completions", "", &json!({"model": "m", "messages": messages})).await;
        assert_eq!(status, 400);
        assert!(body.contains("with a length of 9"));
        assert_eq!(fake.pending(), 0);
    }

    #[tokio::test]
    async fn streamed_answers_have_the_vendors_content_type() {
        let fake = FakeLlm::start().await.expect("start");
        let (_, head, body) = post(&fake, "/api/chat", "", &json!({"model": "m"})).await;
        assert!(head.contains("content-type: application/x-ndjson"));
        assert!(body.ends_with("\"done\":true}\n") || body.contains("\"done\":true"));
        let anthropic = json!({"model": "m", "max_tokens": 10, "messages": [], "stream": true});
        let (_, head, body) = post(&fake, "/v1/messages", "", &anthropic).await;
        assert!(head.contains("content-type: text/event-stream"));
        assert!(body.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
    }
}
