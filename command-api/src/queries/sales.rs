//! Sales: a filtered listing paged by stream sequence (newest first), and one sale with
//! its void and refunds.
//!
//! Paging follows the sale's stream sequence, not its time: a sale recorded later always
//! has a higher sequence, so new sales (even ones a terminal sends hours late, with an old
//! `occurred_at`) land before the first page and never shift the pages being read.

use bson::{Document, doc};
use chrono::{DateTime, NaiveDate, Utc};
use mongodb::Database;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::queries::catalog::list;
use crate::queries::document::to_json;
use crate::queries::mongo_error;
use crate::queries::page::{self, Page};

/// Filters of `GET /v1/sales`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SalesQuery {
    /// From this instant or date (inclusive), by the terminal's clock.
    pub from: Option<String>,
    /// Up to this instant or date (exclusive; a date means the end of that day).
    pub to: Option<String>,
    /// Store.
    pub location: Option<String>,
    /// Till.
    pub terminal: Option<String>,
    /// Cashier's user id.
    pub cashier: Option<String>,
    /// `completed`, `voided`, `partially_refunded` or `refunded`.
    pub status: Option<String>,
    /// Page size (1 to 500, default 50).
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Parses an RFC 3339 instant or a `YYYY-MM-DD` date (its start, or with `end_of_day` the
/// start of the next day).
pub fn instant(field: &str, text: &str, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(field, "must be an RFC 3339 instant or a YYYY-MM-DD date"))?;
    let date = if end_of_day {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// Adds `occurred_at` bounds to `filter` from optional `from` (inclusive) and `to`
/// (exclusive) query parameters.
pub fn period(filter: &mut Document, from: Option<&str>, to: Option<&str>) -> Result<(), ApiError> {
    let mut time = Document::new();
    if let Some(from) = from {
        time.insert("$gte", bson::DateTime::from_chrono(instant("from", from, false)?));
    }
    if let Some(to) = to {
        time.insert("$lt", bson::DateTime::from_chrono(instant("to", to, true)?));
    }
    if !time.is_empty() {
        filter.insert("occurred_at", time);
    }
    Ok(())
}

/// The sales matching `query`, newest recorded first.
pub async fn search(db: &Database, query: &SalesQuery) -> Result<Page, ApiError> {
    let limit = page::limit(query.limit)?;
    let mut filter = Document::new();
    period(&mut filter, query.from.as_deref(), query.to.as_deref())?;
    for (field, value) in [
        ("location", &query.location),
        ("terminal_id", &query.terminal),
        ("cashier_id", &query.cashier),
    ] {
        if let Some(value) = value {
            filter.insert(field, value.as_str());
        }
    }
    if let Some(status) = &query.status {
        if !["completed", "voided", "partially_refunded", "refunded"].contains(&status.as_str()) {
            return Err(ApiError::invalid(
                "status",
                "must be completed, voided, partially_refunded or refunded",
            ));
        }
        filter.insert("status", status.as_str());
    }
    if let Some(cursor) = &query.cursor {
        let before = cursor
            .parse::<i64>()
            .map_err(|_| ApiError::invalid("cursor", "not a cursor from this listing"))?;
        filter.insert("sequence", doc! {"$lt": before});
    }
    list(db, "sales", filter, doc! {"sequence": -1}, limit, |doc| {
        doc.get_i64("sequence").ok().map(|s| s.to_string())
    })
    .await
}

/// One sale.
pub async fn sale(db: &Database, sale_id: &str) -> Result<Value, ApiError> {
    db.collection::<Document>("sales")
        .find_one(doc! {"_id": sale_id})
        .await
        .map_err(mongo_error)?
        .map(to_json)
        .ok_or_else(|| ApiError::NotFound {
            resource: "sale",
            id: sale_id.to_owned(),
        })
}
