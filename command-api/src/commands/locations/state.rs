//! A location's state, folded from its history, as location commands and every command
//! that names a location need it.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use events::business_day::business_date;
use events::event::LocationDetails;
use events::{DomainEvent, LocationId};
use eventstore::StoredEvent;

use crate::codes::ErrorCode;
use crate::commands::Fold;
use crate::error::ApiError;

/// What is known about a location from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocationState {
    /// Details, once opened.
    pub details: Option<LocationDetails>,
    /// When it was closed (the close event's time), if it was.
    pub closed_at: Option<DateTime<Utc>>,
    /// Stream sequence of the last event that opened, changed or closed it: the version in
    /// `ETag` / `If-Match` (closing a business day does not change it).
    pub version: u64,
    /// Business days a manager closed.
    pub closed_days: BTreeSet<NaiveDate>,
}

impl LocationState {
    /// Folds a location's history.
    pub fn fold(history: &[StoredEvent]) -> Self {
        let mut state = LocationState::default();
        for stored in history {
            match &stored.envelope.event {
                DomainEvent::LocationOpened(e) => state.details = Some(e.details.clone()),
                DomainEvent::LocationUpdated(e) => state.details = Some(e.details.clone()),
                DomainEvent::LocationClosed(_) => state.closed_at = Some(stored.envelope.occurred_at),
                DomainEvent::BusinessDayClosed(e) => {
                    state.closed_days.insert(e.business_date);
                    continue;
                }
                _ => continue,
            }
            state.version = stored.sequence;
        }
        state
    }

    /// Whether the location was opened.
    pub fn exists(&self) -> bool {
        self.details.is_some()
    }

    /// The location's details, if a command that happened at `at` may name it in `field`:
    /// it was opened, and not closed at or before `at`. A sale rung up before the close and
    /// uploaded after it (an offline till) is still recorded.
    pub fn usable(&self, field: &str, id: &LocationId, at: DateTime<Utc>) -> Result<&LocationDetails, ApiError> {
        let Some(details) = &self.details else {
            return Err(ApiError::Unusable {
                code: ErrorCode::UnknownLocation,
                field: field.to_owned(),
                message: format!("location {id} was never opened; open it with POST /v1/locations"),
            });
        };
        match self.closed_at {
            Some(closed) if closed <= at => Err(ApiError::Unusable {
                code: ErrorCode::LocationClosed,
                field: field.to_owned(),
                message: format!("location {id} was closed at {}", closed.to_rfc3339()),
            }),
            _ => Ok(details),
        }
    }

    /// The business day `at` belongs to there, by the location's current time zone and
    /// day start (see [`events::business_day`]).
    pub fn business_date(details: &LocationDetails, at: DateTime<Utc>) -> NaiveDate {
        business_date(at, details.time_zone, details.business_day_start)
    }
}

impl Fold for LocationState {
    fn fold(history: &[StoredEvent]) -> Self {
        LocationState::fold(history)
    }
}
