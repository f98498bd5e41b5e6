//! Query words: stopwords dropped (English and French), and words the index has never seen
//! corrected to the closest words it has (edit distance 1, or 2 for long words), so a typo
//! scores like the word it stands for.

use std::collections::{HashMap, HashSet};

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

/// Appends the terms of `text` as `analyzer` makes them (stopwords included).
pub(crate) fn analyse_into(analyzer: &mut TextAnalyzer, text: &str, out: &mut Vec<String>) {
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
}

/// The meaningful stemmed terms of a query, deduplicated, at most 32; if every word is a
/// stopword, the stopwords are kept.
pub fn query_terms(lang: Lang, text: &str) -> Vec<String> {
    let mut words = Vec::new();
    analyse_into(&mut folder(), text, &mut words);
    let meaningful: Vec<&String> = words.iter().filter(|w| !STOPWORDS.contains(&w.as_str())).collect();
    let kept: Vec<&String> = if meaningful.is_empty() { words.iter().collect() } else { meaningful };
    let mut analyzer = lang.analyzer();
    let mut stems = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for w in kept {
        stems.clear();
        analyse_into(&mut analyzer, w, &mut stems);
        for t in stems.drain(..) {
            if !out.contains(&t) && out.len() < 32 {
                out.push(t);
            }
        }
    }
    out
}

/// Longest word considered for correction, in chars (the analyser drops tokens over 40 bytes).
const LONGEST: usize = 40;

/// The set of a word's letters, folded into 64 bits: a word missing more than `max` of a
/// term's letters (or having more than `max` the term lacks) is more than `max` edits away.
fn letters(word: &str) -> u64 {
    word.chars().fold(0, |mask, c| mask | 1 << (u32::from(c) % 64))
}

/// Every analysed term an index has seen, for typo correction: deletions leave theirs behind.
/// Words are grouped by length with the set of their letters, so a correction looks only at
/// words of a near length and rules most of them out with two bit counts before computing a
/// distance. Corrections are remembered until the vocabulary grows (visitors repeat words).
#[derive(Default)]
pub struct Vocabulary {
    known: HashSet<String>,
    by_len: Vec<Vec<(u64, Box<str>)>>,
    corrected: HashMap<String, Vec<String>>,
}

/// Corrections remembered at most; the memory is emptied when full.
const REMEMBERED: usize = 10_000;

impl Vocabulary {
    pub fn insert(&mut self, word: String) {
        if self.known.contains(&word) {
            return;
        }
        self.corrected.clear();
        let len = word.chars().count();
        if len <= LONGEST + 2 {
            if self.by_len.len() <= len {
                self.by_len.resize_with(len + 1, Vec::new);
            }
            self.by_len[len].push((letters(&word), word.clone().into_boxed_str()));
        }
        self.known.insert(word);
    }

    /// For a term the index does not know, the closest known terms (best first, at most 3).
    pub fn corrections(&mut self, term: &str) -> Vec<String> {
        if let Some(known) = self.corrected.get(term) {
            return known.clone();
        }
        let found = self.closest(term);
        if self.corrected.len() >= REMEMBERED {
            self.corrected.clear();
        }
        self.corrected.insert(term.to_owned(), found.clone());
        found
    }

    fn closest(&self, term: &str) -> Vec<String> {
        let chars: Vec<char> = term.chars().collect();
        let len = chars.len();
        if !(4..=LONGEST).contains(&len) || self.known.contains(term) {
            return Vec::new();
        }
        let max = if len >= 8 { 2 } else { 1 };
        let mask = letters(term);
        let mut found: Vec<(usize, &str)> = Vec::new();
        let mut rows = [[0usize; LONGEST + 3]; 2];
        let mut candidate = ['\0'; LONGEST + 2];
        for words in self.by_len.iter().take(len + max + 1).skip(len - max) {
            for (letters, word) in words {
                if (letters & !mask).count_ones() as usize > max || (mask & !letters).count_ones() as usize > max {
                    continue;
                }
                let mut n = 0;
                for c in word.chars() {
                    candidate[n] = c;
                    n += 1;
                }
                if let Some(d) = distance(&chars, &candidate[..n], max, &mut rows) {
                    found.push((d, word));
                }
            }
        }
        found.sort_unstable();
        found.into_iter().take(3).map(|(_, v)| v.to_owned()).collect()
    }
}

/// Levenshtein distance, bounded: `None` when above `max`. `rows` is scratch space of at least
/// `b.len() + 1` columns.
fn distance(a: &[char], b: &[char], max: usize, rows: &mut [[usize; LONGEST + 3]; 2]) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let [prev, cur] = rows;
    for (j, cell) in prev.iter_mut().take(b.len() + 1).enumerate() {
        *cell = j;
    }
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(prev, cur);
    }
    (prev[b.len()] <= max).then_some(prev[b.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_go_and_typos_find_known_words() {
        assert_eq!(query_terms(Lang::English, "What is the delivery time to Canada?"), ["deliveri", "time", "canada"]);
        assert_eq!(query_terms(Lang::French, "Quels sont vos horaires ?"), ["horair"]);
        assert_eq!(query_terms(Lang::English, "to be or"), ["to", "be", "or"]);
        let mut vocab = Vocabulary::default();
        for w in ["canada", "deliveri", "rental", "cabana", "xyzw"] {
            vocab.insert(w.to_owned());
        }
        assert_eq!(vocab.corrections("canda"), ["canada"]);
        assert_eq!(vocab.corrections("delivri"), ["deliveri"]);
        assert_eq!(vocab.corrections("dleiveri"), ["deliveri"], "two edits for a long word");
        assert!(vocab.corrections("canada").is_empty());
        assert!(vocab.corrections("zzzz").is_empty());
        assert_eq!(vocab.corrections("canda"), ["canada"], "remembered");
        vocab.insert("canda".to_owned());
        assert!(vocab.corrections("canda").is_empty(), "a word learnt since is no longer corrected");
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        let mut rows = [[0; LONGEST + 3]; 2];
        assert_eq!(distance(&chars("kitten"), &chars("sitting"), 3, &mut rows), Some(3));
        assert_eq!(distance(&chars("kitten"), &chars("sitting"), 2, &mut rows), None);
    }

    #[test]
    fn the_letter_filter_never_hides_a_word_within_reach() {
        // Every word within the allowed distance is found, as a plain scan would find it.
        let words = ["shipping", "shopping", "sipping", "shippings", "hipping", "chipping", "spring", "shaping"];
        let mut vocab = Vocabulary::default();
        for w in words {
            vocab.insert(w.to_owned());
        }
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        let mut rows = [[0; LONGEST + 3]; 2];
        for term in ["shiping", "shippinq", "shpiping", "hsipping"] {
            let max = if term.chars().count() >= 8 { 2 } else { 1 };
            let mut expected: Vec<(usize, &str)> = words
                .iter()
                .filter_map(|w| distance(&chars(term), &chars(w), max, &mut rows).map(|d| (d, *w)))
                .collect();
            expected.sort_unstable();
            let expected: Vec<&str> = expected.into_iter().take(3).map(|(_, w)| w).collect();
            assert_eq!(vocab.corrections(term), expected, "{term}");
        }
    }
}
