//! The list of locations a caller is limited to (an API key's or a user's `locations`),
//! checked in one place for both: at most [`MAX_LIMITED_LOCATIONS`], each opened, sorted
//! and without repeats. What the limit then does is `execute::run`'s.

use std::sync::Arc;

use events::{LocationId, TenantId};

use crate::commands::locations::LocationState;
use crate::error::ApiError;
use crate::state::AppState;

/// Most locations one key or user may be limited to.
pub const MAX_LIMITED_LOCATIONS: usize = 100;

/// The field every refusal names.
const FIELD: &str = "locations";

/// The `locations` field of a request as written (an API key's, a webhook endpoint's):
/// at least one, each a valid id of a location opened in `tenant`; sorted, once each.
pub async fn named(app: &AppState, tenant: &TenantId, locations: Vec<String>) -> Result<Vec<String>, ApiError> {
    if locations.is_empty() {
        return Err(ApiError::invalid(
            FIELD,
            "name at least one location, or leave it out for every location",
        ));
    }
    let ids = locations
        .into_iter()
        .map(LocationId::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| ApiError::invalid(FIELD, err.to_string()))?;
    let opened = opened(app, tenant, &ids).await?;
    Ok(opened.iter().map(ToString::to_string).collect())
}

/// `locations`, sorted and without repeats, once each was checked to be opened in
/// `tenant`. An empty list stays empty (the caller decides what it means).
pub async fn opened(app: &AppState, tenant: &TenantId, locations: &[LocationId]) -> Result<Vec<LocationId>, ApiError> {
    if locations.len() > MAX_LIMITED_LOCATIONS {
        return Err(ApiError::invalid(
            FIELD,
            format!("name at most {MAX_LIMITED_LOCATIONS} locations"),
        ));
    }
    let sorted = sorted(locations);
    let states =
        futures::future::try_join_all(sorted.iter().map(|location| app.locations.get(tenant, location))).await?;
    check_opened(&sorted, &states)?;
    Ok(sorted)
}

/// `locations` sorted, once each: the form events and stored limits take.
pub fn sorted(locations: &[LocationId]) -> Vec<LocationId> {
    let mut sorted = locations.to_vec();
    sorted.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    sorted.dedup();
    sorted
}

/// 422 naming `locations` for the first of `locations` whose state (same order) says it
/// was never opened.
pub fn check_opened(locations: &[LocationId], states: &[Arc<LocationState>]) -> Result<(), ApiError> {
    match locations.iter().zip(states).find(|(_, state)| !state.exists()) {
        Some((location, _)) => Err(ApiError::invalid(
            FIELD,
            format!("location {location} was never opened"),
        )),
        None => Ok(()),
    }
}
