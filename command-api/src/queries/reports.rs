//! Reports: the end-of-day Z report per location and the top products of a period, as
//! JSON or, with `Accept: text/csv`, as CSV.

use bson::{Document, doc};
use futures::TryStreamExt;
use mongodb::Database;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tenantdb::collections;
use tenantdb::docs::{DailySalesDoc, ID, SaleDoc, SaleLineDoc, SaleStatus, TenderTotals};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::queries::date::{date, instant};

/// Filters of `GET /v1/reports/daily`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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

/// The Z report of one location on one business day. Money is in minor units of
/// `currency`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DailyReport {
    /// `YYYY-MM-DD|<location>`.
    pub id: String,
    /// The business day (UTC), `YYYY-MM-DD`.
    pub date: String,
    /// The location.
    pub location: String,
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// Sales completed that day (voided ones included).
    pub sale_count: i64,
    /// Σ quantity × unit price of those sales, minor units.
    pub gross_minor: i64,
    /// Σ their discounts, minor units.
    pub discounts_minor: i64,
    /// Σ their tax, minor units.
    pub tax_minor: i64,
    /// Gross minus discounts (before tax), minor units.
    pub net_minor: i64,
    /// Refunds made that day.
    pub refund_count: i64,
    /// Money refunded that day (tax included), minor units.
    pub refunds_minor: i64,
    /// The tax part of `refunds_minor`, minor units.
    pub refund_tax_minor: i64,
    /// Sales voided that day.
    pub void_count: i64,
    /// Σ totals of the voided sales, minor units.
    pub voids_minor: i64,
    /// Money taken per tender kind (cash net of change), minor units.
    pub tenders: TenderTotals,
    /// Money paid back per tender kind, minor units.
    pub refund_tenders: TenderTotals,
}

impl From<DailySalesDoc> for DailyReport {
    fn from(doc: DailySalesDoc) -> Self {
        Self {
            id: doc.id,
            date: doc.date,
            location: doc.location,
            currency: doc.currency,
            sale_count: doc.sale_count,
            gross_minor: doc.gross_minor,
            discounts_minor: doc.discounts_minor,
            tax_minor: doc.tax_minor,
            net_minor: doc.net_minor,
            refund_count: doc.refund_count,
            refunds_minor: doc.refunds_minor,
            refund_tax_minor: doc.refund_tax_minor,
            void_count: doc.void_count,
            voids_minor: doc.voids_minor,
            tenders: doc.tenders,
            refund_tenders: doc.refund_tenders,
        }
    }
}

/// The Z report of one day: one row per location.
pub async fn daily(db: &Database, query: &DailyQuery) -> Result<Vec<DailyReport>, ApiError> {
    date("date", &query.date)?;
    let mut filter = doc! {(DailySalesDoc::DATE): query.date.as_str()};
    if let Some(location) = &query.location {
        filter.insert(DailySalesDoc::LOCATION, location.as_str());
    }
    let docs: Vec<DailySalesDoc> = collections::daily_sales(db)
        .find(filter)
        .sort(doc! {(DailySalesDoc::LOCATION): 1})
        .await?
        .try_collect()
        .await?;
    Ok(docs.into_iter().map(DailyReport::from).collect())
}

/// The daily report as CSV.
pub fn daily_csv(rows: &[DailyReport]) -> String {
    csv(DAILY_COLUMNS, &values(rows))
}

/// Filters of `GET /v1/reports/top-products`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TopProductsQuery {
    /// From this instant or date (inclusive).
    pub from: String,
    /// Up to this instant or date (exclusive; a date means the end of that day).
    pub to: String,
    /// `revenue` (default) or `units`.
    #[param(value_type = Option<TopProductsBy>, inline)]
    pub by: Option<String>,
    /// Only this location.
    pub location: Option<String>,
    /// How many products (1 to 100, default 10).
    pub limit: Option<i64>,
}

/// What `GET /v1/reports/top-products` ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TopProductsBy {
    /// Revenue before tax, net of refunds.
    Revenue,
    /// Units sold, net of refunds.
    Units,
}

const TOP_COLUMNS: &[(&str, &str)] = &[
    ("rank", "rank"),
    ("sku", "sku"),
    ("units", "units"),
    ("revenue_minor", "revenue_minor"),
    ("currency", "currency"),
];

/// One product of the top-products report.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TopProduct {
    /// Place in the ranking, from 1.
    pub rank: i64,
    /// The product.
    pub sku: String,
    /// Units sold in the period, net of refunds.
    pub units: i64,
    /// Revenue before tax in the period, net of refunds, minor units.
    pub revenue_minor: i64,
    /// ISO 4217 currency of `revenue_minor`.
    pub currency: String,
}

/// One group of the top-products aggregation.
#[derive(Debug, Deserialize)]
struct TopProductGroup {
    #[serde(rename = "_id")]
    sku: String,
    units: i64,
    revenue_minor: i64,
    currency: String,
}

/// The best-selling products of a period: units and revenue before tax, net of refunds,
/// voided sales excluded.
pub async fn top_products(db: &Database, query: &TopProductsQuery) -> Result<Vec<TopProduct>, ApiError> {
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
        (SaleDoc::OCCURRED_AT): {"$gte": bson::DateTime::from_chrono(from), "$lt": bson::DateTime::from_chrono(to)},
        (SaleDoc::STATUS): {"$ne": SaleStatus::Voided.as_str()},
    };
    if let Some(location) = &query.location {
        filter.insert(SaleDoc::LOCATION, location.as_str());
    }
    let line = |field: &str| format!("${}.{field}", SaleDoc::LINES);
    let pipeline = vec![
        doc! {"$match": filter},
        doc! {"$unwind": format!("${}", SaleDoc::LINES)},
        doc! {"$group": {
            ID: line(SaleLineDoc::SKU),
            "units": {"$sum": {"$subtract": [line(SaleLineDoc::QUANTITY), {"$ifNull": [line(SaleLineDoc::REFUNDED_QUANTITY), 0]}]}},
            // Revenue is before tax: what the line brought in, less what was refunded.
            "revenue_minor": {"$sum": {"$subtract": [
                {"$subtract": [line(SaleLineDoc::TOTAL_MINOR), line(SaleLineDoc::TAX_MINOR)]},
                {"$subtract": [{"$ifNull": [line(SaleLineDoc::REFUNDED_AMOUNT_MINOR), 0]}, {"$ifNull": [line(SaleLineDoc::REFUNDED_TAX_MINOR), 0]}]},
            ]}},
            "currency": {"$first": format!("${}", SaleDoc::CURRENCY)},
        }},
        doc! {"$sort": {by: -1, ID: 1}},
        doc! {"$limit": limit},
    ];
    let rows: Vec<Document> = collections::sales(db).aggregate(pipeline).await?.try_collect().await?;
    rows.into_iter()
        .enumerate()
        .map(|(index, row)| {
            let group: TopProductGroup = bson::from_document(row)
                .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("reading a top-products row")))?;
            Ok(TopProduct {
                rank: index as i64 + 1,
                sku: group.sku,
                units: group.units,
                revenue_minor: group.revenue_minor,
                currency: group.currency,
            })
        })
        .collect()
}

/// Top products as CSV.
pub fn top_products_csv(rows: &[TopProduct]) -> String {
    csv(TOP_COLUMNS, &values(rows))
}

/// Rows as JSON values, for [`csv`].
fn values<T: Serialize>(rows: &[T]) -> Vec<Value> {
    rows.iter()
        .map(|row| serde_json::to_value(row).unwrap_or(Value::Null))
        .collect()
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
    use serde_json::json;

    use super::*;
    use crate::queries::document::to_json;

    #[test]
    fn csv_quotes_what_needs_quoting_and_reads_nested_fields() {
        let rows = vec![TopProduct {
            rank: 1,
            sku: "A,\"B\"".into(),
            units: 3,
            revenue_minor: 1200,
            currency: "USD".into(),
        }];
        assert_eq!(
            top_products_csv(&rows),
            "rank,sku,units,revenue_minor,currency\r\n1,\"A,\"\"B\"\"\",3,1200,USD\r\n"
        );
        let day = vec![json!({"date": "2026-11-26", "location": "main", "tenders": {"cash": 500}})];
        let text = csv(DAILY_COLUMNS, &day);
        assert!(
            text.lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("2026-11-26,main,,") && l.contains(",500,")),
            "{text}"
        );
    }

    #[test]
    fn a_daily_report_is_served_as_its_stored_document_was() -> anyhow::Result<()> {
        let mut doc = DailySalesDoc::empty("2026-11-26", "main", "EUR");
        doc.sale_count = 2;
        doc.tenders.cash = 500;
        doc.refund_tenders.card = 120;
        doc.last_seq = 4;
        let stored = bson::to_document(&doc)?;
        let read: DailySalesDoc = bson::from_document(stored.clone())?;
        let row = DailyReport::from(read);
        assert_eq!(serde_json::to_value(&row)?, to_json(stored.clone()));
        assert_eq!(daily_csv(&[row]), csv(DAILY_COLUMNS, &[to_json(stored)]));
        Ok(())
    }
}
