//! The quote computation: the model picks skus and quantities, every amount comes from the grid.
//!
//! All amounts are integer cents. Lines are `unit × quantity` (exact). The discount rule that
//! applies is the one with the highest `whenTotalGte` not above the subtotal; its amount is
//! `round_half_up(subtotal × pct / 100)`. VAT, when the grid sets a rate, is
//! `round_half_up(net × vat / 100)` on the net (subtotal − discount). Rounding happens once per
//! summary line, half up on cents (amounts are never negative, so "half up" is "half away from
//! zero"), and the total is the sum of the rounded lines: what the email shows adds up.

use serde::{Deserialize, Serialize};

use super::grid::{MAX_QUANTITY, PricingGrid};

/// The most lines a quote holds.
pub const MAX_LINES: usize = 50;

/// One line the model asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requested {
    pub sku: String,
    pub quantity: i64,
}

/// A priced line of a quote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteLine {
    pub sku: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per: Option<String>,
    pub quantity: u32,
    /// Unit price in cents, from the grid.
    pub unit: i64,
    /// `unit × quantity`, in cents.
    pub amount: i64,
}

/// The discount rule that applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedDiscount {
    pub label: Option<String>,
    /// Hundredths of a percent.
    pub pct_bp: u32,
}

/// A computed quote, before it is numbered and stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComputedQuote {
    pub lines: Vec<QuoteLine>,
    pub subtotal: i64,
    pub discount: i64,
    pub applied_discount: Option<AppliedDiscount>,
    /// `subtotal − discount`.
    pub net: i64,
    /// The VAT rate in hundredths of a percent; `None` when the grid is before tax only.
    pub vat_bp: Option<u32>,
    /// The VAT amount; `None` when the grid sets no rate (no tax line at all).
    pub vat: Option<i64>,
    pub total: i64,
    pub currency: String,
}

/// Why a quote was not computed, in words the model can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QuoteRefusal(pub String);

/// `round_half_up(amount × bp / 10 000)` for non-negative amounts, in cents.
pub fn apply_rate(amount: i64, bp: u32) -> i64 {
    let scaled = i128::from(amount) * i128::from(bp);
    i64::try_from((scaled + 5_000) / 10_000).unwrap_or(i64::MAX)
}

/// Prices the requested lines from the grid. Two requests of one sku are merged (quantities
/// added) before the item's `max` is checked.
pub fn compute(grid: &PricingGrid, requested: &[Requested]) -> Result<ComputedQuote, QuoteRefusal> {
    if requested.is_empty() {
        return Err(QuoteRefusal(format!("Choose at least one item; available: {}", grid.skus())));
    }
    let mut lines: Vec<QuoteLine> = Vec::new();
    for r in requested {
        let Some(item) = grid.item(&r.sku) else {
            return Err(QuoteRefusal(format!("Unknown sku {}; available: {}", r.sku.trim(), grid.skus())));
        };
        if r.quantity < 1 {
            return Err(QuoteRefusal(format!("The quantity of {} must be at least 1", item.sku)));
        }
        match lines.iter_mut().find(|l| l.sku == item.sku) {
            Some(line) => line.quantity = line.quantity.saturating_add(u32::try_from(r.quantity).unwrap_or(u32::MAX)),
            None => lines.push(QuoteLine {
                sku: item.sku.clone(),
                label: item.label.clone(),
                per: item.per.clone(),
                quantity: u32::try_from(r.quantity).unwrap_or(u32::MAX),
                unit: item.unit,
                amount: 0,
            }),
        }
    }
    if lines.len() > MAX_LINES {
        return Err(QuoteRefusal(format!("A quote holds at most {MAX_LINES} different items")));
    }
    for line in &mut lines {
        let max = grid.item(&line.sku).and_then(|i| i.max).unwrap_or(MAX_QUANTITY).min(MAX_QUANTITY);
        if line.quantity > max {
            return Err(QuoteRefusal(format!("{} allows at most {max} (asked for {})", line.sku, line.quantity)));
        }
        // Bounded by MAX_UNIT_CENTS × MAX_QUANTITY × MAX_LINES, far below i64::MAX.
        line.amount = line.unit * i64::from(line.quantity);
    }
    let subtotal: i64 = lines.iter().map(|l| l.amount).sum();
    let rule = grid.rules.iter().filter(|r| r.when_total_gte <= subtotal).max_by_key(|r| r.when_total_gte);
    let discount = rule.map_or(0, |r| apply_rate(subtotal, r.discount_bp));
    let net = subtotal - discount;
    let vat = grid.vat_bp.map(|bp| apply_rate(net, bp));
    Ok(ComputedQuote {
        lines,
        subtotal,
        discount,
        applied_discount: rule.map(|r| AppliedDiscount { label: r.label.clone(), pct_bp: r.discount_bp }),
        net,
        vat_bp: grid.vat_bp,
        vat,
        total: net + vat.unwrap_or(0),
        currency: grid.currency.clone(),
    })
}

/// `1,764.00 EUR`: thousands separated by commas, two decimals, the currency code after.
pub fn format_money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02} {currency}", abs % 100)
}

/// A rate in hundredths of a percent as people write it: `20`, `5.5`, `12.25`.
pub fn format_rate(bp: u32) -> String {
    let whole = bp / 100;
    match bp % 100 {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}
