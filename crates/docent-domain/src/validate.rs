//! Validation errors name the offending field so a client can fix its request.

use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Rejects a string longer than `max` characters (not bytes: French text has accents).
pub fn max_len(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    if value.chars().count() > max {
        return Err(ValidationError::new(field, format!("{field} must be at most {max} characters")));
    }
    Ok(())
}

/// Rejects an empty (or blank) required string, and one longer than `max`.
pub fn required(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, format!("{field} is required")));
    }
    max_len(field, value, max)
}

pub fn optional_max_len(field: &str, value: Option<&str>, max: usize) -> Result<(), ValidationError> {
    value.map_or(Ok(()), |v| max_len(field, v, max))
}

/// `#[serde(default, deserialize_with = "double_option")]` tells an absent field (`None`) from
/// an explicit `null` (`Some(None)`), which partial updates need to clear a value.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A light syntactic email check: one `@`, a dot in the domain, no spaces.
pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// Hex colours as `#rgb` or `#rrggbb`.
pub fn is_hex_color(value: &str) -> bool {
    let Some(hex) = value.strip_prefix('#') else { return false };
    matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(max_len("name", "ééé", 3).is_ok());
        assert!(max_len("name", "éééé", 3).is_err());
    }

    #[test]
    fn emails_and_colours() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@b"));
        assert!(!is_email("a b@c.de"));
        assert!(is_hex_color("#6366f1"));
        assert!(!is_hex_color("6366f1"));
        assert!(!is_hex_color("#66zz11"));
    }
}
