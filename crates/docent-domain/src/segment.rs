//! Segments: the personas of a tenant's bot. The system prompt lives here, not on the tenant.

use serde::{Deserialize, Serialize};

use crate::validate::{self, ValidationError, double_option};
use crate::{SegmentId, Timestamp};

pub const MAX_STARTERS: usize = 4;
pub const MAX_STARTER_TEXT: usize = 50;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationStarter {
    pub text: String,
    #[serde(default)]
    pub emoji: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    pub id: SegmentId,
    pub slug: String,
    pub name: String,
    pub system_prompt: String,
    pub welcome_message: Option<String>,
    pub conversation_starters: Vec<ConversationStarter>,
    pub is_default: bool,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A segment in a list: everything but the system prompt.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SegmentSummary {
    pub id: SegmentId,
    pub slug: String,
    pub name: String,
    pub welcome_message: Option<String>,
    pub conversation_starters: Vec<ConversationStarter>,
    pub is_default: bool,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Segment> for SegmentSummary {
    fn from(s: Segment) -> Self {
        Self {
            id: s.id,
            slug: s.slug,
            name: s.name,
            welcome_message: s.welcome_message,
            conversation_starters: s.conversation_starters,
            is_default: s.is_default,
            is_active: s.is_active,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SegmentIn {
    pub name: String,
    pub system_prompt: String,
    #[serde(default)]
    pub welcome_message: Option<String>,
    #[serde(default)]
    pub conversation_starters: Vec<ConversationStarter>,
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SegmentPatch {
    pub name: Option<String>,
    pub system_prompt: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub welcome_message: Option<Option<String>>,
    pub conversation_starters: Option<Vec<ConversationStarter>>,
    pub is_active: Option<bool>,
}

impl SegmentIn {
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_fields(&self.name, &self.system_prompt, self.welcome_message.as_deref(), &self.conversation_starters)
    }
}

impl SegmentPatch {
    /// Applies the patch to a copy of the segment and validates the result.
    pub fn apply(self, segment: &Segment) -> Result<Segment, ValidationError> {
        let mut s = segment.clone();
        if let Some(v) = self.name {
            s.name = v;
        }
        if let Some(v) = self.system_prompt {
            s.system_prompt = v;
        }
        if let Some(v) = self.welcome_message {
            s.welcome_message = v;
        }
        if let Some(v) = self.conversation_starters {
            s.conversation_starters = v;
        }
        if let Some(v) = self.is_active {
            if s.is_default && !v {
                return Err(ValidationError::new("isActive", "the default segment cannot be deactivated"));
            }
            s.is_active = v;
        }
        validate_fields(&s.name, &s.system_prompt, s.welcome_message.as_deref(), &s.conversation_starters)?;
        Ok(s)
    }
}

fn validate_fields(
    name: &str,
    system_prompt: &str,
    welcome: Option<&str>,
    starters: &[ConversationStarter],
) -> Result<(), ValidationError> {
    validate::required("name", name, 100)?;
    validate::required("systemPrompt", system_prompt, 20_000)?;
    validate::optional_max_len("welcomeMessage", welcome, 1_000)?;
    if starters.len() > MAX_STARTERS {
        return Err(ValidationError::new(
            "conversationStarters",
            format!("conversationStarters takes at most {MAX_STARTERS} entries"),
        ));
    }
    for s in starters {
        validate::required("conversationStarters.text", &s.text, MAX_STARTER_TEXT)?;
        validate::max_len("conversationStarters.emoji", &s.emoji, 16)?;
    }
    Ok(())
}
