//! Turning a visitor's words into a tantivy query: each analysed term is looked up in the title
//! (weighted ×3), the tags (×2) and the body, plus a fuzzy match for typos; nothing of the input
//! is ever parsed as query syntax, so `"`, `*`, `AND(` or `:` are just characters.

use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

use std::sync::atomic::Ordering;

use crate::index::{Fields, GENERAL, Mixed};
use crate::words::Vocabulary;

fn term_query(field: Field, term: &str, boost: f32) -> Box<dyn Query> {
    let q = TermQuery::new(Term::from_field_text(field, term), IndexRecordOption::WithFreqs);
    Box::new(BoostQuery::new(Box::new(q), boost))
}

/// The relevance part: every term in title (×3), tags (×2) and body; a term the index has
/// never seen is replaced by its closest known spellings, scored the same way but a little lower.
pub fn relevance(fields: &Fields, terms: &[String], vocabulary: &mut Vocabulary) -> Option<Box<dyn Query>> {
    if terms.is_empty() {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for t in terms {
        let corrected = vocabulary.corrections(t);
        let (variants, weight) = if corrected.is_empty() { (vec![t.clone()], 1.0) } else { (corrected, 0.8) };
        for v in &variants {
            clauses.push((Occur::Should, term_query(fields.title, v, 3.0 * weight)));
            clauses.push((Occur::Should, term_query(fields.tags, v, 2.0 * weight)));
            clauses.push((Occur::Should, term_query(fields.content, v, weight)));
        }
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

fn exact(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
}

/// Corpus entries visible in `segment` (general entries, and that segment's). A filter that
/// every document of the index passes (`mixed`) is left out: the plain relevance union lets
/// tantivy skip blocks that cannot enter the top results (block-max WAND).
pub fn corpus(fields: &Fields, relevance: Box<dyn Query>, segment: Option<&str>, mixed: &Mixed) -> Box<dyn Query> {
    let mut clauses = vec![(Occur::Must, relevance)];
    if mixed.products.load(Ordering::Relaxed) {
        clauses.push((Occur::Must, exact(fields.kind, "corpus")));
    }
    if mixed.scoped.load(Ordering::Relaxed) {
        let mut visible = vec![(Occur::Should, exact(fields.segment, GENERAL))];
        if let Some(s) = segment {
            visible.push((Occur::Should, exact(fields.segment, s)));
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(visible))));
    }
    if clauses.len() == 1 {
        return clauses.remove(0).1;
    }
    Box::new(BooleanQuery::new(clauses))
}

/// What a product search may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub tags: Vec<String>,
    pub in_stock_only: bool,
}

pub fn products(fields: &Fields, relevance: Option<Box<dyn Query>>, filter: &ProductFilter) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, exact(fields.kind, "product"))];
    if let Some(r) = relevance {
        clauses.push((Occur::Must, r));
    }
    if filter.min_price.is_some() || filter.max_price.is_some() {
        let lo = Term::from_field_i64(fields.price, filter.min_price.unwrap_or(i64::MIN));
        let hi = Term::from_field_i64(fields.price, filter.max_price.unwrap_or(i64::MAX));
        let range = RangeQuery::new(std::ops::Bound::Included(lo), std::ops::Bound::Included(hi));
        clauses.push((Occur::Must, Box::new(range)));
    }
    for tag in &filter.tags {
        clauses.push((Occur::Must, exact(fields.tag_exact, &tag.to_lowercase())));
    }
    if filter.in_stock_only {
        let term = Term::from_field_u64(fields.in_stock, 1);
        clauses.push((Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
    }
    Box::new(BooleanQuery::new(clauses))
}
