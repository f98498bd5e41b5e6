//! Text helpers shared by the crates.

/// The first `max` characters of `s`, borrowed: no copy, and no walk at all when `s` has no
/// more bytes than `max` (a character is at least one byte).
pub fn first_chars(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    s.char_indices().nth(max).map_or(s, |(at, _)| &s[..at])
}

/// Cuts `s` to its first `max` characters in place.
pub fn truncate_chars(s: &mut String, max: usize) {
    let keep = first_chars(s, max).len();
    s.truncate(keep);
}

#[cfg(test)]
mod tests {
    use super::{first_chars, truncate_chars};

    #[test]
    fn cuts_at_a_character_not_a_byte() {
        assert_eq!(first_chars("héllo", 2), "hé");
        assert_eq!(first_chars("héllo", 5), "héllo");
        assert_eq!(first_chars("héllo", 9), "héllo");
        assert_eq!(first_chars("日本語", 1), "日");
        assert_eq!(first_chars("", 3), "");
        assert_eq!(first_chars("abc", 0), "");
        let mut s = "añb".to_owned();
        truncate_chars(&mut s, 2);
        assert_eq!(s, "añ");
    }
}
