//! `ApiError`: the only error that becomes an HTTP response. Every failure, including malformed
//! bodies, unknown routes and storage faults, leaves as `{"error": "...", "code": "..."}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use docent_domain::ValidationError;
use docent_store::StorageError;
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Documented extra fields (`field`, `nextResetAt`, ...).
    pub extra: Vec<(&'static str, Value)>,
    /// The cause of a 5xx, logged once by the middleware, never sent.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The error body, for the OpenAPI description.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A human-readable message.
    pub error: String,
    /// A stable snake_case code.
    pub code: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), extra: Vec::new(), source: None }
    }

    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> Self {
        self.extra.push((key, value.into()));
        self
    }

    pub fn extra(&self, key: &str) -> Option<&Value> {
        self.extra.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized")
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    pub fn tenant_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "tenant_not_found", "Tenant not found")
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let mut e = Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal server error");
        e.source = Some(source.into());
        e
    }

    /// Maps a storage error where the caller has nothing more specific to say.
    pub fn storage(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => Self::not_found("Resource"),
            StorageError::Conflict { what } => {
                Self::new(StatusCode::CONFLICT, "conflict", format!("A resource with this {what} already exists"))
                    .with("field", what)
            }
            StorageError::Invalid { field, message } => {
                Self::bad_request("validation_failed", message).with("field", field)
            }
            StorageError::Unavailable(_) => {
                let mut err =
                    Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Database unavailable, retry later");
                err.source = Some(Box::new(e));
                err
            }
            other => Self::internal(other),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::bad_request("validation_failed", e.message).with("field", e.field)
    }
}

/// Marks a response as carrying a server fault, for the logging middleware.
#[derive(Clone)]
pub struct ServerFault(pub std::sync::Arc<String>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::with_capacity(2 + self.extra.len());
        body.insert("error".to_owned(), Value::String(self.message));
        body.insert("code".to_owned(), Value::String(self.code.to_owned()));
        body.extend(self.extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
        let mut response = (self.status, axum::Json(Value::Object(body))).into_response();
        if let Some(source) = self.source {
            let mut chain = source.to_string();
            let mut cause = source.source();
            while let Some(c) = cause {
                chain.push_str(": ");
                chain.push_str(&c.to_string());
                cause = c.source();
            }
            response.extensions_mut().insert(ServerFault(std::sync::Arc::new(chain)));
        }
        response
    }
}
