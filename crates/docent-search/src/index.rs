//! One tenant's index: a tantivy index in memory holding the tenant's corpus entries and
//! products, analysed for the tenant's language (lowercased, accents folded, stemmed).

use std::sync::atomic::{AtomicBool, Ordering};

use docent_domain::corpus::CorpusEntry;
use docent_domain::product::Product;
use tantivy::merge_policy::LogMergePolicy;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// The languages whose stemming we know; anything else is analysed as English.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    English,
    French,
}

impl Lang {
    pub fn of_locale(locale: &str) -> Self {
        if locale.starts_with("fr") { Lang::French } else { Lang::English }
    }

    pub fn tokenizer(self) -> &'static str {
        match self {
            Lang::English => "docent_en",
            Lang::French => "docent_fr",
        }
    }

    pub fn analyzer(self) -> TextAnalyzer {
        let language = match self {
            Lang::English => Language::English,
            Lang::French => Language::French,
        };
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .filter(Stemmer::new(language))
            .build()
    }
}

pub const GENERAL: &str = "_general";

/// Tantivy's log-sized levels (segments within a factor of ~1.7 of each other; all under
/// 10,000 documents are one level), merged once a level holds four segments or one of them has
/// a quarter of its documents deleted (an edit deletes the old copy). A big segment is thus
/// rewritten rarely, and an index has a few segments per tenfold of size.
fn merges() -> LogMergePolicy {
    let mut policy = LogMergePolicy::default();
    policy.set_min_num_segments(4);
    policy.set_del_docs_ratio_before_merge(0.25);
    policy
}

#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub kind: Field,
    pub segment: Field,
    pub title: Field,
    pub content: Field,
    pub tags: Field,
    /// A corpus entry's summary, stored only (the indexed body starts with it).
    pub summary: Field,
    pub tag_exact: Field,
    pub priority: Field,
    /// Where the document's id is in `TenantIndex::ids`.
    pub row: Field,
    pub price: Field,
    pub in_stock: Field,
}

#[derive(Default)]
pub struct Mixed {
    pub products: AtomicBool,
    pub scoped: AtomicBool,
}

pub struct TenantIndex {
    pub lang: Lang,
    /// Every analysed term ever indexed (for typo correction); deletions leave theirs behind.
    pub vocabulary: std::sync::Mutex<crate::words::Vocabulary>,
    /// The id of every document added, by its `row` fast field: a hit's id is read from here
    /// rather than from a dictionary or the compressed document store. Rows of deleted
    /// documents stay until the index is rebuilt.
    ids: std::sync::RwLock<Vec<Box<str>>>,
    /// Whether a product, or a corpus entry of one segment, was ever added: until then every
    /// document is a general corpus entry and a corpus search needs no filter (which lets
    /// tantivy skip blocks that cannot reach the top results).
    pub mixed: Mixed,
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
}

impl TenantIndex {
    pub fn new(lang: Lang) -> tantivy::Result<Self> {
        let mut builder = Schema::builder();
        let text = TextOptions::default().set_stored().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(lang.tokenizer())
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let fields = Fields {
            id: builder.add_text_field("id", STRING),
            kind: builder.add_text_field("kind", STRING),
            segment: builder.add_text_field("segment", STRING),
            title: builder.add_text_field("title", text.clone()),
            content: builder.add_text_field("content", text.clone()),
            tags: builder.add_text_field("tags", text),
            summary: builder.add_text_field("summary", STORED),
            tag_exact: builder.add_text_field("tag_exact", STRING),
            priority: builder.add_u64_field("priority", FAST),
            row: builder.add_u64_field("row", FAST),
            price: builder.add_i64_field("price", FAST | INDEXED),
            in_stock: builder.add_u64_field("in_stock", FAST | INDEXED),
        };
        let index = Index::create_in_ram(builder.build());
        index.tokenizers().register(lang.tokenizer(), lang.analyzer());
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Self {
            lang,
            vocabulary: Default::default(),
            ids: Default::default(),
            mixed: Mixed::default(),
            index,
            reader,
            fields,
        })
    }

    /// A writer for one batch of changes, ended by [`TenantIndex::publish`], merging segments
    /// as [`merges`] asks.
    pub fn writer(&self) -> tantivy::Result<IndexWriter> {
        let writer = self.index.writer_with_num_threads(1, 15_000_000)?;
        writer.set_merge_policy(Box::new(merges()));
        Ok(writer)
    }

    /// Commits a batch, waits for the merges the commit starts (a merged level may fill the
    /// next one up) and makes the result searchable. A writer dropped instead abandons its
    /// merges: every batch would leave a segment or more behind, and a query visits each
    /// segment, so a tenant edited a thousand times would be searched a thousand times over.
    pub fn publish(&self, mut writer: IndexWriter) -> tantivy::Result<()> {
        writer.commit()?;
        writer.wait_merging_threads()?;
        self.reader.reload()
    }

    pub fn delete(&self, writer: &IndexWriter, id: &str) {
        writer.delete_term(Term::from_field_text(self.fields.id, id));
    }

    fn row_for(&self, id: &str) -> u64 {
        let mut ids = self.ids.write().unwrap_or_else(|p| p.into_inner());
        ids.push(id.into());
        (ids.len() - 1) as u64
    }

    /// The ids at `rows` (`None` for a row this index never gave out).
    pub fn ids_at(&self, rows: &[Option<u64>]) -> Vec<Option<String>> {
        let ids = self.ids.read().unwrap_or_else(|p| p.into_inner());
        rows.iter().map(|r| r.and_then(|r| ids.get(usize::try_from(r).ok()?)).map(|id| id.to_string())).collect()
    }

    /// A stored corpus entry's title, summary and content, as a chat turn's context uses them.
    pub fn passage(&self, id: String, doc: &TantivyDocument) -> crate::Passage {
        let text = |field| doc.get_first(field).and_then(|v| v.as_str()).map(str::to_owned);
        let summary = text(self.fields.summary);
        let body = text(self.fields.content).unwrap_or_default();
        // The body is the summary, a line break, then the content (see `add_entry`).
        let content = match &summary {
            Some(s) => body.get(s.len() + 1..).unwrap_or_default().to_owned(),
            None => body,
        };
        crate::Passage { id, title: text(self.fields.title).unwrap_or_default(), summary, content }
    }

    fn learn(&self, texts: &[&str]) {
        let mut vocabulary = self.vocabulary.lock().unwrap_or_else(|p| p.into_inner());
        let mut analyzer = self.lang.analyzer();
        let mut terms = Vec::new();
        for text in texts {
            crate::words::analyse_into(&mut analyzer, text, &mut terms);
        }
        for term in terms {
            vocabulary.insert(term);
        }
    }

    pub fn add_entry(&self, writer: &IndexWriter, e: &CorpusEntry) -> tantivy::Result<()> {
        self.learn(&[&e.title, &e.content, &e.tags.join(" ")]);
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, e.id.as_str());
        doc.add_u64(f.row, self.row_for(e.id.as_str()));
        doc.add_text(f.kind, "corpus");
        if e.segment_id.is_some() {
            self.mixed.scoped.store(true, Ordering::Relaxed);
        }
        doc.add_text(f.segment, e.segment_id.as_ref().map_or(GENERAL, |s| s.as_str()));
        doc.add_text(f.title, &e.title);
        let body = match &e.summary {
            Some(summary) => {
                doc.add_text(f.summary, summary);
                format!("{summary}\n{}", e.content)
            }
            None => e.content.clone(),
        };
        doc.add_text(f.content, &body);
        doc.add_text(f.tags, e.tags.join(" "));
        doc.add_u64(f.priority, u64::from(e.priority));
        doc.add_i64(f.price, 0);
        doc.add_u64(f.in_stock, 1);
        writer.add_document(doc)?;
        Ok(())
    }

    pub fn add_product(&self, writer: &IndexWriter, p: &Product) -> tantivy::Result<()> {
        self.learn(&[&p.name, p.description.as_deref().unwrap_or_default(), &p.tags.join(" ")]);
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, p.id.as_str());
        doc.add_u64(f.row, self.row_for(p.id.as_str()));
        self.mixed.products.store(true, Ordering::Relaxed);
        doc.add_text(f.kind, "product");
        doc.add_text(f.segment, GENERAL);
        doc.add_text(f.title, format!("{} {}", p.name, p.sku));
        doc.add_text(f.content, p.description.as_deref().unwrap_or_default());
        doc.add_text(f.tags, p.tags.join(" "));
        for tag in &p.tags {
            doc.add_text(f.tag_exact, tag);
        }
        doc.add_u64(f.priority, 5);
        doc.add_i64(f.price, p.price);
        doc.add_u64(f.in_stock, u64::from(p.in_stock));
        writer.add_document(doc)?;
        Ok(())
    }
}
