//! The pricing exceptions of a business day: every line of the day's sales where the
//! terminal's figures differed from the server's pricing at the time of the sale (a price
//! override, an old tax rate, a deposit not charged, a product the catalog did not know).
//! The sales were recorded as sold; this is the list a manager goes through. One row per
//! line and difference, in the order the sales were recorded; sales voided on their own
//! business day are left out, as in the Z report's `exception_sale_count`.

use bson::doc;
use chrono::{DateTime, Utc};
use events::tax::Difference;
use futures::TryStreamExt;
use mongodb::Database;
use serde::{Deserialize, Serialize};
use tenantdb::collections;
use tenantdb::docs::{SaleDoc, SalePricingDoc, SaleStatus, VoidDoc};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::queries::date::date;
use crate::queries::document::rfc3339;
use crate::queries::reports::{csv, values};

/// Filters of `GET /v1/reports/pricing-exceptions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExceptionsQuery {
    /// The location's local business day, `YYYY-MM-DD`.
    pub date: String,
    /// Only this location. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
}

/// One difference on one line of a sale.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PricingException {
    /// The sale.
    pub sale_id: String,
    /// Its store.
    pub location: String,
    /// Its business day, `YYYY-MM-DD`.
    pub business_date: String,
    /// When it was rung up (the terminal's clock).
    #[serde(serialize_with = "rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// The till.
    pub terminal_id: String,
    /// The cashier.
    pub cashier_id: String,
    /// Where the sale stands now.
    pub status: SaleStatus,
    /// The line.
    pub line_no: i64,
    /// The line's product (empty for a priced line the terminal did not record).
    pub sku: String,
    /// What differs: `kind` (`price_override`, `discount_differs`, `tax_mismatch`,
    /// `deposit_mismatch`, `quantity_differs`, `not_priced`, `not_recorded`) with the
    /// recorded and expected amounts where they apply.
    pub difference: Difference,
}

/// Columns of the CSV, in order: (column, path in the JSON row).
const COLUMNS: &[(&str, &str)] = &[
    ("sale_id", "sale_id"),
    ("location", "location"),
    ("business_date", "business_date"),
    ("occurred_at", "occurred_at"),
    ("terminal_id", "terminal_id"),
    ("cashier_id", "cashier_id"),
    ("status", "status"),
    ("line_no", "line_no"),
    ("sku", "sku"),
    ("kind", "difference.kind"),
    ("recorded_minor", "difference.recorded_minor"),
    ("expected_minor", "difference.expected_minor"),
];

/// The exceptions of one business day.
pub async fn exceptions(db: &Database, query: &ExceptionsQuery) -> Result<Vec<PricingException>, ApiError> {
    date("date", &query.date)?;
    let flagged = format!("{}.{}.0", SaleDoc::PRICING, SalePricingDoc::EXCEPTIONS);
    let mut filter = doc! {(SaleDoc::BUSINESS_DATE): query.date.as_str(), flagged: {"$exists": true}};
    if let Some(location) = &query.location {
        filter.insert(SaleDoc::LOCATION, location.as_str());
    }
    let void_date = format!("${}.{}", SaleDoc::VOID, VoidDoc::BUSINESS_DATE);
    filter.insert(
        "$expr",
        doc! {"$not": [{"$eq": [void_date, format!("${}", SaleDoc::BUSINESS_DATE)]}]},
    );
    let sales: Vec<SaleDoc> = collections::sales(db)
        .find(filter)
        .sort(doc! {(SaleDoc::SEQUENCE): 1})
        .await?
        .try_collect()
        .await?;
    let mut rows = Vec::new();
    for sale in sales {
        let Some(pricing) = &sale.pricing else {
            continue;
        };
        for exception in &pricing.exceptions {
            let line_no = i64::from(exception.line_no);
            rows.push(PricingException {
                sale_id: sale.sale_id.clone(),
                location: sale.location.clone(),
                business_date: sale.business_date.clone(),
                occurred_at: sale.occurred_at,
                terminal_id: sale.terminal_id.clone(),
                cashier_id: sale.cashier_id.clone(),
                status: sale.status,
                line_no,
                sku: sale
                    .lines
                    .iter()
                    .find(|l| l.line_no == line_no)
                    .map(|l| l.sku.clone())
                    .unwrap_or_default(),
                difference: exception.difference,
            });
        }
    }
    Ok(rows)
}

/// The exceptions as CSV.
pub fn exceptions_csv(rows: &[PricingException]) -> String {
    csv(COLUMNS, &values(rows))
}
