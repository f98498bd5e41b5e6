//! Plans: named bundles of capabilities and limits. The table is operator data (configuration);
//! the built-in one mirrors the documented plans plus `self-hosted`, the default, which has every
//! capability and no limit, so an operator who configures nothing gets no gate in the way.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Capabilities {
    /// Public chat and the embeddable widget.
    #[serde(default)]
    pub widget: bool,
    /// Connecting the tenant's own external MCP server.
    #[serde(default, rename = "externalMcp")]
    pub external_mcp: bool,
    /// Exposing the tenant's tools over MCP.
    #[serde(default, rename = "mcp_tools")]
    pub mcp_tools: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    /// New conversations per calendar month; `None` is unlimited.
    #[serde(default)]
    pub conversations_per_month: Option<u64>,
    /// Child tenants a tenant on this plan may own; `None` is unlimited.
    #[serde(default)]
    pub child_tenants: Option<u64>,
    /// Messages per calendar month across the tenant; `None` is unlimited.
    #[serde(default)]
    pub messages_per_month: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Plan {
    pub capabilities: Capabilities,
    #[serde(default)]
    pub limits: Limits,
}

pub const SELF_HOSTED: &str = "self-hosted";

fn plan(widget: bool, mcp: bool, conv: Option<u64>, children: Option<u64>, msgs: Option<u64>) -> Plan {
    Plan {
        capabilities: Capabilities { widget, external_mcp: mcp, mcp_tools: mcp },
        limits: Limits { conversations_per_month: conv, child_tenants: children, messages_per_month: msgs },
    }
}

/// The built-in plan table. Figures the documentation gives are used as given (free: 50
/// conversations a month; pro: 2,000 conversations and 10,000 messages, no child tenants;
/// enterprise: 10 child tenants and 100,000 messages); the rest are our defaults.
pub fn builtin_plans() -> BTreeMap<String, Plan> {
    BTreeMap::from([
        (SELF_HOSTED.to_owned(), plan(true, true, None, None, None)),
        ("free".to_owned(), plan(false, false, Some(50), Some(0), Some(500))),
        ("builder".to_owned(), plan(true, false, Some(500), Some(0), Some(5_000))),
        ("pro".to_owned(), plan(true, true, Some(2_000), Some(0), Some(10_000))),
        ("enterprise".to_owned(), plan(true, true, None, Some(10), Some(100_000))),
    ])
}
