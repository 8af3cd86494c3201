//! Products and stock levels (readable by every role: cashiers look products up).

use std::collections::BTreeMap;

use bson::{Document, doc};
use chrono::{DateTime, Utc};
use mongodb::Database;
use serde::{Deserialize, Serialize};
use tenantdb::collections;
use tenantdb::docs::{
    ID, MoneyDoc, PackDoc, PriceChangeDoc, ProductDoc, ProductStatus, ReorderLevelsDoc, SupplierItemDoc,
};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::queries::document::rfc3339;
use crate::queries::packs::{PackStock, stock_in_packs};
use crate::queries::page::{self, Page, list};

/// Filters of `GET /v1/products`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductSearch {
    /// Part of the name, any case.
    pub q: Option<String>,
    /// Exact SKU.
    pub sku: Option<String>,
    /// Exact barcode.
    pub barcode: Option<String>,
    /// Exact category.
    pub category: Option<String>,
    /// `active`, `discontinued` or `unregistered`.
    #[param(value_type = Option<ProductStatus>, inline)]
    pub status: Option<String>,
    /// Page size (1 to 500, default 50).
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A product with its stock per location, as `GET /v1/products` and
/// `GET /v1/products/{sku}` answer it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Product {
    /// The SKU.
    pub id: String,
    /// Where the product stands in the catalog.
    pub status: ProductStatus,
    /// Display name (absent while unregistered).
    pub name: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Tax class.
    pub tax_class: Option<String>,
    /// Barcodes.
    pub barcodes: Vec<String>,
    /// Minimum age to buy, if age-restricted.
    pub minimum_age: Option<i32>,
    /// Reorder point in units: at or below it the product is low on stock.
    pub reorder_point: Option<i64>,
    /// What one unit of stock is called (`bottle`, `can`), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_unit: Option<String>,
    /// Volume of one container in millilitres, when the product has a container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_ml: Option<i64>,
    /// Container type (for deposits), when the product has a container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_type: Option<String>,
    /// Containers in one sold item (6 for a six-pack), when the product has a container:
    /// a sale of one item carries that many deposits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub containers_per_item: Option<i64>,
    /// Alcohol by volume in basis points (4.5 % is 450), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abv_basis_points: Option<i32>,
    /// Present when the product is a pack: it has no stock of its own (`stock` is empty);
    /// its sales and receipts move `units` of `base_sku`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackDoc>,
    /// Only on `GET /v1/products/{sku}`: the stock in full packs. For a pack, its own
    /// count from its base's stock; for a base product, one entry per pack of it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stock_in_packs: Vec<PackStock>,
    /// The chain-wide shelf price set by the last change that took effect when it was
    /// made (minor units).
    pub price: Option<MoneyDoc>,
    /// Prices for one store and changes scheduled for later, in the order they were made
    /// (absent when there are none); quotes and the pricing of sales apply them from their
    /// instant.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub price_changes: Vec<PriceChange>,
    /// Catalog version: the stream sequence of the last catalog change (the `ETag`).
    pub version: i64,
    /// Units on hand per location.
    pub stock: BTreeMap<String, i64>,
    /// Units on hand over all locations.
    pub on_hand_total: i64,
    /// `on_hand_total` is at or below `reorder_point`.
    pub low_stock: bool,
    /// Some location is below zero.
    pub negative_stock: bool,
    /// Value of the stock per location at moving average cost, minor units (absent
    /// before anything was received with a cost).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub stock_value: BTreeMap<String, i64>,
    /// Moving average cost of one unit per location, minor units, rounded half up.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub unit_cost: BTreeMap<String, i64>,
    /// Units on submitted purchase orders not delivered yet, per location.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub on_order: BTreeMap<String, i64>,
    /// Reorder point and par level per location.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub reorder: BTreeMap<String, ReorderLevelsDoc>,
    /// The suppliers that sell it (by supplier id), with their code, case and cost.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub suppliers: BTreeMap<String, SupplierItemDoc>,
    /// When the last event applied to the product happened.
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// A price for one store, or a change scheduled for later.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PriceChange {
    /// The store it is for; absent: every store without a price of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// When it takes effect.
    #[serde(serialize_with = "rfc3339")]
    pub effective_from: DateTime<Utc>,
    /// The price from then on.
    pub price: MoneyDoc,
}

impl From<PriceChangeDoc> for PriceChange {
    fn from(doc: PriceChangeDoc) -> Self {
        Self {
            location: doc.location,
            effective_from: doc.effective_from,
            price: doc.price,
        }
    }
}

impl From<ProductDoc> for Product {
    fn from(doc: ProductDoc) -> Self {
        Self {
            id: doc.sku,
            status: doc.status,
            name: doc.name,
            category: doc.category,
            tax_class: doc.tax_class,
            barcodes: doc.barcodes,
            minimum_age: doc.minimum_age,
            reorder_point: doc.reorder_point,
            base_unit: doc.base_unit,
            volume_ml: doc.volume_ml,
            container_type: doc.container_type,
            containers_per_item: doc.containers_per_item,
            abv_basis_points: doc.abv_basis_points,
            pack: doc.pack,
            stock_in_packs: Vec::new(),
            price: doc.price,
            price_changes: doc.price_changes.into_iter().map(PriceChange::from).collect(),
            version: doc.version,
            stock: doc.stock,
            on_hand_total: doc.on_hand_total,
            low_stock: doc.low_stock,
            negative_stock: doc.negative_stock,
            stock_value: doc.stock_value,
            unit_cost: doc.unit_cost,
            on_order: doc.on_order,
            reorder: doc.reorder,
            suppliers: doc.suppliers,
            updated_at: doc.updated_at,
        }
    }
}

/// Escapes a user string for use inside a regular expression.
fn escape_regex(text: &str) -> String {
    text.chars().fold(String::with_capacity(text.len()), |mut out, c| {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

/// Products matching `search`, by SKU.
pub async fn search(db: &Database, search: &ProductSearch) -> Result<Page<Product>, ApiError> {
    let limit = page::limit(search.limit)?;
    let mut filter = Document::new();
    if let Some(q) = search.q.as_deref().filter(|q| !q.is_empty()) {
        if q.len() > 100 {
            return Err(ApiError::invalid("q", "at most 100 characters"));
        }
        filter.insert(ProductDoc::NAME, doc! {"$regex": escape_regex(q), "$options": "i"});
    }
    if let Some(sku) = &search.sku {
        filter.insert(ID, sku.as_str());
    }
    if let Some(barcode) = &search.barcode {
        filter.insert(ProductDoc::BARCODES, barcode.as_str());
    }
    if let Some(category) = &search.category {
        filter.insert(ProductDoc::CATEGORY, category.as_str());
    }
    if let Some(status) = &search.status {
        let status = ProductStatus::parse(status)
            .ok_or_else(|| ApiError::invalid("status", "must be active, discontinued or unregistered"))?;
        filter.insert(ProductDoc::STATUS, status.as_str());
    }
    if let Some(cursor) = &search.cursor {
        let after = doc! {ID: {"$gt": cursor.as_str()}};
        filter = if filter.is_empty() {
            after
        } else {
            doc! {"$and": [filter, after]}
        };
    }
    list(
        &collections::products(db),
        filter,
        doc! {ID: 1},
        limit,
        |doc| doc.sku.clone(),
        Product::from,
    )
    .await
}

/// One product with its stock per location, and in full packs.
pub async fn product(db: &Database, sku: &str) -> Result<Product, ApiError> {
    let doc = collections::products(db)
        .find_one(doc! {ID: sku})
        .await?
        .ok_or_else(|| ApiError::NotFound {
            resource: "product",
            id: sku.to_owned(),
        })?;
    let packs = stock_in_packs(db, &doc).await?;
    let mut product = Product::from(doc);
    product.stock_in_packs = packs;
    Ok(product)
}

/// Filters of `GET /v1/stock`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StockQuery {
    /// Only this location's level.
    pub location: Option<String>,
    /// `all` (default), `low` (on hand ≤ reorder point) or `negative`.
    #[param(value_type = Option<StockState>, inline)]
    pub state: Option<String>,
    /// Page size (1 to 500, default 50).
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Which stock levels `GET /v1/stock` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StockState {
    /// Every product (at the location, if one is given).
    All,
    /// Products at or below their reorder point.
    Low,
    /// Products below zero (at the location, if one is given).
    Negative,
}

/// The stock level of one product, as `GET /v1/stock` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StockLevel {
    /// The SKU.
    pub sku: String,
    /// Display name (absent while unregistered).
    pub name: Option<String>,
    /// The location asked for, if any.
    pub location: Option<String>,
    /// Units on hand at `location`, or over all locations without one (absent when the
    /// product has no stock record at `location`).
    pub on_hand: Option<i64>,
    /// Units on hand per location.
    pub stock: BTreeMap<String, i64>,
    /// Reorder point in units.
    pub reorder_point: Option<i64>,
    /// On hand over all locations is at or below the reorder point.
    pub low_stock: bool,
    /// Some location is below zero.
    pub negative_stock: bool,
}

impl StockLevel {
    /// The level of `doc`, at `location` if given.
    pub fn of(doc: ProductDoc, location: Option<&str>) -> Self {
        let on_hand = match location {
            Some(location) => doc.stock.get(location).copied(),
            None => Some(doc.on_hand_total),
        };
        Self {
            sku: doc.sku,
            name: doc.name,
            location: location.map(str::to_owned),
            on_hand,
            stock: doc.stock,
            reorder_point: doc.reorder_point,
            low_stock: doc.low_stock,
            negative_stock: doc.negative_stock,
        }
    }
}

/// Stock levels, by SKU.
pub async fn stock(db: &Database, query: &StockQuery) -> Result<Page<StockLevel>, ApiError> {
    let limit = page::limit(query.limit)?;
    if let Some(location) = &query.location {
        events::LocationId::parse(location.as_str()).map_err(|e| ApiError::invalid("location", e.to_string()))?;
    }
    let mut filter = Document::new();
    match (query.state.as_deref().unwrap_or("all"), &query.location) {
        ("all", Some(location)) => {
            filter.insert(ProductDoc::stock_at(location), doc! {"$exists": true});
        }
        ("all", None) => {}
        ("low", _) => {
            filter.insert(ProductDoc::LOW_STOCK, true);
        }
        ("negative", Some(location)) => {
            filter.insert(ProductDoc::stock_at(location), doc! {"$lt": 0_i64});
        }
        ("negative", None) => {
            filter.insert(ProductDoc::NEGATIVE_STOCK, true);
        }
        _ => return Err(ApiError::invalid("state", "must be all, low or negative")),
    }
    if let Some(cursor) = &query.cursor {
        filter.insert(ID, doc! {"$gt": cursor.as_str()});
    }
    let location = query.location.as_deref();
    list(
        &collections::products(db),
        filter,
        doc! {ID: 1},
        limit,
        |doc| doc.sku.clone(),
        |doc| StockLevel::of(doc, location),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queries::document::to_json;

    #[test]
    fn regex_metacharacters_are_escaped() {
        assert_eq!(escape_regex("Jack (7).*"), "Jack \\(7\\)\\.\\*");
    }

    fn product() -> ProductDoc {
        let mut doc = ProductDoc::unregistered("RIOJA", bson::DateTime::from_millis(1_795_000_000_123).to_chrono());
        doc.status = ProductStatus::Active;
        doc.name = Some("Rioja".into());
        doc.price = Some(MoneyDoc {
            amount_minor: 1299,
            currency: "EUR".into(),
        });
        doc.reorder_point = Some(5);
        doc.minimum_age = Some(18);
        doc.stock.insert("main".into(), 3);
        doc.refresh_flags();
        doc.last_seq = 7;
        doc
    }

    #[test]
    fn a_product_is_served_as_its_stored_document_was() -> anyhow::Result<()> {
        let doc = product();
        let stored: ProductDoc = bson::from_document(bson::to_document(&doc)?)?;
        assert_eq!(
            serde_json::to_value(Product::from(stored))?,
            to_json(bson::to_document(&doc)?)
        );
        Ok(())
    }

    #[test]
    fn a_stock_level_is_served_as_before() -> anyhow::Result<()> {
        let product = to_json(bson::to_document(&product())?);
        for location in [None, Some("main"), Some("annex")] {
            let on_hand = match location {
                Some(location) => product["stock"][location].clone(),
                None => product["on_hand_total"].clone(),
            };
            let before = serde_json::json!({
                "sku": product["id"],
                "name": product["name"],
                "location": location,
                "on_hand": on_hand,
                "stock": product["stock"],
                "reorder_point": product["reorder_point"],
                "low_stock": product["low_stock"],
                "negative_stock": product["negative_stock"],
            });
            assert_eq!(
                serde_json::to_value(StockLevel::of(super::tests::product(), location))?,
                before
            );
        }
        Ok(())
    }
}
