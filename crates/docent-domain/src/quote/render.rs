//! The plain-text quote sent by email, to the visitor and to the business: every line, the
//! discount, the tax and the total as computed, the validity and the disclaimer.

use super::compute::{ComputedQuote, format_money, format_rate};
use super::grid::{DEFAULT_DISCLAIMER, PricingGrid};
use crate::Timestamp;

/// What a quote email says besides the computation.
pub struct Letter<'a> {
    pub number: &'a str,
    /// The business's name (the tenant).
    pub business: &'a str,
    pub customer_name: &'a str,
    pub customer_email: &'a str,
    pub issued_at: Timestamp,
}

/// The quote as plain text (the email body).
pub fn quote_text(letter: &Letter<'_>, quote: &ComputedQuote, grid: &PricingGrid) -> String {
    let money = |cents: i64| format_money(cents, &quote.currency);
    let date = letter.issued_at.to_string();
    let day = date.get(..10).unwrap_or(&date);
    let mut out = format!("Quote {} from {}\nDate: {day}\n", letter.number, letter.business);
    if let Some(days) = grid.validity_days {
        out.push_str(&format!("Valid for {days} days\n"));
    }
    out.push_str(&format!("For: {} <{}>\n\n", letter.customer_name, letter.customer_email));
    for line in &quote.lines {
        let per = line.per.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
        out.push_str(&format!(
            "{}{per} [{}]: {} x {} = {}\n",
            line.label,
            line.sku,
            line.quantity,
            money(line.unit),
            money(line.amount)
        ));
    }
    out.push_str(&format!("\nSubtotal: {}\n", money(quote.subtotal)));
    if let Some(d) = &quote.applied_discount {
        let label = d.label.as_deref().unwrap_or("Discount");
        out.push_str(&format!("{label} ({}%): -{}\n", format_rate(d.pct_bp), money(quote.discount)));
    }
    match (quote.vat_bp, quote.vat) {
        (Some(bp), Some(vat)) => {
            out.push_str(&format!("Net before tax: {}\n", money(quote.net)));
            out.push_str(&format!("VAT ({}%): {}\n", format_rate(bp), money(vat)));
            out.push_str(&format!("Total including tax: {}\n", money(quote.total)));
        }
        _ => out.push_str(&format!("Total before tax: {}\n", money(quote.total))),
    }
    out.push_str(&format!("\n{}\n", grid.disclaimer.as_deref().unwrap_or(DEFAULT_DISCLAIMER)));
    out
}
