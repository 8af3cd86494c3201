//! Limiting a user to some locations (admins): a cashier of one store sells there and
//! nowhere else. The user's commands are then held to those locations like a limited API
//! key's (`execute::run`, 403 `location_forbidden`), from their next request after the
//! token re-check interval; terminals at other stores drop them at their next sync. An
//! empty list lifts the limit. Admins act at every location and cannot be limited.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::event::UserLocationsChanged;
use events::{DomainEvent, LocationId, Role, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::commands::locations::LocationState;
use crate::commands::users::{UserState, login_record, project_login};
use crate::commands::{Command, CommandMeta, Decision, Route};
use crate::error::ApiError;
use crate::identity::store::UserRecord;
use crate::state::AppState;

/// Most locations one user may be limited to.
pub const MAX_USER_LOCATIONS: usize = 100;

/// `PUT /v1/users/{user_id}/locations`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeLocations {
    /// The locations the user may act at from now on (opened locations of the tenant, at
    /// most 100); empty: every location.
    #[schema(value_type = Vec<String>)]
    pub locations: Vec<LocationId>,
}

/// What the decision needs: the user's login record and each named location's state.
#[derive(Debug, Default)]
pub struct Loaded {
    record: Option<UserRecord>,
    locations: Vec<Arc<LocationState>>,
}

impl ChangeLocations {
    /// The locations, sorted and without repeats.
    fn sorted(&self) -> Vec<LocationId> {
        let mut locations = self.locations.clone();
        locations.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        locations.dedup();
        locations
    }
}

impl Command for ChangeLocations {
    const NAME: &'static str = "ChangeLocations";
    const ROUTE: Route = Route::put(
        "/v1/users/{user_id}/locations",
        "change_user_locations",
        "users",
        "Limit a user to some locations (empty: every location); it applies from their next token re-check.",
    );
    const RETRY_ONLY_AS_LATEST: bool = true;
    type Role = Admin;
    type Target = UserId;
    type Id = UserId;
    type State = UserState;
    type Loaded = Loaded;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        None
    }

    fn id(&self, user_id: &UserId, _: Option<&str>) -> Result<UserId, ApiError> {
        Ok(user_id.clone())
    }

    fn natural_key(&self, user_id: &UserId) -> String {
        let locations: Vec<&str> = self.locations.iter().map(LocationId::as_str).collect();
        format!("locations:{user_id}:{}", locations.join(","))
    }

    async fn load(&self, app: &AppState, user_id: &UserId, meta: &CommandMeta) -> Result<Loaded, ApiError> {
        if self.locations.len() > MAX_USER_LOCATIONS {
            return Err(ApiError::invalid(
                "locations",
                format!("name at most {MAX_USER_LOCATIONS} locations, or none for every location"),
            ));
        }
        let record = login_record(app, meta, user_id).await?;
        let locations = futures::future::try_join_all(
            self.sorted()
                .into_iter()
                .map(|location| async move { app.locations.get(&meta.context.tenant, &location).await }),
        )
        .await?;
        Ok(Loaded {
            record: Some(record),
            locations,
        })
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(decide(on.id, self, on.state, on.loaded)?.into())
    }

    async fn recorded(&self, app: &AppState, user_id: &UserId, meta: &CommandMeta) -> Result<(), ApiError> {
        project_login(app, meta, user_id).await
    }
}

/// Checks the change: every location opened, and the user not an admin (by the events,
/// else the login record).
fn decide(
    user_id: &UserId,
    command: &ChangeLocations,
    state: &UserState,
    loaded: &Loaded,
) -> Result<UserLocationsChanged, ApiError> {
    let locations = command.sorted();
    for (location, loaded) in locations.iter().zip(&loaded.locations) {
        if !loaded.exists() {
            return Err(ApiError::invalid(
                "locations",
                format!("location {location} was never opened"),
            ));
        }
    }
    let role = state.role.or(loaded.record.as_ref().map(|record| record.role));
    if role == Some(Role::Admin) && !locations.is_empty() {
        return Err(ApiError::invalid(
            "locations",
            "admins act at every location; change the role first to limit this user",
        ));
    }
    Ok(UserLocationsChanged {
        user_id: user_id.clone(),
        locations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> LocationId {
        LocationId::parse(text).expect("a valid location id")
    }

    fn opened() -> Arc<LocationState> {
        Arc::new(LocationState {
            details: Some(
                serde_json::from_value(serde_json::json!({"name": "Main", "time_zone": "UTC",
                    "business_day_start": "00:00", "currency": "USD"}))
                .expect("details"),
            ),
            ..LocationState::default()
        })
    }

    #[test]
    fn locations_are_sorted_once_each_must_be_opened_and_admins_are_never_limited() {
        let user = UserId::parse("u-1").expect("a user id");
        let command = ChangeLocations {
            locations: vec![id("main"), id("annex"), id("main")],
        };
        let cashier = UserState {
            joined: true,
            role: Some(Role::Cashier),
            deactivated: false,
            locations: None,
            locations_since: None,
        };
        let both = Loaded {
            record: None,
            locations: vec![opened(), opened()],
        };
        let event = decide(&user, &command, &cashier, &both).expect("a valid change");
        assert_eq!(event.locations, [id("annex"), id("main")]);
        let unopened = Loaded {
            record: None,
            locations: vec![opened(), Arc::default()],
        };
        let refused = decide(&user, &command, &cashier, &unopened);
        assert!(
            matches!(refused, Err(ApiError::InvalidField { ref field, .. }) if field == "locations"),
            "{refused:?}"
        );
        let admin = UserState {
            role: Some(Role::Admin),
            ..cashier.clone()
        };
        assert!(decide(&user, &command, &admin, &both).is_err());
        let lift = ChangeLocations { locations: vec![] };
        let event = decide(&user, &lift, &admin, &Loaded::default()).expect("an admin's list may be emptied");
        assert!(event.locations.is_empty());
    }
}
