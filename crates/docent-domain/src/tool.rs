//! Tools: actions the bot may take. Six types are configured by owners; the synthetic ones are
//! injected at chat time by the enrichment chain and can never be created through the API.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validate::{self, ValidationError, double_option};
use crate::{SegmentId, Timestamp, ToolId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ToolType {
    SubmitForm,
    GenerateQuote,
    BookMeeting,
    EscalateToHuman,
    RememberFact,
    RecommendProduct,
    CheckAvailability,
    CollectPayment,
    ExploreCorpus,
    SendVerificationCode,
    VerifyVisitorCode,
    VerifyExternalChallenge,
    McpProxy,
}

impl ToolType {
    pub const CONFIGURABLE: [ToolType; 6] = [
        ToolType::SubmitForm,
        ToolType::GenerateQuote,
        ToolType::BookMeeting,
        ToolType::EscalateToHuman,
        ToolType::RememberFact,
        ToolType::RecommendProduct,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ToolType::SubmitForm => "SUBMIT_FORM",
            ToolType::GenerateQuote => "GENERATE_QUOTE",
            ToolType::BookMeeting => "BOOK_MEETING",
            ToolType::EscalateToHuman => "ESCALATE_TO_HUMAN",
            ToolType::RememberFact => "REMEMBER_FACT",
            ToolType::RecommendProduct => "RECOMMEND_PRODUCT",
            ToolType::CheckAvailability => "CHECK_AVAILABILITY",
            ToolType::CollectPayment => "COLLECT_PAYMENT",
            ToolType::ExploreCorpus => "EXPLORE_CORPUS",
            ToolType::SendVerificationCode => "SEND_VERIFICATION_CODE",
            ToolType::VerifyVisitorCode => "VERIFY_VISITOR_CODE",
            ToolType::VerifyExternalChallenge => "VERIFY_EXTERNAL_CHALLENGE",
            ToolType::McpProxy => "MCP_PROXY",
        }
    }

    pub fn parse(raw: &str) -> Option<ToolType> {
        const ALL: [ToolType; 13] = [
            ToolType::SubmitForm,
            ToolType::GenerateQuote,
            ToolType::BookMeeting,
            ToolType::EscalateToHuman,
            ToolType::RememberFact,
            ToolType::RecommendProduct,
            ToolType::CheckAvailability,
            ToolType::CollectPayment,
            ToolType::ExploreCorpus,
            ToolType::SendVerificationCode,
            ToolType::VerifyVisitorCode,
            ToolType::VerifyExternalChallenge,
            ToolType::McpProxy,
        ];
        ALL.into_iter().find(|t| t.as_str() == raw)
    }

    pub fn is_configurable(self) -> bool {
        Self::CONFIGURABLE.contains(&self)
    }

    /// Parses a type an owner asks to create, with an error naming the allowed types.
    pub fn parse_configurable(raw: &str) -> Result<ToolType, ValidationError> {
        let allowed = || Self::CONFIGURABLE.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
        match Self::parse(raw) {
            Some(t) if t.is_configurable() => Ok(t),
            Some(t) => Err(ValidationError::new(
                "type",
                format!(
                    "{} is a synthetic tool type, injected at chat time; only these types can be created: {}",
                    t.as_str(),
                    allowed()
                ),
            )),
            None => {
                Err(ValidationError::new("type", format!("unknown tool type `{raw}`; allowed types: {}", allowed())))
            }
        }
    }
}

/// A tool as stored. `webhook_secret` is ciphertext, sealed by the server's master key.
#[derive(Clone, Debug, PartialEq)]
pub struct Tool {
    pub id: ToolId,
    pub name: String,
    pub description: String,
    pub tool_type: ToolType,
    pub config: Value,
    pub position: i64,
    pub is_active: bool,
    pub segment_id: Option<SegmentId>,
    /// The slug of `segment_id`, read with the tool.
    pub segment_slug: Option<String>,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The tool object of the API: the secret never leaves, only whether there is one.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolView {
    pub id: ToolId,
    pub name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub tool_type: ToolType,
    #[schema(value_type = Object)]
    pub config: Value,
    pub position: i64,
    pub is_active: bool,
    /// The segment's slug, or null for a tool offered in every segment.
    pub segment: Option<String>,
    pub segment_id: Option<SegmentId>,
    pub webhook_url: Option<String>,
    pub has_webhook_secret: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Tool> for ToolView {
    fn from(t: Tool) -> Self {
        Self {
            id: t.id,
            name: t.name,
            description: t.description,
            tool_type: t.tool_type,
            config: t.config,
            position: t.position,
            is_active: t.is_active,
            segment: t.segment_slug,
            segment_id: t.segment_id,
            webhook_url: t.webhook_url,
            has_webhook_secret: t.webhook_secret.is_some(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolIn {
    pub name: String,
    pub description: String,
    /// One of SUBMIT_FORM, GENERATE_QUOTE, BOOK_MEETING, ESCALATE_TO_HUMAN, REMEMBER_FACT,
    /// RECOMMEND_PRODUCT.
    #[serde(rename = "type")]
    pub tool_type: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub segment_id: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
    #[serde(default)]
    pub position: Option<i64>,
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub webhook_secret: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub segment_id: Option<Option<String>>,
    pub is_active: Option<bool>,
    pub position: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub webhook_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub webhook_secret: Option<Option<String>>,
}

/// A tool's fields after validation; the store takes this (secret already sealed).
#[derive(Clone, Debug)]
pub struct ToolFields {
    pub name: String,
    pub description: String,
    pub tool_type: ToolType,
    pub config: Value,
    pub position: Option<i64>,
    pub is_active: bool,
    pub segment_id: Option<SegmentId>,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
}

/// Validates the owner-editable parts of a tool.
pub fn validate_tool(
    name: &str,
    description: &str,
    tool_type: ToolType,
    config: &Value,
    webhook_url: Option<&str>,
    webhook_secret: Option<&str>,
) -> Result<(), ValidationError> {
    validate::required("name", name, 100)?;
    validate::required("description", description, 2_000)?;
    if !config.is_object() {
        return Err(ValidationError::new("config", "config must be a JSON object"));
    }
    if config.to_string().len() > 64 * 1024 {
        return Err(ValidationError::new("config", "config must be at most 64 KiB of JSON"));
    }
    if tool_type == ToolType::SubmitForm {
        validate_form_fields(config)?;
    }
    if tool_type == ToolType::GenerateQuote {
        // Engine mode with a valid grid, or legacy mode collecting the default or its own fields.
        crate::quote::PricingGrid::from_config(config)?;
        if config.get("fields").is_some() {
            validate_form_fields(config)?;
        }
    }
    if let Some(url) = webhook_url {
        if tool_type != ToolType::EscalateToHuman {
            return Err(ValidationError::new("webhookUrl", "webhookUrl is only used by ESCALATE_TO_HUMAN tools"));
        }
        validate::max_len("webhookUrl", url, 2_000)?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ValidationError::new("webhookUrl", "webhookUrl must be an http(s) URL"));
        }
    }
    if let Some(secret) = webhook_secret {
        validate::required("webhookSecret", secret, 500)?;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FormField {
    name: String,
    label: String,
    #[serde(rename = "type")]
    field_type: String,
    required: bool,
}

const FIELD_TYPES: [&str; 4] = ["text", "email", "phone", "textarea"];

fn validate_form_fields(config: &Value) -> Result<(), ValidationError> {
    let Some(fields) = config.get("fields") else {
        return Err(ValidationError::new("config.fields", "SUBMIT_FORM needs config.fields, a list of form fields"));
    };
    let fields: Vec<FormField> = serde_json::from_value(fields.clone()).map_err(|e| {
        ValidationError::new(
            "config.fields",
            format!("each field needs name, label, type and required (boolean), nothing else: {e}"),
        )
    })?;
    if fields.is_empty() || fields.len() > 30 {
        return Err(ValidationError::new("config.fields", "config.fields takes 1 to 30 fields"));
    }
    let mut seen = std::collections::HashSet::new();
    for f in &fields {
        let snake = !f.name.is_empty()
            && f.name.len() <= 64
            && f.name.starts_with(|c: char| c.is_ascii_lowercase())
            && f.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !snake {
            return Err(ValidationError::new(
                "config.fields.name",
                format!("field name `{}` must be snake_case (a-z, 0-9, _), at most 64 characters", f.name),
            ));
        }
        if !seen.insert(f.name.as_str()) {
            return Err(ValidationError::new("config.fields.name", format!("field name `{}` is used twice", f.name)));
        }
        validate::required("config.fields.label", &f.label, 200)?;
        if !FIELD_TYPES.contains(&f.field_type.as_str()) {
            return Err(ValidationError::new(
                "config.fields.type",
                format!("field type `{}` must be one of text, email, phone, textarea", f.field_type),
            ));
        }
        let _ = f.required;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn synthetic_types_are_refused_with_the_allowed_list() {
        let err = ToolType::parse_configurable("EXPLORE_CORPUS").expect_err("synthetic");
        assert!(err.message.contains("SUBMIT_FORM"));
        assert!(ToolType::parse_configurable("SUBMIT_FORM").is_ok());
        assert!(ToolType::parse_configurable("nope").is_err());
    }

    #[test]
    fn form_fields_must_be_unique_snake_case_and_typed() {
        let ok = json!({"fields": [{"name": "email", "label": "Email", "type": "email", "required": true}]});
        assert!(validate_form_fields(&ok).is_ok());
        let dup = json!({"fields": [
            {"name": "a", "label": "A", "type": "text", "required": true},
            {"name": "a", "label": "B", "type": "text", "required": false}]});
        assert!(validate_form_fields(&dup).is_err());
        let camel = json!({"fields": [{"name": "firstName", "label": "A", "type": "text", "required": true}]});
        assert!(validate_form_fields(&camel).is_err());
        let bad_type = json!({"fields": [{"name": "a", "label": "A", "type": "date", "required": true}]});
        assert!(validate_form_fields(&bad_type).is_err());
        let not_bool = json!({"fields": [{"name": "a", "label": "A", "type": "text", "required": "yes"}]});
        assert!(validate_form_fields(&not_bool).is_err());
    }
}
