//! User events: someone joins the organization, changes role, is deactivated. They belong
//! to the user aggregate and feed the tenant's `users` read model.

use serde::{Deserialize, Serialize};

use crate::ids::UserId;
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
