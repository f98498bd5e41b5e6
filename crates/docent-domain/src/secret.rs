//! Bearer secrets (API tokens, legacy keys): generated from the OS RNG, stored only as SHA-256.

use sha2::{Digest, Sha256};

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A random string of `len` base-62 characters (≈ 5.95 bits each).
pub fn random_base62(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::fill(&mut bytes[..]);
    // 62 * 4 = 248: rejecting bytes >= 248 keeps the distribution uniform.
    let mut out = String::with_capacity(len);
    let mut pool = bytes.into_iter();
    while out.len() < len {
        let b = match pool.next() {
            Some(b) => b,
            None => rand::random::<u8>(),
        };
        if b < 248 {
            out.push(char::from(ALPHABET[usize::from(b % 62)]));
        }
    }
    out
}

/// A new API token: `ak_` and 40 base-62 characters (≈ 238 bits).
pub fn new_api_token() -> String {
    format!("ak_{}", random_base62(40))
}

/// A new legacy tenant API key (sent in `X-API-Key`); never starts with `ak_`.
pub fn new_legacy_key() -> String {
    format!("lk_{}", random_base62(40))
}

/// The visible part of a token, enough to recognise it in a list.
pub fn display_prefix(token: &str) -> String {
    token.chars().take(10).collect()
}

/// Hex SHA-256: what the store keeps instead of the secret.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hash_stably() {
        let a = new_api_token();
        let b = new_api_token();
        assert!(a.starts_with("ak_") && a.len() == 43);
        assert_ne!(a, b);
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert_eq!(hash_secret(&a).len(), 64);
        assert_eq!(display_prefix(&a).len(), 10);
    }
}
