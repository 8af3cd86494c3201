//! Limiting a user to some locations (admins): a cashier of one store sells there and
//! nowhere else. The user's commands are then held to those locations like a limited API
//! key's (`execute::run`, 403 `location_forbidden`), from their next request after the
//! token re-check interval; terminals at other stores drop them at their next sync. An
//! empty list lifts the limit. Admins act at every location and cannot be limited.

use chrono::{DateTime, Utc};
use events::event::UserLocationsChanged;
use events::{DomainEvent, LocationId, Role, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::commands::locations::limits;
use crate::commands::users::{UserState, login_record, project_login};
use crate::commands::{Command, CommandMeta, Decision, Route};
use crate::error::ApiError;
use crate::identity::store::UserRecord;
use crate::state::AppState;

/// `PUT /v1/users/{user_id}/locations`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeLocations {
    /// The locations the user may act at from now on (opened locations of the tenant, at
    /// most 100); empty: every location.
    #[schema(value_type = Vec<String>)]
    pub locations: Vec<LocationId>,
}

/// What the decision needs: the user's login record, and the locations checked
/// ([`limits::opened`]: opened, sorted, once each).
#[derive(Debug, Default)]
pub struct Loaded {
    record: Option<UserRecord>,
    locations: Vec<LocationId>,
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
        // A user of another tenant is not found, whatever the locations.
        let record = login_record(app, meta, user_id).await?;
        let locations = limits::opened(app, &meta.context.tenant, &self.locations).await?;
        Ok(Loaded {
            record: Some(record),
            locations,
        })
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(decide(on.id, on.state, on.loaded)?.into())
    }

    async fn recorded(&self, app: &AppState, user_id: &UserId, meta: &CommandMeta) -> Result<(), ApiError> {
        project_login(app, meta, user_id).await
    }
}

/// Checks the change (the locations were checked when loaded): the user is not an admin
/// (by the events, else the login record).
fn decide(user_id: &UserId, state: &UserState, loaded: &Loaded) -> Result<UserLocationsChanged, ApiError> {
    let locations = loaded.locations.clone();
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
    use std::sync::Arc;

    use super::*;
    use crate::commands::locations::LocationState;

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
        let locations = [id("annex"), id("main")];
        assert_eq!(limits::sorted(&[id("main"), id("annex"), id("main")]), locations);
        assert!(limits::check_opened(&locations, &[opened(), opened()]).is_ok());
        let refused = limits::check_opened(&locations, &[opened(), Arc::default()]);
        assert!(
            matches!(refused, Err(ApiError::InvalidField { ref field, ref message })
            if field == "locations" && message.contains("main")),
            "{refused:?}"
        );
        let cashier = UserState {
            joined: true,
            role: Some(Role::Cashier),
            deactivated: false,
            locations: None,
            locations_since: None,
        };
        let both = Loaded {
            record: None,
            locations: locations.to_vec(),
        };
        let event = decide(&user, &cashier, &both).expect("a valid change");
        assert_eq!(event.locations, locations);
        let admin = UserState {
            role: Some(Role::Admin),
            ..cashier.clone()
        };
        assert!(decide(&user, &admin, &both).is_err());
        let event = decide(&user, &admin, &Loaded::default()).expect("an admin's list may be emptied");
        assert!(event.locations.is_empty());
    }
}
