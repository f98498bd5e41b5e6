//! Slugs: lowercase ASCII words joined by hyphens, used in URLs (tenants, segments).

/// Turns a display name into a slug: accents folded, other characters become hyphens.
pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(fold_accent) {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    let mut slug: String = trimmed.chars().take(48).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() { "segment".to_owned() } else { slug }
}

/// A valid slug: 2–64 chars of `a-z0-9-`, starting and ending with a letter or digit.
pub fn is_valid_slug(slug: &str) -> bool {
    (2..=64).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

/// Folds the Latin accents of French and its neighbours to their base letters.
pub fn fold_accent(c: char) -> impl Iterator<Item = char> {
    let folded: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "A",
        'æ' => "ae",
        'Æ' => "AE",
        'ç' => "c",
        'Ç' => "C",
        'è' | 'é' | 'ê' | 'ë' => "e",
        'È' | 'É' | 'Ê' | 'Ë' => "E",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' => "I",
        'ñ' => "n",
        'Ñ' => "N",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => "O",
        'œ' => "oe",
        'Œ' => "OE",
        'ù' | 'ú' | 'û' | 'ü' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ü' => "U",
        'ý' | 'ÿ' => "y",
        'ß' => "ss",
        _ => "",
    };
    let single = folded.is_empty().then_some(c);
    folded.chars().chain(single)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_folds_accents_and_collapses_separators() {
        assert_eq!(slugify("Équipe  Support — Été!"), "equipe-support-ete");
        assert_eq!(slugify("!!!"), "segment");
    }

    #[test]
    fn slug_validity() {
        assert!(is_valid_slug("my-company"));
        assert!(!is_valid_slug("My-Company"));
        assert!(!is_valid_slug("-x"));
        assert!(!is_valid_slug("a"));
    }
}
