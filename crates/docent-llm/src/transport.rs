//! Sending a request to a vendor and classifying what goes wrong: HTTP statuses, the vendors'
//! error bodies and retry hints, and reqwest's transport errors, each mapped to a [`FaultClass`].

use std::time::Duration;

use reqwest::{
    RequestBuilder, Response,
    header::{HeaderMap, HeaderValue},
};
use serde_json::Value;

use crate::{FaultClass, LlmError};

/// Error bodies are short; a proxy's HTML page is not worth reading whole.
const MAX_ERROR_BODY: usize = 8 * 1024;

/// Sends `request`, waiting at most `timeout` for the response headers. A non-2xx status
/// becomes an [`LlmError`] built from the vendor's error body.
pub(crate) async fn send(provider: &str, request: RequestBuilder, timeout: Duration) -> Result<Response, LlmError> {
    let response = match tokio::time::timeout(timeout, request.send()).await {
        Err(_) => return Err(timed_out(provider, timeout)),
        Ok(Err(e)) => return Err(from_reqwest(provider, &e)),
        Ok(Ok(response)) => response,
    };
    if response.status().is_success() {
        return Ok(response);
    }
    Err(from_error_response(provider, response, timeout).await)
}

/// A header value that reqwest and hyper keep out of logs.
pub(crate) fn secret_header(provider: &str, value: &str) -> Result<HeaderValue, LlmError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| {
        LlmError::new(FaultClass::Caller, provider, "the api key contains characters not allowed in a header")
    })?;
    header.set_sensitive(true);
    Ok(header)
}

pub(crate) fn timed_out(provider: &str, timeout: Duration) -> LlmError {
    LlmError::new(FaultClass::Timeout, provider, format!("no response within {} ms", timeout.as_millis()))
}

/// A transport failure: before the response (connect, TLS) or while reading the stream.
pub(crate) fn from_reqwest(provider: &str, e: &reqwest::Error) -> LlmError {
    if e.is_timeout() {
        return LlmError::new(FaultClass::Timeout, provider, format!("timed out: {e}"));
    }
    if e.is_builder() {
        return LlmError::new(FaultClass::Caller, provider, format!("cannot build the request: {e}"));
    }
    let what = if e.is_connect() { "cannot connect" } else { "connection failed" };
    LlmError::new(FaultClass::Provider, provider, format!("{what}: {}", error_chain(e)))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The stream broke off before the vendor's final event.
pub(crate) fn cut(provider: &str) -> LlmError {
    LlmError::new(FaultClass::Provider, provider, "the stream ended before its final event")
}

/// The vendor sent something that is not its documented format.
pub(crate) fn malformed(provider: &str, detail: impl std::fmt::Display) -> LlmError {
    LlmError::new(FaultClass::Provider, provider, format!("malformed stream: {detail}"))
}

async fn from_error_response(provider: &str, response: Response, timeout: Duration) -> LlmError {
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let body = match tokio::time::timeout(timeout, response.bytes()).await {
        Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_ERROR_BODY)]).into_owned(),
        _ => String::new(),
    };
    let parsed: Option<Value> = serde_json::from_str(&body).ok();
    let class = match parsed.as_ref().and_then(error_codes).and_then(|codes| class_for_codes(&codes)) {
        // A body that names a class wins where the status is ambiguous (OpenAI's 429
        // `insufficient_quota` is billing, not a rate limit).
        Some(FaultClass::Caller) if status == 429 => FaultClass::Caller,
        _ => class_for_status(status),
    };
    let message = parsed.as_ref().and_then(vendor_message).unwrap_or_else(|| body.trim().chars().take(300).collect());
    let message = if message.is_empty() { format!("http {status}") } else { format!("http {status}: {message}") };
    LlmError::new(class, provider, message).with_status(status).with_retry_after(retry_after)
}

pub(crate) fn class_for_status(status: u16) -> FaultClass {
    match status {
        429 => FaultClass::RateLimited,
        408 => FaultClass::Timeout,
        // Anthropic's SDK retries a 409 conflict.
        409 => FaultClass::Provider,
        400..=499 => FaultClass::Caller,
        // 5xx, Anthropic's 529, and anything a proxy invents.
        _ => FaultClass::Provider,
    }
}

/// `retry-after-ms` (non-standard, read first by the vendors' SDKs), then `retry-after` in
/// seconds. The HTTP-date form is not honoured.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok().filter(|v| *v >= 0.0);
    if let Some(ms) = number("retry-after-ms") {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    Duration::try_from_secs_f64(number("retry-after")?).ok()
}

/// The `type` / `code` strings of a vendor error body, for classification.
pub(crate) fn error_codes(body: &Value) -> Option<Vec<String>> {
    let error = body.get("error").filter(|e| e.is_object()).unwrap_or(body);
    let codes: Vec<String> = ["type", "code"]
        .iter()
        .filter_map(|k| error.get(*k))
        .filter_map(|v| v.as_str().map(str::to_owned).or_else(|| v.as_u64().map(|n| n.to_string())))
        .collect();
    (!codes.is_empty()).then_some(codes)
}

/// The class a vendor's error `type`/`code` names, when it names one.
pub(crate) fn class_for_codes(codes: &[String]) -> Option<FaultClass> {
    codes.iter().find_map(|code| {
        Some(match code.as_str() {
            "insufficient_quota"
            | "billing_error"
            | "invalid_request_error"
            | "authentication_error"
            | "permission_error"
            | "not_found_error"
            | "request_too_large"
            | "invalid_api_key" => FaultClass::Caller,
            "rate_limit_error" | "rate_limit_exceeded" | "rate_limited" | "1300" => FaultClass::RateLimited,
            "overloaded_error" | "api_error" | "server_error" | "internal_server_error" => FaultClass::Provider,
            "timeout_error" | "timeout" => FaultClass::Timeout,
            _ => return None,
        })
    })
}

/// The human part of a vendor error body: Anthropic and OpenAI `error.message`, Ollama's
/// `error` string, Mistral's top-level `message`.
pub(crate) fn vendor_message(body: &Value) -> Option<String> {
    let text = body
        .pointer("/error/message")
        .or_else(|| body.get("error").filter(|e| e.is_string()))
        .or_else(|| body.get("message"))
        .or_else(|| body.get("detail"))?;
    Some(match text {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// A vendor error that arrived inside a 200 stream.
pub(crate) fn in_stream_error(provider: &str, body: &Value) -> LlmError {
    let class = error_codes(body).and_then(|c| class_for_codes(&c)).unwrap_or(FaultClass::Provider);
    let message = vendor_message(body).unwrap_or_else(|| body.to_string());
    LlmError::new(class, provider, format!("error in stream: {message}"))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;
    use serde_json::json;

    use super::*;

    #[test]
    fn statuses_map_to_fault_classes() {
        for (status, class) in [
            (400, FaultClass::Caller),
            (401, FaultClass::Caller),
            (403, FaultClass::Caller),
            (404, FaultClass::Caller),
            (422, FaultClass::Caller),
            (429, FaultClass::RateLimited),
            (500, FaultClass::Provider),
            (503, FaultClass::Provider),
            (529, FaultClass::Provider),
        ] {
            assert_eq!(class_for_status(status), class, "{status}");
        }
    }

    #[test]
    fn retry_after_prefers_milliseconds_and_accepts_fractions() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("1.5"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        headers.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        headers.clear();
        headers.insert("retry-after", HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn vendor_messages_are_found_in_all_error_shapes() {
        let shapes = [
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            json!({"error": {"message": "Overloaded", "type": "server_error", "code": null}}),
            json!({"error": "Overloaded"}),
            json!({"object": "error", "message": "Overloaded", "type": "internal_server_error"}),
        ];
        for body in shapes {
            assert_eq!(vendor_message(&body).as_deref(), Some("Overloaded"), "{body}");
        }
    }
}
