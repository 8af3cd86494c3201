//! Aggregates: the consistency boundaries events belong to.
//!
//! Each aggregate instance has its own subject (`pos.<tenant>.<kind>.<id>`), so the stream
//! can enforce optimistic concurrency and idempotency per instance with
//! `Nats-Expected-Last-Subject-Sequence`, and a reader can load one instance's history by
//! subject.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{
    self, DrawerSessionId, IdError, LocationId, MovementId, PromotionId, PurchaseOrderId, SaleId, Sku, SupplierId,
    UserId,
};
use crate::tax::JurisdictionId;

/// The kinds of aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AggregateKind {
    /// A catalog entry, keyed by SKU: registration, details, price, discontinuation.
    Product,
    /// One stock movement (a receipt, adjustment, count or transfer), keyed by the
    /// client-generated movement id. Movements are facts like sales: each is appended
    /// once and never changes, so each gets its own subject.
    Movement,
    /// One sale and what happened to it later: completion, void, refunds.
    Sale,
    /// A user of the organization: joined, role changes, deactivation.
    User,
    /// A store or warehouse: opened, details changed, closed.
    Location,
    /// A tax jurisdiction: its rates, deposits and rounding rule.
    Jurisdiction,
    /// A drawer session (a shift on one terminal's cash drawer): opened with a float,
    /// paid in, paid out, safe drops, closed with a count, over/short approved.
    Drawer,
    /// A tenant-wide setting (`settings.cash`: blind close, over/short threshold;
    /// `settings.sales`: the back-dating window).
    Settings,
    /// A supplier (vendor): registered, name and items changed.
    Supplier,
    /// A purchase order: drafted, submitted, deliveries received, closed or cancelled.
    PurchaseOrder,
    /// A product's replenishment rules (reorder point and par level per location),
    /// keyed by SKU: apart from the catalog entry, so setting them does not change the
    /// product's version (its `ETag`).
    Replenishment,
    /// A promotion: created, changed, ended (its rule, time window and locations).
    Promotion,
    /// Not an aggregate: operational markers (such as "swap in the rebuilt read model
    /// here") placed in a tenant's stream so the projector acts on them in stream order.
    /// They carry no event and are skipped by replays and exports.
    Control,
}

impl AggregateKind {
    /// Every kind, in a fixed order.
    pub const ALL: [AggregateKind; 13] = [
        AggregateKind::Product,
        AggregateKind::Movement,
        AggregateKind::Sale,
        AggregateKind::User,
        AggregateKind::Location,
        AggregateKind::Jurisdiction,
        AggregateKind::Drawer,
        AggregateKind::Settings,
        AggregateKind::Supplier,
        AggregateKind::PurchaseOrder,
        AggregateKind::Replenishment,
        AggregateKind::Promotion,
        AggregateKind::Control,
    ];

    /// The subject token for this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateKind::Product => "product",
            AggregateKind::Movement => "movement",
            AggregateKind::Sale => "sale",
            AggregateKind::User => "user",
            AggregateKind::Location => "location",
            AggregateKind::Jurisdiction => "jurisdiction",
            AggregateKind::Drawer => "drawer",
            AggregateKind::Settings => "settings",
            AggregateKind::Supplier => "supplier",
            AggregateKind::PurchaseOrder => "purchaseorder",
            AggregateKind::Replenishment => "replenishment",
            AggregateKind::Promotion => "promotion",
            AggregateKind::Control => "control",
        }
    }

    /// Parses a subject token.
    pub fn from_token(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == token)
    }
}

impl fmt::Display for AggregateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One aggregate instance: its kind and id. The id obeys the identifier rule of [`ids`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AggregateRef {
    /// What kind of aggregate this is.
    pub kind: AggregateKind,
    /// Its id within the tenant (SKU, sale id or user id).
    pub id: String,
}

impl AggregateRef {
    /// Builds a reference after checking the id is subject-safe.
    pub fn new(kind: AggregateKind, id: impl Into<String>) -> Result<Self, IdError> {
        let id = id.into();
        ids::validate(&id)?;
        Ok(Self { kind, id })
    }

    /// The catalog entry of `sku`.
    pub fn product(sku: &Sku) -> Self {
        Self {
            kind: AggregateKind::Product,
            id: sku.as_str().to_owned(),
        }
    }

    /// The stock movement `movement`.
    pub fn movement(movement: &MovementId) -> Self {
        Self {
            kind: AggregateKind::Movement,
            id: movement.as_str().to_owned(),
        }
    }

    /// The sale `sale`.
    pub fn sale(sale: &SaleId) -> Self {
        Self {
            kind: AggregateKind::Sale,
            id: sale.as_str().to_owned(),
        }
    }

    /// The user `user`.
    pub fn user(user: &UserId) -> Self {
        Self {
            kind: AggregateKind::User,
            id: user.as_str().to_owned(),
        }
    }

    /// The tax jurisdiction `jurisdiction` (its slug is a valid identifier).
    pub fn jurisdiction(jurisdiction: &JurisdictionId) -> Self {
        Self {
            kind: AggregateKind::Jurisdiction,
            id: jurisdiction.as_str().to_owned(),
        }
    }

    /// The drawer session `session`.
    pub fn drawer_session(session: &DrawerSessionId) -> Self {
        Self {
            kind: AggregateKind::Drawer,
            id: session.as_str().to_owned(),
        }
    }

    /// The tenant's cash settings (one aggregate, id `cash`).
    pub fn cash_settings() -> Self {
        Self {
            kind: AggregateKind::Settings,
            id: "cash".to_owned(),
        }
    }

    /// The tenant's sales settings (one aggregate, id `sales`).
    pub fn sales_settings() -> Self {
        Self {
            kind: AggregateKind::Settings,
            id: "sales".to_owned(),
        }
    }

    /// The supplier `supplier`.
    pub fn supplier(supplier: &SupplierId) -> Self {
        Self {
            kind: AggregateKind::Supplier,
            id: supplier.as_str().to_owned(),
        }
    }

    /// The purchase order `po`.
    pub fn purchase_order(po: &PurchaseOrderId) -> Self {
        Self {
            kind: AggregateKind::PurchaseOrder,
            id: po.as_str().to_owned(),
        }
    }

    /// The replenishment rules of `sku`.
    pub fn replenishment(sku: &Sku) -> Self {
        Self {
            kind: AggregateKind::Replenishment,
            id: sku.as_str().to_owned(),
        }
    }

    /// The promotion `promotion`.
    pub fn promotion(promotion: &PromotionId) -> Self {
        Self {
            kind: AggregateKind::Promotion,
            id: promotion.as_str().to_owned(),
        }
    }

    /// The location `location`.
    pub fn location(location: &LocationId) -> Self {
        Self {
            kind: AggregateKind::Location,
            id: location.as_str().to_owned(),
        }
    }
}

impl fmt::Display for AggregateRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.id)
    }
}
