//! A promotion (`promotions`), as its events describe it, and a sale line's share of one
//! ([`LinePromotionDoc`]).

use bson::serde_helpers::chrono_datetime_as_bson_datetime;
use chrono::{DateTime, Utc};
use events::event::PromotionRule;
use serde::{Deserialize, Serialize};

/// Whether a promotion may still apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PromotionStatus {
    /// Applies to sales within its time window at its locations.
    Active,
    /// Ended early: applies only to sales before `ended_at`.
    Ended,
}

impl PromotionStatus {
    /// The stored string.
    pub fn as_str(self) -> &'static str {
        match self {
            PromotionStatus::Active => "active",
            PromotionStatus::Ended => "ended",
        }
    }
}

/// A promotion (`promotions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromotionDoc {
    /// The promotion id.
    #[serde(rename = "_id")]
    pub promotion_id: String,
    /// Name.
    pub name: String,
    /// ISO 4217 currency of its amounts.
    pub currency: String,
    /// What it does (the event's rule as stored: `kind` and its fields).
    pub rule: PromotionRule,
    /// From when it applies.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub starts_at: DateTime<Utc>,
    /// Until when it applies, if it ends.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub ends_at: Option<DateTime<Utc>>,
    /// The locations it applies at; every location when empty.
    pub locations: Vec<String>,
    /// Whether it applies on top of other promotions.
    pub stackable: bool,
    /// Active or ended.
    pub status: PromotionStatus,
    /// When it was ended early.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Why it was ended.
    #[serde(default)]
    pub ended_reason: Option<String>,
    /// When it was created.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub created_at: DateTime<Utc>,
    /// The version clients send in `If-Match` (stream sequence of its last event).
    pub version: i64,
    /// Stream sequence of the last event applied to this document.
    pub last_seq: i64,
}

impl PromotionDoc {
    /// Field `name`.
    pub const NAME: &'static str = "name";
    /// Field `status`.
    pub const STATUS: &'static str = "status";
    /// Field `locations`.
    pub const LOCATIONS: &'static str = "locations";
    /// Field `version`.
    pub const VERSION: &'static str = "version";

    /// Whether it applies to a sale at `location`, selling in `currency`, at `at`.
    pub fn applies(&self, location: &str, currency: &str, at: DateTime<Utc>) -> bool {
        self.currency == currency
            && self.starts_at <= at
            && self.ends_at.is_none_or(|end| at < end)
            && self.ended_at.is_none_or(|end| at < end)
            && (self.locations.is_empty() || self.locations.iter().any(|l| l == location))
    }
}

/// A promotion's share of a sale line's discount, as the server allocated it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinePromotionDoc {
    /// The promotion.
    pub promotion_id: String,
    /// Its share of the line's discount, minor units.
    pub amount_minor: i64,
}

impl LinePromotionDoc {
    /// Field `promotion_id` (inside a line's `promotions`).
    pub const PROMOTION_ID: &'static str = "promotion_id";
}
