//! A real socket for tests where streaming, client disconnects or headers on the wire matter:
//! the same router as `TestApp`, served on `127.0.0.1:0` by Docent's own accept loop, until
//! dropped.

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
        let shutdown = async {
            let _ = rx.await;
        };
        tokio::spawn(docent::http::server::serve(listener, self.router.clone(), shutdown));
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
