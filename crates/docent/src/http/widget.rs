//! The embeddable chat widget, served by Docent itself so an embed never breaks when a CDN or
//! another version moves: `GET /widget.js` (plain JavaScript embedded in the binary, cacheable
//! by content hash) and `GET /demo/{slug}`, a page that embeds it for a tenant under a strict
//! Content-Security-Policy, the same one the README asks site owners to allow.

use std::sync::LazyLock;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ErrorBody};
use super::extract::{Path, Query};
use crate::app::App;

const WIDGET_JS: &str = include_str!("../../assets/widget.js");
const DEMO_HTML: &str = include_str!("../../assets/demo.html");

/// A year: a `?v=` URL names one version of the script.
const VERSIONED_CACHE: &str = "public, max-age=31536000, immutable";
/// Unversioned embeds pick up a new release within minutes.
const UNVERSIONED_CACHE: &str = "public, max-age=300";

/// The script's content hash: its ETag, and the `v` the demo page asks for.
static VERSION: LazyLock<String> = LazyLock::new(|| URL_SAFE_NO_PAD.encode(&Sha256::digest(WIDGET_JS)[..12]));

/// The demo page's own `<style>` is allowed by its hash, so the page needs no `'unsafe-inline'`.
static DEMO_CSP: LazyLock<String> = LazyLock::new(|| {
    let style = DEMO_HTML.split_once("<style>").and_then(|(_, rest)| rest.split_once("</style>")).map(|(s, _)| s);
    let style_hash = STANDARD.encode(Sha256::digest(style.unwrap_or_default()));
    format!(
        "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' https: data:; \
         style-src 'sha256-{style_hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
});

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(get_widget_js)).routes(routes!(get_demo_page))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct WidgetQuery {
    /// Any version tag (`1.1`, a hash): the response may then be cached for a year.
    v: Option<String>,
}

/// The chat widget script. Embed it with
/// `<script src="https://HOST/widget.js" data-tenant="SLUG"></script>`; optional attributes
/// `data-segment`, `data-widget-key`, `data-locale`, `data-api`, `data-visitor-id`. Cached for a
/// year with `?v=`, five minutes without; `If-None-Match` with the ETag answers 304.
#[utoipa::path(get, path = "/widget.js", tag = "widget",
    params(WidgetQuery),
    responses(
        (status = 200, description = "The widget script", content_type = "text/javascript", body = String),
        (status = 304, description = "The cached copy is current"),
    ))]
async fn get_widget_js(Query(query): Query<WidgetQuery>, headers: HeaderMap) -> Response {
    let etag = format!("\"{}\"", *VERSION);
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");
    let mut response = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { WIDGET_JS.into_response() };
    let h = response.headers_mut();
    if !fresh {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    }
    let cache = if query.v.is_some_and(|v| !v.is_empty()) { VERSIONED_CACHE } else { UNVERSIONED_CACHE };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DemoQuery {
    /// The segment the widget opens on (`data-segment`); else the default one.
    segment: Option<String>,
}

/// A demo page embedding the widget for a tenant, served under a strict
/// Content-Security-Policy.
#[utoipa::path(get, path = "/demo/{slug}", tag = "widget",
    params(("slug" = String, Path), DemoQuery),
    responses(
        (status = 200, description = "The demo page", content_type = "text/html", body = String),
        (status = 404, body = ErrorBody),
    ))]
async fn get_demo_page(
    State(app): State<App>,
    Path(slug): Path<String>,
    Query(query): Query<DemoQuery>,
) -> Result<Response, ApiError> {
    let tenant = app.store.tenant_by_slug(&slug).await.map_err(ApiError::storage)?;
    let tenant = tenant.ok_or_else(ApiError::tenant_not_found)?;
    let segments = app.store.list_segments(&tenant.id).await.map_err(ApiError::storage)?;
    let chosen = query.segment.filter(|s| segments.iter().any(|seg| seg.is_active && seg.slug == *s));
    let segment_attr = chosen.as_deref().map(|s| format!(" data-segment=\"{}\"", escape(s))).unwrap_or_default();
    let links: String = segments
        .iter()
        .filter(|s| s.is_active)
        .map(|s| {
            let current = if chosen.as_deref() == Some(s.slug.as_str()) || (chosen.is_none() && s.is_default) {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!("<li><a href=\"?segment={0}\"{current}>{1}</a></li>", escape(&s.slug), escape(&s.name))
        })
        .collect();
    let page = fill(
        DEMO_HTML,
        &[
            ("NAME", &escape(&tenant.name)),
            ("SLUG", &escape(&tenant.slug)),
            ("VERSION", &VERSION),
            ("SEGMENT_ATTR", &segment_attr),
            ("SEGMENT_LINKS", &links),
        ],
    );
    let mut response = page.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&DEMO_CSP) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(response)
}

/// Replaces each `{{KEY}}` of the template in one pass, so a value is never read as a template.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 512);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let found =
            after.find("}}").and_then(|end| values.iter().find(|(k, _)| *k == &after[..end]).map(|(_, v)| (end, v)));
        match found {
            Some((end, value)) => {
                out.push_str(value);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escapes text for HTML content and double-quoted attributes.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_style_is_found_and_hashed() {
        assert!(DEMO_HTML.contains("<style>"), "the demo page keeps its style in one <style> element");
        assert!(DEMO_CSP.contains("style-src 'sha256-"));
        assert_eq!(escape(r#"<a href="x">'&"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
        assert_eq!(fill("a {{X}} b {{Y}} {{Z}}", &[("X", "{{Y}}"), ("Y", "y")]), "a {{Y}} b y {{Z}}");
    }
}
