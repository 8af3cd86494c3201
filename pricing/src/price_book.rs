//! [`PriceSchedule`]: a product's price per location over time.
//!
//! A product has chain-wide prices and, optionally, prices of its own at some locations,
//! each taking effect at an instant (scheduled price changes are entries with a future
//! `effective_from`). The price at a location and instant is:
//!
//! 1. the location's latest entry that has taken effect, if it names a price;
//! 2. otherwise (no such entry, or that entry clears the location's own price) the
//!    latest chain-wide entry that has taken effect;
//! 3. otherwise none: the product was not on sale yet.
//!
//! So a location's own price outlives later chain-wide changes until an entry clears it;
//! that is what a store that is always dearer (an airport shop) needs.

use chrono::{DateTime, Utc};
use events::LocationId;
use serde::{Deserialize, Serialize};

/// One price change.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduledPrice {
    /// When it takes effect (an instant, so a change at midnight is midnight where the
    /// manager meant it).
    pub effective_from: DateTime<Utc>,
    /// The location it is for; `None` for every location without a price of its own.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub location: Option<LocationId>,
    /// Price per item from then on, minor units (>= 0). `None` only on a location's entry:
    /// from then on the location follows the chain-wide price again.
    pub unit_price_minor: Option<i64>,
}

/// Why a price schedule cannot be used. At the API: 422.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceScheduleError {
    /// A chain-wide entry without a price.
    #[error("a chain-wide price change effective {0} must name a price")]
    ChainEntryWithoutPrice(DateTime<Utc>),
    /// A negative price.
    #[error("price {0} is negative")]
    NegativePrice(i64),
    /// Two entries for the same location (or both chain-wide) at the same instant.
    #[error("two price changes for the same location take effect at {0}")]
    SameInstant(DateTime<Utc>),
}

/// A product's prices per location over time; entries in any order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PriceSchedule {
    /// Every price change, past and scheduled.
    pub entries: Vec<ScheduledPrice>,
}

impl PriceSchedule {
    /// Checks that chain-wide entries name a price, prices are not negative and no two
    /// entries for the same location share an instant.
    pub fn validate(&self) -> Result<(), PriceScheduleError> {
        for (i, entry) in self.entries.iter().enumerate() {
            match entry.unit_price_minor {
                None if entry.location.is_none() => {
                    return Err(PriceScheduleError::ChainEntryWithoutPrice(entry.effective_from));
                }
                Some(price) if price < 0 => return Err(PriceScheduleError::NegativePrice(price)),
                _ => {}
            }
            if self.entries[..i]
                .iter()
                .any(|e| e.location == entry.location && e.effective_from == entry.effective_from)
            {
                return Err(PriceScheduleError::SameInstant(entry.effective_from));
            }
        }
        Ok(())
    }

    /// The price per item at `location` at instant `at`, by the rule above.
    pub fn price_at(&self, location: &LocationId, at: DateTime<Utc>) -> Option<i64> {
        let latest = |for_location: Option<&LocationId>| {
            self.entries
                .iter()
                .filter(|e| e.location.as_ref() == for_location && e.effective_from <= at)
                .max_by_key(|e| e.effective_from)
        };
        match latest(Some(location)).and_then(|e| e.unit_price_minor) {
            Some(price) => Some(price),
            None => latest(None).and_then(|e| e.unit_price_minor),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0)
            .single()
            .expect("valid instant")
    }

    fn entry(day: u32, location: Option<&str>, price: Option<i64>) -> ScheduledPrice {
        ScheduledPrice {
            effective_from: at(day, 0),
            location: location.map(|l| LocationId::parse(l).expect("valid location")),
            unit_price_minor: price,
        }
    }

    #[test]
    fn location_price_beats_chain_price_until_cleared_and_scheduled_changes_take_effect_on_time() {
        let schedule = PriceSchedule {
            entries: vec![
                entry(10, None, Some(2999)),            // chain: 29.99 from the 10th
                entry(12, Some("airport"), Some(3499)), // airport: 34.99 from the 12th
                entry(15, None, Some(3199)),            // chain: 31.99 from the 15th (scheduled)
                entry(20, Some("airport"), None),       // airport follows the chain again from the 20th
            ],
        };
        schedule.validate().expect("valid schedule");
        let airport = LocationId::parse("airport").expect("valid");
        let main = LocationId::parse("main-street").expect("valid");
        assert_eq!(
            schedule.price_at(&main, at(9, 23)),
            None,
            "not on sale before the first entry"
        );
        assert_eq!(
            schedule.price_at(&main, at(10, 0)),
            Some(2999),
            "effective at the instant itself"
        );
        assert_eq!(
            schedule.price_at(&airport, at(11, 12)),
            Some(2999),
            "chain price before its own"
        );
        assert_eq!(schedule.price_at(&airport, at(12, 1)), Some(3499));
        assert_eq!(
            schedule.price_at(&main, at(14, 23)),
            Some(2999),
            "the day before the change"
        );
        assert_eq!(schedule.price_at(&main, at(15, 0)), Some(3199), "the change");
        assert_eq!(
            schedule.price_at(&airport, at(16, 0)),
            Some(3499),
            "its own price outlives the chain change"
        );
        assert_eq!(
            schedule.price_at(&airport, at(20, 0)),
            Some(3199),
            "cleared: back to the chain"
        );
    }

    #[test]
    fn invalid_schedules_are_rejected() {
        let chain_without_price = PriceSchedule {
            entries: vec![entry(1, None, None)],
        };
        assert_eq!(
            chain_without_price.validate(),
            Err(PriceScheduleError::ChainEntryWithoutPrice(at(1, 0)))
        );
        let negative = PriceSchedule {
            entries: vec![entry(1, None, Some(-1))],
        };
        assert_eq!(negative.validate(), Err(PriceScheduleError::NegativePrice(-1)));
        let twice = PriceSchedule {
            entries: vec![entry(1, Some("a"), Some(1)), entry(1, Some("a"), Some(2))],
        };
        assert_eq!(twice.validate(), Err(PriceScheduleError::SameInstant(at(1, 0))));
        let different_locations = PriceSchedule {
            entries: vec![entry(1, Some("a"), Some(1)), entry(1, None, Some(2))],
        };
        assert_eq!(different_locations.validate(), Ok(()));
    }
}
