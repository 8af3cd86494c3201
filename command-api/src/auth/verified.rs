//! Tokens verified recently, remembered by their exact text until they expire.
//!
//! A terminal sends the same access token with every command until it expires, and
//! verifying it again each time is the API's largest single cost per command (HS256: a
//! few µs; RS256: tens of µs). Verification is a pure function of the token's bytes and
//! the keys, except for time: so a token whose exact text verified before verifies again,
//! as long as it has not expired since, which is checked on every use. Only successes are
//! remembered; any other text (one changed byte) goes through full verification. The keys
//! never change while this cache lives (it belongs to one [`super::JwtKeys`]).
//!
//! Memory is bounded: past [`CAPACITY`] tokens the cache starts over.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::auth::claims::Claims;

/// Most tokens remembered (about 1 KiB each with their claims).
pub const CAPACITY: usize = 10_000;

/// Claims of recently verified tokens, by token text.
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    tokens: Mutex<HashMap<Box<str>, Claims>>,
}

impl VerifiedTokens {
    /// The claims of `token` if it verified before and, at `now` (seconds since the epoch),
    /// is still before its expiry plus `leeway`, the bound full verification applies.
    pub fn get(&self, token: &str, now: u64, leeway: u64) -> Option<Claims> {
        let mut tokens = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match tokens.get(token) {
            Some(claims) if now < claims.exp.saturating_add(leeway) => Some(claims.clone()),
            Some(_) => {
                tokens.remove(token);
                None
            }
            None => None,
        }
    }

    /// Remembers that `token` verified to `claims`.
    pub fn put(&self, token: &str, claims: &Claims) {
        let mut tokens = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if tokens.len() >= CAPACITY {
            tokens.clear();
        }
        tokens.insert(token.into(), claims.clone());
    }

    /// Tokens remembered now.
    pub fn len(&self) -> usize {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use events::Role;

    fn claims(exp: u64) -> Claims {
        Claims {
            user_id: "cashier-1".into(),
            organization_id: "507f1f77bcf86cd799439011".into(),
            role: Role::Cashier,
            terminal_id: None,
            iss: "tillstream".into(),
            aud: "tillstream-pos".into(),
            exp,
            nbf: None,
            iat: None,
            sid: None,
        }
    }

    #[test]
    fn a_remembered_token_is_returned_until_its_expiry_plus_leeway_and_then_forgotten() {
        let cache = VerifiedTokens::default();
        cache.put("a.b.c", &claims(1_000));
        assert_eq!(cache.get("a.b.c", 999, 0).map(|c| c.exp), Some(1_000));
        assert_eq!(cache.get("a.b.c", 1_029, 30).map(|c| c.exp), Some(1_000));
        assert!(cache.get("a.b.c", 1_030, 30).is_none());
        assert!(cache.is_empty(), "an expired token is dropped");
    }

    #[test]
    fn only_the_exact_text_hits() {
        let cache = VerifiedTokens::default();
        cache.put("a.b.c", &claims(1_000));
        assert!(cache.get("a.b.d", 1, 0).is_none());
        assert!(cache.get("a.b.c ", 1, 0).is_none());
    }

    #[test]
    fn memory_stays_bounded() {
        let cache = VerifiedTokens::default();
        for n in 0..CAPACITY + 5 {
            cache.put(&format!("token-{n}"), &claims(1_000));
        }
        assert!(cache.len() <= CAPACITY);
        assert!(cache.get(&format!("token-{}", CAPACITY + 4), 1, 0).is_some());
    }
}
