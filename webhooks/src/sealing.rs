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
//!
//! Changing the key: a [`Keyring`] holds the current key, which seals, and retired keys
//! (`WEBHOOK_SECRET_KEY_PREVIOUS`), which only open. [`Keyring::reseal`] says what a stored
//! value becomes under the current key; the store's `reseal_all` applies it to every
//! endpoint, after which the retired keys can be removed (docs/webhooks.md).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use secrecy::{ExposeSecret, SecretString};

/// The prefix of a sealed secret as stored.
pub const SEALED_PREFIX: &str = "enc:v1:";

const NONCE_LEN: usize = 12;

/// Why `WEBHOOK_SECRET_KEY` or `WEBHOOK_SECRET_KEY_PREVIOUS` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A key is not 32 bytes in hex or base64.
    #[error(
        "{variable} must be 32 bytes, as 64 hex digits or in base64 (several separated by commas in WEBHOOK_SECRET_KEY_PREVIOUS)"
    )]
    Malformed {
        /// The variable that holds it.
        variable: &'static str,
    },
    /// Retired keys without a current one: nothing could seal.
    #[error("WEBHOOK_SECRET_KEY_PREVIOUS is set but WEBHOOK_SECRET_KEY is not: set the new key as WEBHOOK_SECRET_KEY")]
    PreviousWithoutCurrent,
}

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
        Self::parse_for(text, "WEBHOOK_SECRET_KEY")
    }

    fn parse_for(text: &str, variable: &'static str) -> Result<Self, KeyError> {
        let malformed = KeyError::Malformed { variable };
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| malformed.clone())?
        } else {
            STANDARD
                .decode(text)
                .or_else(|_| STANDARD_NO_PAD.decode(text))
                .map_err(|_| malformed.clone())?
        };
        if bytes.len() != 32 {
            return Err(malformed);
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

/// The keys of this process: the current one seals and opens, the retired ones (older
/// keys, while their secrets are re-sealed) only open.
#[derive(Debug, Clone)]
pub struct Keyring {
    current: SecretKey,
    retired: Vec<SecretKey>,
}

impl From<SecretKey> for Keyring {
    fn from(current: SecretKey) -> Self {
        Self {
            current,
            retired: Vec::new(),
        }
    }
}

/// What a stored value becomes under a keyring's current key ([`Keyring::reseal`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resealed {
    /// Sealed with the current key already: nothing to write.
    Current,
    /// Plain, or sealed with a retired key: store this value instead.
    Sealed(String),
}

impl Keyring {
    /// A current key and the retired ones.
    pub fn new(current: SecretKey, retired: Vec<SecretKey>) -> Self {
        Self { current, retired }
    }

    /// How many retired keys it holds.
    pub fn retired(&self) -> usize {
        self.retired.len()
    }

    /// Seals `secret` for `endpoint_id` with the current key.
    pub fn seal(&self, endpoint_id: &str, secret: &str) -> String {
        self.current.seal(endpoint_id, secret)
    }

    /// Opens a sealed value with the current key, else with each retired key in turn;
    /// says whether the current key opened it.
    fn open_sealed(&self, endpoint_id: &str, stored: &str) -> Result<(String, bool), OpenError> {
        if let Ok(plain) = self.current.open_sealed(endpoint_id, stored) {
            return Ok((plain, true));
        }
        self.retired
            .iter()
            .find_map(|key| key.open_sealed(endpoint_id, stored).ok())
            .map(|plain| (plain, false))
            .ok_or(OpenError::Undecryptable)
    }

    /// What the stored value of `endpoint_id` becomes under the current key: a plain value
    /// or one sealed with a retired key is sealed again with the current key. An error when
    /// no key of the ring opens it (the value is then left as it is).
    pub fn reseal(&self, endpoint_id: &str, stored: &str) -> Result<Resealed, OpenError> {
        if !is_sealed(stored) {
            return Ok(Resealed::Sealed(self.seal(endpoint_id, stored)));
        }
        match self.open_sealed(endpoint_id, stored)? {
            (_, true) => Ok(Resealed::Current),
            (plain, false) => Ok(Resealed::Sealed(self.seal(endpoint_id, &plain))),
        }
    }
}

/// The value to store for `secret` of `endpoint_id`: sealed with the keyring's current key,
/// plain without a keyring.
pub fn seal(keys: Option<&Keyring>, endpoint_id: &str, secret: &str) -> String {
    match keys {
        Some(keys) => keys.seal(endpoint_id, secret),
        None => secret.to_owned(),
    }
}

/// The secret a stored value holds: a plain value as it is, a sealed one opened with the
/// keyring's current key or one of its retired keys.
pub fn open(keys: Option<&Keyring>, endpoint_id: &str, stored: &str) -> Result<String, OpenError> {
    if !is_sealed(stored) {
        return Ok(stored.to_owned());
    }
    Ok(keys.ok_or(OpenError::NoKey)?.open_sealed(endpoint_id, stored)?.0)
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

    /// Retired keys, separated by commas, while the key changes: they open secrets sealed
    /// before, never seal. The worker re-seals every secret under WEBHOOK_SECRET_KEY
    /// (`webhooks reseal`); then remove them. See docs/webhooks.md.
    #[arg(long, env = "WEBHOOK_SECRET_KEY_PREVIOUS", hide_env_values = true)]
    pub webhook_secret_key_previous: Option<SecretString>,
}

impl SecretKeyArgs {
    /// The keyring, if a key is configured; an error when a key is malformed, or when
    /// retired keys are given without a current one.
    pub fn key(&self) -> Result<Option<Keyring>, KeyError> {
        let retired = match &self.webhook_secret_key_previous {
            Some(text) => text
                .expose_secret()
                .split(',')
                .filter(|part| !part.trim().is_empty())
                .map(|part| SecretKey::parse_for(part, "WEBHOOK_SECRET_KEY_PREVIOUS"))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        match &self.webhook_secret_key {
            Some(text) => Ok(Some(Keyring::new(SecretKey::parse(text.expose_secret())?, retired))),
            None if retired.is_empty() => Ok(None),
            None => Err(KeyError::PreviousWithoutCurrent),
        }
    }

    /// The keyring, logging the warning of docs/webhooks.md when there is none.
    pub fn key_or_warn(&self) -> Result<Option<Keyring>, KeyError> {
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
        let key = Keyring::from(SecretKey::parse(HEX_KEY).expect("a valid key"));
        let sealed = key.seal("endpoint-a", "whsec_abc");
        assert!(sealed.starts_with(SEALED_PREFIX), "{sealed}");
        assert!(!sealed.contains("whsec_abc"));
        assert_ne!(sealed, key.seal("endpoint-a", "whsec_abc"), "a fresh nonce each time");
        assert_eq!(open(Some(&key), "endpoint-a", &sealed), Ok("whsec_abc".to_owned()));
        assert_eq!(open(Some(&key), "endpoint-b", &sealed), Err(OpenError::Undecryptable));
        let other = Keyring::from(SecretKey::parse(&"ab".repeat(32)).expect("a valid key"));
        assert_eq!(open(Some(&other), "endpoint-a", &sealed), Err(OpenError::Undecryptable));
        assert_eq!(open(None, "endpoint-a", &sealed), Err(OpenError::NoKey));
        assert_eq!(
            open(Some(&key), "endpoint-a", "enc:v1:!!"),
            Err(OpenError::Undecryptable)
        );
    }

    #[test]
    fn plain_secrets_are_read_as_they_are_and_stored_plain_without_a_key() {
        let key = Keyring::from(SecretKey::parse(HEX_KEY).expect("a valid key"));
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
            assert_eq!(
                SecretKey::parse(bad).map(|_| ()),
                Err(KeyError::Malformed {
                    variable: "WEBHOOK_SECRET_KEY"
                }),
                "{bad}"
            );
        }
    }

    fn args(current: Option<&str>, previous: Option<&str>) -> SecretKeyArgs {
        SecretKeyArgs {
            webhook_secret_key: current.map(Into::into),
            webhook_secret_key_previous: previous.map(Into::into),
        }
    }

    #[test]
    fn retired_keys_come_after_the_current_one_separated_by_commas_and_never_alone() {
        let old = "ab".repeat(32);
        let older = STANDARD.encode([7u8; 32]);
        let ring = args(Some(HEX_KEY), Some(&format!("{old}, {older},")))
            .key()
            .expect("valid keys")
            .expect("a keyring");
        assert_eq!(ring.retired(), 2);
        assert!(args(None, None).key().expect("no key is valid").is_none());
        assert_eq!(
            args(None, Some(&old)).key().map(|_| ()),
            Err(KeyError::PreviousWithoutCurrent)
        );
        assert_eq!(
            args(Some(HEX_KEY), Some("abc")).key().map(|_| ()),
            Err(KeyError::Malformed {
                variable: "WEBHOOK_SECRET_KEY_PREVIOUS"
            })
        );
    }

    #[test]
    fn a_ring_opens_with_a_retired_key_seals_with_the_current_one_and_reseals_only_what_needs_it() {
        let old = SecretKey::parse(&"ab".repeat(32)).expect("a valid key");
        let new = SecretKey::parse(HEX_KEY).expect("a valid key");
        let before = Keyring::from(old.clone()).seal("e", "whsec_old_era");
        let ring = Keyring::new(new.clone(), vec![old]);
        assert_eq!(open(Some(&ring), "e", &before), Ok("whsec_old_era".to_owned()));
        // Sealed with a retired key: sealed again, under the new key alone.
        let Ok(Resealed::Sealed(after)) = ring.reseal("e", &before) else {
            panic!("a value sealed with a retired key must be re-sealed");
        };
        let new_only = Keyring::from(new);
        assert_eq!(open(Some(&new_only), "e", &after), Ok("whsec_old_era".to_owned()));
        assert_eq!(open(Some(&new_only), "e", &before), Err(OpenError::Undecryptable));
        // Already current: nothing to write.
        assert_eq!(ring.reseal("e", &after), Ok(Resealed::Current));
        // Plain: sealed.
        let Ok(Resealed::Sealed(sealed_plain)) = ring.reseal("e", "whsec_plain") else {
            panic!("a plain value must be sealed");
        };
        assert_eq!(open(Some(&new_only), "e", &sealed_plain), Ok("whsec_plain".to_owned()));
        // A value no key of the ring opens is refused, not overwritten.
        let stranger = Keyring::from(SecretKey::parse(&"cd".repeat(32)).expect("a valid key")).seal("e", "x");
        assert_eq!(ring.reseal("e", &stranger), Err(OpenError::Undecryptable));
        // Another endpoint's value does not open under any key.
        assert_eq!(ring.reseal("f", &before), Err(OpenError::Undecryptable));
    }
}
