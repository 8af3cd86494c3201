//! Field checks shared by several commands.

use chrono::{DateTime, Duration, Utc};

use crate::error::ApiError;

/// Longest free-text field (names, reasons, notes, references).
pub const MAX_TEXT: usize = 500;
/// Largest quantity on one line or movement.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// Largest single amount in minor units (10 billion units of a 2-digit currency).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;
/// How far the terminal's clock may run ahead of the server's.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

/// Non-blank text of at most [`MAX_TEXT`] characters without control characters.
pub fn text(field: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::invalid(field, "must not be blank"));
    }
    optional_text(field, Some(value))
}

/// Like [`text`] but may be absent (blank is still refused).
pub fn optional_text(field: &str, value: Option<&str>) -> Result<(), ApiError> {
    let Some(value) = value else { return Ok(()) };
    if value.chars().count() > MAX_TEXT {
        return Err(ApiError::invalid(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::invalid(field, "must not contain control characters"));
    }
    if value.trim().is_empty() {
        return Err(ApiError::invalid(field, "must not be blank"));
    }
    Ok(())
}

/// A quantity in `1..=MAX_QUANTITY`.
pub fn positive_quantity(field: &str, value: i64) -> Result<(), ApiError> {
    if value <= 0 {
        return Err(ApiError::invalid(field, "must be > 0"));
    }
    if value > MAX_QUANTITY {
        return Err(ApiError::invalid(field, format!("must be at most {MAX_QUANTITY}")));
    }
    Ok(())
}

/// An amount in `0..=MAX_AMOUNT` minor units.
pub fn amount(field: &str, value: i64) -> Result<(), ApiError> {
    if value < 0 {
        return Err(ApiError::invalid(field, "must be >= 0"));
    }
    if value > MAX_AMOUNT {
        return Err(ApiError::invalid(
            field,
            format!("must be at most {MAX_AMOUNT} minor units"),
        ));
    }
    Ok(())
}

/// The terminal's timestamp must not be in the future beyond the allowed skew.
pub fn occurred_at(value: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), ApiError> {
    match value {
        Some(at) if at > now + MAX_CLOCK_SKEW => Err(ApiError::invalid(
            "occurred_at",
            "is in the future; check the terminal's clock",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_refuses_blank_long_and_control_characters() {
        assert!(text("name", "Jack Daniel's Old No. 7").is_ok());
        assert!(text("name", "Rioja Reserva — 2019 ñ").is_ok());
        assert_eq!(text("name", "  ").expect_err("blank").code(), "invalid_field");
        assert!(text("name", &"x".repeat(MAX_TEXT + 1)).is_err());
        assert!(text("name", "a\u{0}b").is_err());
        assert!(optional_text("note", None).is_ok());
    }

    #[test]
    fn quantities_and_amounts_have_bounds() {
        assert!(positive_quantity("q", 1).is_ok());
        assert!(positive_quantity("q", 0).is_err());
        assert!(positive_quantity("q", -3).is_err());
        assert!(positive_quantity("q", MAX_QUANTITY + 1).is_err());
        assert!(amount("a", 0).is_ok());
        assert!(amount("a", -1).is_err());
        assert!(amount("a", i64::MAX).is_err());
    }

    #[test]
    fn a_timestamp_far_in_the_future_is_refused() {
        let now = Utc::now();
        assert!(occurred_at(Some(now - Duration::days(30)), now).is_ok());
        assert!(occurred_at(Some(now + Duration::minutes(1)), now).is_ok());
        assert!(occurred_at(Some(now + Duration::hours(1)), now).is_err());
        assert!(occurred_at(None, now).is_ok());
    }
}
