//! User events: someone joins the organization, changes role or locations, is deactivated. They belong
//! to the user aggregate and feed the tenant's `users` read model.

use serde::{Deserialize, Serialize};

use crate::ids::{LocationId, UserId};
use crate::role::Role;

/// A user became a member of the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserJoined {
    /// The user.
    pub user_id: UserId,
    /// Display name.
    pub name: String,
    /// Normalized email address (login name).
    pub email: String,
    /// Initial role.
    pub role: Role,
}

/// A user's role changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRoleChanged {
    /// The user.
    pub user_id: UserId,
    /// The role from now on.
    pub role: Role,
    /// The role before, for audit.
    #[serde(default)]
    pub previous_role: Option<Role>,
}

/// The locations a user may act at changed. Empty: every location (the default for a
/// user who never had any). Admins act at every location whatever it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserLocationsChanged {
    /// The user.
    pub user_id: UserId,
    /// The locations from now on, sorted, without repeats; empty: every location.
    pub locations: Vec<LocationId>,
}

/// A user may no longer sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDeactivated {
    /// The user.
    pub user_id: UserId,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}
