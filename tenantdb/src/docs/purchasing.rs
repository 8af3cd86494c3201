//! Suppliers (`suppliers`) and purchase orders (`purchase_orders`), as their events
//! describe them: the lists and the reads of the purchasing API and the back office.
//!
//! Commands that must decide on an order's exact state (submit, receive, close, cancel)
//! still fold the order's own history; these documents serve reads.

use bson::serde_helpers::chrono_datetime_as_bson_datetime;
use chrono::{DateTime, Utc};
use events::event::PurchaseOrderStatus;
use serde::{Deserialize, Serialize};

use super::product::MoneyDoc;

/// One product a supplier sells, in the case it sells it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierLineDoc {
    /// Our product (the base SKU whose stock a delivery raises).
    pub sku: String,
    /// The supplier's own code for it.
    pub supplier_code: String,
    /// Units of `sku` in one case.
    pub case_size: i64,
    /// Cost of one case.
    pub case_cost: MoneyDoc,
    /// Days from order to delivery.
    pub lead_time_days: i64,
    /// The catalog's pack SKU that is this case, when the supplier item is linked to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_sku: Option<String>,
}

/// A supplier (`suppliers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierDoc {
    /// The supplier id.
    #[serde(rename = "_id")]
    pub supplier_id: String,
    /// Display name.
    pub name: String,
    /// What it sells now, in the order its last event listed them.
    pub items: Vec<SupplierLineDoc>,
    /// When it was registered.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub registered_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub updated_at: DateTime<Utc>,
    /// Stream sequence of its last event (what `If-Match` compares).
    pub version: i64,
    /// Stream sequence of the last event applied to this document.
    pub last_seq: i64,
}

impl SupplierDoc {
    /// Field `name`.
    pub const NAME: &'static str = "name";
}

/// One order line with what arrived of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderLineDoc {
    /// Line number from 1.
    pub line_no: i64,
    /// The product.
    pub sku: String,
    /// The supplier's code for it.
    pub supplier_code: String,
    /// Cases ordered.
    pub cases: i64,
    /// Units per case when ordered.
    pub case_size: i64,
    /// Cost of one case when ordered.
    pub case_cost: MoneyDoc,
    /// The catalog pack that is one case, when the supplier item was linked to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_sku: Option<String>,
    /// Cases delivered so far, damaged ones included.
    pub cases_delivered: i64,
    /// Of those, damaged.
    pub cases_damaged: i64,
    /// Cases delivered beyond what was outstanding.
    pub cases_over: i64,
    /// Units put on the shelf.
    pub units_accepted: i64,
}

impl PurchaseOrderLineDoc {
    /// Cases still expected (0 once delivered in full or more).
    pub fn outstanding(&self) -> i64 {
        (self.cases - self.cases_delivered).max(0)
    }
}

/// One delivery received against an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseReceiptDoc {
    /// The delivery's id (the stock movements' reference).
    pub receipt_id: String,
    /// The delivery note, if any.
    #[serde(default)]
    pub reference: Option<String>,
    /// Cases delivered, damaged ones included, over all lines.
    pub cases_received: i64,
    /// Of those, damaged.
    pub cases_damaged: i64,
    /// Units put on the shelf.
    pub units_accepted: i64,
    /// When it arrived.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub received_at: DateTime<Utc>,
}

/// A purchase order (`purchase_orders`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderDoc {
    /// The order id.
    #[serde(rename = "_id")]
    pub po_id: String,
    /// Who it is from.
    pub supplier_id: String,
    /// Where the goods are delivered.
    pub location: String,
    /// Where it stands.
    pub status: PurchaseOrderStatus,
    /// When delivery is expected (`YYYY-MM-DD`), if said.
    #[serde(default)]
    pub expected_on: Option<String>,
    /// Its lines with what arrived of each.
    pub lines: Vec<PurchaseOrderLineDoc>,
    /// Its deliveries, in order.
    pub receipts: Vec<PurchaseReceiptDoc>,
    /// Why it was cancelled.
    #[serde(default)]
    pub cancel_reason: Option<String>,
    /// When it was drafted.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub drafted_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub updated_at: DateTime<Utc>,
    /// Stream sequence of its last event.
    pub version: i64,
    /// Stream sequence of the last event applied to this document.
    pub last_seq: i64,
}

impl PurchaseOrderDoc {
    /// Field `supplier_id`.
    pub const SUPPLIER_ID: &'static str = "supplier_id";
    /// Field `location`.
    pub const LOCATION: &'static str = "location";
    /// Field `status`.
    pub const STATUS: &'static str = "status";
}
