//! Which location and business day a page shows: the location asked for (else the first
//! open one the user may read) and the day asked for (else today's business day there), with the day's
//! bounds in UTC for the API's instant filters.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::api::views::{Items, Location};
use crate::error::PageError;
use crate::extract::SignedIn;
use crate::state::AppState;

/// `?location=&date=`.
#[derive(Debug, Default, Deserialize)]
pub struct DayQuery {
    /// A location id.
    #[serde(default)]
    pub location: Option<String>,
    /// A business day, `YYYY-MM-DD`.
    #[serde(default)]
    pub date: Option<String>,
}

/// A location's business day.
#[derive(Debug, Clone)]
pub struct Day {
    /// Every location of the tenant (for the picker).
    pub locations: Vec<Location>,
    /// The location shown.
    pub location: Location,
    /// Its time zone.
    pub tz: Tz,
    /// The business day.
    pub date: NaiveDate,
}

fn day_start(location: &Location) -> NaiveTime {
    NaiveTime::parse_from_str(&location.business_day_start, "%H:%M").unwrap_or(NaiveTime::MIN)
}

/// The instant a local wall-clock time happened at in `tz` (the earlier one when the
/// clock went back; just after the gap when it went forward).
fn instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    (0..3)
        .find_map(|hours| tz.from_local_datetime(&(local + Duration::hours(hours))).earliest())
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// The business day of `at` at a location in `tz` whose day starts at `start`.
pub fn business_date(tz: Tz, start: NaiveTime, at: DateTime<Utc>) -> NaiveDate {
    let local = at.with_timezone(&tz).naive_local();
    (local - (start - NaiveTime::MIN)).date()
}

impl Day {
    /// The day `query` asks for, for `who`: among the locations `who` may read (a user
    /// limited to some stores is offered those only; the API holds every read to them).
    pub async fn pick(state: &AppState, who: &SignedIn, query: &DayQuery) -> Result<Self, PageError> {
        let Items { items: locations } = state
            .api
            .get::<Items<Location>>(who.token(), "/v1/locations", &[])
            .await?;
        let locations = who.readable(locations);
        let location = match &query.location {
            Some(id) if !id.is_empty() => locations
                .iter()
                .find(|l| &l.id == id)
                .cloned()
                .ok_or(PageError::NotFound)?,
            _ => locations
                .iter()
                .find(|l| l.status == "open")
                .or(locations.first())
                .cloned()
                .ok_or_else(|| PageError::BadRequest("This organization has no location yet.".to_owned()))?,
        };
        let tz: Tz = location.time_zone.parse().unwrap_or(Tz::UTC);
        let date = match query.date.as_deref().filter(|d| !d.is_empty()) {
            Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| PageError::BadRequest(format!("'{text}' is not a date like 2026-11-24")))?,
            None => business_date(tz, day_start(&location), Utc::now()),
        };
        Ok(Self {
            locations,
            location,
            tz,
            date,
        })
    }

    /// The day as the API writes it.
    pub fn date_text(&self) -> String {
        self.date.format("%Y-%m-%d").to_string()
    }

    /// When the day begins and ends, in UTC (end exclusive).
    pub fn bounds(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = day_start(&self.location);
        (
            instant(self.tz, self.date, start),
            instant(self.tz, self.date + Duration::days(1), start),
        )
    }

    /// The local hour of `at` at this location.
    pub fn local_hour(&self, at: DateTime<Utc>) -> u32 {
        use chrono::Timelike;
        at.with_timezone(&self.tz).hour()
    }

    /// The hours of the business day in order (from the day start's hour).
    pub fn hours(&self) -> Vec<u32> {
        use chrono::Timelike;
        let first = day_start(&self.location).hour();
        (0..24).map(|h| (first + h) % 24).collect()
    }

    /// `at` as local time at this location.
    pub fn local(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn a_new_york_day_starting_at_four_books_the_small_hours_on_the_day_before() {
        let tz: Tz = "America/New_York".parse().unwrap_or(Tz::UTC);
        let four = NaiveTime::from_hms_opt(4, 0, 0).unwrap_or(NaiveTime::MIN);
        assert_eq!(
            business_date(tz, four, utc("2026-11-27T06:30:00Z")).to_string(),
            "2026-11-26"
        );
        assert_eq!(
            business_date(tz, four, utc("2026-11-28T01:00:00Z")).to_string(),
            "2026-11-27"
        );
        let date = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default();
        assert_eq!(instant(tz, date, four), utc("2026-11-27T09:00:00Z"));
    }
}
