//! The pricing grid of a GENERATE_QUOTE tool (`config.pricing`), read from the tool's JSON config
//! and validated field by field, so an owner's mistake comes back naming the exact field
//! (`config.pricing.items[1].sku`). Percentages (VAT, discounts) accept at most two decimals
//! (`5.5` is fine) and are kept as hundredths of a percent, so no float enters a computation.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::validate::ValidationError;

/// The most items a grid holds.
pub const MAX_ITEMS: usize = 200;
/// The most discount rules a grid holds.
pub const MAX_RULES: usize = 20;
/// The largest unit price, in cents (one billion in currency units).
pub const MAX_UNIT_CENTS: i64 = 100_000_000_000;
/// The largest quantity of one line, whatever the item's own `max`.
pub const MAX_QUANTITY: u32 = 10_000;

const GRID_KEYS: [&str; 6] = ["currency", "items", "rules", "vat", "validityDays", "disclaimer"];
const ITEM_KEYS: [&str; 5] = ["sku", "label", "unit", "per", "max"];
const RULE_KEYS: [&str; 3] = ["whenTotalGte", "discountPct", "label"];

/// A validated pricing grid. Amounts are integer cents; rates are hundredths of a percent
/// (`bp`: 20 % is 2000, 5.5 % is 550).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingGrid {
    pub currency: String,
    pub items: Vec<PriceItem>,
    pub rules: Vec<DiscountRule>,
    /// `None`: prices are before tax and the quote has no tax line.
    pub vat_bp: Option<u32>,
    pub validity_days: Option<u32>,
    pub disclaimer: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceItem {
    pub sku: String,
    pub label: String,
    pub unit: i64,
    pub per: Option<String>,
    pub max: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountRule {
    pub when_total_gte: i64,
    pub discount_bp: u32,
    pub label: Option<String>,
}

/// The disclaimer of a grid that sets none.
pub const DEFAULT_DISCLAIMER: &str = "Indicative estimate, not contractually binding.";

impl PricingGrid {
    /// The grid of a GENERATE_QUOTE config: `Ok(None)` when `pricing` is absent or null (legacy
    /// mode), an error naming the field when it is present but wrong.
    pub fn from_config(config: &Value) -> Result<Option<PricingGrid>, ValidationError> {
        match config.get("pricing") {
            None | Some(Value::Null) => Ok(None),
            Some(p) => parse(p, "config.pricing").map(Some),
        }
    }

    /// The item of a sku, compared case-insensitively (models change case).
    pub fn item(&self, sku: &str) -> Option<&PriceItem> {
        self.items.iter().find(|i| i.sku.eq_ignore_ascii_case(sku.trim()))
    }

    /// The skus, comma-separated, for messages that list what is available.
    pub fn skus(&self) -> String {
        self.items.iter().map(|i| i.sku.as_str()).collect::<Vec<_>>().join(", ")
    }
}

fn err(field: &str, message: impl Into<String>) -> ValidationError {
    ValidationError::new(field, message)
}

fn object<'a>(value: &'a Value, field: &str, keys: &[&str]) -> Result<&'a Map<String, Value>, ValidationError> {
    let Some(map) = value.as_object() else {
        return Err(err(field, format!("{field} must be an object")));
    };
    if let Some(unknown) = map.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(err(
            &format!("{field}.{unknown}"),
            format!("{field}.{unknown} is not a pricing field; allowed: {}", keys.join(", ")),
        ));
    }
    Ok(map)
}

fn text(map: &Map<String, Value>, key: &str, field: &str, max: usize) -> Result<Option<String>, ValidationError> {
    let field = format!("{field}.{key}");
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(err(&field, format!("{field} must not be blank"))),
        Some(Value::String(s)) if s.chars().count() > max => {
            Err(err(&field, format!("{field} must be at most {max} characters")))
        }
        Some(Value::String(s)) if s.chars().any(char::is_control) => {
            Err(err(&field, format!("{field} must be one line of text")))
        }
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(err(&field, format!("{field} must be a string"))),
    }
}

fn required_text(map: &Map<String, Value>, key: &str, field: &str, max: usize) -> Result<String, ValidationError> {
    text(map, key, field, max)?.ok_or_else(|| err(&format!("{field}.{key}"), format!("{field}.{key} is required")))
}

/// A JSON integer within `min..=max` (a float such as `150000.0` is refused: cents are whole).
fn integer(
    map: &Map<String, Value>,
    key: &str,
    field: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, ValidationError> {
    let field = format!("{field}.{key}");
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ if max == i64::MAX => Err(err(&field, format!("{field} must be an integer of at least {min}"))),
            _ => Err(err(&field, format!("{field} must be an integer from {min} to {max}"))),
        },
    }
}

/// A percentage as hundredths of a percent, in `]0, 100]` or `[0, 100]`, at most two decimals.
fn percent(value: &Value, field: &str, zero_allowed: bool) -> Result<u32, ValidationError> {
    let range = if zero_allowed { "from 0 to 100" } else { "greater than 0 and at most 100" };
    let Some(pct) = value.as_f64().filter(|p| p.is_finite()) else {
        return Err(err(field, format!("{field} must be a number {range}")));
    };
    if !(0.0..=100.0).contains(&pct) || (!zero_allowed && pct <= 0.0) {
        return Err(err(field, format!("{field} must be a number {range}")));
    }
    let hundredths = (pct * 100.0).round();
    if (pct * 100.0 - hundredths).abs() > 1e-6 {
        return Err(err(field, format!("{field} takes at most two decimals")));
    }
    Ok(hundredths as u32)
}

fn parse(value: &Value, field: &str) -> Result<PricingGrid, ValidationError> {
    let map = object(value, field, &GRID_KEYS)?;
    let currency = match text(map, "currency", field, 3)? {
        None => "EUR".to_owned(),
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => c,
        Some(_) => {
            return Err(err(
                &format!("{field}.currency"),
                format!("{field}.currency must be a 3-letter uppercase code such as EUR"),
            ));
        }
    };
    let items_field = format!("{field}.items");
    let items = match map.get("items") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_ITEMS => items,
        Some(Value::Array(_)) => {
            return Err(err(&items_field, format!("{items_field} takes 1 to {MAX_ITEMS} items")));
        }
        None | Some(Value::Null) => return Err(err(&items_field, format!("{items_field} is required"))),
        Some(_) => return Err(err(&items_field, format!("{items_field} must be a list of items"))),
    };
    let mut seen = HashSet::new();
    let items = items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_item(item, &format!("{items_field}[{i}]"), &mut seen))
        .collect::<Result<Vec<_>, _>>()?;
    let rules_field = format!("{field}.rules");
    let rules = match map.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(rules)) if rules.len() <= MAX_RULES => {
            let mut thresholds = HashSet::new();
            rules
                .iter()
                .enumerate()
                .map(|(i, rule)| parse_rule(rule, &format!("{rules_field}[{i}]"), &mut thresholds))
                .collect::<Result<Vec<_>, _>>()?
        }
        Some(_) => return Err(err(&rules_field, format!("{rules_field} must be a list of at most {MAX_RULES} rules"))),
    };
    let vat_bp = match map.get("vat") {
        None | Some(Value::Null) => None,
        Some(v) => Some(percent(v, &format!("{field}.vat"), true)?),
    };
    let validity_days = integer(map, "validityDays", field, 1, 3650)?.map(|d| d as u32);
    let disclaimer = text(map, "disclaimer", field, 1_000)?;
    Ok(PricingGrid { currency, items, rules, vat_bp, validity_days, disclaimer })
}

fn parse_item(value: &Value, field: &str, seen: &mut HashSet<String>) -> Result<PriceItem, ValidationError> {
    let map = object(value, field, &ITEM_KEYS)?;
    let sku = required_text(map, "sku", field, 64)?;
    let sku_field = format!("{field}.sku");
    if !sku.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b)) {
        return Err(err(&sku_field, format!("{sku_field} `{sku}` may hold only letters, digits, -, _, . and /")));
    }
    if !seen.insert(sku.to_ascii_lowercase()) {
        return Err(err(&sku_field, format!("{sku_field} `{sku}` is used twice; skus must be unique")));
    }
    let label = required_text(map, "label", field, 200)?;
    let unit = integer(map, "unit", field, 1, MAX_UNIT_CENTS)
        .map_err(|_| err(&format!("{field}.unit"), format!("{field}.unit must be a positive integer number of cents")))?
        .ok_or_else(|| err(&format!("{field}.unit"), format!("{field}.unit is required (cents)")))?;
    let per = text(map, "per", field, 40)?;
    let max = integer(map, "max", field, 1, i64::from(MAX_QUANTITY))?.map(|m| m as u32);
    Ok(PriceItem { sku, label, unit, per, max })
}

fn parse_rule(value: &Value, field: &str, thresholds: &mut HashSet<i64>) -> Result<DiscountRule, ValidationError> {
    let map = object(value, field, &RULE_KEYS)?;
    let gte_field = format!("{field}.whenTotalGte");
    let when_total_gte = integer(map, "whenTotalGte", field, 0, i64::MAX)?
        .ok_or_else(|| err(&gte_field, format!("{gte_field} is required (cents)")))?;
    if !thresholds.insert(when_total_gte) {
        return Err(err(&gte_field, format!("two rules apply from {when_total_gte}; thresholds must differ")));
    }
    let pct_field = format!("{field}.discountPct");
    let Some(pct) = map.get("discountPct").filter(|v| !v.is_null()) else {
        return Err(err(&pct_field, format!("{pct_field} is required")));
    };
    let discount_bp = percent(pct, &pct_field, false)?;
    let label = text(map, "label", field, 200)?;
    Ok(DiscountRule { when_total_gte, discount_bp, label })
}
