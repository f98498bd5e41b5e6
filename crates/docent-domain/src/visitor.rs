//! Visitors and their memory: profiles the bot recognises across conversations, and the
//! key-value facts it keeps about them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validate::{self, ValidationError, double_option};
use crate::{Timestamp, VisitorId};

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Visitor {
    pub id: VisitorId,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub auth_provider: Option<String>,
    pub external_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A visitor with the counts the detail endpoint adds.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VisitorDetail {
    #[serde(flatten)]
    pub visitor: Visitor,
    pub conversation_count: u64,
    pub memory_fact_count: u64,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VisitorIn {
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub auth_provider: Option<String>,
    pub external_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VisitorPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub auth_provider: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// A visitor's writable fields after validation (email lowercased).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VisitorFields {
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub auth_provider: Option<String>,
    pub external_id: Option<String>,
    pub metadata: Value,
}

impl VisitorIn {
    pub fn into_fields(self) -> Result<VisitorFields, ValidationError> {
        validate_visitor(VisitorFields {
            email: self.email,
            display_name: self.display_name,
            phone: self.phone,
            auth_provider: self.auth_provider,
            external_id: self.external_id,
            metadata: self.metadata.unwrap_or_else(|| Value::Object(Default::default())),
        })
    }
}

impl VisitorPatch {
    pub fn apply(self, v: &Visitor) -> Result<VisitorFields, ValidationError> {
        validate_visitor(VisitorFields {
            email: self.email.unwrap_or_else(|| v.email.clone()),
            display_name: self.display_name.unwrap_or_else(|| v.display_name.clone()),
            phone: self.phone.unwrap_or_else(|| v.phone.clone()),
            auth_provider: self.auth_provider.unwrap_or_else(|| v.auth_provider.clone()),
            external_id: self.external_id.unwrap_or_else(|| v.external_id.clone()),
            metadata: self.metadata.unwrap_or_else(|| v.metadata.clone()),
        })
    }
}

fn validate_visitor(mut f: VisitorFields) -> Result<VisitorFields, ValidationError> {
    f.email = f.email.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
    f.external_id = f.external_id.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
    if f.email.is_none() && f.external_id.is_none() {
        return Err(ValidationError::new("email", "at least one of email or externalId is required"));
    }
    if let Some(e) = &f.email
        && (e.len() > 254 || !validate::is_email(e))
    {
        return Err(ValidationError::new("email", "email must be a valid email address"));
    }
    validate::optional_max_len("externalId", f.external_id.as_deref(), 200)?;
    validate::optional_max_len("displayName", f.display_name.as_deref(), 200)?;
    validate::optional_max_len("authProvider", f.auth_provider.as_deref(), 50)?;
    if let Some(p) = &f.phone {
        validate::max_len("phone", p, 40)?;
        if !p.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
            return Err(ValidationError::new("phone", "phone may hold digits, spaces and + - ( ) . only"));
        }
    }
    if !f.metadata.is_object() {
        return Err(ValidationError::new("metadata", "metadata must be a JSON object"));
    }
    if f.metadata.to_string().len() > 16 * 1024 {
        return Err(ValidationError::new("metadata", "metadata must be at most 16 KiB of JSON"));
    }
    Ok(f)
}

#[derive(Clone, Debug, Default)]
pub struct VisitorQuery {
    pub limit: u32,
    pub offset: u64,
    pub search: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemoryFact {
    pub key: String,
    pub value: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryIn {
    pub key: String,
    pub value: String,
}

pub const MAX_FACT_VALUE: usize = 2_000;

impl MemoryIn {
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_fact_key(&self.key)?;
        validate::required("value", &self.value, MAX_FACT_VALUE)
    }
}

/// Fact keys: 1-100 characters of letters, digits, `_`, `-` and `.` (snake_case recommended).
pub fn validate_fact_key(key: &str) -> Result<(), ValidationError> {
    let ok = !key.is_empty()
        && key.len() <= 100
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("key", "key must be 1-100 characters of letters, digits, _, - or ."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visitor_needs_an_email_or_an_external_id() {
        assert!(VisitorIn::default().into_fields().is_err());
        let v = VisitorIn { email: Some(" Ann@Example.COM ".into()), ..Default::default() };
        assert_eq!(v.into_fields().expect("valid").email.as_deref(), Some("ann@example.com"));
        let v = VisitorIn { external_id: Some("u-1".into()), ..Default::default() };
        assert!(v.into_fields().is_ok());
    }

    #[test]
    fn fact_keys_are_restricted() {
        assert!(validate_fact_key("favorite_color").is_ok());
        assert!(validate_fact_key("bad key").is_err());
        assert!(validate_fact_key("").is_err());
    }
}
