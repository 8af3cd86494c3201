//! The password policy and argon2id hashing. Passwords and hashes never reach a log.
//!
//! The policy follows NIST SP 800-63B (rev. 4, section 3.1.1.2) for passwords that are the
//! only factor:
//!
//! - at least [`MIN_LEN`] (15) characters, at most [`MAX_LEN`] (128; NIST asks that at
//!   least 64 be allowed); every printable character counts, spaces and Unicode included;
//! - no composition rules (no "a digit and a symbol"): they make passwords harder to
//!   remember, not to guess;
//! - refused if it is a known common password: the blocklist shipped in
//!   `common-passwords.txt` (about 20,000 entries), compared case-insensitively, also after
//!   stripping the digits and symbols people pad common words with (`password12345678`,
//!   `!iloveyou2026!!!`);
//! - refused if it is one short unit repeated (`abcabcabcabcabc`) or a run of consecutive
//!   characters (`abcdefghijklmnop`, `123456789012345`);
//! - refused if it contains context words: the email's local part, the email, or the
//!   service's name.
//!
//! It applies when a password is chosen; existing passwords keep working.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand_core::OsRng;

use crate::error::ApiError;

/// Shortest accepted password, in characters.
pub const MIN_LEN: usize = 15;
/// Longest accepted password, in characters (bounds hashing work).
pub const MAX_LEN: usize = 128;

/// Words no password may contain.
const CONTEXT_WORDS: [&str; 2] = ["tillstream", "liquorpos"];

fn common_passwords() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common-passwords.txt")
            .lines()
            .filter(|line| !line.starts_with("# ") && !line.is_empty())
            .collect()
    })
}

/// Whether `password` is a listed common password, or one padded with digits and symbols.
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let list = common_passwords();
    if list.contains(lower.as_str()) {
        return true;
    }
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    core.chars().count() >= 4 && list.contains(core)
}

/// Whether `password` is one unit repeated, or consecutive characters (up or down).
fn is_pattern(password: &str) -> bool {
    let chars: Vec<char> = password.to_lowercase().chars().collect();
    let n = chars.len();
    let repeated =
        (1..=n / 2).any(|unit| n.is_multiple_of(unit) && chars.chunks(unit).all(|chunk| chunk == &chars[..unit]));
    let step = |a: char, b: char| -> i64 {
        let difference = i64::from(u32::from(b)) - i64::from(u32::from(a));
        if a.is_ascii_digit() && b.is_ascii_digit() {
            // 9 → 0 continues a run of digits.
            difference.rem_euclid(10)
        } else {
            difference
        }
    };
    let steps: Vec<i64> = chars.windows(2).map(|w| step(w[0], w[1])).collect();
    let run = |up: i64, down: i64| steps.iter().all(|s| *s == up) || steps.iter().all(|s| *s == down);
    let consecutive = n > 2 && (run(1, -1) || (chars.iter().all(char::is_ascii_digit) && run(1, 9)));
    repeated || consecutive
}

/// Checks the policy for a new password of the account `email`.
pub fn check(field: &str, password: &str, email: &str) -> Result<(), ApiError> {
    let length = password.chars().count();
    if length < MIN_LEN {
        return Err(ApiError::invalid(
            field,
            format!("must be at least {MIN_LEN} characters; a few unrelated words make a good one"),
        ));
    }
    if length > MAX_LEN {
        return Err(ApiError::invalid(
            field,
            format!("must be at most {MAX_LEN} characters"),
        ));
    }
    if is_common(password) {
        return Err(ApiError::invalid(field, "is a commonly used password; choose another"));
    }
    if is_pattern(password) {
        return Err(ApiError::invalid(
            field,
            "is a repetition or a sequence; choose another",
        ));
    }
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or(email);
    if (local.chars().count() >= 4 && lower.contains(local)) || CONTEXT_WORDS.iter().any(|word| lower.contains(word)) {
        return Err(ApiError::invalid(
            field,
            "must not contain the email address or the service's name",
        ));
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
    fn the_policy_follows_nist_800_63b() {
        let ok = |p: &str| check("password", p, "owner@example.com").is_ok();
        for good in [
            "correct horse battery staple",
            "Correct-horse-battery-7",
            "alllowercaseletters",
            "zwölf Äpfel am Baum",
            &"x7Kq".repeat(16)[..63],
        ] {
            assert!(ok(good), "{good:?} should pass");
        }
        for bad in [
            "password1234",
            "short1A!",
            "passwordpassword",
            "password12345678",
            "!!iloveyou2026!!",
            "1q2w3e4r5t6y7u8i",
            "aaaaaaaaaaaaaaaa",
            "abcabcabcabcabcabc",
            "abcdefghijklmnop",
            "123456789012345",
            "987654321098765",
            "owner-example-2026",
            "my tillstream password",
            &"aB1-".repeat(33),
        ] {
            assert!(!ok(bad), "{bad:?} should fail");
        }
        assert!(common_passwords().len() > 19_000);
        assert!(is_common("Dragon") && is_common("dragon2026") && !is_common("dragonfly orbit"));
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
