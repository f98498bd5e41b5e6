//! The accept loop: each connection served by hyper as HTTP/1.1, the caller's address given to
//! handlers as `ConnectInfo`, and a graceful stop that lets in-flight requests finish.
//!
//! It replaces `axum::serve` for one measured reason (README, Benchmarks): a request waiting for
//! its turn held two of hyper's 8 KiB read buffers. While a request is being answered, hyper
//! reads on to notice the client closing; the first buffer is still held by the request's head,
//! so that read allocated a second. With half-close allowed hyper does not read mid-request: a
//! client that goes away is noticed when its answer is written (an SSE stream's next event),
//! and a turn it started still runs to its end and is stored. The read buffer is also capped at
//! hyper's minimum (8 KiB), and a request head past 8 KiB gets 431. hyper itself is patched to
//! start both of a connection's buffers at 1 KiB rather than 8 (`vendor/README.md`).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// hyper's smallest bound on its read buffer.
const READ_BUFFER: usize = 8 * 1024;
/// The largest request head, start line included. The read buffer starts at 1 KiB and grows
/// with each read that fills it, so the buffer's bound alone let a head through or not by how
/// it was split across reads.
const HEAD_LIMIT: usize = 8 * 1024;
/// Time for a request's head to arrive (slow-header clients are cut off).
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` resolves, then waits for open requests.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(READ_BUFFER)
        .max_header_size(HEAD_LIMIT)
        .half_close(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait, go on.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // SSE chunks and small envelopes must leave at once: with Nagle on, a chunk written right
        // after the headers waits for the client's delayed ACK (~40 ms on Linux).
        let _ = tcp.set_nodelay(true);
        let conn = http.serve_connection(TokioIo::new(tcp), service(router.clone(), peer));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The router as a hyper service for one connection from `peer`.
fn service(
    router: axum::Router,
    peer: SocketAddr,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<axum::response::Response, Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request.map(axum::body::Body::new))
    })
}
