//! The tools offered in a turn and their executors. `enrich.rs` assembles the set (the
//! enrichment chain); each executor lives in its own module and returns an [`Outcome`]: what the
//! model is told, what the owner's tool history keeps, and what chat clients may see.

pub mod escalate;
pub mod explore;
pub mod form;
pub mod memory;
pub mod quote;
pub mod recommend;

use docent_domain::tool::{Tool, ToolType};
use docent_llm::ToolSpec;
use serde_json::{Value, json};

/// A tool offered to the model in this turn.
#[derive(Clone, Debug)]
pub struct OfferedTool {
    /// The snake_case name the model calls.
    pub name: String,
    pub tool_type: ToolType,
    /// The configured tool behind it (`None` for synthetic tools).
    pub tool: Option<Tool>,
    pub spec: ToolSpec,
}

/// What running a tool produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub success: bool,
    /// One line for chat clients and the owner.
    pub summary: String,
    /// Sanitized data for chat clients (`toolExecutions[].data`): never the raw inputs.
    pub data: Value,
    /// What the model reads back.
    pub for_model: String,
    /// Full result for the owner's tool history.
    pub result: Value,
    pub contact_submitted: bool,
    pub escalated: bool,
}

impl Outcome {
    pub fn failure(summary: impl Into<String>, for_model: impl Into<String>) -> Self {
        let summary = summary.into();
        Self {
            success: false,
            for_model: for_model.into(),
            result: json!({"error": summary}),
            data: json!({}),
            summary,
            contact_submitted: false,
            escalated: false,
        }
    }
}

/// The name the model calls a tool by: its type in snake_case, plus the tool's own name when
/// several tools share a type.
pub fn tool_name(tool_type: ToolType, label: &str, shared_type: bool) -> String {
    let base = tool_type.as_str().to_ascii_lowercase();
    if !shared_type {
        return base;
    }
    let suffix: String = docent_domain::slug::slugify(label).replace('-', "_");
    format!("{base}_{suffix}").chars().take(64).collect()
}

/// The JSON schema of a configured tool's arguments, or `None` when this build cannot run it.
pub fn schema_for(tool: &Tool) -> Option<Value> {
    match tool.tool_type {
        ToolType::SubmitForm => Some(form::schema(&tool.config)),
        ToolType::RememberFact => Some(memory::schema()),
        ToolType::EscalateToHuman => Some(escalate::schema()),
        ToolType::GenerateQuote => Some(quote::schema(&tool.config)),
        ToolType::RecommendProduct => Some(recommend::schema()),
        _ => None,
    }
}
