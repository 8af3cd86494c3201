//! Reports: the end-of-day Z report per location and local business day and the top
//! products of a period of business days, as JSON or, with `Accept: text/csv`, as CSV.

use std::collections::BTreeMap;

use bson::{Document, doc};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::Database;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tenantdb::collections;
use tenantdb::docs::{
    AmendmentDoc, AmendmentKind, DailySalesDoc, EmptiesTotals, ID, RefundDoc, RefundLineDoc, ReversalTotals, SaleDoc,
    SaleLineDoc, TaxLiabilityDoc, TenderTotals, VoidDoc,
};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::queries::cash::{DrawerDay, drawer_days};
use crate::queries::date::date;
use crate::queries::document::rfc3339;

/// Filters of `GET /v1/reports/daily`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DailyQuery {
    /// The location's local business day, `YYYY-MM-DD`.
    pub date: String,
    /// Only this location. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
}

/// Columns of the daily report, in CSV order: (column, path in the JSON row).
const DAILY_COLUMNS: &[(&str, &str)] = &[
    ("date", "date"),
    ("location", "location"),
    ("currency", "currency"),
    ("sale_count", "sale_count"),
    ("gross_minor", "gross_minor"),
    ("discounts_minor", "discounts_minor"),
    ("net_minor", "net_minor"),
    ("tax_minor", "tax_minor"),
    ("deposits_minor", "deposits_minor"),
    ("total_minor", "total_minor"),
    ("cash_minor", "tenders.cash"),
    ("card_minor", "tenders.card"),
    ("other_minor", "tenders.other"),
    ("void_count", "voids.count"),
    ("voids_total_minor", "voids.total_minor"),
    ("voids_cash_minor", "voids.tenders.cash"),
    ("voids_card_minor", "voids.tenders.card"),
    ("voids_other_minor", "voids.tenders.other"),
    ("earlier_day_void_count", "earlier_day_voids.count"),
    ("earlier_day_voids_net_minor", "earlier_day_voids.net_minor"),
    ("earlier_day_voids_tax_minor", "earlier_day_voids.tax_minor"),
    ("earlier_day_voids_total_minor", "earlier_day_voids.total_minor"),
    ("earlier_day_voids_cash_minor", "earlier_day_voids.tenders.cash"),
    ("refund_count", "refunds.count"),
    ("refunds_net_minor", "refunds.net_minor"),
    ("refunds_tax_minor", "refunds.tax_minor"),
    ("refunds_total_minor", "refunds.total_minor"),
    ("refunds_cash_minor", "refunds.tenders.cash"),
    ("refunds_card_minor", "refunds.tenders.card"),
    ("refunds_other_minor", "refunds.tenders.other"),
    ("net_after_refunds_minor", "net_after_refunds_minor"),
    ("tax_after_refunds_minor", "tax_after_refunds_minor"),
    ("refunds_deposit_minor", "refunds.deposit_minor"),
    ("deposits_after_refunds_minor", "deposits_after_refunds_minor"),
    ("expected_cash_minor", "expected_cash_minor"),
    ("exception_sale_count", "exception_sale_count"),
    ("backdated_sale_count", "backdated_sale_count"),
    ("empties_count", "empties.count"),
    ("empties_containers", "empties.containers"),
    ("empties_deposit_minor", "empties.deposit_minor"),
    ("empties_paid_minor", "empties.paid_minor"),
    ("empties_differing_count", "empties.differing_count"),
];

/// The Z report of one location on one local business day. Money is in minor units of
/// `currency`; cash is net of change. The rules for voids and refunds recorded on other
/// days than the sale are in docs/reports.md.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DailyReport {
    /// `YYYY-MM-DD|<location>`.
    pub id: String,
    /// The location's business day, `YYYY-MM-DD`.
    pub date: String,
    /// The location.
    pub location: String,
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// Sales completed that day, not counting the ones voided that same day.
    pub sale_count: i64,
    /// Σ quantity × unit price of those sales.
    pub gross_minor: i64,
    /// Σ their discounts.
    pub discounts_minor: i64,
    /// gross − discounts: their revenue before tax.
    pub net_minor: i64,
    /// Σ their tax charged on top of prices (in a store whose prices include tax, only the
    /// per-unit taxes; `tax_liability` has every tax).
    pub tax_minor: i64,
    /// Σ their container deposits: held for customers, not revenue.
    pub deposits_minor: i64,
    /// net + tax + deposits: what their customers paid.
    pub total_minor: i64,
    /// Money taken for them per tender kind (cash net of change).
    pub tenders: TenderTotals,
    /// Every void recorded that day, with the voided sales' amounts per tender.
    pub voids: ReversalTotals,
    /// The voids of that day that undid sales of earlier days (also in `voids`); they are
    /// deducted from this day's figures like refunds.
    pub earlier_day_voids: ReversalTotals,
    /// Refunds recorded that day at this location.
    pub refunds: ReversalTotals,
    /// Empty containers brought back that day and the deposits paid out for them in cash
    /// (`POST /v1/drawer-sessions/{session_id}/empties-returns`).
    pub empties: EmptiesTotals,
    /// net − refunds.net − earlier_day_voids.net: the day's revenue before tax.
    pub net_after_refunds_minor: i64,
    /// tax − refunds.tax − earlier_day_voids.tax: the tax charged on top of prices that
    /// the day keeps.
    pub tax_after_refunds_minor: i64,
    /// deposits − refunds.deposit − earlier_day_voids.deposit − empties.paid: the
    /// container deposits the day holds for customers.
    pub deposits_after_refunds_minor: i64,
    /// tenders.cash − refunds.tenders.cash − earlier_day_voids.tenders.cash −
    /// empties.paid: the cash the day's drawers should hold beyond their opening floats,
    /// before paid-ins, paid-outs and safe drops (which `drawers` counts).
    pub expected_cash_minor: i64,
    /// What the day owes per tax and rate by the server's pricing of its sales (every
    /// tax, including those inside tax-inclusive prices), less what refunds and
    /// earlier-day voids gave back. Sales at stores without a tax jurisdiction are not in
    /// it.
    pub tax_liability: Vec<TaxLiabilityDoc>,
    /// The day's sales that the server's pricing flagged (a price override, a tax or
    /// deposit that differs): see `GET /v1/reports/pricing-exceptions`.
    pub exception_sale_count: i64,
    /// The day's sales a manager recorded although they were dated before the tenant's
    /// back-dating window (each keeps its `backdate_reason`).
    pub backdated_sale_count: i64,
    /// The drawer sessions opened at the location that day and their sums (JSON only,
    /// absent on a day without sessions; docs/cash.md).
    #[serde(skip_serializing_if = "DrawerDay::is_empty")]
    pub drawers: DrawerDay,
    /// When a manager closed the day (absent while it is open).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "closed_at")]
    #[schema(value_type = Option<String>)]
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    /// Sales, voids and refunds of the day that arrived after its close (counted in the
    /// figures above), in arrival order; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub amendments: Vec<Amendment>,
}

/// A change to a closed day.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Amendment {
    /// `sale`, `void`, `refund` or `empties_return`.
    pub kind: AmendmentKind,
    /// The sale id (sale, void), the refund id, or the empties return's movement id.
    pub reference: String,
    /// How it changed the day's money, tax included (voids and refunds negative), minor
    /// units.
    pub total_minor: i64,
    /// How it changed the day's expected cash, minor units.
    pub cash_minor: i64,
    /// When it happened (terminal clock).
    #[serde(serialize_with = "rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// When it arrived (server clock): after the close.
    #[serde(serialize_with = "rfc3339")]
    pub recorded_at: DateTime<Utc>,
}

impl From<AmendmentDoc> for Amendment {
    fn from(doc: AmendmentDoc) -> Self {
        Self {
            kind: doc.kind,
            reference: doc.reference,
            total_minor: doc.total_minor,
            cash_minor: doc.cash_minor,
            occurred_at: doc.occurred_at,
            recorded_at: doc.recorded_at,
        }
    }
}

fn closed_at<S: serde::Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, serializer),
        None => serializer.serialize_none(),
    }
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
            net_minor: doc.net_minor,
            tax_minor: doc.tax_minor,
            deposits_minor: doc.deposits_minor,
            total_minor: doc.total_minor,
            tenders: doc.tenders,
            voids: doc.voids,
            earlier_day_voids: doc.earlier_day_voids,
            refunds: doc.refunds,
            empties: doc.empties,
            net_after_refunds_minor: doc.net_after_refunds_minor,
            tax_after_refunds_minor: doc.tax_after_refunds_minor,
            deposits_after_refunds_minor: doc.deposits_after_refunds_minor,
            expected_cash_minor: doc.expected_cash_minor,
            tax_liability: doc.tax_liability,
            exception_sale_count: doc.exception_sale_count,
            backdated_sale_count: doc.backdated_sale_count,
            drawers: DrawerDay::default(),
            closed_at: doc.closed_at,
            closed_by: doc.closed_by,
            amendments: doc.amendments.into_iter().map(Amendment::from).collect(),
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
    let mut drawers = drawer_days(db, &query.date, query.location.as_deref()).await?;
    Ok(docs
        .into_iter()
        .map(|doc| {
            let drawers = drawers.remove(&doc.location).unwrap_or_default();
            DailyReport {
                drawers,
                ..DailyReport::from(doc)
            }
        })
        .collect())
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
    /// First business day, `YYYY-MM-DD` (inclusive).
    pub from: String,
    /// Last business day, `YYYY-MM-DD` (inclusive).
    pub to: String,
    /// `revenue` (default) or `units`.
    #[param(value_type = Option<TopProductsBy>, inline)]
    pub by: Option<String>,
    /// Only this location. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
    /// How many products (1 to 100, default 10).
    pub limit: Option<i64>,
}

/// What `GET /v1/reports/top-products` ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TopProductsBy {
    /// Revenue before tax, net of voids and refunds.
    Revenue,
    /// Units sold, net of voids and refunds.
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
    /// Units sold in the period, net of the voids and refunds recorded in it.
    pub units: i64,
    /// Revenue before tax in the period, net of the voids and refunds recorded in it,
    /// minor units.
    pub revenue_minor: i64,
    /// ISO 4217 currency of `revenue_minor`.
    pub currency: String,
}

/// One group of a top-products aggregation: a SKU's net units and revenue before tax.
#[derive(Debug, Deserialize)]
pub(crate) struct TopProductGroup {
    /// The SKU.
    #[serde(rename = "_id")]
    pub(crate) sku: String,
    /// Units (items) sold, net.
    pub(crate) units: i64,
    /// Revenue before tax and deposits, net, minor units.
    pub(crate) revenue_minor: i64,
    /// ISO 4217 currency.
    pub(crate) currency: String,
}

/// The best-selling products of a period of business days, by the Z report's rules: a
/// sale counts on its business day unless it was voided that same day; a void of an
/// earlier day's sale and a refund count (negatively) on the day they were recorded.
pub async fn top_products(db: &Database, query: &TopProductsQuery) -> Result<Vec<TopProduct>, ApiError> {
    let by = match query.by.as_deref().unwrap_or("revenue") {
        "revenue" => TopProductsBy::Revenue,
        "units" => TopProductsBy::Units,
        _ => return Err(ApiError::invalid("by", "must be revenue or units")),
    };
    let limit = match query.limit {
        None => 10,
        Some(n) if (1..=100).contains(&n) => n,
        Some(_) => return Err(ApiError::invalid("limit", "must be between 1 and 100")),
    };
    let from = date("from", &query.from)?;
    let to = date("to", &query.to)?;
    if to < from {
        return Err(ApiError::invalid("to", "must not be before from"));
    }
    let totals = product_totals(db, from, to, query.location.as_deref()).await?;
    let mut ranked: Vec<TopProductGroup> = totals.into_values().collect();
    ranked.sort_by(|a, b| {
        let (ka, kb) = match by {
            TopProductsBy::Revenue => (a.revenue_minor, b.revenue_minor),
            TopProductsBy::Units => (a.units, b.units),
        };
        kb.cmp(&ka).then_with(|| a.sku.cmp(&b.sku))
    });
    Ok(ranked
        .into_iter()
        .take(limit as usize)
        .enumerate()
        .map(|(index, group)| TopProduct {
            rank: index as i64 + 1,
            sku: group.sku,
            units: group.units,
            revenue_minor: group.revenue_minor,
            currency: group.currency,
        })
        .collect())
}

/// Units and revenue before tax per SKU sold in a period of business days, by the Z
/// report's rules (see [`top_products`]), keyed by SKU.
pub(crate) async fn product_totals(
    db: &Database,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    location: Option<&str>,
) -> Result<BTreeMap<String, TopProductGroup>, ApiError> {
    let days = doc! {"$gte": from.format("%Y-%m-%d").to_string(), "$lte": to.format("%Y-%m-%d").to_string()};
    let void_date = format!("${}.{}", SaleDoc::VOID, VoidDoc::BUSINESS_DATE);
    let own_day_void = doc! {"$eq": [void_date.as_str(), format!("${}", SaleDoc::BUSINESS_DATE)]};
    let line = |field: &str| format!("${}.{field}", SaleDoc::LINES);
    let sale_lines = |sign: i32| {
        doc! {"$group": {
            ID: line(SaleLineDoc::SKU),
            "units": {"$sum": {"$multiply": [sign, line(SaleLineDoc::QUANTITY)]}},
            "revenue_minor": {"$sum": {"$multiply": [sign, {"$subtract": [
                {"$subtract": [line(SaleLineDoc::TOTAL_MINOR), line(SaleLineDoc::TAX_MINOR)]},
                {"$ifNull": [line(SaleLineDoc::DEPOSIT_MINOR), 0]},
            ]}]}},
            "currency": {"$first": format!("${}", SaleDoc::CURRENCY)},
        }}
    };

    // The period's sales, less those voided on their own day.
    let mut sold = doc! {(SaleDoc::BUSINESS_DATE): days.clone()};
    // Voids recorded in the period of sales of earlier days.
    let mut voided = doc! {void_date.trim_start_matches('$'): days.clone()};
    if let Some(location) = location {
        sold.insert(SaleDoc::LOCATION, location);
        voided.insert(SaleDoc::LOCATION, location);
    }
    let sales = vec![
        doc! {"$match": sold},
        doc! {"$match": {"$expr": {"$not": [own_day_void.clone()]}}},
        doc! {"$unwind": format!("${}", SaleDoc::LINES)},
        sale_lines(1),
    ];
    let voids = vec![
        doc! {"$match": voided},
        doc! {"$match": {"$expr": {"$not": [own_day_void]}}},
        doc! {"$unwind": format!("${}", SaleDoc::LINES)},
        sale_lines(-1),
    ];
    // Refunds recorded in the period (at the location, when one is asked for).
    let refund = |field: &str| format!("{}.{field}", SaleDoc::REFUNDS);
    let any_refund_in_period = doc! {refund(RefundDoc::BUSINESS_DATE): days.clone()};
    let mut refunded = doc! {refund(RefundDoc::BUSINESS_DATE): days};
    if let Some(location) = location {
        refunded.insert(refund(RefundDoc::LOCATION), location);
    }
    let refund_line = |field: &str| format!("${}.{}.{field}", SaleDoc::REFUNDS, RefundDoc::LINES);
    let refunds = vec![
        doc! {"$match": any_refund_in_period},
        doc! {"$unwind": format!("${}", SaleDoc::REFUNDS)},
        doc! {"$match": refunded},
        doc! {"$unwind": format!("${}.{}", SaleDoc::REFUNDS, RefundDoc::LINES)},
        doc! {"$group": {
            ID: refund_line(RefundLineDoc::SKU),
            "units": {"$sum": {"$multiply": [-1, refund_line(RefundLineDoc::QUANTITY)]}},
            "revenue_minor": {"$sum": {"$multiply": [-1, {"$subtract": [
                {"$subtract": [refund_line(RefundLineDoc::AMOUNT_MINOR), refund_line(RefundLineDoc::TAX_MINOR)]},
                {"$ifNull": [refund_line(RefundLineDoc::DEPOSIT_MINOR), 0]},
            ]}]}},
            "currency": {"$first": format!("${}", SaleDoc::CURRENCY)},
        }},
    ];

    let sales_collection = collections::sales(db);
    let mut totals: BTreeMap<String, TopProductGroup> = BTreeMap::new();
    for pipeline in [sales, voids, refunds] {
        let rows: Vec<Document> = sales_collection.aggregate(pipeline).await?.try_collect().await?;
        for row in rows {
            let group: TopProductGroup = bson::from_document(row)
                .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("reading a top-products row")))?;
            match totals.get_mut(&group.sku) {
                Some(total) => {
                    total.units += group.units;
                    total.revenue_minor += group.revenue_minor;
                }
                None => {
                    totals.insert(group.sku.clone(), group);
                }
            }
        }
    }
    Ok(totals)
}

/// Top products as CSV.
pub fn top_products_csv(rows: &[TopProduct]) -> String {
    csv(TOP_COLUMNS, &values(rows))
}

/// Rows as JSON values, for [`csv`].
pub(crate) fn values<T: Serialize>(rows: &[T]) -> Vec<Value> {
    rows.iter()
        .map(|row| serde_json::to_value(row).unwrap_or(Value::Null))
        .collect()
}

/// Renders rows as RFC 4180 CSV with a header line.
pub(crate) fn csv(columns: &[(&str, &str)], rows: &[Value]) -> String {
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
        doc.refunds.tenders.card = 120;
        doc.empties = EmptiesTotals {
            count: 1,
            containers: 6,
            deposit_minor: 30,
            paid_minor: 25,
            differing_count: 1,
        };
        doc.settle();
        doc.last_seq = 4;
        let stored = bson::to_document(&doc)?;
        let read: DailySalesDoc = bson::from_document(stored.clone())?;
        let row = DailyReport::from(read);
        assert_eq!(serde_json::to_value(&row)?, to_json(stored.clone()));
        assert_eq!(daily_csv(&[row]), csv(DAILY_COLUMNS, &[to_json(stored)]));
        Ok(())
    }
}
