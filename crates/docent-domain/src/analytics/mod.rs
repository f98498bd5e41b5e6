//! What owners read about their bot's conversations: list filters, summaries, stats windows and
//! buckets, the intent and page keys the stats group by, feedback votes and the submission
//! workflow (`NEW → CONTACTED → RESOLVED`). Pure rules; the store computes, the API shapes.

use serde::Serialize;

use crate::conversation::{Conversation, StoredMessage, Submission, ToolExecution};
use crate::slug::fold_accent;
use crate::{SegmentId, Timestamp, VisitorId};

pub mod window;

pub const DAY_MS: i64 = 86_400_000;

/// The longest stats or export window.
pub const MAX_WINDOW_DAYS: i64 = 365;

/// Longest stored first message and intent question.
const FIRST_MESSAGE_CHARS: usize = 500;
const INTENT_CHARS: usize = 200;

/// Which conversations a list, a count or an export covers. `from` is inclusive, `to`
/// exclusive; `status` is the stored value (`active` or `escalated`).
#[derive(Clone, Debug, Default)]
pub struct ConversationFilter {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub channel: Option<String>,
    pub segment_id: Option<SegmentId>,
    pub visitor_id: Option<VisitorId>,
    pub tool_type: Option<String>,
    pub status: Option<String>,
}

impl ConversationFilter {
    /// Whether the daily rollups can answer counts under this filter (their dimensions are the
    /// window, the channel and the segment).
    pub fn rollup_friendly(&self) -> bool {
        self.visitor_id.is_none() && self.tool_type.is_none() && self.status.is_none()
    }
}

/// A segment as a conversation names it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SegmentRef {
    pub slug: String,
    pub name: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FeedbackCounts {
    pub positive: u64,
    pub negative: u64,
}

/// One conversation as the owner's list shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationSummary {
    pub conversation: Conversation,
    pub segment: Option<SegmentRef>,
    pub first_message: Option<String>,
    pub tool_calls: u64,
    pub feedback: FeedbackCounts,
    /// Filled for lists and details, left empty by exports.
    pub tool_history: Vec<ToolExecution>,
}

/// A visitor's vote on one assistant message.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackVote {
    #[schema(value_type = String)]
    pub message_id: crate::MessageId,
    pub rating: String,
    pub comment: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A whole conversation for the owner.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationDetail {
    pub summary: ConversationSummary,
    pub messages: Vec<StoredMessage>,
    pub submissions: Vec<Submission>,
    pub votes: Vec<FeedbackVote>,
}

/// A visitor's vote, as the feedback endpoint records it.
#[derive(Clone, Debug)]
pub struct NewFeedback {
    pub conversation_id: crate::ConversationId,
    /// `None`: the conversation's last assistant message.
    pub message_id: Option<crate::MessageId>,
    pub rating: Rating,
    pub comment: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rating {
    Positive,
    Negative,
}

impl Rating {
    pub fn parse(raw: &str) -> Option<Rating> {
        match raw {
            "positive" => Some(Rating::Positive),
            "negative" => Some(Rating::Negative),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Positive => "positive",
            Rating::Negative => "negative",
        }
    }
}

/// The submission workflow: `NEW → CONTACTED → RESOLVED`, one step at a time.
pub const SUBMISSION_STATUSES: [&str; 3] = ["NEW", "CONTACTED", "RESOLVED"];

/// The statuses a submission in `status` may move to.
pub fn submission_moves(status: &str) -> &'static [&'static str] {
    match status {
        "NEW" => &["CONTACTED"],
        "CONTACTED" => &["RESOLVED"],
        _ => &[],
    }
}

#[derive(Clone, Debug, Default)]
pub struct SubmissionFilter {
    pub status: Option<String>,
    pub tool_id: Option<crate::ToolId>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// A stats query over whole UTC days `[from_day, to_day)`.
#[derive(Clone, Debug)]
pub struct StatsQuery {
    pub from_day: i64,
    pub to_day: i64,
    pub channel: Option<String>,
    pub segment_id: Option<SegmentId>,
    /// How many entries `tools`, `pages` and `intents` keep.
    pub top: u32,
}

/// One rollup cell: a day, its dimensions and counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DailyCounts {
    pub day: i64,
    pub channel: String,
    /// `None` when the conversation had no segment (or it was deleted since).
    pub segment: Option<String>,
    pub visitor_type: String,
    pub totals: Totals,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub conversations: u64,
    pub messages: u64,
    pub escalated: u64,
    pub with_tool_calls: u64,
    pub tool_calls: u64,
    pub positive: u64,
    pub negative: u64,
}

impl Totals {
    pub fn add(&mut self, o: &Totals) {
        self.conversations += o.conversations;
        self.messages += o.messages;
        self.escalated += o.escalated;
        self.with_tool_calls += o.with_tool_calls;
        self.tool_calls += o.tool_calls;
        self.positive += o.positive;
        self.negative += o.negative;
    }
}

/// What the store answers for a stats query; the API shapes it.
#[derive(Clone, Debug, Default)]
pub struct StatsData {
    pub days: Vec<DailyCounts>,
    pub tools: Vec<(String, u64)>,
    pub pages: Vec<(String, u64)>,
    /// `(question, count)`, the question as one visitor first asked it.
    pub intents: Vec<(String, u64)>,
}

/// The key questions are grouped by: lower case, accents folded, punctuation dropped,
/// whitespace collapsed. `None` for a message with no words.
pub fn intent_key(message: &str) -> Option<String> {
    let mut key = String::new();
    let mut space = false;
    for c in message.chars().flat_map(fold_accent).flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if space && !key.is_empty() {
                key.push(' ');
            }
            space = false;
            key.push(c);
        } else {
            // Whitespace, punctuation and symbols all separate words.
            space = true;
        }
        if key.len() >= INTENT_CHARS * 2 {
            break;
        }
    }
    (!key.is_empty()).then(|| key.chars().take(INTENT_CHARS).collect())
}

/// A first message as stored for lists and exports: as the visitor wrote it, clipped.
pub fn clip_first_message(message: &str) -> String {
    crate::text::first_chars(message, FIRST_MESSAGE_CHARS).to_owned()
}

/// An intent question as shown in `topIntents`.
pub fn clip_question(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(INTENT_CHARS).collect()
}

/// Where engagement started, for `byPage`: the path of `pageUrl` without query or fragment.
pub fn page_key(page_url: &str) -> Option<String> {
    let raw = page_url.trim();
    if raw.is_empty() {
        return None;
    }
    let without_scheme = raw.split_once("://").map(|(_, rest)| rest);
    let path = match without_scheme {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => raw,
    };
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let path = if path.is_empty() { "/" } else { path };
    Some(path.chars().take(300).collect())
}

/// The UTC midnight at or before `ms`.
pub fn day_floor(ms: i64) -> i64 {
    ms - ms.rem_euclid(DAY_MS)
}

/// The UTC midnight at or after `ms`.
pub fn day_ceil(ms: i64) -> i64 {
    let floor = day_floor(ms);
    if floor == ms { ms } else { floor + DAY_MS }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_group_across_case_accents_whitespace_and_punctuation() {
        let a = intent_key("Associations sportives près de Lyon ?").unwrap();
        let b = intent_key("  associations   SPORTIVES pres de lyon").unwrap();
        let c = intent_key("Associations, sportives — près de Lyon!!").unwrap();
        assert_eq!(a, "associations sportives pres de lyon");
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(intent_key("What's the price?").unwrap(), "what s the price");
        assert_eq!(intent_key(" ?! "), None);
    }

    #[test]
    fn pages_keep_the_path_only() {
        assert_eq!(page_key("https://acme.com/pricing?utm=x#plans").unwrap(), "/pricing");
        assert_eq!(page_key("https://acme.com").unwrap(), "/");
        assert_eq!(page_key("/pages/a?b=c").unwrap(), "/pages/a");
        assert_eq!(page_key("  "), None);
    }

    #[test]
    fn days_round_down_and_up_to_utc_midnight() {
        assert_eq!(day_floor(DAY_MS + 5), DAY_MS);
        assert_eq!(day_ceil(DAY_MS + 5), 2 * DAY_MS);
        assert_eq!(day_ceil(DAY_MS), DAY_MS);
        assert_eq!(day_floor(-1), -DAY_MS);
    }

    #[test]
    fn submissions_move_one_step_forward_only() {
        assert_eq!(submission_moves("NEW"), ["CONTACTED"]);
        assert_eq!(submission_moves("CONTACTED"), ["RESOLVED"]);
        assert!(submission_moves("RESOLVED").is_empty());
    }
}
