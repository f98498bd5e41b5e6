//! Tenant secrets at rest (webhook secrets, stored keys), sealed with XChaCha20-Poly1305 under
//! the server's master key. A sealed value reads `v1:` + base64(nonce ‖ ciphertext); the version
//! leaves room for key rotation.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("cannot read or write the master key file {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error("the master key file {0} does not hold base64 of 32 bytes")]
    BadKeyFile(String),
    #[error("a sealed value could not be opened (wrong master key or corrupt data)")]
    Open,
}

pub fn decode_key(b64: &str) -> Option<[u8; 32]> {
    STANDARD.decode(b64.trim()).ok()?.try_into().ok()
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Self {
        Self { cipher: XChaCha20Poly1305::new(&key.into()) }
    }

    /// Uses the configured key, else `data_dir/master.key`, else generates that file.
    pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> Result<Self, SealError> {
        if let Some(key) = configured.and_then(decode_key) {
            return Ok(Self::new(key));
        }
        let path = data_dir.join("master.key");
        let io = |source| SealError::KeyFile { path: path.display().to_string(), source };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let key = decode_key(&text).ok_or_else(|| SealError::BadKeyFile(path.display().to_string()))?;
                Ok(Self::new(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = rand::random();
                std::fs::create_dir_all(data_dir).map_err(io)?;
                write_private(&path, &STANDARD.encode(key)).map_err(io)?;
                tracing::warn!(
                    path = %path.display(),
                    "generated a new master key; back it up: sealed tenant secrets cannot be read without it"
                );
                Ok(Self::new(key))
            }
            Err(e) => Err(io(e)),
        }
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let nonce_bytes: [u8; 24] = rand::random();
        let nonce = XNonce::from(nonce_bytes);
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let ciphertext = self.cipher.encrypt(&nonce, plaintext.as_bytes()).unwrap_or_default();
        let mut out = Vec::with_capacity(24 + ciphertext.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ciphertext);
        format!("v1:{}", STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        let raw = sealed.strip_prefix("v1:").ok_or(SealError::Open)?;
        let bytes = STANDARD.decode(raw).map_err(|_| SealError::Open)?;
        if bytes.len() < 24 {
            return Err(SealError::Open);
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let nonce = XNonce::try_from(nonce).map_err(|_| SealError::Open)?;
        let plain = self.cipher.decrypt(&nonce, ciphertext).map_err(|_| SealError::Open)?;
        String::from_utf8(plain).map_err(|_| SealError::Open)
    }
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key() {
        let a = Sealer::new([7; 32]);
        let sealed = a.seal("whsec_abc");
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(a.open(&sealed).unwrap(), "whsec_abc");
        assert!(Sealer::new([8; 32]).open(&sealed).is_err());
        assert_ne!(a.seal("x"), a.seal("x"), "nonces are random");
    }

    #[test]
    fn the_master_key_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = Sealer::load_or_create(None, dir.path()).unwrap();
        let sealed = first.seal("s");
        let second = Sealer::load_or_create(None, dir.path()).unwrap();
        assert_eq!(second.open(&sealed).unwrap(), "s");
    }
}
