//! Date and instant parameters, parsed strictly: `YYYY-MM-DD` is four digits, a dash, two
//! digits, a dash, two digits, and nothing else. chrono's `%Y` alone also takes `+2026`,
//! `2026-1-1` or a five-digit year, which named no stored day and answered an empty
//! report instead of an error.

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::ApiError;

/// A `YYYY-MM-DD` date; anything else is 422 naming `field`.
pub fn date(field: &str, text: &str) -> Result<NaiveDate, ApiError> {
    let invalid = || ApiError::invalid(field, "must be a date, YYYY-MM-DD");
    if !has_date_shape(text.as_bytes()) {
        return Err(invalid());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| invalid())
}

/// An RFC 3339 instant or a `YYYY-MM-DD` date (its start, or with `end_of_day` the start
/// of the next day); anything else is 422 naming `field`.
pub fn instant(field: &str, text: &str, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    let invalid = || ApiError::invalid(field, "must be an RFC 3339 instant or a YYYY-MM-DD date");
    if text.len() > 10 {
        if !text.as_bytes().get(..10).is_some_and(has_date_shape) {
            return Err(invalid());
        }
        return DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|_| invalid());
    }
    let date = date(field, text).map_err(|_| invalid())?;
    let date = if end_of_day {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// Four digits, `-`, two digits, `-`, two digits.
fn has_date_shape(text: &[u8]) -> bool {
    text.len() == 10
        && text.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOT_DATES: &[&str] = &[
        "+2026-11-29",
        "2026-1-1",
        "2026-11-9",
        "26-11-2026",
        "02026-11-29",
        "2026-11-29 ",
        " 2026-11-29",
        "2026-13-01",
        "2026-02-30",
        "2026/11/29",
        "２０２６-11-29",
        "",
    ];

    #[test]
    fn only_four_two_two_digit_dates_are_dates() {
        assert_eq!(date("date", "2026-11-29").ok(), NaiveDate::from_ymd_opt(2026, 11, 29));
        for text in NOT_DATES {
            let err = date("date", text).expect_err(text);
            assert_eq!(
                (err.code().as_str(), err.to_string().starts_with("date:")),
                ("invalid_field", true),
                "{text}"
            );
        }
    }

    #[test]
    fn instants_are_rfc_3339_with_a_strict_date() {
        let at = |text: &str| instant("from", text, false).ok().map(|at| at.to_rfc3339());
        assert_eq!(at("2026-11-29T10:00:00Z").as_deref(), Some("2026-11-29T10:00:00+00:00"));
        assert_eq!(
            at("2026-11-29T10:00:00+01:00").as_deref(),
            Some("2026-11-29T09:00:00+00:00")
        );
        assert_eq!(at("2026-11-29").as_deref(), Some("2026-11-29T00:00:00+00:00"));
        assert_eq!(
            instant("to", "2026-11-29", true)
                .ok()
                .map(|at| at.to_rfc3339())
                .as_deref(),
            Some("2026-11-30T00:00:00+00:00")
        );
        for text in NOT_DATES.iter().copied().chain([
            "+2026-11-29T10:00:00Z",
            "2026-1-1T10:00:00Z",
            "2026-11-29T25:00:00Z",
            "yesterday",
        ]) {
            assert_eq!(at(text), None, "{text}");
        }
    }
}
