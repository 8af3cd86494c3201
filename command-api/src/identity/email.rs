//! Email addresses as login names: checked by the `email_address` crate (RFC 5321/5322
//! syntax), restricted further, lowercased once, then compared exactly.
//!
//! Beyond the RFC syntax, an address must be plain ASCII (internationalized local parts and
//! domains are refused: they are where invisible and look-alike characters hide; a
//! punycode `xn--` domain works), have a dotted domain without empty labels, no quoted
//! local part, no domain literal (`[127.0.0.1]`) and no display name. So a zero-width
//! space, `<script>`, `x@a..b` or `"a b"@x.com` never becomes a login name or a mail
//! recipient.

use email_address::{EmailAddress, Options};

use crate::error::ApiError;

/// Longest accepted address (RFC 5321).
pub const MAX_LEN: usize = 254;

/// Normalizes and checks an address; `field` names it in errors.
pub fn normalize(field: &str, raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_ascii_lowercase();
    let invalid = |why: &str| ApiError::invalid(field, format!("is not a valid email address: {why}"));
    if email.len() > MAX_LEN {
        return Err(invalid("too long"));
    }
    if !email.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid(
            "only printable ASCII is accepted (no spaces, control or invisible characters; write an international domain as xn--)",
        ));
    }
    if email.starts_with('"') {
        return Err(invalid("quoted local parts are not accepted"));
    }
    let options = Options::default()
        .with_required_tld()
        .without_domain_literal()
        .without_display_text();
    let parsed = EmailAddress::parse_with_options(&email, options).map_err(|e| invalid(&e.to_string()))?;
    let domain = parsed.domain();
    if domain
        .split('.')
        .any(|label| label.is_empty() || label.starts_with('-') || label.ends_with('-'))
    {
        return Err(invalid("the domain has an empty or malformed label"));
    }
    Ok(parsed.email().to_owned())
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
        assert_eq!(
            normalize("email", "first.last+pos@shop.xn--bcher-kva.de")
                .ok()
                .as_deref(),
            Some("first.last+pos@shop.xn--bcher-kva.de")
        );
        for bad in [
            "",
            "no-at",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@@example.com",
            "a@example.",
            "x@a..b",
            "x@.a.b",
            "x@-a.b",
            "a\u{200b}b@example.com",
            "ab@exa\u{200b}mple.com",
            "\u{feff}ab@example.com",
            "ab@example.com\u{202e}",
            "<script>",
            "<script>@example.com",
            "a@<script>.com",
            "\"a b\"@example.com",
            "\"<script>\"@example.com",
            "a@[127.0.0.1]",
            "Ada <ada@example.com>",
            "ada@bücher.de",
            "ädä@example.com",
            "a\n@example.com",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert!(normalize("email", bad).is_err(), "{bad:?}");
        }
    }
}
