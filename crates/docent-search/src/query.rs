//! Turning a visitor's words into a tantivy query: each analysed term is looked up in the title
//! (weighted ×3), the tags (×2) and the body, plus a fuzzy match for typos; nothing of the input
//! is ever parsed as query syntax, so `"`, `*`, `AND(` or `:` are just characters.

use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TokenStream;
use tantivy::Term;

use crate::index::{Fields, GENERAL, Lang};

/// The analysed terms of `text`, deduplicated, at most 32.
pub fn terms(lang: Lang, text: &str) -> Vec<String> {
    let mut analyzer = lang.analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out: Vec<String> = Vec::new();
    while stream.advance() {
        let t = stream.token().text.clone();
        if !out.contains(&t) && out.len() < 32 {
            out.push(t);
        }
    }
    out
}

fn term_query(field: Field, term: &str, boost: f32) -> Box<dyn Query> {
    let q = TermQuery::new(Term::from_field_text(field, term), IndexRecordOption::WithFreqs);
    Box::new(BoostQuery::new(Box::new(q), boost))
}

/// The relevance part: every term in title, tags and body, with typo tolerance for longer terms.
pub fn relevance(fields: &Fields, terms: &[String]) -> Option<Box<dyn Query>> {
    if terms.is_empty() {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for t in terms {
        clauses.push((Occur::Should, term_query(fields.title, t, 3.0)));
        clauses.push((Occur::Should, term_query(fields.tags, t, 2.0)));
        clauses.push((Occur::Should, term_query(fields.content, t, 1.0)));
        let chars = t.chars().count();
        if chars >= 4 {
            let distance = if chars >= 8 { 2 } else { 1 };
            for (field, boost) in [(fields.title, 1.0), (fields.content, 0.4)] {
                let fuzzy = FuzzyTermQuery::new(Term::from_field_text(field, t), distance, true);
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(fuzzy), boost))));
            }
        }
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

fn exact(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
}

/// Corpus entries visible in `segment` (general entries, and that segment's).
pub fn corpus(fields: &Fields, relevance: Box<dyn Query>, segment: Option<&str>) -> Box<dyn Query> {
    let mut visible = vec![(Occur::Should, exact(fields.segment, GENERAL))];
    if let Some(s) = segment {
        visible.push((Occur::Should, exact(fields.segment, s)));
    }
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, relevance),
        (Occur::Must, exact(fields.kind, "corpus")),
        (Occur::Must, Box::new(BooleanQuery::new(visible))),
    ]))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_lowercased_folded_and_stemmed() {
        assert_eq!(terms(Lang::English, "Deliveries DELIVERY"), ["deliveri"]);
        assert_eq!(terms(Lang::French, "Livraisons à Lyon"), ["livraison", "a", "lyon"]);
        assert_eq!(terms(Lang::English, "\"AND( title:* \""), ["and", "titl"]);
    }
}
