//! A user's state, folded from the user's events.

use chrono::{DateTime, Utc};
use events::{DomainEvent, LocationId, Role};
use eventstore::StoredEvent;

use crate::commands::Fold;

/// What the user's events say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserState {
    /// Whether `UserJoined` is in the history. Users provisioned for tools and tests have
    /// a login record and no events; their commands still work against the record.
    pub joined: bool,
    /// The role the events give, if any event gives one.
    pub role: Option<Role>,
    /// Whether the user was deactivated (there is no reactivation).
    pub deactivated: bool,
    /// The locations the events give, if any event gives them (empty: every location).
    pub locations: Option<Vec<LocationId>>,
    /// When the last event giving them was recorded.
    pub locations_since: Option<DateTime<Utc>>,
}

impl Fold for UserState {
    fn fold(history: &[StoredEvent]) -> Self {
        let mut state = UserState::default();
        for stored in history {
            match &stored.envelope.event {
                DomainEvent::UserJoined(e) => {
                    state.joined = true;
                    state.role = Some(e.role);
                }
                DomainEvent::UserRoleChanged(e) => state.role = Some(e.role),
                DomainEvent::UserDeactivated(_) => state.deactivated = true,
                DomainEvent::UserLocationsChanged(e) => {
                    state.locations = Some(e.locations.clone());
                    state.locations_since = Some(stored.envelope.recorded_at);
                }
                _ => {}
            }
        }
        state
    }
}
