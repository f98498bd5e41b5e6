//! Query words: stopwords dropped (English and French), and words the index has never seen
//! corrected to the closest words it has (edit distance 1, or 2 for long words), so a typo
//! scores like the word it stands for.

use std::collections::HashSet;

use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer, TokenStream};

use crate::index::Lang;

const STOPWORDS: &[&str] = &[
    // English
    "a", "about", "an", "and", "any", "are", "as", "at", "be", "but", "by", "can", "could", "do", "does", "for", "from",
    "get", "got", "have", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "need", "of", "on", "or",
    "our", "should", "so", "that", "the", "their", "there", "this", "to", "us", "was", "we", "what", "when", "where",
    "which", "who", "why", "will", "with", "would", "you", "your", "much", "many", "want", "like", "just", "there",
    "them", "they", "am", "been", "being", "has", "had", "did", "s", "t", "don", "im",
    // French (accents folded)
    "au", "aux", "avec", "ce", "ces", "cette", "dans", "de", "des", "du", "elle", "en", "est", "et", "etre", "il",
    "ils", "je", "j", "la", "le", "les", "leur", "l", "ma", "mais", "me", "mes", "moi", "mon", "ne", "nos", "notre",
    "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "quel", "quelle", "quels", "quelles", "sa", "se",
    "ses", "si", "son", "sont", "sur", "ta", "te", "tes", "toi", "ton", "tu", "un", "une", "vos", "votre", "vous", "c",
    "d", "n", "s", "y", "a", "est-ce", "comment", "combien", "puis", "peux", "peut", "pouvez", "faut", "fait", "ai",
    "avez", "ont", "chez",
];

/// Whether a lowercased, accent-folded word carries no topic (English or French).
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

fn folder() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

/// The stemmed terms of `text`, as the index holds them (stopwords included).
pub fn analysed(lang: Lang, text: &str) -> Vec<String> {
    let mut analyzer = lang.analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// The meaningful stemmed terms of a query, deduplicated, at most 32; if every word is a
/// stopword, the stopwords are kept.
pub fn query_terms(lang: Lang, text: &str) -> Vec<String> {
    let mut folded = folder();
    let mut stream = folded.token_stream(text);
    let mut words = Vec::new();
    while stream.advance() {
        words.push(stream.token().text.clone());
    }
    let meaningful: Vec<&String> = words.iter().filter(|w| !STOPWORDS.contains(&w.as_str())).collect();
    let kept: Vec<&String> = if meaningful.is_empty() { words.iter().collect() } else { meaningful };
    let mut out: Vec<String> = Vec::new();
    for w in kept {
        for t in analysed(lang, w) {
            if !out.contains(&t) && out.len() < 32 {
                out.push(t);
            }
        }
    }
    out
}

/// Levenshtein distance, bounded: `None` when above `max`.
fn distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return None;
        }
        prev = cur;
    }
    (prev[b.len()] <= max).then_some(prev[b.len()])
}

/// For a term the index does not know, the closest known terms (best first, at most 3).
pub fn corrections(term: &str, vocabulary: &HashSet<String>) -> Vec<String> {
    let len = term.chars().count();
    if len < 4 || vocabulary.contains(term) {
        return Vec::new();
    }
    let max = if len >= 8 { 2 } else { 1 };
    let mut found: Vec<(usize, &String)> =
        vocabulary.iter().filter_map(|v| distance(term, v, max).map(|d| (d, v))).collect();
    found.sort();
    found.into_iter().take(3).map(|(_, v)| v.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_go_and_typos_find_known_words() {
        assert_eq!(query_terms(Lang::English, "What is the delivery time to Canada?"), ["deliveri", "time", "canada"]);
        assert_eq!(query_terms(Lang::French, "Quels sont vos horaires ?"), ["horair"]);
        assert_eq!(query_terms(Lang::English, "to be or"), ["to", "be", "or"]);
        let vocab: HashSet<String> = ["canada", "deliveri", "rental"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(corrections("canda", &vocab), ["canada"]);
        assert_eq!(corrections("delivri", &vocab), ["deliveri"]);
        assert!(corrections("canada", &vocab).is_empty());
        assert_eq!(distance("kitten", "sitting", 3), Some(3));
    }
}
