//! Prefixed identifiers (`tool_…`, `vis_…`): one newtype per entity so an ID of one kind cannot
//! be passed where another is expected. New IDs are time-ordered (UUID v7) so they sort by age.

use serde::{Deserialize, Serialize};

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, example = $prefix)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh, time-ordered ID.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// Wraps a stored or client-sent value; `None` when it lacks the prefix or is absurd.
            pub fn parse(raw: &str) -> Option<Self> {
                let ok = raw.starts_with($prefix)
                    && raw.len() <= 64
                    && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                ok.then(|| Self(raw.to_owned()))
            }

            /// Trusts the value: only for IDs read back from the store.
            pub fn from_stored(raw: String) -> Self {
                Self(raw)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// A tenant (an account with its own bot).
    TenantId,
    "ten_"
);
prefixed_id!(
    /// A segment (persona); the `cls_` prefix is the platform's own.
    SegmentId,
    "cls_"
);
prefixed_id!(
    /// A configured tool.
    ToolId,
    "tool_"
);
prefixed_id!(
    /// A visitor profile.
    VisitorId,
    "vis_"
);
prefixed_id!(
    /// An API token.
    TokenId,
    "tok_"
);
prefixed_id!(
    /// A conversation.
    ConversationId,
    "conv_"
);
prefixed_id!(
    /// A message inside a conversation.
    MessageId,
    "msg_"
);
prefixed_id!(
    /// A corpus entry.
    CorpusId,
    "corp_"
);
prefixed_id!(
    /// A product of the catalog.
    ProductId,
    "prod_"
);
prefixed_id!(
    /// A form submission.
    SubmissionId,
    "sub_"
);
prefixed_id!(
    /// A computed quote (GENERATE_QUOTE in engine mode).
    QuoteId,
    "quo_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_carry_their_prefix_and_parse_back() {
        let id = ToolId::generate();
        assert!(id.as_str().starts_with("tool_"));
        assert_eq!(ToolId::parse(id.as_str()), Some(id));
    }

    #[test]
    fn an_id_of_another_kind_does_not_parse() {
        assert_eq!(ToolId::parse("vis_0123"), None);
        assert_eq!(ToolId::parse("tool_'; drop"), None);
    }
}
