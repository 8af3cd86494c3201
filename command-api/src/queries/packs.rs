//! Packs on the read side: a product's stock in full packs (cases), and the pack report,
//! units and revenue per pack and per base product (docs/catalog.md).
//!
//! Stock is kept in base units only; a pack SKU has none of its own. How many full packs
//! a location's stock makes is `units / pack units`, rounded down, and 0 for stock at or
//! below zero.

use std::collections::BTreeMap;

use bson::doc;
use futures::TryStreamExt;
use mongodb::Database;
use serde::{Deserialize, Serialize};
use tenantdb::collections;
use tenantdb::docs::{ID, PackDoc, ProductDoc};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::queries::date::date;
use crate::queries::reports::product_totals;

/// Most packs listed for one base product.
pub const MAX_PACKS: i64 = 100;

/// How many full packs of one pack SKU the base product's stock makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PackStock {
    /// The pack's SKU.
    pub sku: String,
    /// Base units in one pack.
    pub units: i64,
    /// Full packs per location: the location's units divided by `units`, rounded down
    /// (0 at or below zero).
    pub full_packs: BTreeMap<String, i64>,
    /// Full packs over all locations (the sum of `full_packs`).
    pub full_packs_total: i64,
}

impl PackStock {
    /// The full packs of `units` base units each that `stock` (units per location) makes.
    pub fn of(sku: &str, units: i64, stock: &BTreeMap<String, i64>) -> Self {
        let full_packs: BTreeMap<String, i64> = stock
            .iter()
            .map(|(location, on_hand)| (location.clone(), full(*on_hand, units)))
            .collect();
        Self {
            sku: sku.to_owned(),
            units,
            full_packs_total: full_packs.values().sum(),
            full_packs,
        }
    }
}

/// Full packs of `units` in `on_hand` units: rounded down, never below zero.
fn full(on_hand: i64, units: i64) -> i64 {
    if units <= 0 { 0 } else { on_hand.max(0) / units }
}

/// The stock of `product` in full packs: for a pack, its own count from its base's
/// stock; for a base product, one entry per pack of it (by SKU).
pub async fn stock_in_packs(db: &Database, product: &ProductDoc) -> Result<Vec<PackStock>, ApiError> {
    let products = collections::products(db);
    match &product.pack {
        Some(pack) => {
            let base = products.find_one(doc! {ID: pack.base_sku.as_str()}).await?;
            let stock = base.map(|b| b.stock).unwrap_or_default();
            Ok(vec![PackStock::of(&product.sku, pack.units, &stock)])
        }
        None => {
            let packs: Vec<ProductDoc> = products
                .find(doc! {ProductDoc::PACK_BASE_SKU: product.sku.as_str()})
                .sort(doc! {ID: 1})
                .limit(MAX_PACKS)
                .await?
                .try_collect()
                .await?;
            Ok(packs
                .iter()
                .filter_map(|p| {
                    p.pack
                        .as_ref()
                        .map(|pack| PackStock::of(&p.sku, pack.units, &product.stock))
                })
                .collect())
        }
    }
}

/// Filters of `GET /v1/reports/packs`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PackSalesQuery {
    /// First business day, `YYYY-MM-DD` (inclusive).
    pub from: String,
    /// Last business day, `YYYY-MM-DD` (inclusive).
    pub to: String,
    /// Only this location. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
}

/// Sales of one SKU (a pack or a single product) in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SkuSales {
    /// The SKU sold.
    pub sku: String,
    /// The product whose stock it moves: its base for a pack, else the SKU itself.
    pub base_sku: String,
    /// Base units in one item: the pack's units, 1 for a single product.
    pub units_per_item: i64,
    /// Items sold (packs for a pack), net of the voids and refunds recorded in the
    /// period.
    pub items: i64,
    /// `items × units_per_item`.
    pub base_units: i64,
    /// Revenue before tax and deposits, net of voids and refunds, minor units.
    pub revenue_minor: i64,
    /// ISO 4217 currency of `revenue_minor`.
    pub currency: String,
}

/// Sales of one base product over all its SKUs (itself and its packs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BaseSales {
    /// The base product.
    pub base_sku: String,
    /// Base units sold, over itself and its packs, net.
    pub base_units: i64,
    /// Revenue before tax and deposits over itself and its packs, net, minor units.
    pub revenue_minor: i64,
    /// ISO 4217 currency of `revenue_minor`.
    pub currency: String,
}

/// `GET /v1/reports/packs`: units and revenue per SKU sold and per base product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PackSalesReport {
    /// Per SKU sold, by SKU.
    pub skus: Vec<SkuSales>,
    /// Per base product, by SKU.
    pub base_products: Vec<BaseSales>,
}

/// Units and revenue per pack and per base product in a period of business days, by
/// the Z report's rules (those of `GET /v1/reports/top-products`). A SKU's pack is the
/// one it was registered with (fixed, so its sales and its catalog entry agree).
pub async fn pack_sales(db: &Database, query: &PackSalesQuery) -> Result<PackSalesReport, ApiError> {
    let from = date("from", &query.from)?;
    let to = date("to", &query.to)?;
    if to < from {
        return Err(ApiError::invalid("to", "must not be before from"));
    }
    if let Some(location) = &query.location {
        events::LocationId::parse(location.as_str()).map_err(|e| ApiError::invalid("location", e.to_string()))?;
    }
    let totals = product_totals(db, from, to, query.location.as_deref()).await?;
    let skus: Vec<&str> = totals.keys().map(String::as_str).collect();
    let packs: BTreeMap<String, PackDoc> = collections::products(db)
        .find(doc! {ID: {"$in": skus}, ProductDoc::PACK_BASE_SKU: {"$exists": true}})
        .await?
        .try_collect::<Vec<ProductDoc>>()
        .await?
        .into_iter()
        .filter_map(|p| p.pack.map(|pack| (p.sku, pack)))
        .collect();
    let mut rows = Vec::with_capacity(totals.len());
    let mut bases: BTreeMap<String, BaseSales> = BTreeMap::new();
    for (sku, total) in totals {
        let (base_sku, units_per_item) = match packs.get(&sku) {
            Some(pack) => (pack.base_sku.clone(), pack.units),
            None => (sku.clone(), 1),
        };
        let base_units = total.units.saturating_mul(units_per_item);
        let base = bases.entry(base_sku.clone()).or_insert_with(|| BaseSales {
            base_sku: base_sku.clone(),
            base_units: 0,
            revenue_minor: 0,
            currency: total.currency.clone(),
        });
        base.base_units += base_units;
        base.revenue_minor += total.revenue_minor;
        rows.push(SkuSales {
            sku,
            base_sku,
            units_per_item,
            items: total.units,
            base_units,
            revenue_minor: total.revenue_minor,
            currency: total.currency,
        });
    }
    Ok(PackSalesReport {
        skus: rows,
        base_products: bases.into_values().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_packs_round_down_and_never_go_below_zero() {
        // 40 cans make one full case of 24 and six full six-packs; -3 cans make none.
        let stock = BTreeMap::from([("main".to_owned(), 40), ("annex".to_owned(), -3)]);
        let cases = PackStock::of("CASE", 24, &stock);
        assert_eq!(cases.full_packs["main"], 1);
        assert_eq!(cases.full_packs["annex"], 0);
        assert_eq!(cases.full_packs_total, 1);
        assert_eq!(PackStock::of("SIX", 6, &stock).full_packs_total, 6);
        assert_eq!(full(5, 0), 0);
    }
}
