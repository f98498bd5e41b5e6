//! Docent's storage: the [`Store`] trait, whose methods are use-cases that each own their
//! transaction and take the tenant first, and its two backends, SQLite (embedded, the default)
//! and PostgreSQL (scale-out). Both run the same SQL text (see `sql.rs`) and pass one
//! conformance suite (`tests/conformance/`).

mod error;
mod histories;
mod postgres;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use docent_domain::analytics::{
    ConversationDetail, ConversationFilter, ConversationSummary, FeedbackVote, NewFeedback, Rating, StatsData,
    StatsQuery, SubmissionFilter, Totals,
};
use docent_domain::conversation::{Conversation, Job, NewSubmission, StoredMessage, Submission, ToolExecution};
use docent_domain::corpus::{CorpusEntry, CorpusFields, CorpusId};
use docent_domain::product::{Product, ProductFields, ProductId};
use docent_domain::quote::{NewQuote, Quote};
use docent_domain::segment::{Segment, SegmentIn};
use docent_domain::tenant::{NewTenant, Tenant};
use docent_domain::token::{ApiToken, NewToken};
use docent_domain::tool::{Tool, ToolFields};
use docent_domain::visitor::{MemoryFact, Visitor, VisitorDetail, VisitorFields, VisitorQuery};
use docent_domain::{
    ConversationId, MessageId, SegmentId, SubmissionId, TenantId, Timestamp, TokenId, ToolId, VisitorId,
};

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

/// A tenant's change counters. `config` moves on any write to the tenant row, its segments or
/// its tools (database triggers, whoever writes); `kb` on any write to its corpus or products.
/// A copy of the tenant held in memory is current while both are unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantVersions {
    pub id: TenantId,
    pub config: i64,
    pub kb: i64,
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
    /// `{userAgent, referrer, page}` as the first request saw them.
    pub metadata: serde_json::Value,
}

/// A turn's opening: the conversation of `session_id` is found or created, then the user's
/// message is stored, in one transaction.
#[derive(Debug, Clone)]
pub struct StartTurn {
    pub conversation: NewConversation,
    pub user_message: String,
    /// The monthly cap on new conversations and the start of the month, when there is one.
    pub monthly_cap: Option<(u64, Timestamp)>,
    /// The tenant configuration (`config`, `kb` versions) the caller checked the turn against:
    /// when the tenant's row has moved on since, nothing is written and the start is `Stale`.
    pub seen_versions: Option<(i64, i64)>,
}

/// The most messages a turn's start reads back for its prompt, the newest: the model's context
/// budget keeps fewer anyway, and a turn of a long conversation would otherwise read all of it
/// (one 100 turns long made each of its turns cost the writer four times a 20-turn one's).
pub const TURN_HISTORY_LIMIT: usize = 200;

#[derive(Debug, Clone)]
pub enum TurnStart {
    Started {
        conversation: Box<Conversation>,
        created: bool,
        /// The conversation's last `TURN_HISTORY_LIMIT` messages, oldest first, the user's new
        /// one last.
        history: Vec<StoredMessage>,
    },
    /// A new conversation would pass the monthly cap; nothing was written.
    LimitReached,
    /// The tenant changed (or went) since the versions the caller saw; nothing was written.
    Stale,
}

/// A turn's close: the assistant's message (if any was produced), the tool history, and the
/// conversation's new state, in one transaction.
#[derive(Debug, Clone)]
pub struct FinishTurn {
    pub conversation_id: ConversationId,
    /// The reply's ID, text and status (`complete` or `interrupted`).
    pub assistant: Option<(MessageId, String, &'static str)>,
    pub executions: Vec<ToolExecution>,
    pub escalated: bool,
    /// Links the conversation to a visitor created during the turn.
    pub visitor_id: Option<VisitorId>,
}

/// Conversations as the chat engine writes them.
#[async_trait]
pub trait ConversationStore {
    async fn conversation_by_session(&self, tenant: &TenantId, session_id: &str) -> Result<Option<Conversation>>;
    async fn conversation_by_public_id(&self, tenant: &TenantId, public_id: &str) -> Result<Option<Conversation>>;
    async fn start_turn(&self, tenant: &TenantId, start: StartTurn) -> Result<TurnStart>;
    async fn list_messages(&self, tenant: &TenantId, conversation: &ConversationId) -> Result<Vec<StoredMessage>>;
    async fn finish_turn(&self, tenant: &TenantId, finish: FinishTurn) -> Result<Conversation>;
    async fn list_tool_executions(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
    ) -> Result<Vec<ToolExecution>>;
    async fn create_submission(&self, tenant: &TenantId, new: NewSubmission) -> Result<Submission>;
    async fn visitor_by_external_id(&self, tenant: &TenantId, external_id: &str) -> Result<Option<Visitor>>;
}

/// What a submission status change did.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmissionMove {
    Moved(Submission),
    NotFound,
    /// The workflow does not allow this move from the submission's `current` status.
    Refused {
        current: String,
    },
}

/// Conversation history as owners read it: lists, details, keyset pages for exports, and the
/// form submissions conversations leave, with their `NEW → CONTACTED → RESOLVED` workflow.
#[async_trait]
pub trait HistoryStore {
    /// A page (1-based) of conversations, newest first, and the total under `filter`.
    async fn list_conversations(
        &self,
        tenant: &TenantId,
        filter: &ConversationFilter,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<ConversationSummary>, u64)>;
    async fn conversation_detail(&self, tenant: &TenantId, id: &ConversationId) -> Result<Option<ConversationDetail>>;
    /// Up to `limit` conversations older than `after` (`started_at` ms and ID), newest first,
    /// without tool history: the keyset pages of a streamed export.
    async fn export_conversations(
        &self,
        tenant: &TenantId,
        filter: &ConversationFilter,
        after: Option<(i64, ConversationId)>,
        limit: u32,
    ) -> Result<Vec<ConversationSummary>>;
    async fn list_submissions(
        &self,
        tenant: &TenantId,
        filter: &SubmissionFilter,
        page: u32,
        limit: u32,
    ) -> Result<(Vec<Submission>, u64)>;
    async fn get_submission(&self, tenant: &TenantId, id: &SubmissionId) -> Result<Option<Submission>>;
    /// Moves a submission to `status` when the workflow allows it from its current status.
    async fn set_submission_status(&self, tenant: &TenantId, id: &SubmissionId, status: &str)
    -> Result<SubmissionMove>;
}

/// A conversation written in bulk: history brought from elsewhere, or generated data.
#[derive(Debug, Clone)]
pub struct ImportedConversation {
    pub id: ConversationId,
    pub conversation: NewConversation,
    /// `active` or `escalated`.
    pub status: String,
    pub started_at: Timestamp,
    pub messages: Vec<ImportedMessage>,
    pub executions: Vec<ToolExecution>,
}

#[derive(Debug, Clone)]
pub struct ImportedMessage {
    pub id: MessageId,
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    pub created_at: Timestamp,
    /// The visitor's vote on an assistant message.
    pub rating: Option<Rating>,
}

/// Stats read from daily rollups kept in step with every write (turns, feedback, imports,
/// visitor deletion), and visitor feedback.
#[async_trait]
pub trait AnalyticsStore {
    async fn conversation_stats(&self, tenant: &TenantId, query: &StatsQuery) -> Result<StatsData>;
    /// Totals over every day, for `window=all`.
    async fn all_time_totals(
        &self,
        tenant: &TenantId,
        channel: Option<&str>,
        segment: Option<&SegmentId>,
    ) -> Result<Totals>;
    /// Records or changes a visitor's vote on an assistant message; `true` when it is new.
    /// `StorageError::NotFound` when the conversation has no such assistant message.
    async fn record_feedback(&self, tenant: &TenantId, vote: NewFeedback) -> Result<(FeedbackVote, bool)>;
    /// Writes conversations with their messages, tool history and votes in one transaction,
    /// and their rollups with them.
    async fn import_conversations(&self, tenant: &TenantId, batch: Vec<ImportedConversation>) -> Result<()>;
}

/// The durable job queue (outbox). Claiming leases a job so that one worker, on one replica,
/// runs it at a time; a lease that runs out (a crashed worker) makes the job due again.
#[async_trait]
pub trait JobStore {
    async fn enqueue_job(&self, tenant: &TenantId, kind: &str, payload: &serde_json::Value) -> Result<String>;
    async fn claim_jobs(&self, now: Timestamp, lease_ms: i64, limit: u32) -> Result<Vec<Job>>;
    async fn complete_job(&self, id: &str) -> Result<()>;
    async fn retry_job(&self, id: &str, next_attempt_at: Timestamp, error: &str) -> Result<()>;
    async fn fail_job(&self, id: &str, error: &str) -> Result<()>;
    /// `(status, attempts, last_error)` of a job, for operators and tests.
    async fn job_state(&self, id: &str) -> Result<Option<(String, u32, Option<String>)>>;
}

/// A listing of the corpus.
#[derive(Debug, Clone, Default)]
pub struct CorpusQuery {
    pub limit: u32,
    pub offset: u64,
    /// Only entries of this segment.
    pub segment: Option<SegmentId>,
    /// A case-insensitive substring of title or content.
    pub search: Option<String>,
}

/// One item of the knowledge change sequence (`kind` is `corpus` or `product`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbChange {
    pub version: i64,
    pub kind: String,
    pub item_id: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportCount {
    pub created: u64,
    pub updated: u64,
}

/// The corpus, and the change sequence search indexes follow (`kb_version`, `kb_changes_since`).
#[async_trait]
pub trait CorpusStore {
    async fn list_corpus(&self, tenant: &TenantId, query: &CorpusQuery) -> Result<(Vec<CorpusEntry>, u64)>;
    async fn get_corpus(&self, tenant: &TenantId, id: &CorpusId) -> Result<Option<CorpusEntry>>;
    async fn create_corpus(&self, tenant: &TenantId, fields: CorpusFields) -> Result<CorpusEntry>;
    async fn update_corpus(&self, tenant: &TenantId, id: &CorpusId, fields: CorpusFields) -> Result<CorpusEntry>;
    async fn delete_corpus(&self, tenant: &TenantId, id: &CorpusId) -> Result<bool>;
    /// All or nothing: entries with a known `key` are updated, the others created.
    async fn import_corpus(&self, tenant: &TenantId, entries: Vec<CorpusFields>) -> Result<ImportCount>;
    async fn corpus_by_ids(&self, tenant: &TenantId, ids: &[String]) -> Result<Vec<CorpusEntry>>;
    /// Entries with an id above `after`, in id order (for full index builds).
    async fn corpus_after(&self, tenant: &TenantId, after: &str, limit: u32) -> Result<Vec<CorpusEntry>>;
    async fn kb_version(&self, tenant: &TenantId) -> Result<i64>;
    async fn kb_changes_since(&self, tenant: &TenantId, after: i64, limit: u32) -> Result<Vec<KbChange>>;
}

/// The product catalog. A duplicate sku is `StorageError::Conflict { what: "sku" }`.
#[async_trait]
pub trait ProductStore {
    async fn list_products(
        &self,
        tenant: &TenantId,
        limit: u32,
        offset: u64,
        search: Option<&str>,
    ) -> Result<(Vec<Product>, u64)>;
    async fn get_product(&self, tenant: &TenantId, id: &ProductId) -> Result<Option<Product>>;
    async fn create_product(&self, tenant: &TenantId, fields: ProductFields) -> Result<Product>;
    async fn update_product(&self, tenant: &TenantId, id: &ProductId, fields: ProductFields) -> Result<Product>;
    async fn delete_product(&self, tenant: &TenantId, id: &ProductId) -> Result<bool>;
    /// All or nothing: products with a known sku are updated, the others created.
    async fn import_products(&self, tenant: &TenantId, products: Vec<ProductFields>) -> Result<ImportCount>;
    async fn products_by_ids(&self, tenant: &TenantId, ids: &[String]) -> Result<Vec<Product>>;
    async fn products_after(&self, tenant: &TenantId, after: &str, limit: u32) -> Result<Vec<Product>>;
    async fn count_products(&self, tenant: &TenantId) -> Result<u64>;
}

/// Computed quotes (GENERATE_QUOTE in engine mode). `create_quote` numbers the quote
/// (`Q-<year>-<n>`, per tenant and calendar year, from 1, gap-free) in the transaction that
/// stores it, so concurrent quotes never share a number, on one node or several.
#[async_trait]
pub trait QuoteStore {
    async fn create_quote(&self, tenant: &TenantId, new: NewQuote) -> Result<Quote>;
    /// The tenant's quotes, oldest first.
    async fn list_quotes(&self, tenant: &TenantId) -> Result<Vec<Quote>>;
    async fn quote_by_number(&self, tenant: &TenantId, number: &str) -> Result<Option<Quote>>;
}

/// Visitors and their memory facts. A duplicate email or externalId is `StorageError::Conflict`.
#[async_trait]
pub trait VisitorStore {
    async fn list_visitors(&self, tenant: &TenantId, query: &VisitorQuery) -> Result<(Vec<Visitor>, u64)>;
    async fn get_visitor(&self, tenant: &TenantId, id: &VisitorId) -> Result<Option<VisitorDetail>>;
    async fn create_visitor(&self, tenant: &TenantId, fields: VisitorFields) -> Result<Visitor>;
    /// The visitor whose external ID is `fields.external_id`, created with `fields` when there is
    /// none, as a chat turn does it: in one command (on SQLite, grouped with the turns' writes),
    /// so callers racing on one ID share one visitor. `Invalid` without an external ID,
    /// `Conflict` when the new visitor's email is another visitor's.
    async fn find_or_create_visitor(&self, tenant: &TenantId, fields: VisitorFields) -> Result<Visitor>;
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
    /// Creates or replaces a fact as a chat turn does, in one command (on SQLite, grouped with
    /// the turns' writes), without telling which it was. `NotFound` when the visitor is not
    /// this tenant's.
    async fn remember_fact(&self, tenant: &TenantId, visitor: &VisitorId, key: &str, value: &str) -> Result<()>;
    async fn get_memory(&self, tenant: &TenantId, visitor: &VisitorId, key: &str) -> Result<Option<MemoryFact>>;
    async fn delete_memory(&self, tenant: &TenantId, visitor: &VisitorId, key: &str) -> Result<bool>;
}

/// API tokens (`ak_…`), stored as hashes.
#[async_trait]
pub trait TokenStore {
    async fn create_token(&self, tenant: &TenantId, new: NewToken) -> Result<ApiToken>;
    async fn list_tokens(&self, tenant: &TenantId) -> Result<Vec<ApiToken>>;
    async fn delete_token(&self, tenant: &TenantId, id: &TokenId) -> Result<bool>;
    /// Authentication looks a token up by its hash before any tenant is known.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>>;
    async fn touch_token(&self, tenant: &TenantId, id: &TokenId, at: Timestamp) -> Result<()>;
}

/// Configured tools. A `segment_id` of another tenant is refused with `StorageError::Invalid`.
#[async_trait]
pub trait ToolStore {
    async fn list_tools(&self, tenant: &TenantId) -> Result<Vec<Tool>>;
    async fn get_tool(&self, tenant: &TenantId, id: &ToolId) -> Result<Option<Tool>>;
    async fn create_tool(&self, tenant: &TenantId, fields: ToolFields) -> Result<Tool>;
    async fn update_tool(&self, tenant: &TenantId, id: &ToolId, fields: ToolFields) -> Result<Tool>;
    async fn delete_tool(&self, tenant: &TenantId, id: &ToolId) -> Result<bool>;
}

/// A tenant's segments (personas). A tenant always has its default segment.
#[async_trait]
pub trait SegmentStore {
    async fn list_segments(&self, tenant: &TenantId) -> Result<Vec<Segment>>;
    async fn get_segment(&self, tenant: &TenantId, id: &SegmentId) -> Result<Option<Segment>>;
    async fn segment_by_slug(&self, tenant: &TenantId, slug: &str) -> Result<Option<Segment>>;
    async fn create_segment(&self, tenant: &TenantId, new: SegmentIn) -> Result<Segment>;
    /// Writes name, prompt, welcome message, starters and active flag of `updated`.
    async fn update_segment(&self, tenant: &TenantId, updated: &Segment) -> Result<Segment>;
    /// Deletes a segment; its tools become general (offered in every segment).
    async fn delete_segment(&self, tenant: &TenantId, id: &SegmentId) -> Result<SegmentDeletion>;
}

#[async_trait]
pub trait Store:
    SegmentStore
    + ToolStore
    + TokenStore
    + VisitorStore
    + ConversationStore
    + JobStore
    + CorpusStore
    + ProductStore
    + QuoteStore
    + HistoryStore
    + AnalyticsStore
    + Send
    + Sync
    + 'static
{
    /// Cheap round trip for `/readyz`.
    async fn ping(&self) -> Result<()>;

    // Tenants. Creating one also creates its default segment, in the same transaction.
    async fn create_tenant(&self, new: NewTenant, default_segment: SegmentIn) -> Result<(Tenant, Segment)>;
    async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>>;
    /// The versions a cached copy of the tenant's chat configuration is checked against.
    async fn tenant_versions(&self, slug: &str) -> Result<Option<TenantVersions>>;
    async fn tenant_by_id(&self, id: &TenantId) -> Result<Option<Tenant>>;
    async fn tenant_by_api_key_hash(&self, hash: &str) -> Result<Option<Tenant>>;
    /// Writes every column of `updated` except id, slug and parent (the caller applied a patch).
    async fn update_tenant(&self, tenant: &TenantId, updated: &Tenant) -> Result<Tenant>;
    async fn count_child_tenants(&self, parent: &TenantId) -> Result<u64>;
    async fn count_conversations_since(&self, tenant: &TenantId, since: Timestamp) -> Result<u64>;

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
