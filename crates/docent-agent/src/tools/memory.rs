//! REMEMBER_FACT: upserts a fact on the visitor. An anonymous session gets a session-scoped
//! visitor profile (`externalId` = `session:<sessionId>`) so the fact is not lost; it is then
//! visible from the next message on.

use docent_domain::visitor::{MAX_FACT_VALUE, VisitorFields, validate_fact_key};
use serde_json::{Value, json};

use super::Outcome;
use crate::turn::TurnScope;

pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "key": {"type": "string", "description": "snake_case name of the fact, e.g. favorite_color"},
            "value": {"type": "string", "description": "the fact's value"}
        },
        "required": ["key", "value"],
        "additionalProperties": false
    })
}

/// Normalises a model-chosen key to snake_case.
fn normalise_key(raw: &str) -> String {
    let mut key = String::with_capacity(raw.len());
    for c in raw.trim().chars().flat_map(docent_domain::slug::fold_accent) {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
        }
    }
    key.trim_end_matches('_').chars().take(100).collect()
}

pub async fn execute(scope: &mut TurnScope<'_>, args: &Value) -> Outcome {
    let key = normalise_key(args.get("key").and_then(Value::as_str).unwrap_or_default());
    let value = args.get("value").and_then(Value::as_str).map(str::trim).unwrap_or_default().to_owned();
    if validate_fact_key(&key).is_err() || value.is_empty() || value.chars().count() > MAX_FACT_VALUE {
        return Outcome::failure("Fact not remembered: invalid key or value", "The fact was invalid; do not retry.");
    }
    let visitor = match scope.visitor_id.clone() {
        Some(v) => v,
        None => match session_visitor(scope).await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "could not create a session visitor");
                return Outcome::failure("Fact not remembered: storage error", "The fact could not be saved.");
            }
        },
    };
    match scope.store.remember_fact(&scope.tenant.id, &visitor, &key, &value).await {
        Ok(_) => Outcome {
            success: true,
            summary: "Remembered 1 fact".to_owned(),
            data: json!({}),
            for_model: format!("Remembered {key}."),
            result: json!({"key": key, "value": value, "visitorId": visitor}),
            contact_submitted: false,
            escalated: false,
        },
        Err(e) => {
            tracing::error!(error = %e, "could not store a memory fact");
            Outcome::failure("Fact not remembered: storage error", "The fact could not be saved.")
        }
    }
}

/// Finds or creates the anonymous session's profile (in one grouped write, like the turn's
/// own), and links the turn to it.
async fn session_visitor(scope: &mut TurnScope<'_>) -> docent_store::Result<docent_domain::VisitorId> {
    let fields = VisitorFields {
        external_id: Some(format!("session:{}", scope.conversation.session_id)),
        auth_provider: Some("session".to_owned()),
        metadata: json!({"anonymous": true}),
        ..Default::default()
    };
    let visitor = scope.store.find_or_create_visitor(&scope.tenant.id, fields).await?;
    scope.visitor_id = Some(visitor.id.clone());
    scope.created_visitor = Some(visitor.id.clone());
    Ok(visitor.id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_normalised_to_snake_case() {
        assert_eq!(super::normalise_key("Favorite Color"), "favorite_color");
        assert_eq!(super::normalise_key("  prénom  "), "prenom");
    }
}
