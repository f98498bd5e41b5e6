//! The load generator's HTTP client: one hyper HTTP/1.1 connection per virtual user, its requests
//! sent back to back on it (keep-alive), bodies read frame by frame so a stream's events can be
//! timed as they arrive. Nothing is pooled or shared between users, so users never wait on each
//! other inside the client, and the client stays cheap next to the server it measures.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// A request to send: method, path, headers and body, built per send.
#[derive(Clone)]
pub struct Req {
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
}

impl Req {
    pub fn get(path: impl Into<String>) -> Self {
        Self { method: Method::GET, path: path.into(), headers: Vec::new(), body: Bytes::new() }
    }

    pub fn post_json(path: impl Into<String>, body: &Value) -> Self {
        Self::with_body(Method::POST, path, "application/json", Bytes::from(body.to_string()))
    }

    pub fn patch_json(path: impl Into<String>, body: &Value) -> Self {
        Self::with_body(Method::PATCH, path, "application/json", Bytes::from(body.to_string()))
    }

    pub fn with_body(method: Method, path: impl Into<String>, content_type: &str, body: Bytes) -> Self {
        Self { method, path: path.into(), headers: vec![("content-type", content_type.to_owned())], body }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    fn build(&self, addr: SocketAddr) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut builder =
            Request::builder().method(self.method.clone()).uri(&self.path).header(header::HOST, addr.to_string());
        for (name, value) in &self.headers {
            builder = builder.header(*name, value);
        }
        Ok(builder.body(Full::new(self.body.clone()))?)
    }
}

/// One keep-alive connection.
pub struct Conn {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let tcp = TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        tcp.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self { addr, sender })
    }

    /// Sends `req` and returns the response with its body unread, reconnecting first when the
    /// server closed the connection.
    pub async fn send(&mut self, req: &Req) -> anyhow::Result<Response<Incoming>> {
        if self.sender.is_closed() {
            *self = Self::open(self.addr).await?;
        }
        self.sender.ready().await?;
        Ok(self.sender.send_request(req.build(self.addr)?).await?)
    }

    /// Sends `req` and reads the whole body.
    pub async fn call(&mut self, req: &Req) -> anyhow::Result<(StatusCode, Bytes)> {
        let response = self.send(req).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// One request on a fresh connection, expecting `status` and a JSON body (seeding, checks).
pub async fn json(addr: SocketAddr, req: &Req, status: u16) -> anyhow::Result<Value> {
    let (got, body) = Conn::open(addr).await?.call(req).await?;
    if got.as_u16() != status {
        bail!("{} {} answered {got} (expected {status}): {}", req.method, req.path, String::from_utf8_lossy(&body));
    }
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&body).with_context(|| format!("{} {}: the body is not JSON", req.method, req.path))
}
