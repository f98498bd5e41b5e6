//! The chat request: body fields and headers of the chat reference page, validated, with the
//! caller's agent declaration (`X-Agent-Model`, or `[AGENT:model]` before the message).

use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

use crate::http::error::ApiError;

/// The body of `POST /chat/{slug}`. Unknown fields are ignored: agents send what they send.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatIn {
    /// The visitor's (or agent's) message, at most 15,000 characters.
    pub message: Option<String>,
    /// The session handle (at most 100 characters); reuse it to continue the conversation.
    pub session_id: Option<String>,
    /// Continues the conversation with this UUID (instead of, or with, `sessionId`).
    pub conversation_id: Option<String>,
    /// A segment slug; else the conversation's segment, else the default one.
    pub segment: Option<String>,
    /// true: SSE; false: one JSON envelope. Default: SSE for humans, JSON for declared agents.
    pub stream: Option<bool>,
    pub page_url: Option<String>,
    /// `{title, url, ...}` of the page, as strings.
    #[schema(value_type = Option<Object>)]
    pub page_context: Option<Value>,
    /// A visitor ID (`vis_…`) or the tenant's own external ID for the visitor.
    pub visitor_id: Option<String>,
    /// `en`, `fr`, …
    pub locale: Option<String>,
    /// The tenant's widget key, when it requires one (also `X-Widget-Key`).
    pub widget_key: Option<String>,
}

/// A validated chat request.
#[derive(Debug)]
pub struct ChatRequestIn {
    pub message: String,
    pub session_id: Option<String>,
    pub conversation_id: Option<String>,
    pub segment: Option<String>,
    pub stream: Option<bool>,
    pub page_url: Option<String>,
    pub page_context: Option<Value>,
    pub visitor_id: Option<String>,
    pub locale: Option<String>,
    pub agent_model: Option<String>,
}

const REQUIRED: &str = "message and sessionId are required";

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_request", message)
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// Truncates to at most `max` characters.
fn clip(s: &str, max: usize) -> String {
    docent_domain::text::first_chars(s, max).to_owned()
}

/// Splits `[AGENT:model] question` into the model and the question.
pub fn agent_prefix(message: &str) -> Option<(String, String)> {
    let rest = message.trim_start().strip_prefix("[AGENT:")?;
    let end = rest.find(']')?;
    let model = rest[..end].trim();
    if model.is_empty() {
        return None;
    }
    Some((clip(model, 100), rest[end + 1..].trim_start().to_owned()))
}

/// The body as sent (an empty body is an empty object).
pub fn body(body: &[u8]) -> Result<ChatIn, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ChatIn::default());
    }
    serde_json::from_slice(body).map_err(|e| bad(format!("Invalid JSON body: {e}")))
}

#[cfg(test)]
fn parse(body: &[u8], headers: &HeaderMap, max_chars: usize) -> Result<ChatRequestIn, ApiError> {
    validate(self::body(body)?, headers, max_chars)
}

/// The body's fields and the request's headers, checked.
pub fn validate(body: ChatIn, headers: &HeaderMap, max_chars: usize) -> Result<ChatRequestIn, ApiError> {
    let message = body.message.filter(|m| !m.trim().is_empty()).ok_or_else(|| bad(REQUIRED))?;
    let session_id = body.session_id.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if session_id.is_none() && body.conversation_id.is_none() {
        return Err(bad(REQUIRED));
    }
    if message.chars().count() > max_chars {
        return Err(bad(format!("message must be at most {max_chars} characters")));
    }
    if session_id.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(bad("sessionId must be at most 100 characters"));
    }
    if body.page_url.as_ref().is_some_and(|u| u.chars().count() > 2_000) {
        return Err(bad("pageUrl must be at most 2000 characters"));
    }
    if let Some(ctx) = &body.page_context
        && (!ctx.is_object() || ctx.to_string().len() > 8_192)
    {
        return Err(bad("pageContext must be an object of at most 8 KiB"));
    }
    let locale = body.locale.or_else(|| header(headers, "x-animam-locale").map(str::to_owned));
    let locale = locale.map(|l| l.to_ascii_lowercase());
    if let Some(l) = &locale
        && (l.len() > 10 || !l.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
    {
        return Err(bad("locale must be a language tag like en or fr"));
    }
    let declared = header(headers, "x-agent-model").map(|m| clip(m, 100));
    let (agent_model, message) = match agent_prefix(&message) {
        Some((model, rest)) if !rest.trim().is_empty() => (declared.or(Some(model)), rest),
        Some(_) => return Err(bad(REQUIRED)),
        None => (declared, message),
    };
    let visitor_id = header(headers, "x-visitor-id").map(str::to_owned).or(body.visitor_id);
    if visitor_id.as_ref().is_some_and(|v| v.chars().count() > 200) {
        return Err(bad("visitorId must be at most 200 characters"));
    }
    Ok(ChatRequestIn {
        message,
        session_id,
        conversation_id: body.conversation_id,
        segment: body.segment,
        stream: body.stream,
        page_url: body.page_url,
        page_context: body.page_context,
        visitor_id,
        locale,
        agent_model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_prefix_is_stripped_and_truncated() {
        assert_eq!(
            agent_prefix("[AGENT:gpt-4o] What are your hours?"),
            Some(("gpt-4o".into(), "What are your hours?".into()))
        );
        assert_eq!(agent_prefix("What [AGENT:x]"), None);
        let long = format!("[AGENT:{}] hi", "m".repeat(300));
        assert_eq!(agent_prefix(&long).map(|(m, _)| m.len()), Some(100));
    }

    #[test]
    fn missing_fields_get_the_documented_error() {
        let h = HeaderMap::new();
        for body in [
            &b"{}"[..],
            br#"{"message": "hi"}"#,
            br#"{"sessionId": "s"}"#,
            br#"{"message": " ", "sessionId": "s"}"#,
            b"",
        ] {
            assert_eq!(parse(body, &h, 15_000).unwrap_err().message, REQUIRED);
        }
        let long = format!(r#"{{"message": "{}", "sessionId": "s"}}"#, "x".repeat(15_001));
        assert!(parse(long.as_bytes(), &h, 15_000).is_err());
        assert!(parse(br#"{"message": "hi", "sessionId": "s"}"#, &h, 15_000).is_ok());
    }
}
