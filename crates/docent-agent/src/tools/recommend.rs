//! RECOMMEND_PRODUCT: searches the catalog with the index (text, price range, tags, in stock)
//! and returns products whose data — prices included — comes from the catalog, never the model.

use docent_search::ProductFilter;
use serde_json::{Value, json};

use super::Outcome;
use crate::turn::TurnScope;

pub const NAME: &str = "recommend_product";

pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "what the visitor is looking for"},
            "minPrice": {"type": "integer", "description": "lowest price in cents"},
            "maxPrice": {"type": "integer", "description": "highest price in cents"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "inStockOnly": {"type": "boolean"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 5}
        },
        "required": ["query"],
        "additionalProperties": false
    })
}

/// `12.5` → `12.50`.
fn amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

pub async fn execute(scope: &TurnScope<'_>, args: &Value) -> Outcome {
    let query = args.get("query").and_then(Value::as_str).unwrap_or_default();
    let filter = ProductFilter {
        min_price: args.get("minPrice").and_then(Value::as_i64),
        max_price: args.get("maxPrice").and_then(Value::as_i64),
        tags: args
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default(),
        in_stock_only: args.get("inStockOnly").and_then(Value::as_bool).unwrap_or(false),
    };
    let limit = args.get("limit").and_then(Value::as_u64).unwrap_or(3).clamp(1, 5) as usize;
    let found = match scope.knowledge.search_products(scope.store, scope.tenant, query, &filter, limit).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, "product search failed");
            return Outcome::failure("Search failed", "The catalog could not be searched; say so.");
        }
    };
    let ids: Vec<String> = found.iter().map(|(id, _)| id.clone()).collect();
    let mut products = scope.store.products_by_ids(&scope.tenant.id, &ids).await.unwrap_or_default();
    products.sort_by_key(|p| ids.iter().position(|id| id == p.id.as_str()));
    let shown: Vec<Value> = products
        .iter()
        .map(|p| json!({"id": p.id, "sku": p.sku, "name": p.name, "price": p.price, "currency": p.currency, "url": p.url}))
        .collect();
    let for_model = if products.is_empty() {
        "No product of the catalog matches. Say so; do not invent products or prices.".to_owned()
    } else {
        let lines: Vec<String> = products
            .iter()
            .map(|p| {
                let stock = if p.in_stock { "in stock" } else { "out of stock" };
                let url = p.url.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
                format!("- {} ({}): {} {}, {stock}{url}", p.name, p.sku, amount(p.price), p.currency)
            })
            .collect();
        format!("Matching products, with their catalog prices (quote these exactly):\n{}", lines.join("\n"))
    };
    Outcome {
        success: true,
        summary: format!("Recommended {} product(s)", products.len()),
        data: json!({"products": shown}),
        for_model,
        result: json!({"query": query, "products": shown}),
        contact_submitted: false,
        escalated: false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_are_shown_with_two_decimals() {
        assert_eq!(super::amount(150_000), "1500.00");
        assert_eq!(super::amount(1_205), "12.05");
    }
}
