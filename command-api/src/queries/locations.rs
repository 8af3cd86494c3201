//! Locations: every store and warehouse of the tenant (readable by every role: terminals
//! need their store's time zone and currency).

use bson::doc;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::Database;
use serde::Serialize;
use tenantdb::collections;
use tenantdb::docs::{AddressDoc, ID, LocationDoc, LocationStatus};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::queries::document::rfc3339;

fn optional_rfc3339<S: serde::Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// A location, as `GET /v1/locations` and `GET /v1/locations/{location_id}` answer it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Location {
    /// The location id.
    pub id: String,
    /// Open or closed.
    pub status: LocationStatus,
    /// Name.
    pub name: String,
    /// Address.
    pub address: Option<AddressDoc>,
    /// IANA time zone.
    pub time_zone: String,
    /// Local `HH:MM` at which its business day begins.
    pub business_day_start: String,
    /// ISO 4217 currency it sells in.
    pub currency: String,
    /// Tax jurisdiction.
    pub tax_jurisdiction: Option<String>,
    /// Whether its shelf prices include the percentage taxes.
    pub prices_include_tax: bool,
    /// When it was opened.
    #[serde(serialize_with = "rfc3339")]
    pub opened_at: DateTime<Utc>,
    /// When it was closed.
    #[serde(serialize_with = "optional_rfc3339")]
    pub closed_at: Option<DateTime<Utc>>,
    /// The version to send in `If-Match` to change it.
    pub version: i64,
}

impl From<LocationDoc> for Location {
    fn from(doc: LocationDoc) -> Self {
        Self {
            id: doc.location_id,
            status: doc.status,
            name: doc.name,
            address: doc.address,
            time_zone: doc.time_zone,
            business_day_start: doc.business_day_start,
            currency: doc.currency,
            tax_jurisdiction: doc.tax_jurisdiction,
            prices_include_tax: doc.prices_include_tax,
            opened_at: doc.opened_at,
            closed_at: doc.closed_at,
            version: doc.version,
        }
    }
}

/// Every location, by id.
pub async fn list(db: &Database) -> Result<Vec<Location>, ApiError> {
    let docs: Vec<LocationDoc> = collections::locations(db)
        .find(doc! {})
        .sort(doc! {ID: 1})
        .await?
        .try_collect()
        .await?;
    Ok(docs.into_iter().map(Location::from).collect())
}

/// One location.
pub async fn location(db: &Database, id: &str) -> Result<Location, ApiError> {
    collections::locations(db)
        .find_one(doc! {ID: id})
        .await?
        .map(Location::from)
        .ok_or_else(|| ApiError::NotFound {
            resource: "location",
            id: id.to_owned(),
        })
}
