//! The grid's validation and the computation, against hand-computed figures.

#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use super::compute::apply_rate;
use super::render::{Letter, quote_text};
use super::*;

fn grid_json() -> Value {
    json!({
        "currency": "EUR",
        "items": [
            {"sku": "site-vitrine", "label": "5-page website", "unit": 150000, "per": "flat"},
            {"sku": "page-supp", "label": "Extra page", "unit": 12000, "per": "unit", "max": 20},
            {"sku": "maintenance", "label": "Monthly maintenance", "unit": 8000, "per": "month"}
        ],
        "rules": [{"whenTotalGte": 300000, "discountPct": 5, "label": "Volume discount"}],
        "vat": 20,
        "validityDays": 30,
        "disclaimer": "Indicative estimate, not contractually binding."
    })
}

fn grid() -> PricingGrid {
    PricingGrid::from_config(&json!({"pricing": grid_json()})).unwrap().unwrap()
}

fn req(items: &[(&str, i64)]) -> Vec<Requested> {
    items.iter().map(|(sku, quantity)| Requested { sku: (*sku).to_owned(), quantity: *quantity }).collect()
}

/// The field named by the error of a grid with `path` set to `value`.
fn bad(mutate: impl FnOnce(&mut Value)) -> String {
    let mut g = grid_json();
    mutate(&mut g);
    PricingGrid::from_config(&json!({"pricing": g})).unwrap_err().field
}

#[test]
fn the_documented_example_grid_is_valid_and_defaults_apply() {
    let g = grid();
    assert_eq!(g.items.len(), 3);
    assert_eq!(g.vat_bp, Some(2000));
    assert_eq!(g.rules[0].discount_bp, 500);
    let minimal = json!({"pricing": {"items": [{"sku": "a", "label": "A", "unit": 1}]}});
    let m = PricingGrid::from_config(&minimal).unwrap().unwrap();
    assert_eq!(m.currency, "EUR");
    assert_eq!(m.vat_bp, None);
    assert!(m.rules.is_empty());
    assert_eq!(PricingGrid::from_config(&json!({})).unwrap(), None, "no grid: legacy mode");
    assert_eq!(PricingGrid::from_config(&json!({"pricing": null})).unwrap(), None);
}

#[test]
fn a_bad_grid_names_the_offending_field() {
    assert_eq!(bad(|g| g["items"] = json!([])), "config.pricing.items");
    assert_eq!(bad(|g| g["items"][1]["sku"] = json!("SITE-VITRINE")), "config.pricing.items[1].sku");
    assert_eq!(bad(|g| g["items"][1]["sku"] = json!("has space")), "config.pricing.items[1].sku");
    assert_eq!(bad(|g| g["items"][2]["unit"] = json!(-5)), "config.pricing.items[2].unit");
    assert_eq!(bad(|g| g["items"][2]["unit"] = json!(0)), "config.pricing.items[2].unit");
    assert_eq!(bad(|g| g["items"][2]["unit"] = json!(12.5)), "config.pricing.items[2].unit");
    assert_eq!(bad(|g| g["items"][2]["unit"] = json!("8000")), "config.pricing.items[2].unit");
    assert_eq!(bad(|g| g["items"][0]["unit"] = Value::Null), "config.pricing.items[0].unit");
    assert_eq!(bad(|g| g["items"][0]["label"] = json!(" ")), "config.pricing.items[0].label");
    assert_eq!(bad(|g| g["items"][1]["max"] = json!(0)), "config.pricing.items[1].max");
    assert_eq!(bad(|g| g["items"][1]["max"] = json!(2.5)), "config.pricing.items[1].max");
    assert_eq!(bad(|g| g["items"][1]["per"] = json!(3)), "config.pricing.items[1].per");
    assert_eq!(bad(|g| g["items"][1]["price"] = json!(3)), "config.pricing.items[1].price");
    assert_eq!(bad(|g| g["rules"][0]["discountPct"] = json!(0)), "config.pricing.rules[0].discountPct");
    assert_eq!(bad(|g| g["rules"][0]["discountPct"] = json!(100.5)), "config.pricing.rules[0].discountPct");
    assert_eq!(bad(|g| g["rules"][0]["discountPct"] = json!(2.555)), "config.pricing.rules[0].discountPct");
    assert_eq!(bad(|g| g["rules"][0]["whenTotalGte"] = json!(-1)), "config.pricing.rules[0].whenTotalGte");
    assert_eq!(
        bad(|g| g["rules"] = json!([{"whenTotalGte": 1, "discountPct": 5}, {"whenTotalGte": 1, "discountPct": 6}])),
        "config.pricing.rules[1].whenTotalGte"
    );
    assert_eq!(bad(|g| g["vat"] = json!(101)), "config.pricing.vat");
    assert_eq!(bad(|g| g["vat"] = json!(-1)), "config.pricing.vat");
    assert_eq!(bad(|g| g["vat"] = json!("20")), "config.pricing.vat");
    assert_eq!(bad(|g| g["currency"] = json!("eur")), "config.pricing.currency");
    assert_eq!(bad(|g| g["currency"] = json!("EURO")), "config.pricing.currency");
    assert_eq!(bad(|g| g["validityDays"] = json!(0)), "config.pricing.validityDays");
    assert_eq!(bad(|g| g["tax"] = json!(20)), "config.pricing.tax");
    assert_eq!(bad(|g| *g = json!([1])), "config.pricing");
}

#[test]
fn decimal_and_zero_vat_rates_are_accepted() {
    let mut g = grid_json();
    g["vat"] = json!(5.5);
    assert_eq!(PricingGrid::from_config(&json!({"pricing": g.clone()})).unwrap().unwrap().vat_bp, Some(550));
    g["vat"] = json!(0);
    assert_eq!(PricingGrid::from_config(&json!({"pricing": g.clone()})).unwrap().unwrap().vat_bp, Some(0));
    g["rules"][0]["discountPct"] = json!(100);
    assert!(PricingGrid::from_config(&json!({"pricing": g})).is_ok(), "100 % is in ]0, 100]");
}

#[test]
fn lines_subtotal_vat_and_total_without_a_discount() {
    let q = compute(&grid(), &req(&[("site-vitrine", 1), ("page-supp", 3)])).unwrap();
    assert_eq!(q.lines[0].amount, 150_000);
    assert_eq!(q.lines[1].amount, 36_000);
    assert_eq!(q.lines[1].label, "Extra page");
    assert_eq!(q.subtotal, 186_000);
    assert_eq!((q.discount, q.applied_discount.clone()), (0, None), "below the 300000 threshold");
    assert_eq!(q.net, 186_000);
    assert_eq!(q.vat, Some(37_200));
    assert_eq!(q.total, 223_200);
    assert_eq!(q.currency, "EUR");
}

#[test]
fn the_best_reached_rule_applies_from_its_threshold_inclusive() {
    let mut g = grid();
    g.rules.push(DiscountRule { when_total_gte: 500_000, discount_bp: 1000, label: None });
    // Exactly the threshold: 2 × 150000 = 300000 reaches the 5 % rule.
    let q = compute(&g, &req(&[("site-vitrine", 2)])).unwrap();
    assert_eq!(q.discount, 15_000);
    assert_eq!(q.applied_discount.as_ref().unwrap().pct_bp, 500);
    assert_eq!(q.net, 285_000);
    assert_eq!(q.vat, Some(57_000));
    assert_eq!(q.total, 342_000);
    // 4 × 150000 = 600000 reaches both: the higher threshold (10 %) wins.
    let q = compute(&g, &req(&[("site-vitrine", 4)])).unwrap();
    assert_eq!(q.discount, 60_000);
    assert_eq!(q.total, 648_000);
    // One cent below: none.
    g.items[0].unit = 149_999;
    assert_eq!(compute(&g, &req(&[("site-vitrine", 2)])).unwrap().discount, 0);
}

#[test]
fn rounding_is_half_up_on_cents_once_per_summary_line() {
    assert_eq!(apply_rate(1_234, 500), 62, "61.7 rounds up");
    assert_eq!(apply_rate(1_230, 500), 62, "61.5 rounds half up");
    assert_eq!(apply_rate(1_229, 500), 61, "61.45 rounds down");
    assert_eq!(apply_rate(1_000, 550), 55);
    assert_eq!(apply_rate(999, 550), 55, "54.945 rounds to 55");
    assert_eq!(apply_rate(0, 2000), 0);
    let g = PricingGrid::from_config(&json!({"pricing": {
        "items": [{"sku": "x", "label": "X", "unit": 333}],
        "rules": [{"whenTotalGte": 0, "discountPct": 7.5}],
        "vat": 5.5
    }}))
    .unwrap()
    .unwrap();
    let q = compute(&g, &req(&[("x", 3)])).unwrap();
    assert_eq!(q.subtotal, 999);
    assert_eq!(q.discount, 75, "74.925 → 75");
    assert_eq!(q.net, 924);
    assert_eq!(q.vat, Some(51), "50.82 → 51");
    assert_eq!(q.total, 975, "the total adds up the rounded lines");
}

#[test]
fn without_vat_there_is_no_tax_line_and_the_total_is_the_net() {
    let mut g = grid();
    g.vat_bp = None;
    let q = compute(&g, &req(&[("maintenance", 12)])).unwrap();
    assert_eq!(q.vat, None);
    assert_eq!(q.total, 96_000);
}

#[test]
fn unknown_skus_bad_quantities_and_over_max_are_refused_with_actionable_messages() {
    let g = grid();
    assert_eq!(
        compute(&g, &req(&[("logo", 1)])).unwrap_err().0,
        "Unknown sku logo; available: site-vitrine, page-supp, maintenance"
    );
    assert_eq!(compute(&g, &req(&[("page-supp", 21)])).unwrap_err().0, "page-supp allows at most 20 (asked for 21)");
    assert!(compute(&g, &req(&[("page-supp", 20)])).is_ok());
    assert_eq!(compute(&g, &req(&[("page-supp", 0)])).unwrap_err().0, "The quantity of page-supp must be at least 1");
    assert!(compute(&g, &req(&[("page-supp", -3)])).is_err());
    assert!(compute(&g, &req(&[])).unwrap_err().0.starts_with("Choose at least one item; available:"));
    assert!(compute(&g, &req(&[("maintenance", 10_001)])).unwrap_err().0.contains("at most 10000"));
    // Repeated skus add up before the max is checked; case does not matter.
    let q = compute(&g, &req(&[("page-supp", 10), ("PAGE-SUPP", 10)])).unwrap();
    assert_eq!((q.lines.len(), q.lines[0].quantity), (1, 20));
    assert!(compute(&g, &req(&[("page-supp", 15), ("page-supp", 6)])).is_err());
}

#[test]
fn money_rates_and_numbers_are_formatted_for_people() {
    assert_eq!(format_money(176_400, "EUR"), "1,764.00 EUR");
    assert_eq!(format_money(5, "EUR"), "0.05 EUR");
    assert_eq!(format_money(12_345_678_901, "USD"), "123,456,789.01 USD");
    assert_eq!(format_money(100_000, "EUR"), "1,000.00 EUR");
    assert_eq!(format_rate(2000), "20");
    assert_eq!(format_rate(550), "5.5");
    assert_eq!(format_rate(1225), "12.25");
    assert_eq!(quote_number(2026, 1), "Q-2026-0001");
    assert_eq!(quote_number(2026, 12345), "Q-2026-12345");
    assert_eq!(year_of(Timestamp::from_millis(1_790_000_000_000)), 2026);
}

#[test]
fn the_email_shows_every_line_the_discount_the_tax_and_the_total() {
    let g = grid();
    let q = compute(&g, &req(&[("site-vitrine", 2), ("maintenance", 1)])).unwrap();
    let letter = Letter {
        number: "Q-2026-0007",
        business: "Acme",
        customer_name: "Ann",
        customer_email: "ann@example.com",
        issued_at: Timestamp::from_millis(1_790_000_000_000),
    };
    let text = quote_text(&letter, &q, &g);
    assert!(text.contains("Quote Q-2026-0007 from Acme"), "{text}");
    assert!(text.contains("5-page website (flat) [site-vitrine]: 2 x 1,500.00 EUR = 3,000.00 EUR"), "{text}");
    assert!(text.contains("Volume discount (5%): -154.00 EUR"), "{text}");
    assert!(text.contains("VAT (20%): 585.20 EUR"), "{text}");
    assert!(text.contains("Total including tax: 3,511.20 EUR"), "{text}");
    assert!(text.contains("Valid for 30 days"));
    assert!(text.contains("not contractually binding"));
}
