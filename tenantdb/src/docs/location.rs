//! A store or warehouse (`locations`), as its events describe it.

use bson::serde_helpers::chrono_datetime_as_bson_datetime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Whether a location is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LocationStatus {
    /// Commands may name it.
    Open,
    /// Closed: only sales that happened before the close are still recorded.
    Closed,
}

impl LocationStatus {
    /// The stored string.
    pub fn as_str(self) -> &'static str {
        match self {
            LocationStatus::Open => "open",
            LocationStatus::Closed => "closed",
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressDoc {
    /// Street and number.
    pub line1: String,
    /// Suite, building, ...
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// State, province or region.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

/// A store or warehouse (`locations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationDoc {
    /// The location id.
    #[serde(rename = "_id")]
    pub location_id: String,
    /// Name.
    pub name: String,
    /// Address.
    pub address: Option<AddressDoc>,
    /// IANA time zone.
    pub time_zone: String,
    /// Local `HH:MM` at which the business day begins.
    pub business_day_start: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// Tax jurisdiction.
    pub tax_jurisdiction: Option<String>,
    /// Whether shelf prices include the percentage taxes.
    pub prices_include_tax: bool,
    /// Open or closed.
    pub status: LocationStatus,
    /// When it was opened.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub opened_at: DateTime<Utc>,
    /// When it was closed.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub closed_at: Option<DateTime<Utc>>,
    /// The version clients send in `If-Match` (stream sequence of its last event).
    pub version: i64,
    /// Stream sequence of the last event applied to this document.
    pub last_seq: i64,
}

impl LocationDoc {
    /// Field `name`.
    pub const NAME: &'static str = "name";
    /// Field `status`.
    pub const STATUS: &'static str = "status";
}
