//! Inventory events: stock received, adjusted with a reason, counted, transferred. Each is
//! one stock movement with its own client-generated [`MovementId`], so a retried movement
//! is recognised by its subject alone. Quantities are whole units.

use serde::{Deserialize, Serialize};

use crate::event::catalog::Pack;
use crate::ids::{LocationId, MovementId, Sku};
use crate::money::Money;

/// Why stock was adjusted outside a sale, receipt, count or transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentReason {
    /// Dropped, broken, leaking.
    Breakage,
    /// Stolen or missing without explanation.
    Theft,
    /// Expired or spoiled.
    Spoilage,
    /// A correction of an earlier mistake.
    Correction,
    /// Opened for a tasting or given as a sample.
    Sample,
    /// Sent back to the supplier.
    ReturnToVendor,
    /// Anything else; the note says what.
    Other,
}

impl AdjustmentReason {
    /// Every reason, in a fixed order.
    pub const ALL: [AdjustmentReason; 7] = [
        AdjustmentReason::Breakage,
        AdjustmentReason::Theft,
        AdjustmentReason::Spoilage,
        AdjustmentReason::Correction,
        AdjustmentReason::Sample,
        AdjustmentReason::ReturnToVendor,
        AdjustmentReason::Other,
    ];

    /// The reason's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AdjustmentReason::Breakage => "breakage",
            AdjustmentReason::Theft => "theft",
            AdjustmentReason::Spoilage => "spoilage",
            AdjustmentReason::Correction => "correction",
            AdjustmentReason::Sample => "sample",
            AdjustmentReason::ReturnToVendor => "return_to_vendor",
            AdjustmentReason::Other => "other",
        }
    }
}

/// Goods arrived from a supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockReceived {
    /// The movement's id.
    pub movement_id: MovementId,
    /// The product received.
    pub sku: Sku,
    /// Where it was received.
    pub location: LocationId,
    /// Units received (> 0); packs when `pack` is present.
    pub quantity: i64,
    /// Cost of one unit (of one pack when `pack` is present).
    pub unit_cost: Money,
    /// Who delivered.
    pub supplier: String,
    /// Delivery note or purchase order number.
    pub reference: String,
    /// Set by the server when `sku` is a pack (a case of 24): the stock of
    /// `pack.base_sku` grows by `quantity × pack.units`. Absent for single products and
    /// on receipts recorded before packs existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<Pack>,
}

/// Stock changed for a reason other than a sale, receipt, count or transfer.
///
/// Version history: v1 had a free-text `reason`; v2 has an [`AdjustmentReason`] and an
/// optional note. See [`crate::upcast`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockAdjusted {
    /// The movement's id.
    pub movement_id: MovementId,
    /// The product.
    pub sku: Sku,
    /// Where.
    pub location: LocationId,
    /// Units added (positive) or removed (negative); never zero.
    pub quantity_delta: i64,
    /// Why.
    pub reason: AdjustmentReason,
    /// Free text for the audit trail.
    #[serde(default)]
    pub note: Option<String>,
}

/// A physical count established how many units are on the shelf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockCounted {
    /// The movement's id.
    pub movement_id: MovementId,
    /// The product.
    pub sku: Sku,
    /// Where.
    pub location: LocationId,
    /// Units found (>= 0); the read side records the difference as a count correction.
    pub counted_quantity: i64,
    /// Identifies the counting session (a stocktake), when there is one.
    #[serde(default)]
    pub count_session: Option<String>,
}

/// Units moved from one location to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockTransferred {
    /// The movement's id.
    pub movement_id: MovementId,
    /// The product.
    pub sku: Sku,
    /// Where the units left.
    pub from_location: LocationId,
    /// Where they arrived.
    pub to_location: LocationId,
    /// Units moved (> 0).
    pub quantity: i64,
    /// Transfer slip number.
    #[serde(default)]
    pub reference: Option<String>,
}
