//! Changing a user's role (admins). Admins cannot demote themselves.

use chrono::{DateTime, Utc};
use events::event::UserRoleChanged;
use events::{DomainEvent, Role, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::codes::ErrorCode;
use crate::commands::users::{UserState, login_record, project_login};
use crate::commands::{Command, CommandMeta, Decision, Route};
use crate::error::ApiError;
use crate::identity::store::UserRecord;
use crate::state::AppState;

/// `PUT /v1/users/{user_id}/role`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    /// The new role: `admin`, `manager` or `cashier`.
    #[schema(value_type = String)]
    pub role: Role,
}

impl Command for ChangeRole {
    const NAME: &'static str = "ChangeRole";
    const ROUTE: Route = Route::put(
        "/v1/users/{user_id}/role",
        "change_role",
        "users",
        "Change a user's role; it applies to their next token (at most the token re-check interval).",
    );
    const RETRY_ONLY_AS_LATEST: bool = true;
    type Role = Admin;
    type Target = UserId;
    type Id = UserId;
    type State = UserState;
    /// The user's login record (404 when there is none in the tenant).
    type Loaded = Option<UserRecord>;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        None
    }

    fn id(&self, user_id: &UserId, _: Option<&str>) -> Result<UserId, ApiError> {
        Ok(user_id.clone())
    }

    fn natural_key(&self, user_id: &UserId) -> String {
        format!("role:{user_id}:{}", self.role)
    }

    async fn load(&self, app: &AppState, user_id: &UserId, meta: &CommandMeta) -> Result<Option<UserRecord>, ApiError> {
        login_record(app, meta, user_id).await.map(Some)
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(decide(on.id, self, on.context.is_user(on.id), on.state, on.loaded.as_ref())?.into())
    }

    async fn recorded(&self, app: &AppState, user_id: &UserId, meta: &CommandMeta) -> Result<(), ApiError> {
        project_login(app, meta, user_id).await
    }
}

/// Checks a role change: an admin's own role stays admin. The previous role is what the
/// events say, else what the login record says.
pub fn decide(
    user_id: &UserId,
    command: &ChangeRole,
    own: bool,
    state: &UserState,
    record: Option<&UserRecord>,
) -> Result<UserRoleChanged, ApiError> {
    if own && command.role != Role::Admin {
        return Err(ApiError::StateConflict {
            code: ErrorCode::OwnRole,
            message: "admins cannot demote themselves; ask another admin".to_owned(),
        });
    }
    Ok(UserRoleChanged {
        user_id: user_id.clone(),
        role: command.role,
        previous_role: state.role.or(record.map(|r| r.role)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserId {
        UserId::parse("u-1").expect("a valid user id")
    }

    #[test]
    fn admins_cannot_demote_themselves_but_may_stay_admin() {
        let demote = ChangeRole { role: Role::Manager };
        let refused = decide(&user(), &demote, true, &UserState::default(), None);
        assert!(matches!(
            refused,
            Err(ApiError::StateConflict {
                code: ErrorCode::OwnRole,
                ..
            })
        ));
        let stay = ChangeRole { role: Role::Admin };
        assert!(decide(&user(), &stay, true, &UserState::default(), None).is_ok());
    }

    #[test]
    fn the_previous_role_comes_from_the_events_first() {
        let state = UserState {
            joined: true,
            role: Some(Role::Cashier),
            deactivated: false,
            locations: None,
            locations_since: None,
        };
        let event = decide(&user(), &ChangeRole { role: Role::Manager }, false, &state, None)
            .expect("a change of someone else's role");
        assert_eq!((event.role, event.previous_role), (Role::Manager, Some(Role::Cashier)));
    }
}
