//! Location commands (admin): open, update, close a store or warehouse.
//!
//! Every command that names a location (sales, refunds, stock movements) checks it through
//! [`crate::folded::Folded`]: an unknown location or one closed before the
//! command happened is a 422. Sales take their business day from the location here, so
//! the projector never needs to know a time zone.
//!
//! Changes carry `If-Match` with the version the admin saw, as catalog changes do.
//!
//! # Layout
//! - [`open`]: a new location, [`OpenLocation`].
//! - [`update`]: [`UpdateLocation`], new details.
//! - [`close`]: the end of a location, [`CloseLocation`].
//! - [`close_day`]: the end of one business day, [`CloseBusinessDay`] (manager).
//! - [`state`]: [`LocationState`], a location folded from its history.
//! - [`limits`]: the locations a key or user is limited to, checked.

pub mod close;
pub mod close_day;
pub mod limits;
pub mod open;
pub mod state;
pub mod update;

pub use close::CloseLocation;
pub use close_day::CloseBusinessDay;
pub use open::OpenLocation;
pub use state::LocationState;
pub use update::UpdateLocation;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use events::event::{Address, LocationDetails};
use events::tax::JurisdictionId;
use events::{AggregateRef, Currency, DayStart, DomainEvent, LocationId, SaleId, TimeZoneName};
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::codes::ErrorCode;
use crate::commands::{CommandMeta, LocationVersion, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// A postal address, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
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
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "US")]
    pub country: String,
}

/// Everything about a location but its id, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationDetailsInput {
    /// Name on receipts, screens and reports.
    pub name: String,
    /// Where it is.
    #[serde(default)]
    pub address: Option<AddressInput>,
    /// IANA time zone of the store's clock.
    #[schema(value_type = String, example = "America/New_York")]
    pub time_zone: TimeZoneName,
    /// Local time `HH:MM` at which the business day begins; sales before it belong to the
    /// day before. Default `00:00`.
    #[serde(default = "midnight")]
    #[schema(value_type = String, example = "04:00")]
    pub business_day_start: DayStart,
    /// ISO 4217 currency the store sells in.
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    /// Tax jurisdiction whose rates and deposits apply.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "us-ny")]
    pub tax_jurisdiction: Option<JurisdictionId>,
    /// Whether shelf prices include the percentage taxes (VAT-style). Default false.
    #[serde(default)]
    pub prices_include_tax: bool,
}

fn midnight() -> DayStart {
    DayStart::MIDNIGHT
}

/// Checks the details and builds them as the events carry them.
pub fn details(input: &LocationDetailsInput) -> Result<LocationDetails, ApiError> {
    fields::text("details.name", &input.name)?;
    let address = match &input.address {
        None => None,
        Some(a) => {
            fields::text("details.address.line1", &a.line1)?;
            fields::optional_text("details.address.line2", a.line2.as_deref())?;
            fields::text("details.address.city", &a.city)?;
            fields::optional_text("details.address.region", a.region.as_deref())?;
            fields::optional_text("details.address.postal_code", a.postal_code.as_deref())?;
            if a.country.len() != 2 || !a.country.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(ApiError::invalid(
                    "details.address.country",
                    "must be an ISO 3166-1 alpha-2 code such as US",
                ));
            }
            Some(Address {
                line1: a.line1.clone(),
                line2: a.line2.clone(),
                city: a.city.clone(),
                region: a.region.clone(),
                postal_code: a.postal_code.clone(),
                country: a.country.clone(),
            })
        }
    };
    Ok(LocationDetails {
        name: input.name.clone(),
        address,
        time_zone: input.time_zone,
        business_day_start: input.business_day_start,
        currency: input.currency,
        tax_jurisdiction: input.tax_jurisdiction.clone(),
        prices_include_tax: input.prices_include_tax,
    })
}

/// Refuses a change of a location that was never opened (404) or is closed (409).
pub fn existing(location: &LocationId, state: &LocationState) -> Result<(), ApiError> {
    if !state.exists() {
        return Err(ApiError::NotFound {
            resource: "location",
            id: location.to_string(),
        });
    }
    if state.closed_at.is_some() {
        return Err(ApiError::StateConflict {
            code: ErrorCode::LocationClosed,
            message: format!("location {location} is closed"),
        });
    }
    Ok(())
}

/// The expectation for a change made against version `If-Match`: the location exists and
/// that version is still its details' version; the append then expects the last event
/// seen (a business day closed since the client read the location does not make its
/// change stale).
pub fn expect_version(
    target: &LocationVersion,
    state: &LocationState,
    history: &[StoredEvent],
) -> Result<Expected, ApiError> {
    crate::commands::expect_version("location", &target.id, state.exists(), state.version, target.version)?;
    Ok(crate::execute::after(history))
}

/// The business day of a command that happened at `at` and names `location` in `field`,
/// after checking that it may name it (opened, not closed before `at`).
pub fn business_date_at(
    state: &LocationState,
    field: &str,
    location: &LocationId,
    at: DateTime<Utc>,
) -> Result<NaiveDate, ApiError> {
    let details = state.usable(field, location, at)?;
    Ok(LocationState::business_date(details, at))
}

/// The location a sale was rung up at, from the sale's own history (`None` for a sale
/// that does not exist; the command then answers 404 by its own rules).
pub async fn of_sale(app: &AppState, meta: &CommandMeta, sale: &SaleId) -> Result<Option<LocationId>, ApiError> {
    let history = app
        .store
        .history(&meta.context.tenant, &AggregateRef::sale(sale))
        .await?;
    Ok(history.iter().find_map(|stored| match &stored.envelope.event {
        DomainEvent::SaleCompleted(e) => Some(e.location.clone()),
        _ => None,
    }))
}

/// The state of `location`, or of nothing (never opened) when `None`.
pub async fn load(
    app: &AppState,
    meta: &CommandMeta,
    location: Option<&LocationId>,
) -> Result<Arc<LocationState>, ApiError> {
    match location {
        Some(location) => app.locations.get(&meta.context.tenant, location).await,
        None => Ok(Arc::default()),
    }
}

/// After any location command: forget the cached location.
pub async fn invalidate(app: &AppState, meta: &CommandMeta, location: &LocationId) {
    app.locations.invalidate(&meta.context.tenant, location);
}
