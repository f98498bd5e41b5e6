//! Search over each tenant's knowledge: per-tenant tantivy indexes (BM25, stemming for the
//! tenant's language, accents folded, typo tolerance, title and tags above body, priority as a
//! boost, segment scoping). The store is the source of truth: before answering, an index
//! catches up on the tenant's change sequence (`kb_version`, `kb_changes_since`), so replicas
//! on one PostgreSQL agree right after a write. Indexes live in memory, are built on first use,
//! and can be dropped and rebuilt at any time.

mod index;
mod query;
mod words;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use docent_domain::TenantId;
use docent_domain::tenant::Tenant;
use docent_store::{StorageError, Store};
use tantivy::collector::TopDocs;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Score, TantivyDocument};

pub use index::Lang;
pub use query::ProductFilter;
pub use words::{is_stopword, query_terms};

use index::TenantIndex;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
}

pub type Result<T, E = SearchError> = std::result::Result<T, E>;

/// A corpus entry as the index stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct Passage {
    pub id: String,
    pub title: String,
    pub summary: Option<String>,
    pub content: String,
}

/// A ranked corpus entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f32,
    /// The best passage with matches in `<b>…</b>` (HTML-escaped).
    pub snippet: String,
}

struct Slot {
    index: Arc<TenantIndex>,
    version: i64,
}

/// All tenants' indexes of this process.
#[derive(Default)]
pub struct Knowledge {
    slots: Mutex<HashMap<TenantId, Arc<tokio::sync::Mutex<Option<Slot>>>>>,
}

const PAGE: u32 = 1_000;

impl Knowledge {
    pub fn new() -> Self {
        Self::default()
    }

    fn slot(&self, tenant: &TenantId) -> Arc<tokio::sync::Mutex<Option<Slot>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(tenant.clone()).or_default().clone()
    }

    /// Drops a tenant's index; the next search rebuilds it from the store.
    pub fn forget(&self, tenant: &TenantId) {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).remove(tenant);
    }

    /// Rebuilds a tenant's index from the store now; returns the number of documents.
    pub async fn rebuild(&self, store: &dyn Store, tenant: &Tenant) -> Result<u64> {
        self.forget(&tenant.id);
        let slot = self.slot(&tenant.id);
        let mut guard = slot.lock().await;
        let built = build(store, tenant).await?;
        let docs = built.index.reader.searcher().num_docs();
        *guard = Some(built);
        Ok(docs)
    }

    /// Runs `f` on the tenant's index once it has caught up with the store. `known` is the
    /// tenant's `kb_version` when the caller has just read it: an index already there skips the
    /// read. The slot is locked only to check and catch up; `f` runs outside it, so searches of
    /// one tenant run in parallel.
    async fn with_fresh<T>(
        &self,
        store: &dyn Store,
        tenant: &Tenant,
        known: Option<i64>,
        f: impl FnOnce(&TenantIndex) -> Result<T>,
    ) -> Result<T> {
        let index = {
            let slot = self.slot(&tenant.id);
            let mut guard = slot.lock().await;
            let lang = Lang::of_locale(&tenant.settings.locale);
            let stale_language = guard.as_ref().is_some_and(|s| s.index.lang != lang);
            if guard.is_none() || stale_language {
                *guard = Some(build(store, tenant).await?);
            }
            let Some(slot) = guard.as_mut() else { return Err(SearchError::Storage(StorageError::NotFound)) };
            if known.is_none_or(|v| v > slot.version) {
                catch_up(store, &tenant.id, slot).await?;
            }
            slot.index.clone()
        };
        f(&index)
    }

    /// The best corpus entries for `text` visible in `segment` (general ones always).
    /// `kb_version` is the tenant's, when the caller has just read it.
    pub async fn search_corpus(
        &self,
        store: &dyn Store,
        tenant: &Tenant,
        kb_version: Option<i64>,
        segment: Option<&str>,
        text: &str,
        limit: usize,
    ) -> Result<Vec<Hit>> {
        self.with_fresh(store, tenant, kb_version, |idx| {
            let Some(q) = corpus_query(idx, segment, text) else { return Ok(Vec::new()) };
            let searcher = idx.reader.searcher();
            let mut snippets = SnippetGenerator::create(&searcher, &*q, idx.fields.content)?;
            snippets.set_max_num_chars(240);
            let best = best_documents(idx, &searcher, &*q, limit)?;
            Ok(best
                .into_iter()
                .map(|(score, id, doc)| Hit { id, score, snippet: snippets.snippet_from_doc(&doc).to_html() })
                .collect())
        })
        .await
    }

    /// The best corpus entries for `text` in `segment`, best first, read from the index (which
    /// stores what was indexed, at the version it caught up to): what a chat turn's context
    /// needs, without snippets and without a database read. `kb_version` is the tenant's, when
    /// known.
    pub async fn corpus_passages(
        &self,
        store: &dyn Store,
        tenant: &Tenant,
        kb_version: Option<i64>,
        segment: Option<&str>,
        text: &str,
        limit: usize,
    ) -> Result<Vec<Passage>> {
        self.with_fresh(store, tenant, kb_version, |idx| {
            let Some(q) = corpus_query(idx, segment, text) else { return Ok(Vec::new()) };
            let best = best_documents(idx, &idx.reader.searcher(), &*q, limit)?;
            Ok(best.into_iter().map(|(_, id, doc)| idx.passage(id, &doc)).collect())
        })
        .await
    }

    /// Product ids matching `text` (all products when it is empty) within `filter`, best first.
    pub async fn search_products(
        &self,
        store: &dyn Store,
        tenant: &Tenant,
        text: &str,
        filter: &ProductFilter,
        limit: usize,
    ) -> Result<Vec<(String, f32)>> {
        self.with_fresh(store, tenant, None, |idx| {
            let q = query::products(&idx.fields, relevance(idx, text), filter);
            let searcher = idx.reader.searcher();
            let top: Vec<(Score, DocAddress)> = searcher.search(&q, &TopDocs::with_limit(limit).order_by_score())?;
            let ids = ids_of(idx, &searcher, top.iter().map(|(_, address)| *address))?;
            Ok(top.into_iter().zip(ids).filter_map(|((score, _), id)| Some((id?, score))).collect())
        })
        .await
    }
}

/// The relevance part of a query for `text` (typos corrected against the index's vocabulary);
/// `None` when no word of it can match.
fn relevance(idx: &TenantIndex, text: &str) -> Option<Box<dyn tantivy::query::Query>> {
    let terms = words::query_terms(idx.lang, text);
    let mut vocabulary = idx.vocabulary.lock().unwrap_or_else(|p| p.into_inner());
    query::relevance(&idx.fields, &terms, &mut vocabulary)
}

/// The corpus query for `text` in `segment`; `None` when no word of it can match.
fn corpus_query(idx: &TenantIndex, segment: Option<&str>, text: &str) -> Option<Box<dyn tantivy::query::Query>> {
    Some(query::corpus(&idx.fields, relevance(idx, text)?, segment, &idx.mixed))
}

/// The best `limit` documents for `q`, best first, with their score, id and stored fields.
fn best_documents(
    idx: &TenantIndex,
    searcher: &tantivy::Searcher,
    q: &dyn tantivy::query::Query,
    limit: usize,
) -> tantivy::Result<Vec<(Score, String, TantivyDocument)>> {
    let top = prioritised(searcher, q, limit)?;
    let ids = ids_of(idx, searcher, top.iter().map(|(_, address)| *address))?;
    let mut out = Vec::with_capacity(top.len());
    for ((score, address), id) in top.into_iter().zip(ids) {
        if let Some(id) = id {
            out.push((score, id, searcher.doc(address)?));
        }
    }
    Ok(out)
}

/// Top documents by BM25 score times a priority boost (priority 10 ≈ +20 %, 1 ≈ −16 %). The
/// plain top-k by score lets tantivy skip documents that cannot enter it (block-max WAND); the
/// boost, at most ±20 %, then re-ranks a candidate set four times larger than asked.
fn prioritised(
    searcher: &tantivy::Searcher,
    query: &dyn tantivy::query::Query,
    limit: usize,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    let candidates: Vec<(Score, DocAddress)> =
        searcher.search(query, &TopDocs::with_limit(limit * 4).order_by_score())?;
    let mut columns = PerSegment::new(searcher, |segment| Ok(segment.fast_fields().u64("priority").ok()));
    let mut boosted = Vec::with_capacity(candidates.len());
    for (score, address) in candidates {
        let priority = columns.get(address)?.as_ref().and_then(|c| c.first(address.doc_id)).unwrap_or(5) as f32;
        boosted.push((score * (1.0 + (priority - 5.0) * 0.04), address));
    }
    boosted.sort_by(|a, b| b.0.total_cmp(&a.0));
    boosted.truncate(limit);
    Ok(boosted)
}

/// The ids of hits, through their `row` fast field.
fn ids_of(
    idx: &TenantIndex,
    searcher: &tantivy::Searcher,
    addresses: impl Iterator<Item = DocAddress>,
) -> tantivy::Result<Vec<Option<String>>> {
    let mut columns = PerSegment::new(searcher, |segment| Ok(segment.fast_fields().u64("row").ok()));
    let mut rows = Vec::new();
    for address in addresses {
        rows.push(columns.get(address)?.as_ref().and_then(|c| c.first(address.doc_id)));
    }
    Ok(idx.ids_at(&rows))
}

/// A fast-field column of each segment, opened on first use.
struct PerSegment<'s, C, F> {
    searcher: &'s tantivy::Searcher,
    open: F,
    columns: Vec<Option<C>>,
}

impl<'s, C, F> PerSegment<'s, C, F>
where
    F: FnMut(&tantivy::SegmentReader) -> tantivy::Result<C>,
{
    fn new(searcher: &'s tantivy::Searcher, open: F) -> Self {
        let columns = (0..searcher.segment_readers().len()).map(|_| None).collect();
        Self { searcher, open, columns }
    }

    fn get(&mut self, address: DocAddress) -> tantivy::Result<&C> {
        let at = address.segment_ord as usize;
        if self.columns[at].is_none() {
            self.columns[at] = Some((self.open)(self.searcher.segment_reader(address.segment_ord))?);
        }
        self.columns[at].as_ref().ok_or_else(|| tantivy::TantivyError::InternalError("column".into()))
    }
}

/// A fresh index of everything the tenant has, at the version read before the scan.
async fn build(store: &dyn Store, tenant: &Tenant) -> Result<Slot> {
    let version = store.kb_version(&tenant.id).await?;
    let index = Arc::new(TenantIndex::new(Lang::of_locale(&tenant.settings.locale))?);
    let writer = index.writer()?;
    let mut after = String::new();
    loop {
        let page = store.corpus_after(&tenant.id, &after, PAGE).await?;
        for e in &page {
            index.add_entry(&writer, e)?;
        }
        match page.last() {
            Some(last) => after = last.id.to_string(),
            None => break,
        }
    }
    after.clear();
    loop {
        let page = store.products_after(&tenant.id, &after, PAGE).await?;
        for p in &page {
            index.add_product(&writer, p)?;
        }
        match page.last() {
            Some(last) => after = last.id.to_string(),
            None => break,
        }
    }
    publish(&index, writer).await?;
    tracing::debug!(tenant = %tenant.slug, version, "built a search index");
    Ok(Slot { index, version })
}

/// Applies the changes recorded since the index's version: each changed item is removed and,
/// if it still exists, added back as it is now.
async fn catch_up(store: &dyn Store, tenant: &TenantId, slot: &mut Slot) -> Result<()> {
    if store.kb_version(tenant).await? <= slot.version {
        return Ok(());
    }
    let writer = slot.index.writer()?;
    loop {
        let changes = store.kb_changes_since(tenant, slot.version, PAGE).await?;
        let Some(last) = changes.last() else { break };
        let last_version = last.version;
        let mut corpus: HashSet<String> = HashSet::new();
        let mut products: HashSet<String> = HashSet::new();
        for c in changes {
            slot.index.delete(&writer, &c.item_id);
            if c.kind == "product" {
                products.insert(c.item_id)
            } else {
                corpus.insert(c.item_id)
            };
        }
        let corpus: Vec<String> = corpus.into_iter().collect();
        for e in store.corpus_by_ids(tenant, &corpus).await? {
            slot.index.add_entry(&writer, &e)?;
        }
        let products: Vec<String> = products.into_iter().collect();
        for p in store.products_by_ids(tenant, &products).await? {
            slot.index.add_product(&writer, &p)?;
        }
        slot.version = last_version;
    }
    publish(&slot.index, writer).await
}

/// [`TenantIndex::publish`] off the async workers: a merge of a big tenant's segments takes a
/// while, and other tenants' turns should not wait on it.
async fn publish(index: &Arc<TenantIndex>, writer: tantivy::IndexWriter) -> Result<()> {
    let index = index.clone();
    tokio::task::spawn_blocking(move || index.publish(writer))
        .await
        .map_err(|e| tantivy::TantivyError::InternalError(format!("publishing the index: {e}")))??;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use docent_domain::Timestamp;
    use docent_domain::corpus::{CorpusEntry, CorpusId};

    fn entry(title: &str, content: &str, priority: u8) -> CorpusEntry {
        CorpusEntry {
            id: CorpusId::generate(),
            title: title.to_owned(),
            content: content.to_owned(),
            summary: None,
            segment: None,
            segment_id: None,
            priority,
            tags: Vec::new(),
            key: None,
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        }
    }

    fn search(idx: &TenantIndex, text: &str) -> Vec<String> {
        search_in(idx, None, text)
    }

    fn search_in(idx: &TenantIndex, segment: Option<&str>, text: &str) -> Vec<String> {
        let q = corpus_query(idx, segment, text).unwrap();
        let searcher = idx.reader.searcher();
        let top = prioritised(&searcher, &*q, 5).unwrap();
        ids_of(idx, &searcher, top.into_iter().map(|(_, a)| a)).unwrap().into_iter().map(Option::unwrap).collect()
    }

    #[test]
    fn ranking_puts_the_best_match_first_and_tolerates_typos() {
        let idx = TenantIndex::new(Lang::English).unwrap();
        let mut w = idx.writer().unwrap();
        let shipping = entry("International shipping", "We ship to Canada only; delivery takes 7 to 12 days.", 5);
        let hours = entry("Opening hours", "We are open from 9 to 6, time to visit.", 5);
        let rental = entry("E-bike rental", "E-bikes can be rented for $60 per day.", 5);
        for e in [&shipping, &hours, &rental] {
            idx.add_entry(&w, e).unwrap();
        }
        w.commit().unwrap();
        idx.reader.reload().unwrap();
        assert_eq!(search(&idx, "delivry time to canda?")[0], shipping.id.as_str());
        assert_eq!(search(&idx, "how much is ebike rentel per day")[0], rental.id.as_str());
        assert_eq!(search(&idx, "opening hours")[0], hours.id.as_str());
    }

    #[test]
    fn batches_are_merged_so_an_edited_index_keeps_few_segments() {
        let idx = TenantIndex::new(Lang::English).unwrap();
        let hours = entry("Opening hours", "Open 9 to 6.", 5);
        let mut others = Vec::new();
        for n in 0..40 {
            let w = idx.writer().unwrap();
            idx.delete(&w, hours.id.as_str());
            idx.add_entry(&w, &hours).unwrap();
            let other = entry(&format!("Store {n}"), "A store.", 5);
            idx.add_entry(&w, &other).unwrap();
            others.push(other);
            idx.publish(w).unwrap();
        }
        let segments = idx.index.searchable_segment_metas().unwrap();
        assert!(segments.len() < 4, "{} segments after 40 batches", segments.len());
        let kept: u32 = segments.iter().map(|s| s.max_doc()).sum();
        assert!(kept < 50, "the replaced copies are dropped as segments merge: {kept} documents kept for 41");
        assert_eq!(search(&idx, "opening hours"), [hours.id.to_string()]);
        assert_eq!(search(&idx, "store 17")[0], others[17].id.as_str());
    }

    #[test]
    fn corpus_search_keeps_products_and_other_segments_out_once_the_index_has_them() {
        let idx = TenantIndex::new(Lang::English).unwrap();
        let mut w = idx.writer().unwrap();
        let general = entry("Bike rental", "Bikes are rented by the day.", 5);
        idx.add_entry(&w, &general).unwrap();
        w.commit().unwrap();
        idx.reader.reload().unwrap();
        assert_eq!(search(&idx, "bike rental"), [general.id.to_string()], "no filter needed yet");
        let mut scoped = entry("Bike rental for members", "Members rent bikes cheaper.", 5);
        let segment = docent_domain::SegmentId::generate();
        scoped.segment_id = Some(segment.clone());
        idx.add_entry(&w, &scoped).unwrap();
        let product = docent_domain::product::Product {
            id: docent_domain::ProductId::generate(),
            sku: "B1".into(),
            name: "Rental bike".into(),
            description: Some("A bike for rental".into()),
            price: 100,
            currency: "EUR".into(),
            url: None,
            image_url: None,
            tags: Vec::new(),
            in_stock: true,
            attributes: serde_json::json!({}),
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        };
        idx.add_product(&w, &product).unwrap();
        w.commit().unwrap();
        idx.reader.reload().unwrap();
        assert_eq!(search(&idx, "bike rental"), [general.id.to_string()], "neither the product nor the member entry");
        let mut both = search_in(&idx, Some(segment.as_str()), "bike rental");
        both.sort();
        let mut expected = vec![general.id.to_string(), scoped.id.to_string()];
        expected.sort();
        assert_eq!(both, expected, "the segment's entry joins the general one, still no product");
    }

    #[tokio::test]
    async fn passages_give_back_title_summary_and_content_as_written() {
        let idx = TenantIndex::new(Lang::English).unwrap();
        let w = idx.writer().unwrap();
        let mut with = entry("Returns", "Bring it back within 30 days.", 5);
        with.summary = Some("30-day returns".into());
        let without = entry("Opening hours", "Open 9 to 6.", 5);
        idx.add_entry(&w, &with).unwrap();
        idx.add_entry(&w, &without).unwrap();
        let mut w = w;
        w.commit().unwrap();
        idx.reader.reload().unwrap();
        let searcher = idx.reader.searcher();
        let mut passages = Vec::new();
        for text in ["returns", "opening hours"] {
            let q = corpus_query(&idx, None, text).unwrap();
            let (_, id, doc) = best_documents(&idx, &searcher, &*q, 1).unwrap().remove(0);
            passages.push(idx.passage(id, &doc));
        }
        let expect = |e: &CorpusEntry| Passage {
            id: e.id.to_string(),
            title: e.title.clone(),
            summary: e.summary.clone(),
            content: e.content.clone(),
        };
        assert_eq!(passages, [expect(&with), expect(&without)]);
    }
}
