//! The password policy and argon2id hashing. Passwords and hashes never reach a log.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand_core::OsRng;

use crate::error::ApiError;

/// Shortest accepted password.
pub const MIN_LEN: usize = 12;
/// Longest accepted password (bounds hashing work).
pub const MAX_LEN: usize = 128;

/// Checks the policy: 12 to 128 characters, not all of one kind, not the email itself.
pub fn check(field: &str, password: &str, email: &str) -> Result<(), ApiError> {
    let length = password.chars().count();
    if length < MIN_LEN {
        return Err(ApiError::invalid(
            field,
            format!("must be at least {MIN_LEN} characters"),
        ));
    }
    if length > MAX_LEN {
        return Err(ApiError::invalid(
            field,
            format!("must be at most {MAX_LEN} characters"),
        ));
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|present| **present).count() < 2 {
        return Err(ApiError::invalid(
            field,
            "must mix at least two of: lowercase, uppercase, digits, symbols",
        ));
    }
    if password
        .to_lowercase()
        .contains(email.split('@').next().unwrap_or(email))
        && email.len() > 3
    {
        return Err(ApiError::invalid(field, "must not contain the email address"));
    }
    Ok(())
}

/// Hashes a password (argon2id, random salt, PHC string).
pub fn hash(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing a password: {e}")))
}

/// Whether `password` matches `hash`. A malformed hash never matches.
pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A valid hash of a random password: verifying against it costs the same as against a
/// real one, so an unknown email takes as long as a wrong password.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy-password-never-used-9X!").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_short_uniform_and_email_passwords() {
        assert!(check("password", "correct-Horse-7", "owner@example.com").is_ok());
        assert!(check("password", "short1A!", "owner@example.com").is_err());
        assert!(check("password", "alllowercaseletters", "owner@example.com").is_err());
        assert!(check("password", "owner-Example-2026", "owner@example.com").is_err());
        assert!(check("password", &"aB1".repeat(50), "owner@example.com").is_err());
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let hashed = hash("correct-Horse-7").expect("hash");
        assert!(hashed.starts_with("$argon2id$"));
        assert!(verify("correct-Horse-7", &hashed));
        assert!(!verify("correct-horse-7", &hashed));
        assert!(!verify("anything", "not a hash"));
        assert!(!verify("anything", decoy()));
    }
}
