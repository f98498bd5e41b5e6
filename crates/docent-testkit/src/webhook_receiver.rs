//! A webhook receiver for tests: records every delivery (headers and exact body bytes) and can
//! answer 503 to the first N attempts, like a receiver that is down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

#[derive(Clone, Debug)]
pub struct Delivery {
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub accepted: bool,
}

#[derive(Default)]
struct Inner {
    fail_first: usize,
    attempts: Vec<Delivery>,
    /// A JSON body to answer with (for the webhook LLM provider).
    answer: Option<serde_json::Value>,
}

#[derive(Clone)]
pub struct WebhookReceiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl WebhookReceiver {
    pub async fn start(fail_first: usize) -> Self {
        let inner = Arc::new(Mutex::new(Inner { fail_first, ..Default::default() }));
        let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inner }
    }

    /// Answers every accepted delivery with this JSON.
    pub fn answer_with(&self, body: serde_json::Value) {
        self.inner.lock().unwrap().answer = Some(body);
    }

    pub fn attempts(&self) -> Vec<Delivery> {
        self.inner.lock().unwrap().attempts.clone()
    }

    pub fn accepted(&self) -> Vec<Delivery> {
        self.attempts().into_iter().filter(|d| d.accepted).collect()
    }

    /// Waits up to `secs` for `n` accepted deliveries.
    pub async fn wait_accepted(&self, n: usize, secs: u64) -> Vec<Delivery> {
        for _ in 0..secs * 20 {
            let got = self.accepted();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("expected {n} accepted deliveries, got {:?}", self.attempts().len());
    }
}

async fn receive(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let mut inner = inner.lock().unwrap();
    let accepted = inner.attempts.len() >= inner.fail_first;
    let headers =
        headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned())).collect();
    inner.attempts.push(Delivery { headers, body: body.to_vec(), accepted });
    if accepted {
        let answer = inner.answer.as_ref().map(|a| a.to_string()).unwrap_or_default();
        (StatusCode::OK, answer)
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, String::new())
    }
}
