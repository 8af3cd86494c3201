//! A product with its stock per location (`products`).

use std::collections::BTreeMap;

use bson::serde_helpers::chrono_datetime_as_bson_datetime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a product stands in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    /// Registered and for sale.
    Active,
    /// No longer sold.
    Discontinued,
    /// Known only through stock movements or sales so far: never registered.
    Unregistered,
}

impl ProductStatus {
    /// Every status.
    pub const ALL: [ProductStatus; 3] = [Self::Active, Self::Discontinued, Self::Unregistered];

    /// The stored string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Discontinued => "discontinued",
            Self::Unregistered => "unregistered",
        }
    }

    /// The status stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// Money inside a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MoneyDoc {
    /// The amount in minor units of the currency (cents).
    pub amount_minor: i64,
    /// ISO 4217 currency code.
    pub currency: String,
}

impl From<events::Money> for MoneyDoc {
    fn from(money: events::Money) -> Self {
        Self {
            amount_minor: money.amount_minor,
            currency: money.currency.code().to_owned(),
        }
    }
}

/// A price for one store, or a change scheduled for later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceChangeDoc {
    /// The store it is for; absent: every store without a price of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// When it takes effect.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub effective_from: DateTime<Utc>,
    /// The price from then on.
    pub price: MoneyDoc,
}

/// What a pack SKU holds: `units` of the product `base_sku`, whose stock it moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PackDoc {
    /// The base product.
    pub base_sku: String,
    /// Base units in one pack.
    pub units: i64,
}

impl From<&events::event::Pack> for PackDoc {
    fn from(pack: &events::event::Pack) -> Self {
        Self {
            base_sku: pack.base_sku.to_string(),
            units: i64::from(pack.units),
        }
    }
}

impl PackDoc {
    /// The SKU whose stock `quantity` of `sku` moves, and by how many units: the base
    /// product's units for a pack, else `sku` itself.
    pub fn stock_of<'a>(pack: Option<&'a PackDoc>, sku: &'a str, quantity: i64) -> (&'a str, i64) {
        match pack {
            Some(pack) => (pack.base_sku.as_str(), quantity.saturating_mul(pack.units)),
            None => (sku, quantity),
        }
    }
}

/// A product's reorder point and par level at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReorderLevelsDoc {
    /// At or below this many units (on hand plus on order) it is time to reorder.
    pub reorder_point: i64,
    /// The level an order brings it back up to.
    pub par_level: i64,
}

/// How one supplier sells a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupplierItemDoc {
    /// The supplier's name.
    pub supplier_name: String,
    /// The supplier's code for the product.
    pub supplier_code: String,
    /// Units per case.
    pub case_size: i64,
    /// Cost of one case.
    pub case_cost: MoneyDoc,
    /// Days from order to delivery.
    pub lead_time_days: i64,
}

/// A product with its stock per location (`products`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDoc {
    /// The SKU.
    #[serde(rename = "_id")]
    pub sku: String,
    /// Where it stands in the catalog.
    pub status: ProductStatus,
    /// Display name.
    pub name: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Tax class.
    pub tax_class: Option<String>,
    /// Barcodes.
    pub barcodes: Vec<String>,
    /// Minimum age to buy, if restricted.
    pub minimum_age: Option<i32>,
    /// Reorder point.
    pub reorder_point: Option<i64>,
    /// What one unit of stock is called (`bottle`, `can`), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_unit: Option<String>,
    /// Volume of one container in millilitres, when the product has a container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_ml: Option<i64>,
    /// Container type (for deposits), when the product has a container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_type: Option<String>,
    /// Containers in one sold item (6 for a six-pack), when the product has a container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers_per_item: Option<i64>,
    /// Alcohol by volume in basis points (4.5 % is 450), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abv_basis_points: Option<i32>,
    /// Present when the product is a pack: it holds no stock; its sales and receipts move
    /// the base product's units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackDoc>,
    /// The chain-wide shelf price set by the last change that took effect when it was
    /// made.
    pub price: Option<MoneyDoc>,
    /// Prices for one store and changes scheduled for later, in the order they were made
    /// (absent when there are none). Quotes and the pricing of sales apply them from
    /// their instant; `price` does not roll over by itself when a scheduled change takes
    /// effect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub price_changes: Vec<PriceChangeDoc>,
    /// Catalog version: stream sequence of the last catalog event (the API's ETag).
    pub version: i64,
    /// Units on hand per location.
    pub stock: BTreeMap<String, i64>,
    /// Units on hand over all locations.
    pub on_hand_total: i64,
    /// `on_hand_total <= reorder_point`.
    pub low_stock: bool,
    /// Some location is below zero.
    pub negative_stock: bool,
    /// Value of the stock per location at moving average cost, minor units (absent
    /// before anything was received with a cost).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stock_value: BTreeMap<String, i64>,
    /// Moving average cost of one unit per location, minor units, rounded half up
    /// (`stock_value / stock` while stock is positive; kept when it reaches zero, so
    /// sales into negative stock cost the last average).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unit_cost: BTreeMap<String, i64>,
    /// Units ordered on submitted purchase orders and not delivered yet, per location.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub on_order: BTreeMap<String, i64>,
    /// Reorder point and par level per location.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reorder: BTreeMap<String, ReorderLevelsDoc>,
    /// The suppliers that sell it, by supplier id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub suppliers: BTreeMap<String, SupplierItemDoc>,
    /// When the last applied event happened.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub updated_at: DateTime<Utc>,
    /// Stream sequence of the last event applied to this document.
    pub last_seq: i64,
}

impl ProductDoc {
    /// Field `status`.
    pub const STATUS: &'static str = "status";
    /// Field `name`.
    pub const NAME: &'static str = "name";
    /// Field `category`.
    pub const CATEGORY: &'static str = "category";
    /// Field `pack.base_sku`: the packs of a base product are found by it.
    pub const PACK_BASE_SKU: &'static str = "pack.base_sku";
    /// Field `barcodes`.
    pub const BARCODES: &'static str = "barcodes";
    /// Field `stock` (see [`ProductDoc::stock_at`]).
    pub const STOCK: &'static str = "stock";
    /// Field `low_stock`.
    pub const LOW_STOCK: &'static str = "low_stock";
    /// Field `negative_stock`.
    pub const NEGATIVE_STOCK: &'static str = "negative_stock";
    /// Field `reorder_point` (the catalog's, chain-wide).
    pub const REORDER_POINT: &'static str = "reorder_point";
    /// Field `reorder` (reorder levels per location).
    pub const REORDER: &'static str = "reorder";

    /// The path of the stock at `location` (`stock.<location>`).
    pub fn stock_at(location: &str) -> String {
        format!("{}.{location}", Self::STOCK)
    }

    /// A product known only through stock movements or sales so far.
    pub fn unregistered(sku: &str, at: DateTime<Utc>) -> Self {
        Self {
            sku: sku.to_owned(),
            status: ProductStatus::Unregistered,
            name: None,
            category: None,
            tax_class: None,
            barcodes: Vec::new(),
            minimum_age: None,
            reorder_point: None,
            base_unit: None,
            volume_ml: None,
            container_type: None,
            containers_per_item: None,
            abv_basis_points: None,
            pack: None,
            price: None,
            price_changes: Vec::new(),
            version: 0,
            stock: BTreeMap::new(),
            on_hand_total: 0,
            low_stock: false,
            negative_stock: false,
            stock_value: BTreeMap::new(),
            unit_cost: BTreeMap::new(),
            on_order: BTreeMap::new(),
            reorder: BTreeMap::new(),
            suppliers: BTreeMap::new(),
            updated_at: at,
            last_seq: 0,
        }
    }

    /// Recomputes the totals and flags from the per-location stock.
    pub fn refresh_flags(&mut self) {
        self.on_hand_total = self.stock.values().sum();
        self.negative_stock = self.stock.values().any(|q| *q < 0);
        self.low_stock = self.reorder_point.is_some_and(|point| self.on_hand_total <= point);
    }
}
