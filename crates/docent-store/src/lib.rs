//! Docent's storage: the [`Store`] trait, whose methods are use-cases that each own their
//! transaction and take the tenant first, and its two backends, SQLite (embedded, the default)
//! and PostgreSQL (scale-out). Both run the same SQL text (see `sql.rs`) and pass one
//! conformance suite (`tests/conformance.rs`).

mod error;
mod postgres;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use docent_domain::segment::{Segment, SegmentIn};
use docent_domain::tenant::{NewTenant, Tenant};
use docent_domain::token::{ApiToken, NewToken};
use docent_domain::tool::{Tool, ToolFields};
use docent_domain::visitor::{MemoryFact, Visitor, VisitorDetail, VisitorFields, VisitorQuery};
use docent_domain::{ConversationId, SegmentId, TenantId, Timestamp, TokenId, ToolId, VisitorId};

pub use error::StorageError;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// What deleting a segment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentDeletion {
    Deleted,
    NotFound,
    /// The default segment is never deleted.
    IsDefault,
}

/// A conversation's opening facts (the chat engine records turns on it).
#[derive(Debug, Clone)]
pub struct NewConversation {
    pub session_id: String,
    pub visitor_id: Option<VisitorId>,
    pub segment_id: Option<SegmentId>,
    pub channel: String,
    pub visitor_type: String,
    pub agent_model: Option<String>,
    pub page_url: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Cheap round trip for `/readyz`.
    async fn ping(&self) -> Result<()>;

    // Tenants. Creating one also creates its default segment, in the same transaction.
    async fn create_tenant(&self, new: NewTenant, default_segment: SegmentIn) -> Result<(Tenant, Segment)>;
    async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>>;
    async fn tenant_by_id(&self, id: &TenantId) -> Result<Option<Tenant>>;
    async fn tenant_by_api_key_hash(&self, hash: &str) -> Result<Option<Tenant>>;
    /// Writes every column of `updated` except id, slug and parent (the caller applied a patch).
    async fn update_tenant(&self, tenant: &TenantId, updated: &Tenant) -> Result<Tenant>;
    async fn count_child_tenants(&self, parent: &TenantId) -> Result<u64>;
    async fn count_conversations_since(&self, tenant: &TenantId, since: Timestamp) -> Result<u64>;

    // API tokens.
    async fn create_token(&self, tenant: &TenantId, new: NewToken) -> Result<ApiToken>;
    async fn list_tokens(&self, tenant: &TenantId) -> Result<Vec<ApiToken>>;
    async fn delete_token(&self, tenant: &TenantId, id: &TokenId) -> Result<bool>;
    /// Authentication looks a token up by its hash before any tenant is known.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>>;
    async fn touch_token(&self, tenant: &TenantId, id: &TokenId, at: Timestamp) -> Result<()>;

    // Segments.
    async fn list_segments(&self, tenant: &TenantId) -> Result<Vec<Segment>>;
    async fn get_segment(&self, tenant: &TenantId, id: &SegmentId) -> Result<Option<Segment>>;
    async fn segment_by_slug(&self, tenant: &TenantId, slug: &str) -> Result<Option<Segment>>;
    async fn create_segment(&self, tenant: &TenantId, new: SegmentIn) -> Result<Segment>;
    /// Writes name, prompt, welcome message, starters and active flag of `updated`.
    async fn update_segment(&self, tenant: &TenantId, updated: &Segment) -> Result<Segment>;
    /// Deletes a segment; its tools become general (offered in every segment).
    async fn delete_segment(&self, tenant: &TenantId, id: &SegmentId) -> Result<SegmentDeletion>;

    // Tools. A `segment_id` of another tenant is refused with `StorageError::Invalid`.
    async fn list_tools(&self, tenant: &TenantId) -> Result<Vec<Tool>>;
    async fn get_tool(&self, tenant: &TenantId, id: &ToolId) -> Result<Option<Tool>>;
    async fn create_tool(&self, tenant: &TenantId, fields: ToolFields) -> Result<Tool>;
    async fn update_tool(&self, tenant: &TenantId, id: &ToolId, fields: ToolFields) -> Result<Tool>;
    async fn delete_tool(&self, tenant: &TenantId, id: &ToolId) -> Result<bool>;

    // Visitors and memory. A duplicate email or externalId is `StorageError::Conflict`.
    async fn list_visitors(&self, tenant: &TenantId, query: &VisitorQuery) -> Result<(Vec<Visitor>, u64)>;
    async fn get_visitor(&self, tenant: &TenantId, id: &VisitorId) -> Result<Option<VisitorDetail>>;
    async fn create_visitor(&self, tenant: &TenantId, fields: VisitorFields) -> Result<Visitor>;
    async fn update_visitor(&self, tenant: &TenantId, id: &VisitorId, fields: VisitorFields) -> Result<Visitor>;
    /// Deletes the visitor with their conversations, memory facts and submissions.
    async fn delete_visitor(&self, tenant: &TenantId, id: &VisitorId) -> Result<bool>;
    /// `StorageError::NotFound` when the visitor is not this tenant's.
    async fn list_memory(&self, tenant: &TenantId, visitor: &VisitorId) -> Result<Vec<MemoryFact>>;
    /// Creates or replaces a fact; `true` when it was created.
    async fn upsert_memory(
        &self,
        tenant: &TenantId,
        visitor: &VisitorId,
        key: &str,
        value: &str,
    ) -> Result<(MemoryFact, bool)>;
    async fn get_memory(&self, tenant: &TenantId, visitor: &VisitorId, key: &str) -> Result<Option<MemoryFact>>;
    async fn delete_memory(&self, tenant: &TenantId, visitor: &VisitorId, key: &str) -> Result<bool>;

    // Conversations.
    async fn create_conversation(&self, tenant: &TenantId, new: NewConversation) -> Result<ConversationId>;
}

/// Opens the store a URL names: `sqlite://path` (created if missing) or `postgres://…`,
/// and runs that backend's migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else {
        Err(StorageError::Config(format!(
            "database URL must start with sqlite:// or postgres://, got `{}`",
            url.split(':').next().unwrap_or_default()
        )))
    }
}

#[cfg(feature = "testing")]
pub mod testing;
