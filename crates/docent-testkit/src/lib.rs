//! Test support for Docent's suites: `TestApp` runs the real router in process on a fresh
//! database (a temp SQLite file, or a fresh PostgreSQL database), and its request helpers assert
//! the status and return typed JSON:
//! `app.post("/tenants/acme/tools", body).bearer(&t).send().await.expect(201).json::<Value>()`.

#![allow(clippy::unwrap_used)]

mod server;
mod smtp_sink;
mod webhook_receiver;

pub use docent_fakellm as fakellm;
pub use server::TestServer;
pub use smtp_sink::SmtpSink;
pub use webhook_receiver::{Delivery, WebhookReceiver};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use docent::config::{Config, Secret};
use docent::{App, Application};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::ServiceExt;

pub use docent_store::testing::postgres_base_url;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Whether this backend can run here; PostgreSQL needs `DOCENT_TEST_POSTGRES_URL`
    /// (and is mandatory under `CI=true`, where `postgres_base_url` panics without it).
    pub fn available(self) -> bool {
        match self {
            Backend::Sqlite => true,
            Backend::Postgres => postgres_base_url().is_some(),
        }
    }
}

pub struct TestApp {
    pub router: axum::Router,
    pub app: App,
    pub config: Config,
    _dir: tempfile::TempDir,
}

/// A tenant made for a test, with its owner token and legacy key.
pub struct TestTenant {
    pub slug: String,
    pub id: String,
    pub token: String,
    pub api_key: String,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns with a configuration adjusted by `tweak` (built in code, never from the environment).
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match backend {
            Backend::Sqlite => docent_store::testing::sqlite_url(dir.path()),
            Backend::Postgres => {
                let base = postgres_base_url().expect("DOCENT_TEST_POSTGRES_URL");
                docent_store::testing::fresh_postgres_url(&base).await
            }
        };
        let mut config = Config {
            database_url,
            data_dir: dir.path().to_path_buf(),
            admin_token: Some(Secret::new(ADMIN_TOKEN)),
            master_key: Some(Secret::new("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")),
            ..Config::default()
        };
        // Tests talk to fakes and receivers on loopback, and should not wait long for retries.
        config.outbound.allow_private = true;
        config.jobs.poll_ms = 20;
        config.jobs.retry_base_ms = 50;
        config.jobs.lease_ms = 1_000;
        config.chat.per_minute = 1_000;
        config.chat.per_hour = 10_000;
        tweak(&mut config);
        let application = Application::build(config.clone()).await.unwrap();
        Self { router: application.router(), app: application.app().clone(), config, _dir: dir }
    }

    pub fn request(&self, method: Method, path: &str) -> TestRequest<'_> {
        TestRequest { app: self, method, path: path.to_owned(), headers: Vec::new(), body: None }
    }

    pub fn get(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str, body: Value) -> TestRequest<'_> {
        self.request(Method::POST, path).json(body)
    }

    pub fn put(&self, path: &str, body: Value) -> TestRequest<'_> {
        self.request(Method::PUT, path).json(body)
    }

    pub fn patch(&self, path: &str, body: Value) -> TestRequest<'_> {
        self.request(Method::PATCH, path).json(body)
    }

    /// Spawns a second app on the same database (a restart, or another replica).
    pub async fn restart(&self) -> Self {
        self.restart_with(|_| {}).await
    }

    /// Another replica on the same database, its configuration adjusted by `tweak`.
    pub async fn restart_with(&self, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = self.config.clone();
        tweak(&mut config);
        let application = Application::build(config.clone()).await.unwrap();
        Self { router: application.router(), app: application.app().clone(), config, _dir: dir }
    }

    pub fn delete(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::DELETE, path)
    }

    /// Creates a tenant through the admin API.
    pub async fn tenant(&self, slug: &str) -> TestTenant {
        let body = self
            .post("/tenants", serde_json::json!({"slug": slug, "name": format!("Tenant {slug}")}))
            .bearer(ADMIN_TOKEN)
            .send()
            .await
            .expect(201)
            .json::<Value>();
        TestTenant {
            slug: slug.to_owned(),
            id: body["tenant"]["id"].as_str().unwrap().to_owned(),
            token: body["token"].as_str().unwrap().to_owned(),
            api_key: body["apiKey"].as_str().unwrap().to_owned(),
        }
    }

    /// Creates a token with `scopes` on `tenant`, using its owner token.
    pub async fn token(&self, tenant: &TestTenant, scopes: &[&str]) -> String {
        let body = self
            .post(&format!("/tenants/{}/tokens", tenant.slug), serde_json::json!({"name": "test", "scopes": scopes}))
            .bearer(&tenant.token)
            .send()
            .await
            .expect(201)
            .json::<Value>();
        body["token"].as_str().unwrap().to_owned()
    }
}

pub struct TestRequest<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl TestRequest<'_> {
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(serde_json::to_vec(&body).unwrap());
        self.header("content-type", "application/json")
    }

    pub fn raw_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    pub async fn send(self) -> TestResponse {
        let mut builder = Request::builder().method(self.method.clone()).uri(&self.path);
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        let request = builder.body(self.body.map(Body::from).unwrap_or_else(Body::empty)).unwrap();
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
        TestResponse { method: self.method, path: self.path, status, headers, body }
    }
}

pub struct TestResponse {
    pub method: Method,
    pub path: String,
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{} {} answered {}: {}",
            self.method,
            self.path,
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    #[track_caller]
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not the expected JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts a JSON error with this status and code, and returns its message.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> String {
        let body: Value = self.expect(status).json();
        assert_eq!(body["code"], code, "unexpected error body {body}");
        body["error"].as_str().unwrap().to_owned()
    }
}

/// Instantiates each named async test `fn(Backend)` for SQLite and for PostgreSQL.
#[macro_export]
macro_rules! backend_suite {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test($crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    if !$crate::Backend::Postgres.available() {
                        return;
                    }
                    super::$test($crate::Backend::Postgres).await;
                }
            )*
        }
    };
}
