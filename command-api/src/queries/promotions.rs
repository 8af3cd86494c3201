//! Promotions: every promotion of the tenant, and the promotion report (cost and units
//! per promotion over a period of business days, as JSON or CSV).

use std::collections::{BTreeMap, BTreeSet};

use bson::doc;
use chrono::{DateTime, Utc};
use events::event::PromotionRule;
use events::tax::RoundingMode;
use futures::TryStreamExt;
use mongodb::Database;
use serde::{Deserialize, Serialize};
use tenantdb::collections;
use tenantdb::docs::{ID, LinePromotionDoc, PromotionDoc, PromotionStatus, SaleDoc, SaleLineDoc, SaleStatus};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::queries::date::date;
use crate::queries::document::rfc3339;
use crate::queries::reports::{csv, values};

fn optional_rfc3339<S: serde::Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// A promotion, as `GET /v1/promotions` and `GET /v1/promotions/{promotion_id}` answer it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Promotion {
    /// The promotion id.
    pub id: String,
    /// Active or ended.
    pub status: PromotionStatus,
    /// Name.
    pub name: String,
    /// ISO 4217 currency of its amounts.
    pub currency: String,
    /// What it does.
    pub rule: PromotionRule,
    /// From when it applies.
    #[serde(serialize_with = "rfc3339")]
    pub starts_at: DateTime<Utc>,
    /// Until when it applies (null: open-ended).
    #[serde(serialize_with = "optional_rfc3339")]
    #[schema(value_type = Option<String>)]
    pub ends_at: Option<DateTime<Utc>>,
    /// The locations it applies at (empty: every location).
    pub locations: Vec<String>,
    /// Whether it stacks with other promotions on a line.
    pub stackable: bool,
    /// When it was ended early.
    #[serde(serialize_with = "optional_rfc3339")]
    #[schema(value_type = Option<String>)]
    pub ended_at: Option<DateTime<Utc>>,
    /// Why it was ended.
    pub ended_reason: Option<String>,
    /// When it was created.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// The version to send in `If-Match` to change or end it.
    pub version: i64,
}

impl From<PromotionDoc> for Promotion {
    fn from(doc: PromotionDoc) -> Self {
        Self {
            id: doc.promotion_id,
            status: doc.status,
            name: doc.name,
            currency: doc.currency,
            rule: doc.rule,
            starts_at: doc.starts_at,
            ends_at: doc.ends_at,
            locations: doc.locations,
            stackable: doc.stackable,
            ended_at: doc.ended_at,
            ended_reason: doc.ended_reason,
            created_at: doc.created_at,
            version: doc.version,
        }
    }
}

/// Every promotion, by id.
pub async fn list(db: &Database) -> Result<Vec<Promotion>, ApiError> {
    let docs: Vec<PromotionDoc> = collections::promotions(db)
        .find(doc! {})
        .sort(doc! {ID: 1})
        .await?
        .try_collect()
        .await?;
    Ok(docs.into_iter().map(Promotion::from).collect())
}

/// One promotion; 404 when there is none.
pub async fn promotion(db: &Database, id: &str) -> Result<Promotion, ApiError> {
    collections::promotions(db)
        .find_one(doc! {ID: id})
        .await?
        .map(Promotion::from)
        .ok_or_else(|| ApiError::NotFound {
            resource: "promotion",
            id: id.to_owned(),
        })
}

/// Filters of `GET /v1/reports/promotions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PromotionReportQuery {
    /// First business day, `YYYY-MM-DD` (inclusive).
    pub from: String,
    /// Last business day, `YYYY-MM-DD` (inclusive).
    pub to: String,
    /// Only this location. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
    /// Only this promotion.
    pub promotion_id: Option<String>,
}

/// What one promotion cost in a period: the discounts the server allocated to it on the
/// lines of the period's sales, net of the shares that refunds gave back. Sales voided
/// are left out; refunds count against the sale's business day. Money in minor units of
/// `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PromotionReportRow {
    /// The promotion.
    pub promotion_id: String,
    /// Its name (empty when the promotion document is gone).
    pub name: String,
    /// The sales' currency.
    pub currency: String,
    /// Sales with at least one line the promotion discounted.
    pub sale_count: i64,
    /// Lines it discounted.
    pub line_count: i64,
    /// Units on those lines, before refunds.
    pub units_sold: i64,
    /// Units of those lines refunded since.
    pub units_refunded: i64,
    /// `units_sold − units_refunded`.
    pub units: i64,
    /// Discount given, before refunds: Σ the promotion's share of each line.
    pub discount_minor: i64,
    /// Discount given back with refunded units: for each line, the promotion's share
    /// times refunded/sold units, rounded half up (cumulatively, so a line refunded in
    /// parts gives back exactly its share).
    pub refunded_discount_minor: i64,
    /// What the promotion cost: `discount − refunded_discount`.
    pub cost_minor: i64,
}

/// Columns of the CSV, in order: (column, path in the JSON row).
const COLUMNS: &[(&str, &str)] = &[
    ("promotion_id", "promotion_id"),
    ("name", "name"),
    ("currency", "currency"),
    ("sale_count", "sale_count"),
    ("line_count", "line_count"),
    ("units_sold", "units_sold"),
    ("units_refunded", "units_refunded"),
    ("units", "units"),
    ("discount_minor", "discount_minor"),
    ("refunded_discount_minor", "refunded_discount_minor"),
    ("cost_minor", "cost_minor"),
];

/// The share of `amount` given back after `refunded` of `quantity` units came back.
pub fn refunded_share(amount: i64, refunded: i64, quantity: i64) -> i64 {
    if quantity <= 0 || refunded <= 0 {
        return 0;
    }
    let share = RoundingMode::HalfUp.divide(
        i128::from(amount) * i128::from(refunded.min(quantity)),
        i128::from(quantity),
    );
    i64::try_from(share).unwrap_or(amount)
}

/// The report rows, by promotion id (and currency).
pub async fn report(db: &Database, query: &PromotionReportQuery) -> Result<Vec<PromotionReportRow>, ApiError> {
    let from = date("from", &query.from)?;
    let to = date("to", &query.to)?;
    if to < from {
        return Err(ApiError::invalid("to", "must not be before from"));
    }
    let with_promotion = format!(
        "{}.{}.{}",
        SaleDoc::LINES,
        SaleLineDoc::PROMOTIONS,
        LinePromotionDoc::PROMOTION_ID
    );
    let mut filter = doc! {
        (SaleDoc::BUSINESS_DATE): {"$gte": query.from.as_str(), "$lte": query.to.as_str()},
        (SaleDoc::STATUS): {"$ne": SaleStatus::Voided.as_str()},
    };
    match &query.promotion_id {
        Some(id) => filter.insert(with_promotion, id.as_str()),
        None => filter.insert(with_promotion, doc! {"$exists": true}),
    };
    if let Some(location) = &query.location {
        filter.insert(SaleDoc::LOCATION, location.as_str());
    }
    let sales: Vec<SaleDoc> = collections::sales(db)
        .find(filter)
        .sort(doc! {(SaleDoc::SEQUENCE): 1})
        .await?
        .try_collect()
        .await?;
    let mut rows: BTreeMap<(String, String), (PromotionReportRow, BTreeSet<String>)> = BTreeMap::new();
    for sale in &sales {
        for line in &sale.lines {
            for applied in &line.promotions {
                if query
                    .promotion_id
                    .as_ref()
                    .is_some_and(|id| *id != applied.promotion_id)
                {
                    continue;
                }
                let key = (applied.promotion_id.clone(), sale.currency.clone());
                let (row, sale_ids) = rows.entry(key).or_insert_with(|| {
                    (
                        PromotionReportRow {
                            promotion_id: applied.promotion_id.clone(),
                            name: String::new(),
                            currency: sale.currency.clone(),
                            sale_count: 0,
                            line_count: 0,
                            units_sold: 0,
                            units_refunded: 0,
                            units: 0,
                            discount_minor: 0,
                            refunded_discount_minor: 0,
                            cost_minor: 0,
                        },
                        BTreeSet::new(),
                    )
                });
                sale_ids.insert(sale.sale_id.clone());
                row.line_count += 1;
                row.units_sold += line.quantity;
                row.units_refunded += line.refunded_quantity;
                row.discount_minor += applied.amount_minor;
                row.refunded_discount_minor +=
                    refunded_share(applied.amount_minor, line.refunded_quantity, line.quantity);
            }
        }
    }
    let names: BTreeMap<String, String> = list(db).await?.into_iter().map(|p| (p.id, p.name)).collect();
    Ok(rows
        .into_values()
        .map(|(mut row, sale_ids)| {
            row.sale_count = sale_ids.len() as i64;
            row.units = row.units_sold - row.units_refunded;
            row.cost_minor = row.discount_minor - row.refunded_discount_minor;
            row.name = names.get(&row.promotion_id).cloned().unwrap_or_default();
            row
        })
        .collect())
}

/// The report as CSV.
pub fn report_csv(rows: &[PromotionReportRow]) -> String {
    csv(COLUMNS, &values(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refunded_shares_telescope_to_the_whole_discount() {
        // 359 over 4 bottles: after 1, 2, 3, 4 -> 90, 180, 269, 359.
        let after: Vec<i64> = (0..=4).map(|k| refunded_share(359, k, 4)).collect();
        assert_eq!(after, vec![0, 90, 180, 269, 359]);
    }
}
