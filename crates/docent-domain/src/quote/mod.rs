//! GENERATE_QUOTE: the pricing grid (`grid`), the computation in integer cents (`compute`), the
//! quote as stored with its per-tenant number, and the email text (`render`).
//!
//! Two modes, decided by the tool's config: **engine** when `config.pricing` holds a grid (the
//! model picks skus and quantities, the server prices them), **legacy** without one (the model
//! collects a request, by default name, email and details, or the config's own `fields`).

pub mod compute;
pub mod grid;
pub mod render;

#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::{Value, json};

use crate::{ConversationId, QuoteId, Timestamp, ToolId, VisitorId};

pub use compute::{
    AppliedDiscount, ComputedQuote, QuoteLine, QuoteRefusal, Requested, compute, format_money, format_rate,
};
pub use grid::{DiscountRule, PriceItem, PricingGrid};

/// The fields a legacy GENERATE_QUOTE collects when its config names none (SUBMIT_FORM's shape).
pub fn legacy_fields() -> Value {
    json!([
        {"name": "name", "label": "name", "type": "text", "required": true},
        {"name": "email", "label": "email", "type": "email", "required": true},
        {"name": "details", "label": "project", "type": "textarea", "required": true}
    ])
}

/// `Q-2026-0001`: the year of the quote and its sequence number for the tenant in that year.
pub fn quote_number(year: i32, sequence: i64) -> String {
    format!("Q-{year}-{sequence:04}")
}

/// The calendar year (UTC) of an instant, which starts a new numbering sequence.
pub fn year_of(at: Timestamp) -> i32 {
    time::OffsetDateTime::from_unix_timestamp(at.millis().div_euclid(1_000)).map(|t| t.year()).unwrap_or(1970)
}

/// A computed quote to number and store.
#[derive(Clone, Debug)]
pub struct NewQuote {
    pub tool_id: Option<ToolId>,
    pub conversation_id: Option<ConversationId>,
    pub visitor_id: Option<VisitorId>,
    pub customer_name: String,
    pub customer_email: String,
    pub computed: ComputedQuote,
}

/// A stored quote.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    pub id: QuoteId,
    pub number: String,
    pub tool_id: Option<ToolId>,
    pub conversation_id: Option<ConversationId>,
    pub visitor_id: Option<VisitorId>,
    pub customer_name: String,
    pub customer_email: String,
    pub lines: Vec<QuoteLine>,
    pub subtotal: i64,
    pub discount: i64,
    pub vat: Option<i64>,
    pub total: i64,
    pub currency: String,
    pub created_at: Timestamp,
}
