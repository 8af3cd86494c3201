//! Writing an instant (`DateTime<Utc>`) into JSON, byte for byte as chrono's own `Serialize`
//! writes it (RFC 3339, `Z`, fractional seconds of 0, 3, 6 or 9 digits as needed), but
//! formatted once into a string and handed to the serializer whole.
//!
//! chrono's `Serialize` formats through `collect_str`, and serde_json then escapes the
//! text one character at a time: ~3 % of the API's CPU per batched sale went there (an
//! envelope carries two instants, a sale command's fingerprint one). Use it on hot fields
//! with `#[serde(serialize_with = "crate::instant::serialize")]` (or
//! `instant::optional::serialize` for an `Option`). Reading is unchanged: chrono's
//! `Deserialize` accepts what this writes.

use std::borrow::Borrow;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// Serializes `at` (an instant, or a reference to one) exactly as
/// `<DateTime<Utc> as Serialize>` does.
pub fn serialize<S: Serializer, T: Borrow<DateTime<Utc>>>(at: &T, serializer: S) -> Result<S::Ok, S::Error> {
    // The same formatting chrono's `Serialize` uses (`write_rfc3339` with `AutoSi` and
    // `Z`), into a string first.
    serializer.serialize_str(&at.borrow().to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// The same for an optional instant (`null` when absent).
pub mod optional {
    use super::*;

    /// Serializes `at` exactly as `<Option<DateTime<Utc>> as Serialize>` does.
    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => serializer.serialize_some(&Formatted(at)),
            None => serializer.serialize_none(),
        }
    }

    struct Formatted<'a>(&'a DateTime<Utc>);

    impl serde::Serialize for Formatted<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            super::serialize(self.0, serializer)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Fast {
        #[serde(serialize_with = "serialize")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "optional::serialize")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(Serialize)]
    struct Chrono {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    fn both(at: DateTime<Utc>, maybe: Option<DateTime<Utc>>) -> (String, String) {
        (
            serde_json::to_string(&Fast { at, maybe }).expect("serializes"),
            serde_json::to_string(&Chrono { at, maybe }).expect("serializes"),
        )
    }

    #[test]
    fn writes_what_chrono_writes_for_every_precision_and_edge() {
        let base = Utc.with_ymd_and_hms(2026, 12, 1, 2, 25, 13).single().expect("valid");
        let mut instants = Vec::new();
        // Whole seconds, milliseconds, microseconds, nanoseconds, and each boundary.
        for nanos in [
            0,
            1,
            999,
            1_000,
            1_000_000,
            123_000_000,
            123_456_000,
            123_456_789,
            999_999_999,
        ] {
            instants.push(base + chrono::Duration::nanoseconds(nanos));
        }
        // Years at the ends of four digits and outside them (chrono writes a sign there).
        for year in [0, 1, 999, 1970, 9999, 10_000, -1] {
            let date = NaiveDate::from_ymd_opt(year, 1, 2).expect("valid date");
            instants.push(Utc.from_utc_datetime(&date.and_hms_nano_opt(3, 4, 5, 6_000).expect("valid time")));
        }
        // A leap second (chrono holds it as a nanosecond count past 1e9; written as :60).
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .expect("valid leap second");
        instants.push(Utc.from_utc_datetime(&leap));
        // Spread over sixty years with varied sub-second parts.
        for k in 0..2_000_i64 {
            instants.push(base + chrono::Duration::nanoseconds(k * 987_654_321_123_457 + k % 7 * 1_000));
        }
        for at in instants {
            let (fast, chrono) = both(at, Some(at));
            assert_eq!(fast, chrono, "{at:?}");
        }
        let (fast, chrono) = both(base, None);
        assert_eq!(fast, chrono);
        assert_eq!(fast, r#"{"at":"2026-12-01T02:25:13Z","maybe":null}"#);
    }
}
