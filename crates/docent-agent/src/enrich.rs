//! The enrichment chain: `dbTools → enrichCalendar → enrichStripe → enrichMCP → enrichProducts →
//! enrichCorpus → enrichOTP` turns the tenant's configured tools into the list offered to the
//! model for this turn. Each step is a small function of the set and the tenant's connectors; a
//! step whose connector is not configured adds nothing (and deactivates the configured tools
//! that need it).

use std::collections::HashMap;

use docent_domain::SegmentId;
use docent_domain::tool::{Tool, ToolType};
use docent_llm::ToolSpec;

use crate::tools::{OfferedTool, schema_for, tool_name};

/// Which connectors the tenant has, as far as this build knows them.
#[derive(Clone, Debug, Default)]
pub struct Connectors {
    pub calendar: bool,
    pub stripe: bool,
    pub mcp: bool,
    pub products: bool,
    pub corpus_summary_mode: bool,
    pub otp: bool,
}

pub struct Chain<'a> {
    pub segment: &'a SegmentId,
    pub connectors: &'a Connectors,
}

type Step = fn(&mut Vec<OfferedTool>, &Chain<'_>);

/// The chain, in the documented order (`dbTools` comes first, from [`db_tools`]).
pub const STEPS: [(&str, Step); 6] = [
    ("enrichCalendar", enrich_calendar),
    ("enrichStripe", enrich_stripe),
    ("enrichMCP", enrich_mcp),
    ("enrichProducts", enrich_products),
    ("enrichCorpus", enrich_corpus),
    ("enrichOTP", enrich_otp),
];

/// Runs the whole chain over the tenant's configured tools.
pub fn assemble(tools: &[Tool], chain: &Chain<'_>) -> Vec<OfferedTool> {
    let mut set = db_tools(tools, chain.segment);
    for (_, step) in STEPS {
        step(&mut set, chain);
    }
    set
}

/// What a segment's turns offer the model: the chain's result, with the specs and their size
/// in the context budget worked out once. It depends only on the tenant's configuration, so
/// the chat path keeps one per segment with its copy of that configuration.
#[derive(Debug, Default)]
pub struct Offer {
    pub tools: Vec<OfferedTool>,
    pub specs: std::sync::Arc<[ToolSpec]>,
    /// Estimated tokens of the specs (schemas and descriptions).
    pub tokens: usize,
}

impl Offer {
    pub fn assemble(tools: &[Tool], chain: &Chain<'_>) -> Self {
        let tools = assemble(tools, chain);
        let specs: std::sync::Arc<[ToolSpec]> = tools.iter().map(|t| t.spec.clone()).collect();
        let tokens = specs
            .iter()
            .map(|t| {
                crate::context::estimate_tokens(&t.input_schema.to_string())
                    + crate::context::estimate_tokens(&t.description)
            })
            .sum();
        Self { tools, specs, tokens }
    }
}

/// `dbTools`: the active tools of this segment and the general ones, in position order, that
/// this build can run (or that a later step may activate).
pub fn db_tools(tools: &[Tool], segment: &SegmentId) -> Vec<OfferedTool> {
    let eligible: Vec<&Tool> = tools
        .iter()
        .filter(|t| t.is_active && t.segment_id.as_ref().is_none_or(|s| s == segment))
        .filter(|t| {
            schema_for(t).is_some() || matches!(t.tool_type, ToolType::BookMeeting | ToolType::RecommendProduct)
        })
        .collect();
    let mut per_type: HashMap<ToolType, usize> = HashMap::new();
    for t in &eligible {
        *per_type.entry(t.tool_type).or_default() += 1;
    }
    eligible
        .into_iter()
        .map(|t| {
            let name = tool_name(t.tool_type, &t.name, per_type[&t.tool_type] > 1);
            let schema = schema_for(t).unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}}));
            OfferedTool {
                spec: ToolSpec { name: name.clone(), description: t.description.clone(), input_schema: schema },
                name,
                tool_type: t.tool_type,
                tool: Some(t.clone()),
            }
        })
        .collect()
}

/// `enrichCalendar`: BOOK_MEETING needs the Google Calendar connector (and would bring
/// CHECK_AVAILABILITY); without it, BOOK_MEETING is not offered.
pub fn enrich_calendar(set: &mut Vec<OfferedTool>, chain: &Chain<'_>) {
    if !chain.connectors.calendar {
        set.retain(|t| t.tool_type != ToolType::BookMeeting);
    }
}

/// `enrichStripe`: COLLECT_PAYMENT comes with a Stripe connector; none is configured here.
pub fn enrich_stripe(set: &mut Vec<OfferedTool>, chain: &Chain<'_>) {
    if !chain.connectors.stripe {
        set.retain(|t| t.tool_type != ToolType::CollectPayment);
    }
}

/// `enrichMCP`: tools of the tenant's external MCP server (plans with `externalMcp`).
pub fn enrich_mcp(set: &mut Vec<OfferedTool>, chain: &Chain<'_>) {
    if !chain.connectors.mcp {
        set.retain(|t| t.tool_type != ToolType::McpProxy);
    }
}

/// A tool the chain injects (not configured by the owner).
fn synthetic(tool_type: ToolType, name: &str, description: &str, schema: serde_json::Value) -> OfferedTool {
    OfferedTool {
        name: name.to_owned(),
        tool_type,
        tool: None,
        spec: ToolSpec { name: name.to_owned(), description: description.to_owned(), input_schema: schema },
    }
}

/// `enrichProducts`: with a catalog, RECOMMEND_PRODUCT is offered (the owner's tool, or the
/// catalog's own when none is configured); without one, it is not.
pub fn enrich_products(set: &mut Vec<OfferedTool>, chain: &Chain<'_>) {
    if !chain.connectors.products {
        set.retain(|t| t.tool_type != ToolType::RecommendProduct);
        return;
    }
    if !set.iter().any(|t| t.tool_type == ToolType::RecommendProduct) {
        set.push(synthetic(
            ToolType::RecommendProduct,
            crate::tools::recommend::NAME,
            "Recommend products from the catalog (with their catalog prices) for what the visitor wants",
            crate::tools::recommend::schema(),
        ));
    }
}

/// `enrichCorpus`: in two-tier mode, EXPLORE_CORPUS searches and fetches full entries.
pub fn enrich_corpus(set: &mut Vec<OfferedTool>, chain: &Chain<'_>) {
    set.retain(|t| t.tool_type != ToolType::ExploreCorpus);
    if chain.connectors.corpus_summary_mode {
        set.push(synthetic(
            ToolType::ExploreCorpus,
            crate::tools::explore::NAME,
            "Search the knowledge base and read the full entries; use it before answering a factual question",
            crate::tools::explore::schema(),
        ));
    }
}

/// `enrichOTP`: SEND_VERIFICATION_CODE / VERIFY_VISITOR_CODE come with `visitorAuthMode` otp|all
/// once the OTP executors exist; this build has none, so nothing is added.
pub fn enrich_otp(set: &mut Vec<OfferedTool>, chain: &Chain<'_>) {
    if !chain.connectors.otp {
        set.retain(|t| !matches!(t.tool_type, ToolType::SendVerificationCode | ToolType::VerifyVisitorCode));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use docent_domain::{Timestamp, ToolId};
    use serde_json::json;

    fn tool(tool_type: ToolType, name: &str, segment: Option<&SegmentId>, active: bool) -> Tool {
        Tool {
            id: ToolId::generate(),
            name: name.to_owned(),
            description: format!("{name} tool"),
            tool_type,
            config: json!({"fields": [{"name": "email", "label": "Email", "type": "email", "required": true}]}),
            position: 0,
            is_active: active,
            segment_id: segment.cloned(),
            segment_slug: None,
            webhook_url: None,
            webhook_secret: None,
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        }
    }

    #[test]
    fn db_tools_keeps_active_tools_of_the_segment_and_general_ones() {
        let here = SegmentId::generate();
        let elsewhere = SegmentId::generate();
        let tools = vec![
            tool(ToolType::SubmitForm, "Contact", Some(&here), true),
            tool(ToolType::RememberFact, "Memory", None, true),
            tool(ToolType::EscalateToHuman, "Human", Some(&elsewhere), true),
            tool(ToolType::EscalateToHuman, "Off", None, false),
            tool(ToolType::GenerateQuote, "Quote", None, true),
        ];
        let names: Vec<String> = db_tools(&tools, &here).into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["submit_form", "remember_fact", "generate_quote"]);
    }

    #[test]
    fn two_tools_of_one_type_get_distinct_names() {
        let seg = SegmentId::generate();
        let tools = vec![
            tool(ToolType::SubmitForm, "Contact", None, true),
            tool(ToolType::SubmitForm, "Quote request", None, true),
        ];
        let names: Vec<String> = db_tools(&tools, &seg).into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["submit_form_contact", "submit_form_quote_request"]);
    }

    #[test]
    fn steps_without_their_connector_deactivate_what_needs_it() {
        let seg = SegmentId::generate();
        let tools = vec![
            tool(ToolType::BookMeeting, "Meet", None, true),
            tool(ToolType::RecommendProduct, "Shop", None, true),
            tool(ToolType::RememberFact, "Memory", None, true),
        ];
        let none = Connectors::default();
        let set = assemble(&tools, &Chain { segment: &seg, connectors: &none });
        assert_eq!(set.len(), 1);
        let mut set = db_tools(&tools, &seg);
        enrich_calendar(&mut set, &Chain { segment: &seg, connectors: &Connectors { calendar: true, ..none.clone() } });
        assert_eq!(set.len(), 3, "a connected calendar keeps BOOK_MEETING");
        enrich_products(&mut set, &Chain { segment: &seg, connectors: &none });
        assert_eq!(set.len(), 2);
        let catalog = Connectors { products: true, ..none.clone() };
        enrich_products(&mut set, &Chain { segment: &seg, connectors: &catalog });
        assert_eq!(set.last().map(|t| t.name.as_str()), Some("recommend_product"), "the catalog's own tool");
        set.pop();
        let two_tier = Connectors { corpus_summary_mode: true, ..none.clone() };
        enrich_corpus(&mut set, &Chain { segment: &seg, connectors: &two_tier });
        assert_eq!(set.last().map(|t| t.name.as_str()), Some("explore_corpus"));
        set.pop();
        for (_, step) in STEPS {
            let before = set.len();
            step(&mut set, &Chain { segment: &seg, connectors: &Connectors { calendar: true, ..none.clone() } });
            assert!(set.len() <= before, "no step adds a tool without its connector");
        }
    }
}
