//! Reports: the end-of-day Z report per location and the top products of a period, as
//! JSON or, with `Accept: text/csv`, as CSV.

use bson::{Document, doc};
use futures::TryStreamExt;
use mongodb::Database;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::queries::document::to_json;
use crate::queries::mongo_error;
use crate::queries::sales::instant;

/// Filters of `GET /v1/reports/daily`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DailyQuery {
    /// The business day, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Only this location.
    pub location: Option<String>,
}

/// Columns of the daily report, in CSV order: (column, path in the document).
const DAILY_COLUMNS: &[(&str, &str)] = &[
    ("date", "date"),
    ("location", "location"),
    ("currency", "currency"),
    ("sale_count", "sale_count"),
    ("gross_minor", "gross_minor"),
    ("discounts_minor", "discounts_minor"),
    ("net_minor", "net_minor"),
    ("tax_minor", "tax_minor"),
    ("refund_count", "refund_count"),
    ("refunds_minor", "refunds_minor"),
    ("refund_tax_minor", "refund_tax_minor"),
    ("void_count", "void_count"),
    ("voids_minor", "voids_minor"),
    ("cash_minor", "tenders.cash"),
    ("card_minor", "tenders.card"),
    ("other_minor", "tenders.other"),
    ("refund_cash_minor", "refund_tenders.cash"),
    ("refund_card_minor", "refund_tenders.card"),
    ("refund_other_minor", "refund_tenders.other"),
];

/// The Z report of one day: one row per location.
pub async fn daily(db: &Database, query: &DailyQuery) -> Result<Vec<Value>, ApiError> {
    chrono::NaiveDate::parse_from_str(&query.date, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid("date", "must be YYYY-MM-DD"))?;
    let mut filter = doc! {"date": query.date.as_str()};
    if let Some(location) = &query.location {
        filter.insert("location", location.as_str());
    }
    let docs: Vec<Document> = db
        .collection::<Document>("daily_sales")
        .find(filter)
        .sort(doc! {"location": 1})
        .await
        .map_err(mongo_error)?
        .try_collect()
        .await
        .map_err(mongo_error)?;
    Ok(docs.into_iter().map(to_json).collect())
}

/// The daily report as CSV.
pub fn daily_csv(rows: &[Value]) -> String {
    csv(DAILY_COLUMNS, rows)
}

/// Filters of `GET /v1/reports/top-products`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TopProductsQuery {
    /// From this instant or date (inclusive).
    pub from: String,
    /// Up to this instant or date (exclusive; a date means the end of that day).
    pub to: String,
    /// `revenue` (default) or `units`.
    pub by: Option<String>,
    /// Only this location.
    pub location: Option<String>,
    /// How many products (1 to 100, default 10).
    pub limit: Option<i64>,
}

const TOP_COLUMNS: &[(&str, &str)] = &[
    ("rank", "rank"),
    ("sku", "sku"),
    ("units", "units"),
    ("revenue_minor", "revenue_minor"),
    ("currency", "currency"),
];

/// The best-selling products of a period: units and revenue before tax, net of refunds,
/// voided sales excluded.
pub async fn top_products(db: &Database, query: &TopProductsQuery) -> Result<Vec<Value>, ApiError> {
    let by = match query.by.as_deref().unwrap_or("revenue") {
        "revenue" => "revenue_minor",
        "units" => "units",
        _ => return Err(ApiError::invalid("by", "must be revenue or units")),
    };
    let limit = match query.limit {
        None => 10,
        Some(n) if (1..=100).contains(&n) => n,
        Some(_) => return Err(ApiError::invalid("limit", "must be between 1 and 100")),
    };
    let from = instant("from", &query.from, false)?;
    let to = instant("to", &query.to, true)?;
    let mut filter = doc! {
        "occurred_at": {"$gte": bson::DateTime::from_chrono(from), "$lt": bson::DateTime::from_chrono(to)},
        "status": {"$ne": "voided"},
    };
    if let Some(location) = &query.location {
        filter.insert("location", location.as_str());
    }
    let pipeline = vec![
        doc! {"$match": filter},
        doc! {"$unwind": "$lines"},
        doc! {"$group": {
            "_id": "$lines.sku",
            "units": {"$sum": {"$subtract": ["$lines.quantity", {"$ifNull": ["$lines.refunded_quantity", 0]}]}},
            // Revenue is before tax: what the line brought in, less what was refunded.
            "revenue_minor": {"$sum": {"$subtract": [
                {"$subtract": ["$lines.total_minor", "$lines.tax_minor"]},
                {"$subtract": [{"$ifNull": ["$lines.refunded_amount_minor", 0]}, {"$ifNull": ["$lines.refunded_tax_minor", 0]}]},
            ]}},
            "currency": {"$first": "$currency"},
        }},
        doc! {"$sort": {by: -1, "_id": 1}},
        doc! {"$limit": limit},
    ];
    let rows: Vec<Document> = db
        .collection::<Document>("sales")
        .aggregate(pipeline)
        .await
        .map_err(mongo_error)?
        .try_collect()
        .await
        .map_err(mongo_error)?;
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(index, row)| {
            let row = to_json(row);
            json!({"rank": index + 1, "sku": row["id"], "units": row["units"], "revenue_minor": row["revenue_minor"], "currency": row["currency"]})
        })
        .collect())
}

/// Top products as CSV.
pub fn top_products_csv(rows: &[Value]) -> String {
    csv(TOP_COLUMNS, rows)
}

/// Renders rows as RFC 4180 CSV with a header line.
fn csv(columns: &[(&str, &str)], rows: &[Value]) -> String {
    let mut out = columns.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|(_, path)| {
                let value = path.split('.').fold(row, |value, key| &value[key]);
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                if text.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", text.replace('"', "\"\""))
                } else {
                    text
                }
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting_and_reads_nested_fields() {
        let rows = vec![json!({"rank": 1, "sku": "A,\"B\"", "units": 3, "revenue_minor": 1200, "currency": "USD"})];
        assert_eq!(
            top_products_csv(&rows),
            "rank,sku,units,revenue_minor,currency\r\n1,\"A,\"\"B\"\"\",3,1200,USD\r\n"
        );
        let day = vec![json!({"date": "2026-11-26", "location": "main", "tenders": {"cash": 500}})];
        let text = daily_csv(&day);
        assert!(
            text.lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("2026-11-26,main,,") && l.contains(",500,")),
            "{text}"
        );
    }
}
