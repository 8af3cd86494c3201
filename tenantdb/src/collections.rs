//! The collections of a tenant database, named in one place, and the prefix that turns
//! them into a replay's shadow copies.

/// Catalog and stock levels, by SKU.
pub const PRODUCTS: &str = "products";
/// One document per sale.
pub const SALES: &str = "sales";
/// One document per stock movement of one SKU at one location.
pub const INVENTORY_TRANSACTIONS: &str = "inventorytransactions";
/// The organization's users.
pub const USERS: &str = "users";
/// End-of-day figures per location and day.
pub const DAILY_SALES: &str = "daily_sales";
/// The projection's checkpoint.
pub const CHECKPOINTS: &str = "checkpoints";
/// Events that could not be applied.
pub const PARKED: &str = "parked";
/// Every read-model collection a replay rebuilds and compares.
pub const READ_MODEL: [&str; 5] = [PRODUCTS, SALES, INVENTORY_TRANSACTIONS, USERS, DAILY_SALES];
/// Everything a replay rebuilds and swaps in: the read model, its checkpoint and its
/// parked events.
pub const REBUILT: [&str; 7] = [
    PRODUCTS,
    SALES,
    INVENTORY_TRANSACTIONS,
    USERS,
    DAILY_SALES,
    CHECKPOINTS,
    PARKED,
];

/// Which physical collections a projection writes: the live ones (no prefix) or a
/// replay's shadow copies (`replay_products`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    prefix: String,
}

impl Target {
    /// The live collections.
    pub fn live() -> Self {
        Self::default()
    }

    /// Shadow collections named `<prefix><name>`.
    pub fn shadow(prefix: impl Into<String>) -> Self {
        Self { prefix: prefix.into() }
    }

    /// The physical name of the logical collection `name`.
    pub fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Whether these are the live collections.
    pub fn is_live(&self) -> bool {
        self.prefix.is_empty()
    }
}
