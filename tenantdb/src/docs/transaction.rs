//! One stock movement of one SKU at one location (`inventorytransactions`).

use bson::serde_helpers::chrono_datetime_as_bson_datetime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What moved the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    /// Sold.
    Sale,
    /// Back on the shelf because its sale was voided.
    Void,
    /// Back on the shelf after a refund with restock.
    Refund,
    /// Goods received.
    Receipt,
    /// A manual adjustment (breakage, theft, ...).
    Adjustment,
    /// A stock count set the level.
    CountCorrection,
    /// Sent to another location.
    TransferOut,
    /// Received from another location.
    TransferIn,
}

impl TransactionKind {
    /// Every kind.
    pub const ALL: [TransactionKind; 8] = [
        Self::Sale,
        Self::Void,
        Self::Refund,
        Self::Receipt,
        Self::Adjustment,
        Self::CountCorrection,
        Self::TransferOut,
        Self::TransferIn,
    ];

    /// The stored string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sale => "sale",
            Self::Void => "void",
            Self::Refund => "refund",
            Self::Receipt => "receipt",
            Self::Adjustment => "adjustment",
            Self::CountCorrection => "count_correction",
            Self::TransferOut => "transfer_out",
            Self::TransferIn => "transfer_in",
        }
    }
}

/// One stock movement of one SKU at one location (`inventorytransactions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryTransactionDoc {
    /// `<sequence, 20 digits>:<index, 2 digits>`: unique and in stream order.
    #[serde(rename = "_id")]
    pub id: String,
    /// What moved the stock.
    pub kind: TransactionKind,
    /// Product.
    pub sku: String,
    /// Location.
    pub location: String,
    /// Change in units (negative when stock leaves).
    pub quantity: i64,
    /// Units on hand before.
    pub quantity_before: i64,
    /// Units on hand after.
    pub quantity_after: i64,
    /// The sale, refund or movement behind it.
    pub reference: String,
    /// Why, for adjustments.
    pub reason: Option<String>,
    /// When it happened.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub occurred_at: DateTime<Utc>,
    /// The event's id.
    pub event_id: String,
    /// The event's stream sequence.
    pub sequence: i64,
    /// Change in the stock's value at moving average cost, minor units (negative when
    /// stock leaves); the inventory valuation at a date is the sum of these up to it.
    #[serde(default)]
    pub value_minor: i64,
}

impl InventoryTransactionDoc {
    /// Field `kind`.
    pub const KIND: &'static str = "kind";
    /// Field `value_minor`.
    pub const VALUE_MINOR: &'static str = "value_minor";
    /// Field `quantity`.
    pub const QUANTITY: &'static str = "quantity";
    /// Field `sku`.
    pub const SKU: &'static str = "sku";
    /// Field `location`.
    pub const LOCATION: &'static str = "location";
    /// Field `occurred_at`.
    pub const OCCURRED_AT: &'static str = "occurred_at";
}
