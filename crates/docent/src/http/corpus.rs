//! The corpus API: list, get, create, update, delete, bulk import, and ranked search with
//! highlighted snippets (what the bot will see).

use axum::extract::{Request, State};
use axum::response::Response;
use docent_domain::corpus::{CorpusEntry, CorpusId, CorpusIn, CorpusPatch};
use docent_domain::scope::Scope;
use docent_domain::tenant::Tenant;
use docent_store::CorpusQuery;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::auth::Principal;
use super::docs::TenantRouteErrors;
use super::error::{ApiError, ErrorBody};
use super::extract::{Json, Path, Query};
use super::{Deleted, created};
use crate::app::App;
use crate::knowledge::{self, import::Format};

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(list_corpus, create_corpus))
        .routes(routes!(search_corpus))
        .routes(routes!(import_corpus))
        .routes(routes!(get_corpus, update_corpus, delete_corpus))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Pagination {
    pub page: u64,
    pub limit: u32,
    pub total: u64,
    pub pages: u64,
}

impl Pagination {
    pub fn new(page: u64, limit: u32, total: u64) -> Self {
        Self { page, limit, total, pages: total.div_ceil(u64::from(limit)) }
    }
}

/// `page` (from 1) and `limit` (1..=100, default 20), checked.
pub fn paging(page: Option<i64>, limit: Option<i64>) -> Result<(u64, u32), ApiError> {
    let page = page.unwrap_or(1);
    let limit = limit.unwrap_or(20);
    if page < 1 {
        return Err(ApiError::bad_request("validation_failed", "page must be 1 or more").with("field", "page"));
    }
    if !(1..=100).contains(&limit) {
        return Err(
            ApiError::bad_request("validation_failed", "limit must be between 1 and 100").with("field", "limit")
        );
    }
    Ok((page as u64, limit as u32))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Page, from 1 (default 1).
    page: Option<i64>,
    /// Entries per page (default 20, max 100).
    limit: Option<i64>,
    /// A segment slug: only that segment's entries.
    segment: Option<String>,
    /// Case-insensitive substring of title or content.
    search: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CorpusList {
    corpus: Vec<CorpusEntry>,
    pagination: Pagination,
}

async fn find(app: &App, tenant: &Tenant, id: &str) -> Result<CorpusEntry, ApiError> {
    let id = CorpusId::parse(id).ok_or_else(|| ApiError::not_found("Corpus entry"))?;
    let found = app.store.get_corpus(&tenant.id, &id).await.map_err(ApiError::storage)?;
    found.ok_or_else(|| ApiError::not_found("Corpus entry"))
}

/// List corpus entries, newest first.
#[utoipa::path(get, path = "/tenants/{slug}/corpus", tag = "corpus",
    security(("bearer" = ["corpus:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ListParams),
    responses((status = 200, body = CorpusList), TenantRouteErrors))]
async fn list_corpus(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<CorpusList>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::CorpusRead).await?;
    let (page, limit) = paging(params.page, params.limit)?;
    let segment = match params.segment.as_deref() {
        Some(s) => Some(
            app.store
                .segment_by_slug(&tenant.id, s)
                .await
                .map_err(ApiError::storage)?
                .ok_or_else(|| ApiError::not_found("Segment"))?
                .id,
        ),
        None => None,
    };
    let query = CorpusQuery { limit, offset: (page - 1) * u64::from(limit), segment, search: params.search };
    let (corpus, total) = app.store.list_corpus(&tenant.id, &query).await.map_err(ApiError::storage)?;
    Ok(axum::Json(CorpusList { corpus, pagination: Pagination::new(page, limit, total) }))
}

/// Get one entry.
#[utoipa::path(get, path = "/tenants/{slug}/corpus/{id}", tag = "corpus",
    security(("bearer" = ["corpus:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = CorpusEntry), TenantRouteErrors))]
async fn get_corpus(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<CorpusEntry>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::CorpusRead).await?;
    Ok(axum::Json(find(&app, &tenant, &id).await?))
}

/// Create an entry: `title` and `content` (≤ 50,000 chars) required, `segment` slug, `priority`
/// 1-10 (default 5), `tags`, `summary`, and an optional stable `key`.
#[utoipa::path(post, path = "/tenants/{slug}/corpus", tag = "corpus",
    security(("bearer" = ["corpus:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path)),
    request_body = CorpusIn,
    responses((status = 201, body = CorpusEntry), TenantRouteErrors))]
async fn create_corpus(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Json(body): Json<CorpusIn>,
) -> Result<Response, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::CorpusWrite).await?;
    let segment = knowledge::segment_id(&app, &tenant, body.segment.as_deref()).await?;
    let fields = knowledge::corpus_fields(body, segment)?;
    let entry = app.store.create_corpus(&tenant.id, fields).await.map_err(ApiError::storage)?;
    Ok(created(entry))
}

/// Update an entry: only the fields sent change (`segment: null` makes it general).
#[utoipa::path(patch, path = "/tenants/{slug}/corpus/{id}", tag = "corpus",
    security(("bearer" = ["corpus:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    request_body = CorpusPatch,
    responses((status = 200, body = CorpusEntry), TenantRouteErrors))]
async fn update_corpus(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
    Json(patch): Json<CorpusPatch>,
) -> Result<axum::Json<CorpusEntry>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::CorpusWrite).await?;
    let current = find(&app, &tenant, &id).await?;
    let segment = match patch.segment {
        Some(slug) => knowledge::segment_id(&app, &tenant, slug.as_deref()).await?,
        None => current.segment_id.clone(),
    };
    let input = CorpusIn {
        title: patch.title.unwrap_or(current.title),
        content: patch.content.unwrap_or(current.content),
        segment: None,
        priority: Some(patch.priority.unwrap_or(i64::from(current.priority))),
        tags: patch.tags.unwrap_or(current.tags),
        summary: patch.summary.unwrap_or(current.summary),
        key: None,
    };
    let fields = knowledge::corpus_fields(input, segment)?;
    let entry = app.store.update_corpus(&tenant.id, &current.id, fields).await.map_err(ApiError::storage)?;
    Ok(axum::Json(entry))
}

/// Delete an entry.
#[utoipa::path(delete, path = "/tenants/{slug}/corpus/{id}", tag = "corpus",
    security(("bearer" = ["corpus:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Deleted), TenantRouteErrors))]
async fn delete_corpus(
    State(app): State<App>,
    principal: Principal,
    Path((slug, id)): Path<(String, String)>,
) -> Result<axum::Json<Deleted>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::CorpusWrite).await?;
    let id = CorpusId::parse(&id).ok_or_else(|| ApiError::not_found("Corpus entry"))?;
    if !app.store.delete_corpus(&tenant.id, &id).await.map_err(ApiError::storage)? {
        return Err(ApiError::not_found("Corpus entry"));
    }
    Ok(Deleted::of(id))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// `csv` or `ndjson`; default from the Content-Type, else the body's first character.
    format: Option<String>,
}

impl ImportParams {
    pub fn format_ref(&self) -> Option<&str> {
        self.format.as_deref()
    }
}

/// Largest import body (bytes).
pub const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

/// Read a whole import body, and its format.
pub async fn import_body(request: Request, format: Option<&str>) -> Result<(Vec<u8>, Format), ApiError> {
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = axum::body::to_bytes(request.into_body(), IMPORT_LIMIT).await.map_err(|_| {
        ApiError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Import larger than 32 MiB")
    })?;
    let format = Format::detect(format, content_type.as_deref(), &bytes)
        .map_err(|e| ApiError::bad_request("validation_failed", e).with("field", "format"))?;
    Ok((bytes.to_vec(), format))
}

/// Bulk import: CSV with a header row (`title,content,segment,priority,tags`, also `summary` and
/// `key`; tags separated by `;`) or NDJSON of entry objects. All or nothing: any rejected row
/// gives 422 `import_rejected` with every rejected row and why, and nothing is written. Rows
/// with a known `key` (default: `title:<slug of title>`) update their entry.
#[utoipa::path(post, path = "/tenants/{slug}/corpus/import", tag = "corpus",
    security(("bearer" = ["corpus:write"]), ("legacyKey" = [])),
    params(("slug" = String, Path), ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = crate::knowledge::ImportReport), (status = 422, body = ErrorBody), TenantRouteErrors))]
async fn import_corpus(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Query(params): Query<ImportParams>,
    request: Request,
) -> Result<axum::Json<crate::knowledge::ImportReport>, ApiError> {
    let tenant = app.authorize(&principal, &slug, Scope::CorpusWrite).await?;
    let (bytes, format) = import_body(request, params.format_ref()).await?;
    let counted = knowledge::import_corpus(&app, &tenant, &bytes, format).await.map_err(|f| f.into_api())?;
    Ok(axum::Json(counted.into()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// The question, as a visitor would type it (no query syntax).
    q: String,
    /// A segment slug: its entries and the general ones (default: general entries only).
    segment: Option<String>,
    /// Results (default 10, max 50).
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    id: String,
    title: String,
    segment: Option<String>,
    priority: u8,
    score: f32,
    /// The best passage, matches in `<b>…</b>` (HTML-escaped).
    snippet: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    query: String,
    results: Vec<SearchResult>,
}

/// Ranked search over the corpus, as the bot sees it: scores and highlighted snippets.
#[utoipa::path(get, path = "/tenants/{slug}/corpus/search", tag = "corpus",
    security(("bearer" = ["corpus:read"]), ("legacyKey" = [])),
    params(("slug" = String, Path), SearchParams),
    responses((status = 200, body = SearchResults), TenantRouteErrors))]
async fn search_corpus(
    State(app): State<App>,
    principal: Principal,
    Path(slug): Path<String>,
    Query(params): Query<SearchParams>,
) -> Result<axum::Json<SearchResults>, ApiError> {
    let chat = app.authorize_cached(&principal, &slug, Scope::CorpusRead).await?;
    let tenant = &chat.tenant;
    let limit = params.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::bad_request("validation_failed", "limit must be between 1 and 50").with("field", "limit"));
    }
    if params.q.chars().count() > 1_000 {
        return Err(ApiError::bad_request("validation_failed", "q must be at most 1000 characters").with("field", "q"));
    }
    let segment = match params.segment.as_deref() {
        Some(s) => {
            Some(&chat.segments.iter().find(|seg| seg.slug == s).ok_or_else(|| ApiError::not_found("Segment"))?.id)
        }
        None => None,
    };
    let kb_version = Some(chat.versions.kb);
    let segment = segment.map(|s| s.as_str());
    let hits = app
        .knowledge
        .search_corpus(app.store.as_ref(), tenant, kb_version, segment, &params.q, limit as usize)
        .await
        .map_err(ApiError::internal)?;
    let ids: Vec<String> = hits.iter().map(|h| h.id.clone()).collect();
    let entries = app.store.corpus_by_ids(&tenant.id, &ids).await.map_err(ApiError::storage)?;
    let results = hits
        .into_iter()
        .filter_map(|h| {
            let e = entries.iter().find(|e| e.id.as_str() == h.id)?;
            Some(SearchResult {
                id: h.id,
                title: e.title.clone(),
                segment: e.segment.clone(),
                priority: e.priority,
                score: h.score,
                snippet: h.snippet,
            })
        })
        .collect();
    Ok(axum::Json(SearchResults { query: params.q, results }))
}
