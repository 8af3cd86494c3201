//! Inventory transactions of one SKU over a period, in stream order.

use bson::doc;
use chrono::{DateTime, Utc};
use mongodb::Database;
use serde::{Deserialize, Serialize};
use tenantdb::collections;
use tenantdb::docs::{ID, InventoryTransactionDoc, TransactionKind};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::queries::document::rfc3339;
use crate::queries::page::{self, Page, list};
use crate::queries::sales::period;

/// Filters of `GET /v1/inventory/transactions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TransactionsQuery {
    /// The product (required).
    pub sku: String,
    /// Only this location. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
    /// From this instant or date (inclusive).
    pub from: Option<String>,
    /// Up to this instant or date (exclusive; a date means the end of that day).
    pub to: Option<String>,
    /// Page size (1 to 500, default 50).
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// One stock movement of one SKU at one location, as
/// `GET /v1/inventory/transactions` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InventoryTransaction {
    /// `<sequence, 20 digits>:<index, 2 digits>`: unique and in stream order.
    pub id: String,
    /// What moved the stock.
    pub kind: TransactionKind,
    /// The product.
    pub sku: String,
    /// The location.
    pub location: String,
    /// Change in units (negative when stock leaves).
    pub quantity: i64,
    /// Units on hand before.
    pub quantity_before: i64,
    /// Units on hand after.
    pub quantity_after: i64,
    /// The sale, refund or movement id behind it.
    pub reference: String,
    /// Why, for adjustments.
    pub reason: Option<String>,
    /// When it happened.
    #[serde(serialize_with = "rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// The id of the event behind it.
    pub event_id: String,
    /// The stream sequence of that event.
    pub sequence: i64,
    /// Change in the stock's value at moving average cost, minor units (negative when
    /// stock leaves; see docs/purchasing.md).
    pub value_minor: i64,
}

impl From<InventoryTransactionDoc> for InventoryTransaction {
    fn from(doc: InventoryTransactionDoc) -> Self {
        Self {
            id: doc.id,
            kind: doc.kind,
            sku: doc.sku,
            location: doc.location,
            quantity: doc.quantity,
            quantity_before: doc.quantity_before,
            quantity_after: doc.quantity_after,
            reference: doc.reference,
            reason: doc.reason,
            occurred_at: doc.occurred_at,
            event_id: doc.event_id,
            sequence: doc.sequence,
            value_minor: doc.value_minor,
        }
    }
}

/// The transactions matching `query`, oldest first.
pub async fn search(db: &Database, query: &TransactionsQuery) -> Result<Page<InventoryTransaction>, ApiError> {
    let limit = page::limit(query.limit)?;
    let mut filter = doc! {(InventoryTransactionDoc::SKU): query.sku.as_str()};
    if let Some(location) = &query.location {
        filter.insert(InventoryTransactionDoc::LOCATION, location.as_str());
    }
    period(
        &mut filter,
        InventoryTransactionDoc::OCCURRED_AT,
        query.from.as_deref(),
        query.to.as_deref(),
    )?;
    if let Some(cursor) = &query.cursor {
        filter.insert(ID, doc! {"$gt": cursor.as_str()});
    }
    list(
        &collections::inventory_transactions(db),
        filter,
        doc! {ID: 1},
        limit,
        |doc| doc.id.clone(),
        InventoryTransaction::from,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queries::document::to_json;

    #[test]
    fn a_transaction_is_served_as_its_stored_document_was() -> anyhow::Result<()> {
        for reason in [None, Some("breakage".to_owned())] {
            let doc = InventoryTransactionDoc {
                id: format!("{:020}:{:02}", 12, 1),
                kind: TransactionKind::CountCorrection,
                sku: "RIOJA".into(),
                location: "main".into(),
                quantity: -2,
                quantity_before: 5,
                quantity_after: 3,
                reference: "m-1".into(),
                reason,
                occurred_at: bson::DateTime::from_millis(1_795_000_000_000).to_chrono(),
                event_id: "e-1".into(),
                sequence: 12,
                value_minor: -1200,
            };
            let stored = bson::to_document(&doc)?;
            let read: InventoryTransactionDoc = bson::from_document(stored.clone())?;
            assert_eq!(serde_json::to_value(InventoryTransaction::from(read))?, to_json(stored));
        }
        Ok(())
    }
}
