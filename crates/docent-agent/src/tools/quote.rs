//! GENERATE_QUOTE. **Engine mode** (the config holds a pricing grid): the model chooses only
//! skus and quantities plus the visitor's name and email; every amount is computed server-side
//! from the grid (`docent_domain::quote`), the quote is numbered and stored, then emailed to
//! the visitor and to the tenant's `notificationEmail`. **Legacy mode** (no grid): the model
//! collects a request (name, email, details, or the config's own `fields`), which is stored as
//! a submission and relayed by the same two emails, without any amount.

use docent_domain::quote::render::{Letter, quote_text};
use docent_domain::quote::{self, ComputedQuote, NewQuote, PricingGrid, Quote, Requested, format_money};
use docent_domain::tool::Tool;
use docent_domain::validate::is_email;
use serde_json::{Map, Value, json};

use super::{Outcome, form};
use crate::turn::TurnScope;

/// The arguments' schema: engine mode offers the grid's skus (never a price); legacy mode is the
/// request form.
pub fn schema(config: &Value) -> Value {
    match PricingGrid::from_config(config) {
        Ok(Some(grid)) => engine_schema(&grid),
        _ => form::schema(&legacy_config(config)),
    }
}

/// One catalogue line per sku: `- page-supp: Extra page [per unit, at most 20]`. The built-in
/// engine reads the labels back from here.
pub fn catalogue_line(sku: &str, label: &str, per: Option<&str>, max: Option<u32>) -> String {
    let mut notes: Vec<String> = per.map(|p| format!("per {p}")).into_iter().collect();
    notes.extend(max.map(|m| format!("at most {m}")));
    let notes = if notes.is_empty() { String::new() } else { format!(" [{}]", notes.join(", ")) };
    format!("- {sku}: {label}{notes}")
}

fn engine_schema(grid: &PricingGrid) -> Value {
    let skus: Vec<&str> = grid.items.iter().map(|i| i.sku.as_str()).collect();
    let catalogue: Vec<String> =
        grid.items.iter().map(|i| catalogue_line(&i.sku, &i.label, i.per.as_deref(), i.max)).collect();
    json!({
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "minItems": 1,
                "description": format!(
                    "What the visitor wants quoted, by sku. Prices are computed by the server; never state \
                     a price yourself. Catalogue:\n{}",
                    catalogue.join("\n")
                ),
                "items": {
                    "type": "object",
                    "properties": {
                        "sku": {"type": "string", "enum": skus},
                        "quantity": {"type": "integer", "minimum": 1}
                    },
                    "required": ["sku", "quantity"],
                    "additionalProperties": false
                }
            },
            "name": {"type": "string", "description": "the visitor's name, to address the quote"},
            "email": {"type": "string", "format": "email", "description": "the visitor's email, to send the quote to"}
        },
        "required": ["items", "name", "email"],
        "additionalProperties": false
    })
}

/// A legacy config with its fields, or the default ones (name, email, details).
fn legacy_config(config: &Value) -> Value {
    match config.get("fields") {
        Some(fields) => json!({"fields": fields}),
        None => json!({"fields": quote::legacy_fields()}),
    }
}

pub async fn execute(scope: &TurnScope<'_>, tool: &Tool, args: &Value) -> Outcome {
    match PricingGrid::from_config(&tool.config) {
        Ok(Some(grid)) => engine(scope, tool, &grid, args).await,
        Ok(None) => legacy(scope, tool, args).await,
        Err(e) => {
            tracing::error!(error = %e, tool = %tool.id, "a stored pricing grid does not validate");
            Outcome::failure("Quote not generated: the pricing grid is invalid", "Quotes are unavailable; apologise.")
        }
    }
}

fn refused(problem: &str) -> Outcome {
    Outcome::failure(
        format!("Quote not generated: {problem}"),
        format!("The quote was not generated: {problem}. Adjust the items, or ask the visitor, and try again."),
    )
}

/// The requested lines; a quantity must be a whole number (`3.0` is accepted as 3).
fn requested(args: &Value) -> Result<Vec<Requested>, String> {
    let Some(items) = args.get("items").and_then(Value::as_array) else {
        return Err("items is required: a list of {sku, quantity}".to_owned());
    };
    items
        .iter()
        .map(|item| {
            let sku = item.get("sku").and_then(Value::as_str).unwrap_or_default().trim();
            if sku.is_empty() {
                return Err("every item needs a sku".to_owned());
            }
            let q = item.get("quantity").unwrap_or(&Value::Null);
            let quantity = q.as_i64().or_else(|| q.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64));
            match quantity {
                Some(quantity) => Ok(Requested { sku: sku.to_owned(), quantity }),
                None => Err(format!("the quantity of {sku} must be a whole number")),
            }
        })
        .collect()
}

fn customer(args: &Value) -> Result<(String, String), String> {
    let text = |k: &str| args.get(k).and_then(Value::as_str).map(str::trim).unwrap_or_default().to_owned();
    let (name, email) = (text("name"), text("email"));
    if name.is_empty() || name.chars().count() > 200 {
        return Err("the visitor's name is required".to_owned());
    }
    if !is_email(&email) || email.len() > 320 {
        return Err("a valid email address is required to send the quote".to_owned());
    }
    Ok((name, email))
}

async fn engine(scope: &TurnScope<'_>, tool: &Tool, grid: &PricingGrid, args: &Value) -> Outcome {
    let (name, email) = match customer(args) {
        Ok(c) => c,
        Err(problem) => return refused(&problem),
    };
    let computed = match requested(args).and_then(|r| quote::compute(grid, &r).map_err(|e| e.0)) {
        Ok(c) => c,
        Err(problem) => return refused(&problem),
    };
    let new = NewQuote {
        tool_id: Some(tool.id.clone()),
        conversation_id: Some(scope.conversation.id.clone()),
        visitor_id: scope.visitor_id.clone(),
        customer_name: name.clone(),
        customer_email: email.clone(),
        computed: computed.clone(),
    };
    let stored = match scope.store.create_quote(&scope.tenant.id, new).await {
        Ok(q) => q,
        Err(e) => {
            tracing::error!(error = %e, "could not store a quote");
            return Outcome::failure("Quote not generated: storage error", "The quote could not be saved; apologise.");
        }
    };
    let letter = Letter {
        number: &stored.number,
        business: &scope.tenant.name,
        customer_name: &name,
        customer_email: &email,
        issued_at: stored.created_at,
    };
    let text = quote_text(&letter, &computed, grid);
    let total = format_money(computed.total, &computed.currency);
    let mut emails = vec![(email.clone(), format!("Your quote {} from {}", stored.number, scope.tenant.name))];
    if let Some(owner) = &scope.tenant.settings.notification_email {
        emails.push((owner.clone(), format!("New quote {} for {name}: {total}", stored.number)));
    }
    let mut queued = 0;
    for (to, subject) in emails {
        let payload = json!({"to": to, "subject": subject, "text": text, "quoteId": stored.id});
        match scope.store.enqueue_job(&scope.tenant.id, "email", &payload).await {
            Ok(_) => queued += 1,
            Err(e) => tracing::error!(error = %e, "could not queue a quote email"),
        }
    }
    Outcome {
        success: true,
        summary: format!("Quote {}: {total}", stored.number),
        data: quote_data(&stored, &computed),
        for_model: for_model(&stored, &computed),
        result: json!({
            "quoteId": stored.id,
            "number": stored.number,
            "name": name,
            "email": email,
            "quote": computed,
            "emailsQueued": queued,
        }),
        contact_submitted: true,
        escalated: false,
    }
}

/// What chat clients see: the computed quote, without the visitor's name or email.
fn quote_data(stored: &Quote, c: &ComputedQuote) -> Value {
    let lines: Vec<Value> = c
        .lines
        .iter()
        .map(|l| json!({"sku": l.sku, "label": l.label, "quantity": l.quantity, "unit": l.unit, "amount": l.amount}))
        .collect();
    json!({
        "quoteNumber": stored.number,
        "lines": lines,
        "subtotal": c.subtotal,
        "discount": c.discount,
        "vat": c.vat,
        "total": c.total,
        "currency": c.currency,
    })
}

/// The quote in words for the visitor (first paragraph, which the built-in engine relays as
/// is), then the instruction to the model.
fn for_model(stored: &Quote, c: &ComputedQuote) -> String {
    let money = |cents: i64| format_money(cents, &c.currency);
    let lines: Vec<String> =
        c.lines.iter().map(|l| format!("{} x {} = {}", l.quantity, l.label, money(l.amount))).collect();
    let mut words = format!("Your quote {}: {}", stored.number, lines.join("; "));
    if c.discount > 0 {
        words.push_str(&format!("; discount -{}", money(c.discount)));
    }
    match c.vat {
        Some(vat) => words.push_str(&format!("; VAT {}; total {} including tax.", money(vat), money(c.total))),
        None => words.push_str(&format!("; total {} before tax.", money(c.total))),
    }
    words.push_str(" It has been sent to you by email.");
    format!(
        "{words}\n\nThese amounts were computed by the server from the price list: tell the visitor exactly these figures and no others."
    )
}

async fn legacy(scope: &TurnScope<'_>, tool: &Tool, args: &Value) -> Outcome {
    let fields = form::fields(&legacy_config(&tool.config));
    let values = match form::check(&fields, args) {
        Ok(v) => v,
        Err(problem) => {
            return Outcome::failure(
                format!("Quote request not sent: {problem}"),
                format!("The quote request was not sent: {problem}. Ask the visitor for it."),
            );
        }
    };
    let new = docent_domain::conversation::NewSubmission {
        tool_id: tool.id.clone(),
        conversation_id: scope.conversation.id.clone(),
        visitor_id: scope.visitor_id.clone(),
        data: Value::Object(values.clone()),
    };
    let submission = match scope.store.create_submission(&scope.tenant.id, new).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "could not store a quote request");
            return Outcome::failure("Quote request not sent: storage error", "The request could not be saved.");
        }
    };
    let listed: Vec<Value> = fields
        .iter()
        .filter(|f| values.contains_key(&f.name))
        .map(|f| json!({"label": f.label, "value": values[&f.name]}))
        .collect();
    let queued = queue_legacy_emails(scope, tool, &fields, &values, &listed, submission.id.as_str()).await;
    let names: Vec<&String> = values.keys().collect();
    Outcome {
        success: true,
        summary: format!("Quote request sent ({} fields)", values.len()),
        data: json!({"submissionId": submission.id, "fields": names}),
        for_model: "The quote request was sent. Thank the visitor and say the team will send a quote soon.".to_owned(),
        result: json!({"submissionId": submission.id, "values": values, "emailsQueued": queued}),
        contact_submitted: true,
        escalated: false,
    }
}

/// The business's notification and the visitor's acknowledgement (to the first email field).
async fn queue_legacy_emails(
    scope: &TurnScope<'_>,
    tool: &Tool,
    fields: &[form::Field],
    values: &Map<String, Value>,
    listed: &[Value],
    submission: &str,
) -> u32 {
    let business = &scope.tenant.name;
    let mut payloads = Vec::new();
    if let Some(owner) = &scope.tenant.settings.notification_email {
        payloads.push(json!({
            "to": owner, "subject": format!("New quote request ({})", tool.name), "tenant": scope.tenant.slug,
            "tool": tool.name, "submissionId": submission, "fields": listed,
        }));
    }
    let visitor = fields.iter().find(|f| f.field_type == "email").and_then(|f| values.get(&f.name));
    if let Some(to) = visitor.and_then(Value::as_str) {
        let mut text = format!("Thank you for your quote request to {business}. We will get back to you soon.\n\n");
        for f in listed {
            text.push_str(&format!("{}: {}\n", f["label"].as_str().unwrap_or_default(), value_text(&f["value"])));
        }
        payloads.push(json!({"to": to, "subject": format!("Your quote request to {business}"), "text": text}));
    }
    let mut queued = 0;
    for payload in payloads {
        match scope.store.enqueue_job(&scope.tenant.id, "email", &payload).await {
            Ok(_) => queued += 1,
            Err(e) => tracing::error!(error = %e, "could not queue a quote request email"),
        }
    }
    queued
}

fn value_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_schema_offers_skus_and_quantities_never_prices() {
        let config = json!({"pricing": {"items": [
            {"sku": "site", "label": "Website", "unit": 150000, "per": "flat"},
            {"sku": "page", "label": "Extra page", "unit": 12000, "max": 20}]}});
        let s = schema(&config);
        assert_eq!(s["required"], json!(["items", "name", "email"]));
        assert_eq!(s["properties"]["items"]["items"]["properties"]["sku"]["enum"], json!(["site", "page"]));
        let text = s.to_string();
        assert!(!text.contains("150000") && !text.contains("1,500") && !text.contains("12000"), "{text}");
        assert!(text.contains("- page: Extra page [at most 20]"), "{text}");
    }

    #[test]
    fn the_legacy_schema_collects_name_email_and_details_by_default() {
        let s = schema(&json!({}));
        assert_eq!(s["required"], json!(["name", "email", "details"]));
        let own = schema(&json!({"fields": [{"name": "phone", "label": "Phone", "type": "phone", "required": true}]}));
        assert_eq!(own["required"], json!(["phone"]));
    }

    #[test]
    fn quantities_must_be_whole_and_customers_need_a_valid_email() {
        let r = requested(&json!({"items": [{"sku": "a", "quantity": 3.0}]})).unwrap_or_default();
        assert_eq!(r, vec![Requested { sku: "a".into(), quantity: 3 }]);
        assert!(requested(&json!({"items": [{"sku": "a", "quantity": 1.5}]})).is_err());
        assert!(requested(&json!({"items": [{"quantity": 1}]})).is_err());
        assert!(requested(&json!({})).is_err());
        assert!(customer(&json!({"name": "Ann", "email": "ann@example.com"})).is_ok());
        assert!(customer(&json!({"name": "Ann", "email": "nope"})).is_err());
        assert!(customer(&json!({"email": "ann@example.com"})).is_err());
    }
}
