//! Token scopes: what an `ak_` token may do on its tenant.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Scope {
    #[serde(rename = "settings:read")]
    SettingsRead,
    #[serde(rename = "settings:write")]
    SettingsWrite,
    #[serde(rename = "tokens:read")]
    TokensRead,
    #[serde(rename = "tokens:write")]
    TokensWrite,
    #[serde(rename = "segments:read")]
    SegmentsRead,
    #[serde(rename = "segments:write")]
    SegmentsWrite,
    #[serde(rename = "tools:read")]
    ToolsRead,
    #[serde(rename = "tools:write")]
    ToolsWrite,
    #[serde(rename = "visitors:read")]
    VisitorsRead,
    #[serde(rename = "visitors:write")]
    VisitorsWrite,
    #[serde(rename = "corpus:read")]
    CorpusRead,
    #[serde(rename = "corpus:write")]
    CorpusWrite,
    #[serde(rename = "products:read")]
    ProductsRead,
    #[serde(rename = "products:write")]
    ProductsWrite,
    #[serde(rename = "conversations:read")]
    ConversationsRead,
    /// Changing what conversations left behind (submission statuses).
    #[serde(rename = "conversations:write")]
    ConversationsWrite,
    #[serde(rename = "stats:read")]
    StatsRead,
    #[serde(rename = "*")]
    All,
}

impl Scope {
    pub const ALL: [Scope; 18] = [
        Scope::SettingsRead,
        Scope::SettingsWrite,
        Scope::TokensRead,
        Scope::TokensWrite,
        Scope::SegmentsRead,
        Scope::SegmentsWrite,
        Scope::ToolsRead,
        Scope::ToolsWrite,
        Scope::VisitorsRead,
        Scope::VisitorsWrite,
        Scope::CorpusRead,
        Scope::CorpusWrite,
        Scope::ProductsRead,
        Scope::ProductsWrite,
        Scope::ConversationsRead,
        Scope::ConversationsWrite,
        Scope::StatsRead,
        Scope::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SettingsRead => "settings:read",
            Scope::SettingsWrite => "settings:write",
            Scope::TokensRead => "tokens:read",
            Scope::TokensWrite => "tokens:write",
            Scope::SegmentsRead => "segments:read",
            Scope::SegmentsWrite => "segments:write",
            Scope::ToolsRead => "tools:read",
            Scope::ToolsWrite => "tools:write",
            Scope::VisitorsRead => "visitors:read",
            Scope::VisitorsWrite => "visitors:write",
            Scope::CorpusRead => "corpus:read",
            Scope::CorpusWrite => "corpus:write",
            Scope::ProductsRead => "products:read",
            Scope::ProductsWrite => "products:write",
            Scope::ConversationsRead => "conversations:read",
            Scope::ConversationsWrite => "conversations:write",
            Scope::StatsRead => "stats:read",
            Scope::All => "*",
        }
    }

    pub fn parse(raw: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a set of granted scopes covers `needed` (`*` covers everything).
pub fn grants(granted: &[Scope], needed: Scope) -> bool {
    granted.iter().any(|s| *s == Scope::All || *s == needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips_through_its_name() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).expect("serializes");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }

    #[test]
    fn star_grants_everything_and_read_does_not_grant_write() {
        assert!(grants(&[Scope::All], Scope::ToolsWrite));
        assert!(!grants(&[Scope::ToolsRead], Scope::ToolsWrite));
    }
}
