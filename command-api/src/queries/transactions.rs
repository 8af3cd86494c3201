//! Inventory transactions of one SKU over a period, in stream order.

use bson::doc;
use mongodb::Database;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::queries::catalog::list;
use crate::queries::page::{self, Page};
use crate::queries::sales::period;

/// Filters of `GET /v1/inventory/transactions`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TransactionsQuery {
    /// The product (required).
    pub sku: String,
    /// Only this location.
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

/// The transactions matching `query`, oldest first.
pub async fn search(db: &Database, query: &TransactionsQuery) -> Result<Page, ApiError> {
    let limit = page::limit(query.limit)?;
    let mut filter = doc! {"sku": query.sku.as_str()};
    if let Some(location) = &query.location {
        filter.insert("location", location.as_str());
    }
    period(&mut filter, query.from.as_deref(), query.to.as_deref())?;
    if let Some(cursor) = &query.cursor {
        filter.insert("_id", doc! {"$gt": cursor.as_str()});
    }
    list(db, "inventorytransactions", filter, doc! {"_id": 1}, limit, |doc| {
        doc.get_str("_id").ok().map(str::to_owned)
    })
    .await
}
