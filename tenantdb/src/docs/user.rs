//! A user of the organization (`users`).

use bson::serde_helpers::chrono_datetime_as_bson_datetime;
use chrono::{DateTime, Utc};
use events::Role;
use serde::{Deserialize, Serialize};

/// A user of the organization (`users`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDoc {
    /// The user id.
    #[serde(rename = "_id")]
    pub user_id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Role (stored as `cashier`, `manager` or `admin`).
    pub role: Role,
    /// Whether they may sign in.
    pub active: bool,
    /// When they joined.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub joined_at: DateTime<Utc>,
    /// When they were deactivated.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub deactivated_at: Option<DateTime<Utc>>,
    /// The locations they may act at (sorted); empty or absent: every location.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<String>,
    /// Stream sequence of the last event applied to this document.
    pub last_seq: i64,
}

impl UserDoc {
    /// Field `email`.
    pub const EMAIL: &'static str = "email";
    /// Field `locations`.
    pub const LOCATIONS: &'static str = "locations";

    /// Whether they may act at `location` (admins act everywhere).
    pub fn allowed_at(&self, location: &str) -> bool {
        self.role == Role::Admin || self.locations.is_empty() || self.locations.iter().any(|l| l == location)
    }

    /// [`UserDoc::allowed_at`] as a query filter.
    pub fn allowed_at_filter(location: &str) -> bson::Document {
        bson::doc! {"$or": [
            {Self::LOCATIONS: {"$exists": false}},
            {Self::LOCATIONS: {"$size": 0}},
            {Self::LOCATIONS: location},
            {"role": Role::Admin.as_str()},
        ]}
    }
}
