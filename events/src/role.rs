//! The role a user holds in an organization, as carried in the JWT.
//!
//! Roles are ordered: a cashier sells; a manager also voids, refunds, receives and counts
//! stock and edits the catalog; an admin may do everything. [`Role::at_least`] is the one
//! check the API needs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A user's role, from least to most privileged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Rings up sales.
    Cashier,
    /// Runs the store: voids, refunds, stock and catalog.
    Manager,
    /// Owns the organization: everything, including users.
    Admin,
}

impl Role {
    /// Whether this role grants at least the rights of `required`.
    pub fn at_least(self, required: Role) -> bool {
        self >= required
    }

    /// The role's name as it appears in tokens and documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Cashier => "cashier",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_privilege() {
        assert!(Role::Admin.at_least(Role::Manager));
        assert!(Role::Manager.at_least(Role::Manager));
        assert!(!Role::Cashier.at_least(Role::Manager));
        assert!(!Role::Manager.at_least(Role::Admin));
    }

    #[test]
    fn roles_use_the_seed_names() {
        assert_eq!(
            serde_json::to_string(&Role::Cashier).ok().as_deref(),
            Some("\"cashier\"")
        );
        assert!(serde_json::from_str::<Role>("\"owner\"").is_err());
    }
}
