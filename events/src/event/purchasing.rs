//! Purchasing events: suppliers and what they sell, purchase orders from draft to closed
//! (or cancelled), deliveries received against them, and per-location reorder levels.
//!
//! A purchase order is its own aggregate (`purchaseorder.<po_id>`), so every change of it
//! is decided against its whole history. The events carry what the read side needs to
//! apply them without that history: a receipt says how many units went on the shelf and
//! what they cost; submitting, receiving, closing and cancelling say how many units stop
//! (or start) being "on order" at the order's location.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{LocationId, MovementId, PurchaseOrderId, Sku, SupplierId};
use crate::money::Money;

/// One product a supplier sells, in the pack it sells it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SupplierItem {
    /// Our product.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sku: Sku,
    /// The supplier's own code for it (what goes on the order).
    pub supplier_code: String,
    /// Units in one case (the pack the supplier sells; 1 for single units).
    pub case_size: i64,
    /// What one case costs.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub case_cost: Money,
    /// Days from order to delivery.
    pub lead_time_days: i64,
    /// The catalog's pack SKU that is this case (then `sku` is the pack's base and
    /// `case_size` its units), when the supplier item is linked to one. Absent on items
    /// recorded before the link existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub pack_sku: Option<Sku>,
}

/// A supplier was registered with what it sells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplierRegistered {
    /// The supplier.
    pub supplier_id: SupplierId,
    /// Display name.
    pub name: String,
    /// What it sells.
    pub items: Vec<SupplierItem>,
}

/// A supplier's name or items changed: `items` is the whole new list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplierUpdated {
    /// The supplier.
    pub supplier_id: SupplierId,
    /// Display name.
    pub name: String,
    /// Everything it sells now.
    pub items: Vec<SupplierItem>,
    /// SKUs it sold before and no longer does (so the read side can drop them without the
    /// supplier's history).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<Sku>,
}

/// Where a purchase order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PurchaseOrderStatus {
    /// Being written; not sent to the supplier; nothing is on order.
    Draft,
    /// Sent to the supplier; its units are on order.
    Submitted,
    /// Some deliveries arrived; some cases are still outstanding.
    PartiallyReceived,
    /// Every line was delivered in full (or more).
    Received,
    /// Finished: nothing more is expected (short deliveries are written off).
    Closed,
    /// Called off before anything arrived.
    Cancelled,
}

impl PurchaseOrderStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::PartiallyReceived => "partially_received",
            Self::Received => "received",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One line of a purchase order, in cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderLine {
    /// Line number from 1.
    pub line_no: u32,
    /// Our product.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sku: Sku,
    /// The supplier's code for it.
    pub supplier_code: String,
    /// Cases ordered (> 0).
    pub cases: i64,
    /// Units per case when ordered.
    pub case_size: i64,
    /// Cost of one case when ordered.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub case_cost: Money,
    /// The catalog pack that is one case of this line, when the supplier item is linked to
    /// one (stock still moves in units of `sku`, the pack's base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub pack_sku: Option<Sku>,
}

/// Units of a SKU that start or stop being on order at the order's location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OnOrderUnits {
    /// The product.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sku: Sku,
    /// Units (> 0).
    pub units: i64,
}

/// A purchase order was written (status draft).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderDrafted {
    /// The order.
    pub po_id: PurchaseOrderId,
    /// Who it is from.
    pub supplier_id: SupplierId,
    /// Where the goods are to be delivered.
    pub location: LocationId,
    /// What is ordered.
    pub lines: Vec<PurchaseOrderLine>,
    /// When delivery is expected, if said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_on: Option<NaiveDate>,
}

/// A purchase order was sent to the supplier: its units are on order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderSubmitted {
    /// The order.
    pub po_id: PurchaseOrderId,
    /// Its delivery location.
    pub location: LocationId,
    /// The units now on order, per SKU.
    pub on_order: Vec<OnOrderUnits>,
}

/// One line of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceivedLine {
    /// The order line.
    pub line_no: u32,
    /// Its product.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sku: Sku,
    /// Cases delivered, damaged ones included.
    pub cases_received: i64,
    /// Of those, cases refused as damaged: they count as delivered against the order (the
    /// supplier credits them) but never reach the shelf.
    pub cases_damaged: i64,
    /// Cases delivered beyond what was still outstanding on the line.
    pub cases_over: i64,
    /// Units put on the shelf: `(cases_received - cases_damaged) × case_size`.
    pub units_accepted: i64,
    /// What the accepted units cost: `(cases_received - cases_damaged) × case_cost`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub value: Money,
    /// Units that stop being on order: the outstanding cases this delivery covered ×
    /// case size.
    pub on_order_released: i64,
}

/// A delivery arrived against a purchase order: stock went up at the order's location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderReceived {
    /// The order.
    pub po_id: PurchaseOrderId,
    /// This delivery (the stock movements' reference).
    pub receipt_id: MovementId,
    /// Who delivered.
    pub supplier_id: SupplierId,
    /// Where.
    pub location: LocationId,
    /// What arrived, per order line.
    pub lines: Vec<ReceivedLine>,
    /// The order's status after this delivery.
    pub status: PurchaseOrderStatus,
    /// The delivery note, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A purchase order was finished: whatever was still outstanding is no longer expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderClosed {
    /// The order.
    pub po_id: PurchaseOrderId,
    /// Its delivery location.
    pub location: LocationId,
    /// Units that stop being on order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub released: Vec<OnOrderUnits>,
}

/// A purchase order was called off before anything arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderCancelled {
    /// The order.
    pub po_id: PurchaseOrderId,
    /// Its delivery location.
    pub location: LocationId,
    /// Why.
    pub reason: String,
    /// Units that stop being on order (none for a draft).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub released: Vec<OnOrderUnits>,
}

/// A product's reorder point and par level at one location were set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReorderLevelsChanged {
    /// The product.
    pub sku: Sku,
    /// The store.
    pub location: LocationId,
    /// At or below this many units (on hand plus on order) it is time to reorder.
    pub reorder_point: i64,
    /// The level an order should bring it back up to.
    pub par_level: i64,
}
