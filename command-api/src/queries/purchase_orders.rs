//! Suppliers and purchase orders, read from their read-model collections (`suppliers`,
//! `purchase_orders`): the paged lists and one of each.
//!
//! Commands that decide on an order's exact state (receive, close, cancel) fold its own
//! history instead (`commands::purchasing::load_order`); these views lag the stream like
//! every read, so clients pass `min_sequence` for read-your-writes.

use bson::{Document, doc};
use chrono::{DateTime, Utc};
use events::event::PurchaseOrderStatus;
use mongodb::Database;
use serde::{Deserialize, Serialize};
use tenantdb::collections;
use tenantdb::docs::{ID, PurchaseOrderDoc, PurchaseOrderLineDoc, PurchaseReceiptDoc, SupplierDoc, SupplierLineDoc};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::queries::document::rfc3339;
use crate::queries::page::{self, Page, list};

/// Paging of `GET /v1/suppliers`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SupplierListQuery {
    /// Page size (1 to 500, default 50).
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One product a supplier sells, as the supplier routes answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SupplierItemView {
    /// Our product (the base SKU whose stock a delivery raises).
    pub sku: String,
    /// The supplier's own code for it.
    pub supplier_code: String,
    /// Units of `sku` in one case.
    pub case_size: i64,
    /// Cost of one case, minor units.
    pub case_cost_minor: i64,
    /// ISO 4217 currency of the case cost.
    pub currency: String,
    /// Days from order to delivery.
    pub lead_time_days: i64,
    /// The catalog's pack SKU that is this case, if linked.
    pub pack_sku: Option<String>,
}

impl From<SupplierLineDoc> for SupplierItemView {
    fn from(line: SupplierLineDoc) -> Self {
        Self {
            sku: line.sku,
            supplier_code: line.supplier_code,
            case_size: line.case_size,
            case_cost_minor: line.case_cost.amount_minor,
            currency: line.case_cost.currency,
            lead_time_days: line.lead_time_days,
            pack_sku: line.pack_sku,
        }
    }
}

/// A supplier, as `GET /v1/suppliers` and `GET /v1/suppliers/{supplier_id}` answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Supplier {
    /// The supplier id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What it sells.
    pub items: Vec<SupplierItemView>,
    /// When it was registered.
    #[serde(serialize_with = "rfc3339")]
    pub registered_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// Stream sequence of its last event.
    pub version: i64,
}

impl From<SupplierDoc> for Supplier {
    fn from(doc: SupplierDoc) -> Self {
        Self {
            id: doc.supplier_id,
            name: doc.name,
            items: doc.items.into_iter().map(SupplierItemView::from).collect(),
            registered_at: doc.registered_at,
            updated_at: doc.updated_at,
            version: doc.version,
        }
    }
}

/// Filters of `GET /v1/purchase-orders`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderListQuery {
    /// Only orders delivered to this location. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
    /// Only orders in this status.
    #[param(value_type = Option<PurchaseOrderStatus>, inline)]
    pub status: Option<String>,
    /// Only orders from this supplier.
    pub supplier: Option<String>,
    /// Page size (1 to 500, default 50).
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One line of a purchase order with what arrived of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PurchaseOrderLineView {
    /// Line number from 1.
    pub line_no: i64,
    /// The product.
    pub sku: String,
    /// The supplier's code for it.
    pub supplier_code: String,
    /// Cases ordered.
    pub cases: i64,
    /// Units per case.
    pub case_size: i64,
    /// Cost of one case, minor units.
    pub case_cost_minor: i64,
    /// ISO 4217 currency of the case cost.
    pub currency: String,
    /// The catalog pack that is one case, if the supplier item was linked to one.
    pub pack_sku: Option<String>,
    /// Cases delivered so far, damaged ones included.
    pub cases_delivered: i64,
    /// Of those, damaged.
    pub cases_damaged: i64,
    /// Cases delivered beyond what was outstanding.
    pub cases_over: i64,
    /// Cases still expected (0 once delivered in full or more).
    pub cases_outstanding: i64,
    /// Units put on the shelf.
    pub units_accepted: i64,
}

impl From<PurchaseOrderLineDoc> for PurchaseOrderLineView {
    fn from(line: PurchaseOrderLineDoc) -> Self {
        Self {
            cases_outstanding: line.outstanding(),
            line_no: line.line_no,
            sku: line.sku,
            supplier_code: line.supplier_code,
            cases: line.cases,
            case_size: line.case_size,
            case_cost_minor: line.case_cost.amount_minor,
            currency: line.case_cost.currency,
            pack_sku: line.pack_sku,
            cases_delivered: line.cases_delivered,
            cases_damaged: line.cases_damaged,
            cases_over: line.cases_over,
            units_accepted: line.units_accepted,
        }
    }
}

/// One delivery received against an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeliveryView {
    /// The delivery's id (the stock movements' reference).
    pub receipt_id: String,
    /// The delivery note, if any.
    pub reference: Option<String>,
    /// Cases delivered, damaged ones included, over all lines.
    pub cases_received: i64,
    /// Of those, damaged.
    pub cases_damaged: i64,
    /// Units put on the shelf.
    pub units_accepted: i64,
    /// When it arrived.
    #[serde(serialize_with = "rfc3339")]
    pub received_at: DateTime<Utc>,
}

impl From<PurchaseReceiptDoc> for DeliveryView {
    fn from(r: PurchaseReceiptDoc) -> Self {
        Self {
            receipt_id: r.receipt_id,
            reference: r.reference,
            cases_received: r.cases_received,
            cases_damaged: r.cases_damaged,
            units_accepted: r.units_accepted,
            received_at: r.received_at,
        }
    }
}

/// A purchase order, as `GET /v1/purchase-orders` and `GET /v1/purchase-orders/{po_id}`
/// answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PurchaseOrder {
    /// The order.
    pub po_id: String,
    /// The supplier.
    pub supplier_id: String,
    /// The delivery location.
    pub location: String,
    /// Where it stands.
    pub status: PurchaseOrderStatus,
    /// When delivery is expected (`YYYY-MM-DD`), if said.
    pub expected_on: Option<String>,
    /// Its lines with what arrived of each.
    pub lines: Vec<PurchaseOrderLineView>,
    /// The deliveries' ids, in order.
    pub receipts: Vec<String>,
    /// The deliveries, in order.
    pub deliveries: Vec<DeliveryView>,
    /// What the order costs as ordered: Σ cases × case cost, minor units.
    pub ordered_cost_minor: i64,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// When it was drafted.
    #[serde(serialize_with = "rfc3339")]
    pub drafted_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// Stream sequence of its last event.
    pub version: i64,
}

impl From<PurchaseOrderDoc> for PurchaseOrder {
    fn from(doc: PurchaseOrderDoc) -> Self {
        Self {
            ordered_cost_minor: doc.lines.iter().map(|l| l.cases * l.case_cost.amount_minor).sum(),
            receipts: doc.receipts.iter().map(|r| r.receipt_id.clone()).collect(),
            po_id: doc.po_id,
            supplier_id: doc.supplier_id,
            location: doc.location,
            status: doc.status,
            expected_on: doc.expected_on,
            lines: doc.lines.into_iter().map(PurchaseOrderLineView::from).collect(),
            deliveries: doc.receipts.into_iter().map(DeliveryView::from).collect(),
            cancel_reason: doc.cancel_reason,
            drafted_at: doc.drafted_at,
            updated_at: doc.updated_at,
            version: doc.version,
        }
    }
}

/// `filter` restricted to ids after `cursor`.
fn after(filter: Document, cursor: Option<&str>) -> Document {
    match cursor {
        None => filter,
        Some(cursor) if filter.is_empty() => doc! {ID: {"$gt": cursor}},
        Some(cursor) => doc! {"$and": [filter, {ID: {"$gt": cursor}}]},
    }
}

/// The suppliers by id, a page at a time.
pub async fn suppliers(db: &Database, query: &SupplierListQuery) -> Result<Page<Supplier>, ApiError> {
    let limit = page::limit(query.limit)?;
    list(
        &collections::suppliers(db),
        after(Document::new(), query.cursor.as_deref()),
        doc! {ID: 1},
        limit,
        |doc| doc.supplier_id.clone(),
        Supplier::from,
    )
    .await
}

/// One supplier; 404 when there is none.
pub async fn supplier(db: &Database, id: &str) -> Result<Supplier, ApiError> {
    collections::suppliers(db)
        .find_one(doc! {ID: id})
        .await?
        .map(Supplier::from)
        .ok_or_else(|| ApiError::NotFound {
            resource: "supplier",
            id: id.to_owned(),
        })
}

/// The status named by `raw`, or 422 naming `status`.
pub fn parse_status(raw: &str) -> Result<PurchaseOrderStatus, ApiError> {
    [
        PurchaseOrderStatus::Draft,
        PurchaseOrderStatus::Submitted,
        PurchaseOrderStatus::PartiallyReceived,
        PurchaseOrderStatus::Received,
        PurchaseOrderStatus::Closed,
        PurchaseOrderStatus::Cancelled,
    ]
    .into_iter()
    .find(|s| s.as_str() == raw)
    .ok_or_else(|| {
        ApiError::invalid(
            "status",
            "must be draft, submitted, partially_received, received, closed or cancelled",
        )
    })
}

/// The purchase orders matching `query`, by id, a page at a time.
pub async fn purchase_orders(db: &Database, query: &PurchaseOrderListQuery) -> Result<Page<PurchaseOrder>, ApiError> {
    let limit = page::limit(query.limit)?;
    let mut filter = Document::new();
    if let Some(location) = &query.location {
        filter.insert(PurchaseOrderDoc::LOCATION, location.as_str());
    }
    if let Some(status) = &query.status {
        filter.insert(PurchaseOrderDoc::STATUS, parse_status(status)?.as_str());
    }
    if let Some(supplier) = &query.supplier {
        filter.insert(PurchaseOrderDoc::SUPPLIER_ID, supplier.as_str());
    }
    list(
        &collections::purchase_orders(db),
        after(filter, query.cursor.as_deref()),
        doc! {ID: 1},
        limit,
        |doc| doc.po_id.clone(),
        PurchaseOrder::from,
    )
    .await
}

/// One purchase order; 404 when there is none.
pub async fn purchase_order(db: &Database, id: &str) -> Result<PurchaseOrder, ApiError> {
    collections::purchase_orders(db)
        .find_one(doc! {ID: id})
        .await?
        .map(PurchaseOrder::from)
        .ok_or_else(|| ApiError::NotFound {
            resource: "purchase order",
            id: id.to_owned(),
        })
}
