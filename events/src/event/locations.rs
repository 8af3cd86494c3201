//! Location events: a store (or warehouse) is opened, its details change, it is closed;
//! one of its business days is closed.
//! They belong to the location aggregate, keyed by the location id that sales, stock
//! movements and reports name.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::business_day::{DayStart, TimeZoneName};
use crate::ids::LocationId;
use crate::money::Currency;
use crate::tax::JurisdictionId;

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street and number.
    pub line1: String,
    /// Suite, building, ...
    #[serde(default)]
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// State, province or region.
    #[serde(default)]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code (`US`, `DE`).
    pub country: String,
}

/// Everything about a location but its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationDetails {
    /// Name shown on receipts, screens and reports.
    pub name: String,
    /// Where it is.
    #[serde(default)]
    pub address: Option<Address>,
    /// IANA time zone of the store's clock.
    pub time_zone: TimeZoneName,
    /// Local time at which its business day begins (`04:00`: a sale at 01:30 belongs to
    /// the day before).
    pub business_day_start: DayStart,
    /// Currency it sells in: every sale there is in it.
    pub currency: Currency,
    /// The tax jurisdiction whose rates and deposits apply there.
    #[serde(default)]
    pub tax_jurisdiction: Option<JurisdictionId>,
    /// Whether shelf prices include the percentage taxes (VAT-style) rather than having
    /// them added at the till.
    #[serde(default)]
    pub prices_include_tax: bool,
}

/// A location was opened: from now on commands may name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationOpened {
    /// The location.
    pub location_id: LocationId,
    /// Its details.
    pub details: LocationDetails,
}

/// A location's details were replaced. Days already recorded keep their dates: the
/// business date is stamped on each event when it is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationUpdated {
    /// The location.
    pub location_id: LocationId,
    /// Its new details.
    pub details: LocationDetails,
}

/// A location was closed: new commands naming it are refused, except sales that happened
/// before the close (an offline till coming back), which are still recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationClosed {
    /// The location.
    pub location_id: LocationId,
    /// Why.
    pub reason: String,
}

/// A manager closed one business day of a location: its drawers are counted and its Z
/// report is final. A sale, void or refund recorded later for that day (an offline till
/// coming back) still counts on it, shown as an amendment after the close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessDayClosed {
    /// The location.
    pub location_id: LocationId,
    /// The business day closed.
    pub business_date: NaiveDate,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
