//! Corpus entries: what the bot knows. An entry tied to a segment is found only in that
//! segment's conversations; general entries everywhere.

use serde::{Deserialize, Serialize};

pub use crate::CorpusId;
use crate::validate::{self, ValidationError, double_option};
use crate::{SegmentId, Timestamp};

pub const MAX_CONTENT: usize = 50_000;
pub const MAX_TAGS: usize = 20;

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorpusEntry {
    pub id: CorpusId,
    pub title: String,
    pub content: String,
    /// A short summary (two-tier mode shows titles and summaries only).
    pub summary: Option<String>,
    /// The segment's slug, or null for a general entry.
    pub segment: Option<String>,
    #[serde(skip)]
    pub segment_id: Option<SegmentId>,
    pub priority: u8,
    pub tags: Vec<String>,
    /// A stable key for idempotent imports (a file path, an external id).
    pub key: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CorpusIn {
    pub title: String,
    pub content: String,
    /// A segment slug of this tenant.
    #[serde(default)]
    pub segment: Option<String>,
    /// 1-10, default 5.
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    /// A stable key: importing an entry with a known key updates it instead of adding one.
    #[serde(default)]
    pub key: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CorpusPatch {
    pub title: Option<String>,
    pub content: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub segment: Option<Option<String>>,
    pub priority: Option<i64>,
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub summary: Option<Option<String>>,
}

/// An entry's fields after validation; the segment is resolved to its ID by the caller.
#[derive(Clone, Debug, PartialEq)]
pub struct CorpusFields {
    pub title: String,
    pub content: String,
    pub summary: Option<String>,
    pub segment_id: Option<SegmentId>,
    pub priority: u8,
    pub tags: Vec<String>,
    pub key: Option<String>,
}

/// Checks the owner-editable parts of an entry and normalises tags (trimmed, lowercased, unique).
pub fn validate_entry(
    title: &str,
    content: &str,
    priority: Option<i64>,
    tags: &[String],
    summary: Option<&str>,
    key: Option<&str>,
) -> Result<(u8, Vec<String>), ValidationError> {
    validate::required("title", title, 300)?;
    validate::required("content", content, MAX_CONTENT)?;
    validate::optional_max_len("summary", summary, 1_000)?;
    validate::optional_max_len("key", key, 500)?;
    let priority = priority.unwrap_or(5);
    if !(1..=10).contains(&priority) {
        return Err(ValidationError::new("priority", "priority must be between 1 and 10"));
    }
    if tags.len() > MAX_TAGS {
        return Err(ValidationError::new("tags", format!("tags takes at most {MAX_TAGS} entries")));
    }
    let mut clean: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let t = tag.trim().to_lowercase();
        validate::required("tags", &t, 50)?;
        if !clean.contains(&t) {
            clean.push(t);
        }
    }
    Ok((priority as u8, clean))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_validated() {
        assert!(validate_entry("T", "C", None, &[], None, None).is_ok());
        assert_eq!(validate_entry("T", "C", None, &[], None, None).unwrap().0, 5);
        assert!(validate_entry("T", "C", Some(11), &[], None, None).is_err());
        assert!(validate_entry("T", "C", Some(0), &[], None, None).is_err());
        assert!(validate_entry("T", &"x".repeat(MAX_CONTENT + 1), None, &[], None, None).is_err());
        assert!(validate_entry("", "C", None, &[], None, None).is_err());
        let (_, tags) = validate_entry("T", "C", None, &[" Hours ".into(), "hours".into()], None, None).unwrap();
        assert_eq!(tags, ["hours"]);
    }
}
