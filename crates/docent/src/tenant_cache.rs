//! The public chat path's in-memory copy of each tenant's configuration: the tenant row, its
//! segments and tools, whether it has products, and the model its settings name (resolved on
//! first use). The store's triggers move `config_version` on any write to the tenant, its
//! segments or tools, and `kb_version` on any knowledge write, whoever makes it (this replica,
//! another one, the CLI). `get` pays one indexed read (`tenant_versions`) to check the copy; a
//! chat turn instead takes the copy unchecked (`cached`) and has its first write check the
//! versions it saw, retrying on a fresh copy when they moved, so a copy is never acted on after
//! a committed change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use docent_agent::enrich::{Chain, Connectors, Offer};
use docent_domain::SegmentId;
use docent_domain::segment::Segment;
use docent_domain::tenant::Tenant;
use docent_domain::tool::Tool;
use docent_store::{Store, TenantVersions};

use crate::http::chat::Configured;

/// One tenant as the chat path sees it.
#[derive(Debug)]
pub struct ChatTenant {
    /// Shared with the turns (`TurnRequest`), which would otherwise copy it each.
    pub tenant: Arc<Tenant>,
    pub segments: Vec<Arc<Segment>>,
    pub tools: Vec<Tool>,
    pub has_products: bool,
    /// The versions read before the rows were loaded: a write racing the load leaves the copy
    /// older than its versions say, so the next request loads again.
    pub versions: TenantVersions,
    /// The tools each segment's turns offer, assembled on first use.
    offers: Mutex<HashMap<SegmentId, Arc<Offer>>>,
    /// The model the tenant's configuration names, resolved on first use (`http::chat::llm`).
    pub llm: OnceLock<Configured>,
}

impl ChatTenant {
    /// The connectors the enrichment chain sees for this tenant.
    pub fn connectors(&self) -> Connectors {
        Connectors {
            corpus_summary_mode: self.tenant.settings.corpus_summary_mode,
            products: self.has_products,
            ..Default::default()
        }
    }

    /// What a turn in `segment` offers the model (the enrichment chain over the tenant's tools).
    pub fn offer(&self, segment: &SegmentId) -> Arc<Offer> {
        let mut offers = self.offers.lock().unwrap_or_else(|p| p.into_inner());
        let assemble = || Arc::new(Offer::assemble(&self.tools, &Chain { segment, connectors: &self.connectors() }));
        offers.entry(segment.clone()).or_insert_with(assemble).clone()
    }
}

/// Copies beyond this many are dropped all at once (a crude bound; tenants reload on demand).
const MAX_TENANTS: usize = 10_000;

#[derive(Default)]
pub struct TenantCache {
    by_slug: RwLock<HashMap<String, Arc<ChatTenant>>>,
}

impl TenantCache {
    /// The tenant of `slug`, current as of this call; `None` when there is no such tenant.
    pub async fn get(&self, store: &dyn Store, slug: &str) -> docent_store::Result<Option<Arc<ChatTenant>>> {
        let Some(versions) = store.tenant_versions(slug).await? else {
            self.write().remove(slug);
            return Ok(None);
        };
        if let Some(hit) = self.read().get(slug).filter(|t| t.versions == versions) {
            return Ok(Some(hit.clone()));
        }
        let Some(tenant) = store.tenant_by_id(&versions.id).await? else { return Ok(None) };
        let loaded = Arc::new(ChatTenant {
            segments: store.list_segments(&tenant.id).await?.into_iter().map(Arc::new).collect(),
            tools: store.list_tools(&tenant.id).await?,
            has_products: store.count_products(&tenant.id).await? > 0,
            tenant: Arc::new(tenant),
            versions,
            offers: Mutex::default(),
            llm: OnceLock::new(),
        });
        let mut by_slug = self.write();
        if by_slug.len() >= MAX_TENANTS {
            by_slug.clear();
        }
        by_slug.insert(slug.to_owned(), loaded.clone());
        Ok(Some(loaded))
    }

    /// The copy of `slug` as last loaded, unchecked: whoever acts on it must check its versions
    /// (`StartTurn::seen_versions`) and `get` a fresh one when they moved.
    pub fn cached(&self, slug: &str) -> Option<Arc<ChatTenant>> {
        self.read().get(slug).cloned()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<ChatTenant>>> {
        self.by_slug.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<ChatTenant>>> {
        self.by_slug.write().unwrap_or_else(|p| p.into_inner())
    }
}
