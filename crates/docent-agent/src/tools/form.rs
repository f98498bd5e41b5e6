//! SUBMIT_FORM: checks the values the model collected against the form (required fields, email
//! and phone formats), stores a submission (status NEW) and queues the notification email.

use docent_domain::conversation::NewSubmission;
use docent_domain::validate::is_email;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Outcome;
use crate::turn::TurnScope;

#[derive(Clone, Debug, Deserialize)]
pub struct Field {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: String,
    pub required: bool,
}

pub fn fields(config: &Value) -> Vec<Field> {
    config.get("fields").and_then(|f| serde_json::from_value(f.clone()).ok()).unwrap_or_default()
}

pub fn schema(config: &Value) -> Value {
    let fields = fields(config);
    let mut properties = Map::new();
    for f in &fields {
        let mut p = json!({"type": "string", "description": f.label});
        if f.field_type == "email" {
            p["format"] = json!("email");
        }
        properties.insert(f.name.clone(), p);
    }
    let required: Vec<&str> = fields.iter().filter(|f| f.required).map(|f| f.name.as_str()).collect();
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

fn is_phone(value: &str) -> bool {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    (6..=20).contains(&digits) && value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

/// The collected values, cleaned, or the first problem found (in words the model can relay).
pub fn check(fields: &[Field], args: &Value) -> Result<Map<String, Value>, String> {
    let mut values = Map::new();
    for f in fields {
        let raw = args.get(&f.name).and_then(Value::as_str).map(str::trim).unwrap_or_default();
        if raw.is_empty() {
            if f.required {
                return Err(format!("{} is required", f.label));
            }
            continue;
        }
        if raw.chars().count() > 5_000 {
            return Err(format!("{} is too long", f.label));
        }
        if f.field_type == "email" && !is_email(raw) {
            return Err(format!("{} is not a valid email address", f.label));
        }
        if f.field_type == "phone" && !is_phone(raw) {
            return Err(format!("{} is not a valid phone number", f.label));
        }
        values.insert(f.name.clone(), Value::String(raw.to_owned()));
    }
    Ok(values)
}

pub async fn execute(scope: &TurnScope<'_>, tool: &docent_domain::tool::Tool, args: &Value) -> Outcome {
    let fields = fields(&tool.config);
    let values = match check(&fields, args) {
        Ok(v) => v,
        Err(problem) => {
            return Outcome::failure(
                format!("Form not submitted: {problem}"),
                format!("The form was not submitted: {problem}. Ask the visitor for it."),
            );
        }
    };
    let new = NewSubmission {
        tool_id: tool.id.clone(),
        conversation_id: scope.conversation.id.clone(),
        visitor_id: scope.visitor_id.clone(),
        data: Value::Object(values.clone()),
    };
    let submission = match scope.store.create_submission(&scope.tenant.id, new).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "could not store a submission");
            return Outcome::failure("Form not submitted: storage error", "The form could not be saved; apologise.");
        }
    };
    let email_queued = match &scope.tenant.settings.notification_email {
        Some(to) => {
            let payload = json!({
                "to": to,
                "subject": format!("New {} submission", tool.name),
                "tenant": scope.tenant.slug,
                "tool": tool.name,
                "submissionId": submission.id,
                "fields": fields.iter().filter(|f| values.contains_key(&f.name))
                    .map(|f| json!({"label": f.label, "value": values[&f.name]})).collect::<Vec<_>>(),
            });
            scope.store.enqueue_job(&scope.tenant.id, "email", &payload).await.is_ok()
        }
        None => false,
    };
    let names: Vec<&String> = values.keys().collect();
    Outcome {
        success: true,
        summary: format!("Submitted {} ({} fields)", tool.name, values.len()),
        data: json!({"submissionId": submission.id, "fields": names}),
        for_model: "The form was submitted. Thank the visitor and say the team will get back to them.".to_owned(),
        result: json!({"submissionId": submission.id, "values": values, "emailQueued": email_queued}),
        contact_submitted: true,
        escalated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> Vec<Field> {
        fields(&json!({"fields": [
            {"name": "name", "label": "Full Name", "type": "text", "required": true},
            {"name": "email", "label": "Email", "type": "email", "required": true},
            {"name": "phone", "label": "Phone", "type": "phone", "required": false}
        ]}))
    }

    #[test]
    fn required_fields_and_formats_are_checked() {
        assert!(check(&form(), &json!({"name": "Ann", "email": "ann@example.com"})).is_ok());
        assert_eq!(check(&form(), &json!({"name": "Ann"})).unwrap_err(), "Email is required");
        assert!(check(&form(), &json!({"name": "Ann", "email": "nope"})).is_err());
        assert!(check(&form(), &json!({"name": "Ann", "email": "a@b.co", "phone": "call me"})).is_err());
        let ok = check(&form(), &json!({"name": " Ann ", "email": "a@b.co", "phone": "+33 6 12 34 56 78"})).unwrap();
        assert_eq!(ok["name"], "Ann");
    }

    #[test]
    fn the_schema_lists_fields_and_required_ones() {
        let s = schema(&json!({"fields": [{"name": "email", "label": "Email", "type": "email", "required": true}]}));
        assert_eq!(s["required"], json!(["email"]));
        assert_eq!(s["properties"]["email"]["format"], "email");
    }
}
