//! Signing secrets at rest: sealed with ChaCha20-Poly1305 under `WEBHOOK_SECRET_KEY`.
//!
//! The worker needs each endpoint's secret in the clear to sign (HMAC), so secrets cannot
//! be hashed like API keys; they are encrypted instead. A sealed secret is stored as
//! `enc:v1:<base64 of nonce (12 bytes) + ciphertext and tag>`, with the endpoint's id as
//! associated data: a sealed value copied onto another endpoint does not open.
//!
//! Migration: a stored value without the `enc:v1:` prefix is a plain secret (written before
//! the key was configured, or while it is not) and is used as it is; rotating an endpoint's
//! secret with the key configured seals both the new and the previous one. Without the key,
//! secrets are stored plain (development and CI) and the API and the worker log a warning
//! at start; a sealed secret then cannot be used (the delivery fails with that reason).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use secrecy::{ExposeSecret, SecretString};

/// The prefix of a sealed secret as stored.
pub const SEALED_PREFIX: &str = "enc:v1:";

const NONCE_LEN: usize = 12;

/// Why `WEBHOOK_SECRET_KEY` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WEBHOOK_SECRET_KEY must be 32 bytes, as 64 hex digits or in base64")]
pub struct KeyError;

/// Why a stored secret could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The secret is sealed but this process has no `WEBHOOK_SECRET_KEY`.
    #[error("the endpoint's secret is encrypted and WEBHOOK_SECRET_KEY is not configured")]
    NoKey,
    /// The secret does not open with this key (another key, or a damaged value).
    #[error("the endpoint's secret does not decrypt with WEBHOOK_SECRET_KEY")]
    Undecryptable,
}

/// The key secrets are sealed with (32 bytes).
#[derive(Clone)]
pub struct SecretKey(Key);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// Reads a key given as 64 hex digits or as base64 (padded or not) of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| KeyError)?
        } else {
            STANDARD
                .decode(text)
                .or_else(|_| STANDARD_NO_PAD.decode(text))
                .map_err(|_| KeyError)?
        };
        if bytes.len() != 32 {
            return Err(KeyError);
        }
        Ok(Self(*Key::from_slice(&bytes)))
    }

    /// Seals `secret` for the endpoint `endpoint_id`.
    pub fn seal(&self, endpoint_id: &str, secret: &str) -> String {
        let cipher = ChaCha20Poly1305::new(&self.0);
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.as_bytes(),
                    aad: endpoint_id.as_bytes(),
                },
            )
            .expect("ChaCha20-Poly1305 seals messages far shorter than its limit");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(bytes))
    }

    /// Opens a value [`SecretKey::seal`] made for `endpoint_id` (with the prefix).
    fn open_sealed(&self, endpoint_id: &str, stored: &str) -> Result<String, OpenError> {
        let encoded = stored.strip_prefix(SEALED_PREFIX).ok_or(OpenError::Undecryptable)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| OpenError::Undecryptable)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError::Undecryptable);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = ChaCha20Poly1305::new(&self.0)
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: endpoint_id.as_bytes(),
                },
            )
            .map_err(|_| OpenError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| OpenError::Undecryptable)
    }
}

/// Whether a stored secret is sealed (else it is plain).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

/// The value to store for `secret` of `endpoint_id`: sealed with `key`, plain without.
pub fn seal(key: Option<&SecretKey>, endpoint_id: &str, secret: &str) -> String {
    match key {
        Some(key) => key.seal(endpoint_id, secret),
        None => secret.to_owned(),
    }
}

/// The secret a stored value holds: a plain value as it is, a sealed one opened with `key`.
pub fn open(key: Option<&SecretKey>, endpoint_id: &str, stored: &str) -> Result<String, OpenError> {
    if !is_sealed(stored) {
        return Ok(stored.to_owned());
    }
    key.ok_or(OpenError::NoKey)?.open_sealed(endpoint_id, stored)
}

/// `WEBHOOK_SECRET_KEY`, shared by the command API's and the worker's configuration (both
/// must have the same key).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SecretKeyArgs {
    /// Key sealing webhook signing secrets at rest (ChaCha20-Poly1305): 32 bytes as 64 hex
    /// digits or base64, the same for the command API and the webhook worker. Unset:
    /// secrets are stored plain and a warning is logged at start. See docs/webhooks.md.
    #[arg(long, env = "WEBHOOK_SECRET_KEY", hide_env_values = true)]
    pub webhook_secret_key: Option<SecretString>,
}

impl SecretKeyArgs {
    /// The key, if configured; an error when it is configured but malformed.
    pub fn key(&self) -> Result<Option<SecretKey>, KeyError> {
        self.webhook_secret_key
            .as_ref()
            .map(|text| SecretKey::parse(text.expose_secret()))
            .transpose()
    }

    /// The key, logging the warning of docs/webhooks.md when there is none.
    pub fn key_or_warn(&self) -> Result<Option<SecretKey>, KeyError> {
        let key = self.key()?;
        if key.is_none() {
            tracing::warn!(
                "WEBHOOK_SECRET_KEY is not set: webhook signing secrets are stored in the clear \
                 (set the same 32-byte key on the command API and the webhook worker)"
            );
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_sealed_secret_is_not_the_plain_text_and_opens_only_for_its_endpoint_and_key() {
        let key = SecretKey::parse(HEX_KEY).expect("a valid key");
        let sealed = key.seal("endpoint-a", "whsec_abc");
        assert!(sealed.starts_with(SEALED_PREFIX), "{sealed}");
        assert!(!sealed.contains("whsec_abc"));
        assert_ne!(sealed, key.seal("endpoint-a", "whsec_abc"), "a fresh nonce each time");
        assert_eq!(open(Some(&key), "endpoint-a", &sealed), Ok("whsec_abc".to_owned()));
        assert_eq!(open(Some(&key), "endpoint-b", &sealed), Err(OpenError::Undecryptable));
        let other = SecretKey::parse(&"ab".repeat(32)).expect("a valid key");
        assert_eq!(open(Some(&other), "endpoint-a", &sealed), Err(OpenError::Undecryptable));
        assert_eq!(open(None, "endpoint-a", &sealed), Err(OpenError::NoKey));
        assert_eq!(
            open(Some(&key), "endpoint-a", "enc:v1:!!"),
            Err(OpenError::Undecryptable)
        );
    }

    #[test]
    fn plain_secrets_are_read_as_they_are_and_stored_plain_without_a_key() {
        let key = SecretKey::parse(HEX_KEY).expect("a valid key");
        assert_eq!(open(Some(&key), "e", "whsec_plain"), Ok("whsec_plain".to_owned()));
        assert_eq!(open(None, "e", "whsec_plain"), Ok("whsec_plain".to_owned()));
        assert_eq!(seal(None, "e", "whsec_plain"), "whsec_plain");
    }

    #[test]
    fn keys_are_32_bytes_in_hex_or_base64() {
        let bytes: Vec<u8> = (0u8..32).collect();
        assert!(SecretKey::parse(HEX_KEY).is_ok());
        assert!(SecretKey::parse(&STANDARD.encode(&bytes)).is_ok());
        assert!(SecretKey::parse(&STANDARD_NO_PAD.encode(&bytes)).is_ok());
        for bad in ["", "abc", &"ab".repeat(31), &STANDARD.encode([0u8; 16])] {
            assert_eq!(SecretKey::parse(bad).map(|_| ()), Err(KeyError), "{bad}");
        }
    }
}
