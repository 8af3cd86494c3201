//! Email addresses as login names: trimmed and lowercased once, then compared exactly.

use crate::error::ApiError;

/// Longest accepted address (RFC 5321).
pub const MAX_LEN: usize = 254;

/// Normalizes and checks an address; `field` names it in errors.
pub fn normalize(field: &str, raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    let invalid = || ApiError::invalid(field, "is not a valid email address");
    if email.len() > MAX_LEN || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
    if local.is_empty()
        || local.contains('@')
        || domain.len() < 3
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(invalid());
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            normalize("email", "  Owner@Example.COM ").ok().as_deref(),
            Some("owner@example.com")
        );
        for bad in [
            "",
            "no-at",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@@example.com",
            "a@example.",
        ] {
            assert!(normalize("email", bad).is_err(), "{bad:?}");
        }
    }
}
