//! [`OpsToken`]: the bearer credential of operator endpoints (the command API's
//! `/metrics`, the projector's admin server). Metrics and statistics name tenants, counts
//! and partitions, so they are not for whoever can reach the port.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The configured operator token, or none (then every protected request is refused).
#[derive(Clone)]
pub struct OpsToken {
    /// SHA-256 of the token. Requests are compared by digest, so the comparison's timing
    /// says nothing about the token's bytes.
    digest: Option<[u8; 32]>,
}

impl std::fmt::Debug for OpsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsToken")
            .field("configured", &self.is_configured())
            .finish()
    }
}

impl OpsToken {
    /// From the configuration; an unset or empty token means none is configured.
    pub fn new(token: Option<&SecretString>) -> Self {
        let digest = token
            .map(|token| token.expose_secret().trim())
            .filter(|token| !token.is_empty())
            .map(|token| Sha256::digest(token.as_bytes()).into());
        Self { digest }
    }

    /// Whether a token is configured at all.
    pub fn is_configured(&self) -> bool {
        self.digest.is_some()
    }

    /// Whether an `Authorization` header value is `Bearer <the token>`.
    pub fn permits(&self, authorization: Option<&[u8]>) -> bool {
        let (Some(expected), Some(header)) = (&self.digest, authorization) else {
            return false;
        };
        let Some(given) = header
            .strip_prefix(b"Bearer ")
            .or_else(|| header.strip_prefix(b"bearer "))
        else {
            return false;
        };
        let given: [u8; 32] = Sha256::digest(given.trim_ascii()).into();
        given == *expected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_bearer_token_is_permitted() {
        let token = OpsToken::new(Some(&SecretString::from("s3cret-ops")));
        assert!(token.permits(Some(b"Bearer s3cret-ops")));
        assert!(!token.permits(Some(b"Bearer s3cret-op")));
        assert!(!token.permits(Some(b"Basic s3cret-ops")));
        assert!(!token.permits(Some(b"s3cret-ops")));
        assert!(!token.permits(None));
    }

    #[test]
    fn without_a_token_nothing_is_permitted() {
        for token in [OpsToken::new(None), OpsToken::new(Some(&SecretString::from("  ")))] {
            assert!(!token.is_configured());
            assert!(!token.permits(Some(b"Bearer ")));
            assert!(!token.permits(Some(b"Bearer  ")));
        }
    }
}
