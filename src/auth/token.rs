//! Opaque bearer tokens: 256 random bits, shown once, stored as a SHA-256.
//!
//! A plain hash is enough here (unlike passwords): the token has full
//! entropy, so it cannot be guessed from its hash. Lookups go by hash, so
//! a token is never compared byte by byte in a way that leaks timing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Recognisable prefix, so that secret scanners can find leaked tokens.
const PREFIX: &str = "zpat_";

/// A new random access token.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The hash under which a token is stored and looked up.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a presented value has the shape of one of our tokens (a cheap
/// check before any database lookup).
pub fn looks_like_token(value: &str) -> bool {
    value.len() == PREFIX.len() + 43
        && value.starts_with(PREFIX)
        && value[PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_well_formed_and_hashed() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(looks_like_token(&a), "{a}");
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
        assert!(!looks_like_token("zpat_short"));
        assert!(!looks_like_token(&a.replace("zpat_", "xxxx_")));
    }
}
