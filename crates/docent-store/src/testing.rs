//! Test support shared by the conformance suite and the API suites: a fresh database per test.
//! PostgreSQL suites run when `DOCENT_TEST_POSTGRES_URL` is set; under `CI=true` it must be set
//! and reachable, so a CI run never skips them silently.

use std::sync::Arc;

use crate::{Store, connect};

/// The PostgreSQL server tests should use, if any. Panics under `CI=true` without one.
pub fn postgres_base_url() -> Option<String> {
    match std::env::var("DOCENT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but DOCENT_TEST_POSTGRES_URL is not set: the PostgreSQL suites must run in CI")
        }
        _ => None,
    }
}

/// Creates an empty database on the server at `base` and returns its URL.
pub async fn fresh_postgres_url(base: &str) -> String {
    use sqlx::Connection;
    let name = format!("docent_test_{}", uuid_suffix());
    let mut admin =
        sqlx::PgConnection::connect(base).await.unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {base}: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    let (prefix, _) = base.rsplit_once('/').unwrap_or((base, ""));
    format!("{prefix}/{name}")
}

/// A fresh SQLite file in `dir`.
pub fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("docent.db").display())
}

/// Opens a fresh store of the named backend (`sqlite` needs `dir`).
pub async fn fresh_store(backend: &str, dir: &std::path::Path) -> Arc<dyn Store> {
    let url = fresh_url(backend, dir).await;
    connect(&url).await.unwrap_or_else(|e| panic!("cannot open {backend} store: {e}"))
}

/// Two stores on one fresh database, as two processes of one deployment would open it.
pub async fn fresh_store_pair(backend: &str, dir: &std::path::Path) -> (Arc<dyn Store>, Arc<dyn Store>) {
    let url = fresh_url(backend, dir).await;
    let open = || async { connect(&url).await.unwrap_or_else(|e| panic!("cannot open {backend} store: {e}")) };
    (open().await, open().await)
}

async fn fresh_url(backend: &str, dir: &std::path::Path) -> String {
    match backend {
        "postgres" => {
            let base = postgres_base_url().unwrap_or_else(|| panic!("postgres backend needs DOCENT_TEST_POSTGRES_URL"));
            fresh_postgres_url(&base).await
        }
        _ => sqlite_url(dir),
    }
}

fn uuid_suffix() -> String {
    docent_domain::secret::random_base62(12).to_lowercase()
}
