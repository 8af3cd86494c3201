//! Random tokens (email verification, refresh) and their keyed hashes. Only the hash is
//! stored, so a leaked database does not yield usable tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;

/// A new random token: 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// HMAC-SHA256 of `token` under `key`, hex.
pub fn keyed_hash(key: &[u8], token: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hashes_depend_on_the_key() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(keyed_hash(b"k1", &a), keyed_hash(b"k1", &a));
        assert_ne!(keyed_hash(b"k1", &a), keyed_hash(b"k2", &a));
    }
}
