//! A real socket for tests where streaming, client disconnects or headers on the wire matter:
//! the same router as `TestApp`, served on `127.0.0.1:0` with peer addresses, until dropped.

use std::net::SocketAddr;

use tokio::sync::oneshot;

use crate::TestApp;

pub struct TestServer {
    pub base: String,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestApp {
    pub async fn serve(&self) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let service = self.router.clone().into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, service)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        TestServer { base, shutdown: Some(tx) }
    }

    /// Starts the background job runner of this app (webhooks, emails).
    pub fn start_jobs(&self) -> tokio::task::JoinHandle<()> {
        docent::jobs::spawn(self.app.clone())
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
