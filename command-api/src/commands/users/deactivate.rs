//! Deactivating a user (admins): login and refresh stop at once, access tokens at the
//! next token re-check. Admins cannot deactivate themselves; a user is deactivated once.

use chrono::{DateTime, Utc};
use events::event::UserDeactivated;
use events::{DomainEvent, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::codes::ErrorCode;
use crate::commands::users::{UserState, login_record, project_login};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::identity::store::UserRecord;
use crate::state::AppState;

/// `POST /v1/users/{user_id}/deactivate`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateUser {
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

impl Command for DeactivateUser {
    const NAME: &'static str = "DeactivateUser";
    const ROUTE: Route = Route::post(
        "/v1/users/{user_id}/deactivate",
        "deactivate_user",
        "users",
        "Deactivate a user: login and refresh stop at once; access tokens at the next token re-check.",
    );
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
        format!("deactivate:{user_id}")
    }

    async fn load(&self, app: &AppState, user_id: &UserId, meta: &CommandMeta) -> Result<Option<UserRecord>, ApiError> {
        login_record(app, meta, user_id).await.map(Some)
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(decide(on.id, self, on.context.is_user(on.id), on.state)?.into())
    }

    async fn recorded(&self, app: &AppState, user_id: &UserId, meta: &CommandMeta) -> Result<(), ApiError> {
        project_login(app, meta, user_id).await
    }
}

/// Checks a deactivation.
pub fn decide(
    user_id: &UserId,
    command: &DeactivateUser,
    own: bool,
    state: &UserState,
) -> Result<UserDeactivated, ApiError> {
    fields::optional_text("reason", command.reason.as_deref())?;
    if own {
        return Err(ApiError::StateConflict {
            code: ErrorCode::OwnAccount,
            message: "admins cannot deactivate themselves".to_owned(),
        });
    }
    if state.deactivated {
        return Err(ApiError::StateConflict {
            code: ErrorCode::UserDeactivated,
            message: format!("user {user_id} is deactivated already"),
        });
    }
    Ok(UserDeactivated {
        user_id: user_id.clone(),
        reason: command.reason.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserId {
        UserId::parse("u-1").expect("a valid user id")
    }

    #[test]
    fn a_user_is_deactivated_once_and_never_by_themselves() {
        let command = DeactivateUser {
            reason: Some("left".to_owned()),
        };
        assert!(decide(&user(), &command, false, &UserState::default()).is_ok());
        let own = decide(&user(), &command, true, &UserState::default());
        assert!(matches!(
            own,
            Err(ApiError::StateConflict {
                code: ErrorCode::OwnAccount,
                ..
            })
        ));
        let again = UserState {
            deactivated: true,
            ..UserState::default()
        };
        assert!(matches!(
            decide(&user(), &command, false, &again),
            Err(ApiError::StateConflict {
                code: ErrorCode::UserDeactivated,
                ..
            })
        ));
    }
}
