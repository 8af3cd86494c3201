//! User commands (admins): change a user's role or locations, deactivate a user.
//!
//! The event comes first: each command is decided against the user's folded events
//! ([`UserState`]) and appended to the user's subject, and only then is the login store
//! (`liquor_pos_main.users`, what login, refresh and the token check read) brought up to
//! date from the user's events ([`project_login`], the commands'
//! [`Command::recorded`](crate::commands::Command::recorded) hook). If that write fails,
//! the client gets a 5xx with the event kept; its retry is recognised, replays the first
//! answer and runs the hook again, which writes what the events say, so the two cannot
//! stay apart. Because the hook projects the events and not the command, a late retry of
//! an old change cannot set an old role back.
//!
//! Invitations and signups create users (`routes::auth`, `routes::users`): they write the
//! login store first, because the user id and password exist only there, then append
//! `UserJoined`.

pub mod change_locations;
pub mod change_role;
pub mod deactivate;
pub mod state;

pub use change_locations::ChangeLocations;
pub use change_role::ChangeRole;
pub use deactivate::DeactivateUser;
pub use state::UserState;

use bson::doc;
use events::{AggregateRef, UserId};

use crate::commands::{CommandMeta, Fold};
use crate::error::ApiError;
use crate::identity::store::UserRecord;
use crate::state::AppState;

/// The user's login record in the token's tenant, or 404 (a user of another tenant is
/// not found either).
pub async fn login_record(app: &AppState, meta: &CommandMeta, user_id: &UserId) -> Result<UserRecord, ApiError> {
    app.identity
        .store
        .existing_user(meta.context.tenant.as_str(), user_id.as_str())
        .await
}

/// Writes what the user's events say (role; locations; deactivation, which also revokes
/// their refresh tokens) into the login store.
pub async fn project_login(app: &AppState, meta: &CommandMeta, user_id: &UserId) -> Result<(), ApiError> {
    let history = app
        .store
        .history(&meta.context.tenant, &AggregateRef::user(user_id))
        .await?;
    let state = UserState::fold(&history);
    let store = &app.identity.store;
    let tenant = meta.context.tenant.as_str();
    if let Some(role) = state.role {
        store
            .set_user(tenant, user_id.as_str(), doc! {"role": role.as_str()})
            .await?;
    }
    if let Some(locations) = &state.locations {
        let locations: Vec<&str> = locations.iter().map(events::LocationId::as_str).collect();
        let since = state.locations_since.map(bson::DateTime::from_chrono);
        store
            .set_user(
                tenant,
                user_id.as_str(),
                doc! {"locations": locations, "locations_since": since},
            )
            .await?;
    }
    if state.deactivated {
        store.set_user(tenant, user_id.as_str(), doc! {"active": false}).await?;
        store.revoke_user(user_id.as_str()).await?;
    }
    Ok(())
}
