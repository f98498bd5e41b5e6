//! Knowledge use-cases shared by the HTTP API, the CLI and chat: turning owner input into
//! corpus and product fields (segment slugs resolved, rows validated), bulk imports that write
//! all or nothing, and retrieval for a chat turn.

pub mod cli;
pub mod eval;
pub mod import;

use docent_domain::SegmentId;
use docent_domain::corpus::{CorpusFields, CorpusIn, validate_entry};
use docent_domain::product::{ProductFields, ProductIn};
use docent_domain::tenant::Tenant;
use docent_domain::text::truncate_chars;
use docent_llm::Snippet;
use docent_store::ImportCount;

use crate::app::App;
use crate::http::error::ApiError;
use crate::tenant_cache::ChatTenant;
use import::{Format, Rejected};

/// What an import did.
#[derive(Clone, Copy, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
}

impl From<ImportCount> for ImportReport {
    fn from(c: ImportCount) -> Self {
        Self { created: c.created, updated: c.updated }
    }
}

/// Rows per import request.
pub const MAX_IMPORT_ROWS: usize = 10_000;

pub async fn segment_id(app: &App, tenant: &Tenant, slug: Option<&str>) -> Result<Option<SegmentId>, ApiError> {
    let Some(slug) = slug.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    let found = app.store.segment_by_slug(&tenant.id, slug).await.map_err(ApiError::storage)?;
    found.map(|s| Some(s.id)).ok_or_else(|| {
        ApiError::bad_request("validation_failed", format!("segment `{slug}` is not a segment of this tenant"))
            .with("field", "segment")
    })
}

/// Validates an entry; the segment is resolved by the caller.
pub fn corpus_fields(
    input: CorpusIn,
    segment_id: Option<SegmentId>,
) -> Result<CorpusFields, docent_domain::ValidationError> {
    let (priority, tags) = validate_entry(
        &input.title,
        &input.content,
        input.priority,
        &input.tags,
        input.summary.as_deref(),
        input.key.as_deref(),
    )?;
    Ok(CorpusFields {
        title: input.title.trim().to_owned(),
        content: input.content,
        summary: input.summary.filter(|s| !s.trim().is_empty()),
        segment_id,
        priority,
        tags,
        key: input.key.filter(|k| !k.trim().is_empty()),
    })
}

/// Why an import wrote nothing.
pub struct ImportFailure {
    pub rejected: Vec<Rejected>,
}

impl ImportFailure {
    pub fn into_api(self) -> ApiError {
        let n = self.rejected.len();
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "import_rejected",
            format!("{n} row(s) rejected; nothing was imported"),
        )
        .with("rejected", serde_json::to_value(self.rejected).unwrap_or_default())
    }
}

/// Imports corpus rows all or nothing. A row without `key` gets `title:<slug of title>`, so
/// importing the same file twice updates rather than duplicates.
pub async fn import_corpus(
    app: &App,
    tenant: &Tenant,
    body: &[u8],
    format: Format,
) -> Result<ImportCount, ImportFailure> {
    let fields = prepare_corpus(app, tenant, body, format).await?;
    app.store
        .import_corpus(&tenant.id, fields)
        .await
        .map_err(|e| ImportFailure { rejected: vec![Rejected { row: 0, error: format!("storage error: {e}") }] })
}

/// Parses and validates every row of an import, or reports every rejected one.
pub async fn prepare_corpus(
    app: &App,
    tenant: &Tenant,
    body: &[u8],
    format: Format,
) -> Result<Vec<CorpusFields>, ImportFailure> {
    const COLUMNS: [&str; 7] = ["title", "content", "segment", "priority", "tags", "summary", "key"];
    let rows: Vec<(usize, CorpusIn)> =
        import::parse(body, format, &COLUMNS, &["title", "content"], &["tags"], MAX_IMPORT_ROWS)
            .map_err(|rejected| ImportFailure { rejected })?;
    let mut fields = Vec::with_capacity(rows.len());
    let mut rejected = Vec::new();
    let segments = app.store.list_segments(&tenant.id).await.unwrap_or_default();
    for (row, mut input) in rows {
        let segment = match input.segment.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(slug) => match segments.iter().find(|s| s.slug == slug) {
                Some(s) => Some(s.id.clone()),
                None => {
                    rejected.push(Rejected { row, error: format!("segment `{slug}` is not a segment of this tenant") });
                    continue;
                }
            },
        };
        if input.key.is_none() {
            input.key = Some(format!("title:{}", docent_domain::slug::slugify(&input.title)));
        }
        match corpus_fields(input, segment) {
            Ok(f) => fields.push(f),
            Err(e) => rejected.push(Rejected { row, error: format!("{}: {}", e.field, e.message) }),
        }
    }
    if !rejected.is_empty() {
        return Err(ImportFailure { rejected });
    }
    Ok(fields)
}

/// Imports products all or nothing, updating known skus.
pub async fn import_products(
    app: &App,
    tenant: &Tenant,
    body: &[u8],
    format: Format,
) -> Result<ImportCount, ImportFailure> {
    const COLUMNS: [&str; 10] =
        ["sku", "name", "description", "price", "currency", "url", "imageUrl", "tags", "inStock", "attributes"];
    let rows: Vec<(usize, ProductIn)> =
        import::parse(body, format, &COLUMNS, &["sku", "name", "price"], &["tags"], MAX_IMPORT_ROWS)
            .map_err(|rejected| ImportFailure { rejected })?;
    let mut fields: Vec<ProductFields> = Vec::with_capacity(rows.len());
    let mut rejected = Vec::new();
    for (row, input) in rows {
        match input.into_fields() {
            Ok(f) if fields.iter().any(|p| p.sku == f.sku) => {
                rejected.push(Rejected { row, error: format!("sku `{}` appears twice in this import", f.sku) })
            }
            Ok(f) => fields.push(f),
            Err(e) => rejected.push(Rejected { row, error: format!("{}: {}", e.field, e.message) }),
        }
    }
    if !rejected.is_empty() {
        return Err(ImportFailure { rejected });
    }
    app.store
        .import_products(&tenant.id, fields)
        .await
        .map_err(|e| ImportFailure { rejected: vec![Rejected { row: 0, error: format!("storage error: {e}") }] })
}

/// Characters of knowledge placed in a turn's context.
const CONTEXT_CHARS: usize = 8_000;

/// The knowledge for a chat turn: the best entries for the message (within a budget), or in
/// two-tier mode only their titles and summaries (EXPLORE_CORPUS fetches the rest).
pub async fn retrieve(
    app: &App,
    chat: &ChatTenant,
    segment: &SegmentId,
    message: &str,
    two_tier: bool,
) -> Vec<Snippet> {
    let limit = if two_tier { 10 } else { 5 };
    let (tenant, kb_version) = (&chat.tenant, Some(chat.versions.kb));
    let found =
        app.knowledge.corpus_passages(app.store.as_ref(), tenant, kb_version, Some(segment.as_str()), message, limit);
    let entries = match found.await {
        Ok(entries) => entries,
        Err(e) => {
            tracing::warn!(error = %e, "corpus search failed; answering without knowledge");
            return Vec::new();
        }
    };
    let mut used = 0;
    let mut out = Vec::new();
    for e in entries {
        let (mut content, max) = match e.summary {
            Some(summary) if two_tier => (summary, usize::MAX),
            _ => (e.content, if two_tier { 200 } else { 3_000 }),
        };
        truncate_chars(&mut content, max);
        used += content.len() + e.title.len();
        if used > CONTEXT_CHARS && !out.is_empty() {
            break;
        }
        out.push(Snippet { id: e.id, title: e.title, content });
    }
    out
}
