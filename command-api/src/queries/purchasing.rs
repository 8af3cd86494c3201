//! Purchasing and cost reports over the read model: gross margin, inventory valuation at an instant, reorder suggestions and low
//! stock per location (see docs/purchasing.md for every rule).
//!
//! The reports read whole collections filtered by the query and add up in memory: fine for
//! a store chain's catalog and a reporting period, not meant for years of sales at once.

use std::collections::{BTreeMap, BTreeSet};

use bson::{Document, doc};
use chrono::{DateTime, Duration, Utc};
use futures::TryStreamExt;
use mongodb::Database;
use serde::{Deserialize, Serialize};
use tenantdb::collections;
use tenantdb::docs::{ID, InventoryTransactionDoc, ProductDoc, SaleDoc, SaleStatus, SupplierItemDoc, TransactionKind};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::queries::date::{date, instant};
use crate::queries::reports::{csv, values};

/// `numerator / denominator` rounded half up; 0 when the denominator is 0.
fn divide_half_up(numerator: i128, denominator: i128) -> i64 {
    if denominator == 0 {
        return 0;
    }
    let (numerator, denominator) = if denominator < 0 {
        (-numerator, -denominator)
    } else {
        (numerator, denominator)
    };
    i64::try_from(events::tax::RoundingMode::HalfUp.divide(numerator, denominator)).unwrap_or(0)
}

/// The part of `amount` (of a line of `quantity` units) that `returned` units take, by
/// the refunds' cumulative half-up rule.
fn share(amount: i64, quantity: i64, returned: i64) -> i64 {
    if quantity <= 0 {
        return 0;
    }
    divide_half_up(i128::from(amount) * i128::from(returned), i128::from(quantity))
}

async fn products(db: &Database, filter: Document) -> Result<Vec<ProductDoc>, ApiError> {
    Ok(collections::products(db)
        .find(filter)
        .await
        .map_err(anyhow::Error::from)?
        .try_collect()
        .await
        .map_err(anyhow::Error::from)?)
}

// ---------------------------------------------------------------------------------------
// Gross margin
// ---------------------------------------------------------------------------------------

/// Filters of `GET /v1/reports/margin`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MarginQuery {
    /// First business day, `YYYY-MM-DD` (inclusive).
    pub from: String,
    /// Last business day, `YYYY-MM-DD` (inclusive).
    pub to: String,
    /// Grouping: `product` (default), `category`, `location` or `day`.
    #[param(value_type = Option<MarginBy>, inline)]
    pub by: Option<String>,
    /// Only this location. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
}

/// What `GET /v1/reports/margin` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MarginBy {
    /// One row per SKU.
    Product,
    /// One row per catalog category (`""` for products without one).
    Category,
    /// One row per store.
    Location,
    /// One row per business day.
    Day,
}

/// One row of the margin report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MarginRow {
    /// The group: a SKU, a category, a location id or a business day `YYYY-MM-DD`.
    pub key: String,
    /// Units sold, net of refunded units.
    pub units: i64,
    /// Revenue before tax and deposits, net of refunds, minor units.
    pub revenue_minor: i64,
    /// Cost of goods of those units at moving average cost when sold, net of the cost
    /// refunds returned, minor units.
    pub cost_minor: i64,
    /// `revenue_minor - cost_minor`, minor units.
    pub margin_minor: i64,
    /// Margin as basis points of revenue (`margin × 10000 / revenue`, rounded half up);
    /// absent when revenue is 0.
    pub margin_bp: Option<i64>,
    /// ISO 4217 currency of the amounts.
    pub currency: String,
}

const MARGIN_COLUMNS: &[(&str, &str)] = &[
    ("key", "key"),
    ("units", "units"),
    ("revenue_minor", "revenue_minor"),
    ("cost_minor", "cost_minor"),
    ("margin_minor", "margin_minor"),
    ("margin_bp", "margin_bp"),
    ("currency", "currency"),
];

/// Gross margin of the sales of a period of business days, grouped. A sale counts on its
/// own business day with what was refunded of it so far; voided sales are left out (the
/// void returned their goods and their cost).
pub async fn margin(db: &Database, query: &MarginQuery) -> Result<Vec<MarginRow>, ApiError> {
    let by = match query.by.as_deref().unwrap_or("product") {
        "product" => MarginBy::Product,
        "category" => MarginBy::Category,
        "location" => MarginBy::Location,
        "day" => MarginBy::Day,
        _ => return Err(ApiError::invalid("by", "must be product, category, location or day")),
    };
    let from = date("from", &query.from)?;
    let to = date("to", &query.to)?;
    if to < from {
        return Err(ApiError::invalid("to", "must not be before from"));
    }
    let mut filter = doc! {
        (SaleDoc::BUSINESS_DATE): {"$gte": from.format("%Y-%m-%d").to_string(), "$lte": to.format("%Y-%m-%d").to_string()},
        (SaleDoc::STATUS): {"$ne": SaleStatus::Voided.as_str()},
    };
    if let Some(location) = &query.location {
        filter.insert(SaleDoc::LOCATION, location.as_str());
    }
    let sales: Vec<SaleDoc> = collections::sales(db)
        .find(filter)
        .await
        .map_err(anyhow::Error::from)?
        .try_collect()
        .await
        .map_err(anyhow::Error::from)?;
    let categories: BTreeMap<String, String> = if by == MarginBy::Category {
        let skus: BTreeSet<&str> = sales
            .iter()
            .flat_map(|s| s.lines.iter().map(|l| l.sku.as_str()))
            .collect();
        products(db, doc! {ID: {"$in": skus.into_iter().collect::<Vec<_>>()}})
            .await?
            .into_iter()
            .map(|p| (p.sku, p.category.unwrap_or_default()))
            .collect()
    } else {
        BTreeMap::new()
    };
    let mut groups: BTreeMap<String, MarginRow> = BTreeMap::new();
    for sale in &sales {
        for line in &sale.lines {
            let key = match by {
                MarginBy::Product => line.sku.clone(),
                MarginBy::Category => categories.get(&line.sku).cloned().unwrap_or_default(),
                MarginBy::Location => sale.location.clone(),
                MarginBy::Day => sale.business_date.clone(),
            };
            let row = groups.entry(key.clone()).or_insert_with(|| MarginRow {
                key,
                units: 0,
                revenue_minor: 0,
                cost_minor: 0,
                margin_minor: 0,
                margin_bp: None,
                currency: sale.currency.clone(),
            });
            let sold = line.total_minor - line.tax_minor - line.deposit_minor;
            let refunded = line.refunded_amount_minor - line.refunded_tax_minor - line.refunded_deposit_minor;
            row.units += line.quantity - line.refunded_quantity;
            row.revenue_minor += sold - refunded;
            row.cost_minor += line.cost_minor - share(line.cost_minor, line.quantity, line.refunded_quantity);
        }
    }
    Ok(groups
        .into_values()
        .map(|mut row| {
            row.margin_minor = row.revenue_minor - row.cost_minor;
            row.margin_bp = (row.revenue_minor != 0)
                .then(|| divide_half_up(i128::from(row.margin_minor) * 10_000, i128::from(row.revenue_minor)));
            row
        })
        .collect())
}

/// The margin report as CSV.
pub fn margin_csv(rows: &[MarginRow]) -> String {
    csv(MARGIN_COLUMNS, &values(rows))
}

// ---------------------------------------------------------------------------------------
// Inventory valuation
// ---------------------------------------------------------------------------------------

/// Filters of `GET /v1/reports/valuation`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ValuationQuery {
    /// The instant: RFC 3339, or `YYYY-MM-DD` for the end of that day (UTC).
    pub at: String,
    /// Only this location. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
    /// `location` (default): one row per store; `product`: one row per store and SKU.
    #[param(value_type = Option<ValuationBy>, inline)]
    pub by: Option<String>,
}

/// What `GET /v1/reports/valuation` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValuationBy {
    /// One row per store.
    Location,
    /// One row per store and SKU.
    Product,
}

/// The stock of a store (or of one product there) and what it was worth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ValuationRow {
    /// The store.
    pub location: String,
    /// The product, with `by=product`; absent for a store's total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Units on hand at the instant (every movement that happened before it).
    pub units: i64,
    /// What they were worth at moving average cost, minor units of the store's currency.
    pub value_minor: i64,
}

const VALUATION_COLUMNS: &[(&str, &str)] = &[
    ("location", "location"),
    ("sku", "sku"),
    ("units", "units"),
    ("value_minor", "value_minor"),
];

#[derive(Debug, Deserialize)]
struct ValuationGroup {
    #[serde(rename = "_id")]
    id: ValuationKey,
    units: i64,
    value_minor: i64,
}

#[derive(Debug, Deserialize)]
struct ValuationKey {
    location: String,
    #[serde(default)]
    sku: Option<String>,
}

/// The inventory's value at an instant: the sum of every stock movement's value that
/// happened (by its `occurred_at`) before it.
pub async fn valuation(db: &Database, query: &ValuationQuery) -> Result<Vec<ValuationRow>, ApiError> {
    let at = instant("at", &query.at, true)?;
    let by = match query.by.as_deref().unwrap_or("location") {
        "location" => ValuationBy::Location,
        "product" => ValuationBy::Product,
        _ => return Err(ApiError::invalid("by", "must be location or product")),
    };
    let mut filter = doc! {(InventoryTransactionDoc::OCCURRED_AT): {"$lt": bson::DateTime::from_chrono(at)}};
    if let Some(location) = &query.location {
        filter.insert(InventoryTransactionDoc::LOCATION, location.as_str());
    }
    let location = format!("${}", InventoryTransactionDoc::LOCATION);
    let id = match by {
        ValuationBy::Location => doc! {"location": location},
        ValuationBy::Product => doc! {"location": location, "sku": format!("${}", InventoryTransactionDoc::SKU)},
    };
    let pipeline = vec![
        doc! {"$match": filter},
        doc! {"$group": {
            ID: id,
            "units": {"$sum": format!("${}", InventoryTransactionDoc::QUANTITY)},
            "value_minor": {"$sum": {"$ifNull": [format!("${}", InventoryTransactionDoc::VALUE_MINOR), 0]}},
        }},
    ];
    let groups: Vec<Document> = collections::inventory_transactions(db)
        .aggregate(pipeline)
        .await
        .map_err(anyhow::Error::from)?
        .try_collect()
        .await
        .map_err(anyhow::Error::from)?;
    let mut rows = groups
        .into_iter()
        .map(|group| {
            let group: ValuationGroup = bson::from_document(group).map_err(anyhow::Error::from)?;
            Ok(ValuationRow {
                location: group.id.location,
                sku: group.id.sku,
                units: group.units,
                value_minor: group.value_minor,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    rows.sort_by(|a, b| (&a.location, &a.sku).cmp(&(&b.location, &b.sku)));
    Ok(rows)
}

/// The valuation as CSV.
pub fn valuation_csv(rows: &[ValuationRow]) -> String {
    csv(VALUATION_COLUMNS, &values(rows))
}

// ---------------------------------------------------------------------------------------
// Reorder suggestions and low stock
// ---------------------------------------------------------------------------------------

/// Filters of `GET /v1/reports/reorder`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReorderQuery {
    /// Only this location. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
    /// Days of sales that measure the velocity, ending now (1 to 365, default 28).
    pub days: Option<i64>,
}

/// One product to order for one store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReorderSuggestion {
    /// The store.
    pub location: String,
    /// The product.
    pub sku: String,
    /// Its name.
    pub name: Option<String>,
    /// Units on hand now.
    pub on_hand: i64,
    /// Units on submitted purchase orders not delivered yet.
    pub on_order: i64,
    /// The store's reorder point (else the catalog's).
    pub reorder_point: i64,
    /// The store's par level (else the reorder point).
    pub par_level: i64,
    /// Units sold at the store in the velocity window, net of voids and refunds.
    pub units_sold: i64,
    /// Days in the velocity window.
    pub window_days: i64,
    /// Expected sales during the supplier's lead time:
    /// `ceil(units_sold × lead_time_days / window_days)`.
    pub lead_time_demand: i64,
    /// The supplier to order from (the lowest cost per unit; ties by id), if any sells it.
    pub supplier_id: Option<String>,
    /// The supplier's code for the product.
    pub supplier_code: Option<String>,
    /// Units per case (1 without a supplier).
    pub case_size: i64,
    /// Days from order to delivery (0 without a supplier).
    pub lead_time_days: i64,
    /// Cases to order: `ceil((par_level + lead_time_demand - on_hand - on_order) / case_size)`.
    pub suggested_cases: i64,
    /// `suggested_cases × case_size`.
    pub suggested_units: i64,
    /// What they cost at the supplier's case cost, minor units (0 without a supplier).
    pub order_cost_minor: i64,
}

const REORDER_COLUMNS: &[(&str, &str)] = &[
    ("location", "location"),
    ("sku", "sku"),
    ("name", "name"),
    ("on_hand", "on_hand"),
    ("on_order", "on_order"),
    ("reorder_point", "reorder_point"),
    ("par_level", "par_level"),
    ("units_sold", "units_sold"),
    ("window_days", "window_days"),
    ("lead_time_demand", "lead_time_demand"),
    ("supplier_id", "supplier_id"),
    ("supplier_code", "supplier_code"),
    ("case_size", "case_size"),
    ("lead_time_days", "lead_time_days"),
    ("suggested_cases", "suggested_cases"),
    ("suggested_units", "suggested_units"),
    ("order_cost_minor", "order_cost_minor"),
];

/// A product at a store with the levels that apply there.
struct Levels<'a> {
    product: &'a ProductDoc,
    location: String,
    reorder_point: i64,
    par_level: i64,
}

impl Levels<'_> {
    fn on_hand(&self) -> i64 {
        self.product.stock.get(&self.location).copied().unwrap_or(0)
    }

    fn on_order(&self) -> i64 {
        self.product.on_order.get(&self.location).copied().unwrap_or(0)
    }
}

/// The products with reorder levels (the store's own, else the catalog's reorder point
/// at every store that has stock of it), per store.
fn levels<'a>(products: &'a [ProductDoc], location: Option<&str>) -> Vec<Levels<'a>> {
    let mut out = Vec::new();
    for product in products {
        let mut stores: BTreeSet<&str> = product.reorder.keys().map(String::as_str).collect();
        if product.reorder_point.is_some() {
            stores.extend(product.stock.keys().map(String::as_str));
        }
        for store in stores {
            if location.is_some_and(|l| l != store) {
                continue;
            }
            let (reorder_point, par_level) = match (product.reorder.get(store), product.reorder_point) {
                (Some(levels), _) => (levels.reorder_point, levels.par_level),
                (None, Some(point)) => (point, point),
                (None, None) => continue,
            };
            out.push(Levels {
                product,
                location: store.to_owned(),
                reorder_point,
                par_level,
            });
        }
    }
    out
}

fn levels_filter() -> Document {
    doc! {"$or": [
        {(ProductDoc::REORDER): {"$exists": true}},
        {(ProductDoc::REORDER_POINT): {"$ne": null}},
    ]}
}

/// The supplier with the lowest cost per unit (ties by id).
fn cheapest(suppliers: &BTreeMap<String, SupplierItemDoc>) -> Option<(&String, &SupplierItemDoc)> {
    suppliers.iter().min_by(|(a_id, a), (b_id, b)| {
        // a.cost / a.size < b.cost / b.size  ⇔  a.cost × b.size < b.cost × a.size
        let left = i128::from(a.case_cost.amount_minor) * i128::from(b.case_size);
        let right = i128::from(b.case_cost.amount_minor) * i128::from(a.case_size);
        left.cmp(&right).then_with(|| a_id.cmp(b_id))
    })
}

#[derive(Debug, Deserialize)]
struct SoldGroup {
    #[serde(rename = "_id")]
    id: SoldKey,
    quantity: i64,
}

#[derive(Debug, Deserialize)]
struct SoldKey {
    sku: String,
    location: String,
}

/// Units sold per (SKU, location) since `since`, net of voids and refunds.
async fn units_sold(db: &Database, since: DateTime<Utc>) -> Result<BTreeMap<(String, String), i64>, ApiError> {
    let kinds = [TransactionKind::Sale, TransactionKind::Void, TransactionKind::Refund].map(TransactionKind::as_str);
    let pipeline = vec![
        doc! {"$match": {
            (InventoryTransactionDoc::OCCURRED_AT): {"$gte": bson::DateTime::from_chrono(since)},
            (InventoryTransactionDoc::KIND): {"$in": kinds.to_vec()},
        }},
        doc! {"$group": {
            ID: {"sku": format!("${}", InventoryTransactionDoc::SKU), "location": format!("${}", InventoryTransactionDoc::LOCATION)},
            "quantity": {"$sum": format!("${}", InventoryTransactionDoc::QUANTITY)},
        }},
    ];
    let groups: Vec<Document> = collections::inventory_transactions(db)
        .aggregate(pipeline)
        .await
        .map_err(anyhow::Error::from)?
        .try_collect()
        .await
        .map_err(anyhow::Error::from)?;
    groups
        .into_iter()
        .map(|group| {
            let group: SoldGroup = bson::from_document(group).map_err(anyhow::Error::from)?;
            Ok(((group.id.sku, group.id.location), -group.quantity))
        })
        .collect()
}

/// Reorder suggestions: every product whose stock position at a store (on hand plus on
/// order) is at or below its reorder point, with the cases that bring it back up to its
/// par level plus what is expected to sell during the supplier's lead time.
pub async fn reorder(
    db: &Database,
    query: &ReorderQuery,
    now: DateTime<Utc>,
) -> Result<Vec<ReorderSuggestion>, ApiError> {
    let days = match query.days {
        None => 28,
        Some(days) if (1..=365).contains(&days) => days,
        Some(_) => return Err(ApiError::invalid("days", "must be between 1 and 365")),
    };
    let products = products(db, levels_filter()).await?;
    let sold = units_sold(db, now - Duration::days(days)).await?;
    let mut rows = Vec::new();
    for levels in levels(&products, query.location.as_deref()) {
        let (on_hand, on_order) = (levels.on_hand(), levels.on_order());
        if on_hand + on_order > levels.reorder_point {
            continue;
        }
        let product = levels.product;
        let units_sold = sold
            .get(&(product.sku.clone(), levels.location.clone()))
            .copied()
            .unwrap_or(0)
            .max(0);
        let supplier = cheapest(&product.suppliers);
        let (case_size, lead_time_days) =
            supplier.map_or((1, 0), |(_, item)| (item.case_size.max(1), item.lead_time_days));
        let lead_time_demand = ceil_div(units_sold * lead_time_days, days);
        let need = levels.par_level + lead_time_demand - on_hand - on_order;
        if need <= 0 {
            continue;
        }
        let suggested_cases = ceil_div(need, case_size);
        rows.push(ReorderSuggestion {
            location: levels.location.clone(),
            sku: product.sku.clone(),
            name: product.name.clone(),
            on_hand,
            on_order,
            reorder_point: levels.reorder_point,
            par_level: levels.par_level,
            units_sold,
            window_days: days,
            lead_time_demand,
            supplier_id: supplier.map(|(id, _)| id.clone()),
            supplier_code: supplier.map(|(_, item)| item.supplier_code.clone()),
            case_size,
            lead_time_days,
            suggested_cases,
            suggested_units: suggested_cases * case_size,
            order_cost_minor: supplier.map_or(0, |(_, item)| suggested_cases * item.case_cost.amount_minor),
        });
    }
    rows.sort_by(|a, b| (&a.location, &a.sku).cmp(&(&b.location, &b.sku)));
    Ok(rows)
}

fn ceil_div(numerator: i64, denominator: i64) -> i64 {
    if denominator <= 0 || numerator <= 0 {
        return 0;
    }
    (numerator + denominator - 1) / denominator
}

/// Reorder suggestions as CSV.
pub fn reorder_csv(rows: &[ReorderSuggestion]) -> String {
    csv(REORDER_COLUMNS, &values(rows))
}

/// Filters of `GET /v1/reports/low-stock`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LowStockQuery {
    /// Only this location. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
}

/// A product at or below its reorder point at one store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LowStockRow {
    /// The store.
    pub location: String,
    /// The product.
    pub sku: String,
    /// Its name.
    pub name: Option<String>,
    /// Units on hand at the store.
    pub on_hand: i64,
    /// Units on order for the store.
    pub on_order: i64,
    /// The store's reorder point (else the catalog's).
    pub reorder_point: i64,
    /// The store's par level (else the reorder point).
    pub par_level: i64,
}

const LOW_STOCK_COLUMNS: &[(&str, &str)] = &[
    ("location", "location"),
    ("sku", "sku"),
    ("name", "name"),
    ("on_hand", "on_hand"),
    ("on_order", "on_order"),
    ("reorder_point", "reorder_point"),
    ("par_level", "par_level"),
];

/// Products whose units on hand at a store are at or below the store's reorder point
/// (what is on order does not count: it is not on the shelf yet).
pub async fn low_stock(db: &Database, query: &LowStockQuery) -> Result<Vec<LowStockRow>, ApiError> {
    let products = products(db, levels_filter()).await?;
    let mut rows: Vec<LowStockRow> = levels(&products, query.location.as_deref())
        .into_iter()
        .filter(|levels| levels.on_hand() <= levels.reorder_point)
        .map(|levels| LowStockRow {
            on_hand: levels.on_hand(),
            on_order: levels.on_order(),
            location: levels.location,
            sku: levels.product.sku.clone(),
            name: levels.product.name.clone(),
            reorder_point: levels.reorder_point,
            par_level: levels.par_level,
        })
        .collect();
    rows.sort_by(|a, b| (&a.location, &a.sku).cmp(&(&b.location, &b.sku)));
    Ok(rows)
}

/// Low stock as CSV.
pub fn low_stock_csv(rows: &[LowStockRow]) -> String {
    csv(LOW_STOCK_COLUMNS, &values(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_div_and_shares_round_as_documented() {
        assert_eq!(ceil_div(7, 12), 1);
        assert_eq!(ceil_div(24, 12), 2);
        assert_eq!(ceil_div(0, 12), 0);
        // 3 units costing 1000 in total: refunding 1 returns 333, all 3 return 1000.
        assert_eq!(share(1000, 3, 1), 333);
        assert_eq!(share(1000, 3, 3), 1000);
        assert_eq!(divide_half_up(25, 2), 13);
    }
}
