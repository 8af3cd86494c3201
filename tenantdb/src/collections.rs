//! The collections of a tenant database, named in one place, the prefix that turns them
//! into a replay's shadow copies ([`Target`]), and typed handles on them: `sales(&db)` is
//! a `Collection<SaleDoc>` of the live collections, `target.sales(&db)` the same for a
//! replay's shadow copies. Code outside this crate asks for a handle rather than naming a
//! collection.

use mongodb::{Collection, Database};

use crate::checkpoint::Checkpoint;
use crate::docs::{
    DailySalesDoc, DrawerSessionDoc, InventoryTransactionDoc, LocationDoc, ProductDoc, PromotionDoc, PurchaseOrderDoc,
    SaleDoc, SupplierDoc, UserDoc,
};

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
/// Stores and warehouses.
pub const LOCATIONS: &str = "locations";
/// Drawer sessions (cashiers' shifts).
pub const DRAWER_SESSIONS: &str = "drawer_sessions";
/// Promotions.
pub const PROMOTIONS: &str = "promotions";
/// Suppliers (vendors) and what they sell.
pub const SUPPLIERS: &str = "suppliers";
/// Purchase orders with what arrived of them.
pub const PURCHASE_ORDERS: &str = "purchase_orders";
/// The projection's checkpoint.
pub const CHECKPOINTS: &str = "checkpoints";
/// Events that could not be applied.
pub const PARKED: &str = "parked";
/// What each re-drive of a parked event did (one document per re-drive, by job id). Not
/// rebuilt by a replay: it is the operators' record, not a projection.
pub const REDRIVES: &str = "redrives";
/// Every read-model collection a replay rebuilds and compares.
pub const READ_MODEL: [&str; 10] = [
    PRODUCTS,
    SALES,
    INVENTORY_TRANSACTIONS,
    USERS,
    DAILY_SALES,
    LOCATIONS,
    DRAWER_SESSIONS,
    PROMOTIONS,
    SUPPLIERS,
    PURCHASE_ORDERS,
];
/// Everything a replay rebuilds and swaps in: the read model, its checkpoint and its
/// parked events.
pub const REBUILT: [&str; 12] = [
    PRODUCTS,
    SALES,
    INVENTORY_TRANSACTIONS,
    USERS,
    DAILY_SALES,
    LOCATIONS,
    DRAWER_SESSIONS,
    PROMOTIONS,
    SUPPLIERS,
    PURCHASE_ORDERS,
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

    /// This target's `products`.
    pub fn products(&self, db: &Database) -> Collection<ProductDoc> {
        db.collection(&self.name(PRODUCTS))
    }

    /// This target's `sales`.
    pub fn sales(&self, db: &Database) -> Collection<SaleDoc> {
        db.collection(&self.name(SALES))
    }

    /// This target's `inventorytransactions`.
    pub fn inventory_transactions(&self, db: &Database) -> Collection<InventoryTransactionDoc> {
        db.collection(&self.name(INVENTORY_TRANSACTIONS))
    }

    /// This target's `daily_sales`.
    pub fn daily_sales(&self, db: &Database) -> Collection<DailySalesDoc> {
        db.collection(&self.name(DAILY_SALES))
    }

    /// This target's `users`.
    pub fn users(&self, db: &Database) -> Collection<UserDoc> {
        db.collection(&self.name(USERS))
    }

    /// This target's `locations`.
    pub fn locations(&self, db: &Database) -> Collection<LocationDoc> {
        db.collection(&self.name(LOCATIONS))
    }

    /// This target's `drawer_sessions`.
    pub fn drawer_sessions(&self, db: &Database) -> Collection<DrawerSessionDoc> {
        db.collection(&self.name(DRAWER_SESSIONS))
    }

    /// This target's `promotions`.
    pub fn promotions(&self, db: &Database) -> Collection<PromotionDoc> {
        db.collection(&self.name(PROMOTIONS))
    }

    /// This target's `suppliers`.
    pub fn suppliers(&self, db: &Database) -> Collection<SupplierDoc> {
        db.collection(&self.name(SUPPLIERS))
    }

    /// This target's `purchase_orders`.
    pub fn purchase_orders(&self, db: &Database) -> Collection<PurchaseOrderDoc> {
        db.collection(&self.name(PURCHASE_ORDERS))
    }

    /// This target's `checkpoints` (read it with [`crate::checkpoint::read`]).
    pub fn checkpoints(&self, db: &Database) -> Collection<Checkpoint> {
        db.collection(&self.name(CHECKPOINTS))
    }
}

/// The live `products`.
pub fn products(db: &Database) -> Collection<ProductDoc> {
    Target::live().products(db)
}

/// The live `sales`.
pub fn sales(db: &Database) -> Collection<SaleDoc> {
    Target::live().sales(db)
}

/// The live `inventorytransactions`.
pub fn inventory_transactions(db: &Database) -> Collection<InventoryTransactionDoc> {
    Target::live().inventory_transactions(db)
}

/// The live `daily_sales`.
pub fn daily_sales(db: &Database) -> Collection<DailySalesDoc> {
    Target::live().daily_sales(db)
}

/// The live `users`.
pub fn users(db: &Database) -> Collection<UserDoc> {
    Target::live().users(db)
}

/// The live `locations`.
pub fn locations(db: &Database) -> Collection<LocationDoc> {
    Target::live().locations(db)
}

/// The live `drawer_sessions`.
pub fn drawer_sessions(db: &Database) -> Collection<DrawerSessionDoc> {
    Target::live().drawer_sessions(db)
}

/// The live `promotions`.
pub fn promotions(db: &Database) -> Collection<PromotionDoc> {
    Target::live().promotions(db)
}

/// The live `suppliers`.
pub fn suppliers(db: &Database) -> Collection<SupplierDoc> {
    Target::live().suppliers(db)
}

/// The live `purchase_orders`.
pub fn purchase_orders(db: &Database) -> Collection<PurchaseOrderDoc> {
    Target::live().purchase_orders(db)
}
