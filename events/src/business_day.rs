//! The business day: which day's books an instant belongs to at a location.
//!
//! A store's day does not end at midnight UTC. It ends at the location's *business-day
//! start* in the location's own time zone: a store at UTC−5 that opens its day at 04:00
//! books a sale made at 01:30 local time on the previous day. The rule is
//!
//! ```text
//! business_date = date of (local wall-clock time of the instant − day start)
//! ```
//!
//! so a day start of 00:00 gives the local calendar date. Daylight-saving changes move the
//! wall clock, not the rule: a sale at 01:30 on the night the clocks change is booked by
//! its local wall-clock time like any other.
//!
//! The date is decided once, by the command side, from the location as it stands when the
//! command is recorded, and stamped on the event. Replaying the events years later gives
//! the same days even after the store changed its time zone or day start. Events recorded
//! before locations existed carry no date; for them the day is the UTC date of the event
//! ([`legacy_business_date`]), which is what the read model always used for them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a time zone or day start was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusinessDayError {
    /// Not a name of the IANA time-zone database.
    #[error("`{0}` is not an IANA time zone name (such as America/New_York)")]
    UnknownTimeZone(String),
    /// Not `HH:MM` from 00:00 to 23:59.
    #[error("`{0}` is not a time of day HH:MM (00:00 to 23:59)")]
    InvalidDayStart(String),
}

/// An IANA time zone name (`America/New_York`, `Europe/Berlin`, `UTC`), checked against the
/// time-zone database this build carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZoneName(chrono_tz::Tz);

impl TimeZoneName {
    /// UTC.
    pub const UTC: TimeZoneName = TimeZoneName(chrono_tz::Tz::UTC);

    /// Checks a name.
    pub fn parse(name: &str) -> Result<Self, BusinessDayError> {
        chrono_tz::Tz::from_str(name)
            .map(TimeZoneName)
            .map_err(|_| BusinessDayError::UnknownTimeZone(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }

    /// The zone, for conversions.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TimeZoneName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TimeZoneName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// The local time of day at which a location's business day begins, `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DayStart(NaiveTime);

impl DayStart {
    /// Midnight: the business day is the local calendar day.
    pub const MIDNIGHT: DayStart = DayStart(NaiveTime::MIN);

    /// Checks `HH:MM`.
    pub fn parse(text: &str) -> Result<Self, BusinessDayError> {
        let bad = || BusinessDayError::InvalidDayStart(text.to_owned());
        if text.len() != 5 {
            return Err(bad());
        }
        NaiveTime::parse_from_str(text, "%H:%M")
            .map(DayStart)
            .map_err(|_| bad())
    }

    /// Hours and minutes after local midnight.
    pub fn minutes(&self) -> u32 {
        self.0.hour() * 60 + self.0.minute()
    }
}

impl fmt::Display for DayStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl Serialize for DayStart {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DayStart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The business day of `at` at a location in `zone` whose day begins at `start`.
pub fn business_date(at: DateTime<Utc>, zone: TimeZoneName, start: DayStart) -> NaiveDate {
    let local = at.with_timezone(&zone.tz()).naive_local();
    (local - chrono::Duration::minutes(i64::from(start.minutes()))).date()
}

/// The business day of an event recorded before locations had time zones: its UTC date.
pub fn legacy_business_date(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .expect("a valid instant")
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a valid date")
    }

    #[test]
    fn a_store_at_utc_minus_five_with_a_four_oclock_start_books_the_night_on_the_day_before() {
        let zone = TimeZoneName::parse("America/New_York").expect("a zone");
        let start = DayStart::parse("04:00").expect("a start");
        // 2026-11-27 is in EST (UTC−5).
        // 23:59 local on the 26th = 04:59Z on the 27th: still the 26th.
        assert_eq!(
            business_date(at("2026-11-27T04:59:00Z"), zone, start),
            date("2026-11-26")
        );
        // 01:30 local on the 27th = 06:30Z: before 04:00, so the 26th.
        assert_eq!(
            business_date(at("2026-11-27T06:30:00Z"), zone, start),
            date("2026-11-26")
        );
        // 03:59 local = 08:59Z: the 26th; 04:00 local = 09:00Z: the 27th.
        assert_eq!(
            business_date(at("2026-11-27T08:59:59Z"), zone, start),
            date("2026-11-26")
        );
        assert_eq!(
            business_date(at("2026-11-27T09:00:00Z"), zone, start),
            date("2026-11-27")
        );
        // 20:00 local on the 27th = 01:00Z on the 28th: the UTC date would say the 28th.
        assert_eq!(
            business_date(at("2026-11-28T01:00:00Z"), zone, start),
            date("2026-11-27")
        );
        assert_eq!(legacy_business_date(at("2026-11-28T01:00:00Z")), date("2026-11-28"));
    }

    #[test]
    fn east_of_utc_the_local_day_begins_before_the_utc_one() {
        let zone = TimeZoneName::parse("Europe/Berlin").expect("a zone");
        // 00:30 in Berlin on the 27th (CET, UTC+1) is 23:30Z on the 26th.
        assert_eq!(
            business_date(at("2026-11-26T23:30:00Z"), zone, DayStart::MIDNIGHT),
            date("2026-11-27")
        );
        assert_eq!(
            business_date(at("2026-11-26T22:59:59Z"), zone, DayStart::MIDNIGHT),
            date("2026-11-26")
        );
    }

    #[test]
    fn daylight_saving_moves_the_wall_clock_not_the_rule() {
        let zone = TimeZoneName::parse("America/New_York").expect("a zone");
        let start = DayStart::parse("04:00").expect("a start");
        // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT. 03:30 EDT = 07:30Z: before
        // 04:00 local, so the 7th; 04:00 EDT = 08:00Z: the 8th.
        assert_eq!(
            business_date(at("2026-03-08T07:30:00Z"), zone, start),
            date("2026-03-07")
        );
        assert_eq!(
            business_date(at("2026-03-08T08:00:00Z"), zone, start),
            date("2026-03-08")
        );
    }

    #[test]
    fn names_and_starts_are_checked() {
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
        assert!(TimeZoneName::parse("").is_err());
        assert_eq!(TimeZoneName::parse("UTC").map(|z| z.as_str()), Ok("UTC"));
        for bad in ["4:00", "24:00", "04:60", "04:00:00", "0400", ""] {
            assert!(DayStart::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            DayStart::parse("04:30").map(|s| (s.minutes(), s.to_string())),
            Ok((270, "04:30".to_owned()))
        );
    }
}
