//! The HTTP layer: one `router()` per resource, merged here with the OpenAPI description, the
//! health probes, JSON fallbacks and the request-id / tracing / fault-logging middleware.

pub mod auth;
pub mod chat;
mod conversations;
pub mod corpus;
mod discover;
pub mod docs;
pub mod error;
pub mod extract;
mod health;
mod memory;
mod products;
mod segments;
pub mod server;
mod submissions;
mod tenants;
mod tokens;
mod tools;
mod visitors;
mod widget;

use axum::extract::Request;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::app::App;
use error::{ApiError, ServerFault};

/// The OpenAPI router of every documented route (also used to print the spec).
pub fn api_router() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .merge(health::router())
        .merge(tenants::router())
        .merge(tokens::router())
        .merge(segments::router())
        .merge(tools::router())
        .merge(visitors::router())
        .merge(conversations::router())
        .merge(submissions::router())
        .merge(chat::router())
        .merge(corpus::router())
        .merge(products::router())
        .merge(discover::router())
        .merge(widget::router())
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}

pub fn router(app: App) -> axum::Router {
    let (router, spec) = api_router().split_for_parts();
    let spec = std::sync::Arc::new(spec);
    let request_id = HeaderName::from_static("x-request-id");
    router
        .route("/openapi.json", axum::routing::get(move || async move { axum::Json(spec.as_ref().clone()) }))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "No such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed on this route")
        })
        .with_state(app)
        .layer(axum::middleware::from_fn(log_faults))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([
            axum::http::header::AUTHORIZATION,
            HeaderName::from_static("x-api-key"),
        ]))
}

/// Logs each server fault once, with its cause chain; client errors only at debug.
async fn log_faults(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let status = response.status();
    if let Some(fault) = response.extensions().get::<ServerFault>() {
        tracing::error!(%method, %path, status = status.as_u16(), cause = %fault.0, "request failed");
    } else if status.is_server_error() {
        tracing::error!(%method, %path, status = status.as_u16(), "request failed");
    } else if status.is_client_error() {
        tracing::debug!(%method, %path, status = status.as_u16(), "request refused");
    }
    response
}

/// `{"deleted": true, "id": ...}`, the body of every successful DELETE.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Deleted {
    pub deleted: bool,
    pub id: String,
}

impl Deleted {
    pub fn of(id: impl std::fmt::Display) -> axum::Json<Deleted> {
        axum::Json(Deleted { deleted: true, id: id.to_string() })
    }
}

/// `201 Created` with a JSON body.
pub fn created<T: serde::Serialize>(body: T) -> Response {
    (StatusCode::CREATED, axum::Json(body)).into_response()
}
