//! Roles as the API names them, ordered: cashier < manager < admin.

use std::fmt;

/// A user's role in their tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Rings up sales; looks products and stock up.
    Cashier,
    /// Also voids, refunds, reads reports and sales, changes the catalog and stock.
    Manager,
    /// Also manages locations, taxes and users.
    Admin,
}

impl Role {
    /// The role the API names `text`; unknown roles are the least.
    pub fn parse(text: &str) -> Self {
        match text {
            "admin" => Role::Admin,
            "manager" => Role::Manager,
            _ => Role::Cashier,
        }
    }

    /// The API's name.
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
    fn roles_are_ordered_and_unknown_ones_are_the_least() {
        assert!(Role::Cashier < Role::Manager && Role::Manager < Role::Admin);
        assert_eq!(Role::parse("admin"), Role::Admin);
        assert_eq!(Role::parse("superuser"), Role::Cashier);
    }
}
