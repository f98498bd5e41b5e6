//! The reference ceiling: the cheapest possible answer to the same request on the same machine —
//! a bare axum handler that reads the JSON body and returns a fixed JSON body of the same size as
//! Docent's envelope. It runs as its own process (`docent-bench serve-ceiling`, this binary) on a
//! multi-threaded runtime like Docent, so the chat figure can be given as a fraction of it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use serde_json::json;
use tokio::process::Command;

use crate::Opts;
use crate::client::Req;
use crate::load::{self, Outcome};
use crate::stack::{self, Bins};

/// Serves `POST /chat/{slug}` with a `body_bytes`-long JSON object until killed.
pub async fn serve(addr: SocketAddr, body_bytes: usize) -> anyhow::Result<()> {
    let filler = "x".repeat(body_bytes.saturating_sub(14));
    let body = Bytes::from(format!(r#"{{"reply":"{filler}"}}"#));
    let router = Router::new().route(
        "/chat/{slug}",
        post(move |request: Bytes| {
            let body = body.clone();
            async move {
                let ok = serde_json::from_slice::<serde_json::Value>(&request).is_ok();
                ([("content-type", "application/json")], if ok { body } else { Bytes::new() })
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, router).await?;
    Ok(())
}

/// Starts the ceiling process and drives it like a chat run at `concurrency`.
pub async fn measure(bins: &Bins, opts: &Opts, body_bytes: usize, concurrency: usize) -> anyhow::Result<Outcome> {
    let addr = stack::free_addr()?;
    let mut command = Command::new(&bins.bench);
    command.args(["serve-ceiling", "--addr", &addr.to_string(), "--body-bytes", &body_bytes.to_string()]);
    let log = std::env::temp_dir().join("docent-bench-ceiling.log");
    let mut proc = stack::Proc::spawn(command, addr, &log)?;
    proc.wait_ready(None, Duration::from_secs(10)).await?;
    let make: load::MakeReq = Arc::new(|user, n| {
        Req::post_json(
            "/chat/northwind",
            &json!({"message": "How long does delivery take?", "sessionId": format!("u{user}-{n}")}),
        )
        .header("x-agent-model", "bench-agent/1.0")
    });
    let check: load::Check = Arc::new(|status, body| status.is_success() && !body.is_empty());
    let out = load::run(crate::chat::load(addr, concurrency, opts, make, check, vec![proc.pid])).await;
    proc.stop(Duration::from_secs(2)).await?;
    Ok(out)
}
