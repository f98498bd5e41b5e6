//! EXPLORE_CORPUS (two-tier mode): searches the tenant's corpus, within the conversation's
//! segment, and hands the model the full entries it found.

use serde_json::{Value, json};

use super::Outcome;
use crate::turn::TurnScope;

pub const NAME: &str = "explore_corpus";

pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "what to look for in the knowledge base, in the visitor's words"}
        },
        "required": ["query"],
        "additionalProperties": false
    })
}

pub async fn execute(scope: &TurnScope<'_>, args: &Value) -> Outcome {
    let query = args.get("query").and_then(Value::as_str).unwrap_or_default().trim();
    if query.is_empty() {
        return Outcome::failure("No query given", "Give a query to search for.");
    }
    let segment = Some(scope.segment.id.as_str());
    let hits = match scope.knowledge.search_corpus(scope.store, scope.tenant, None, segment, query, 3).await {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "explore_corpus search failed");
            return Outcome::failure("Search failed", "The knowledge base could not be searched; say so.");
        }
    };
    let ids: Vec<String> = hits.iter().map(|h| h.id.clone()).collect();
    let mut entries = scope.store.corpus_by_ids(&scope.tenant.id, &ids).await.unwrap_or_default();
    entries.sort_by_key(|e| ids.iter().position(|id| id == e.id.as_str()));
    if entries.is_empty() {
        return Outcome {
            success: true,
            summary: "Found 0 entries".to_owned(),
            data: json!({"entries": []}),
            for_model: "No entry of the knowledge base matches. Say plainly that you do not know.".to_owned(),
            result: json!({"query": query, "entries": []}),
            contact_submitted: false,
            escalated: false,
        };
    }
    let slugs: Vec<String> = entries.iter().map(|e| docent_domain::slug::slugify(&e.title)).collect();
    let noun = if entries.len() == 1 { "entry" } else { "entries" };
    let for_model = entries
        .iter()
        .map(|e| format!("[{}] {}\n{}", e.id, e.title, docent_domain::text::first_chars(&e.content, 4_000)))
        .collect::<Vec<_>>()
        .join("\n\n");
    let listed: Vec<Value> = entries.iter().map(|e| json!({"id": e.id, "title": e.title})).collect();
    Outcome {
        success: true,
        summary: format!("Found {} {noun}: {}", entries.len(), slugs.join(", ")),
        data: json!({"entries": listed}),
        for_model,
        result: json!({"query": query, "entries": listed}),
        contact_submitted: false,
        escalated: false,
    }
}
