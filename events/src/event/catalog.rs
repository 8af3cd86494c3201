//! Catalog events: a product is registered, its details or price change, it is
//! discontinued. They belong to the product aggregate, keyed by SKU.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{LocationId, Sku};
use crate::money::Money;
use crate::tax::Container;

/// A legal minimum age to buy a product (alcohol, tobacco).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeRestriction {
    /// The customer must be at least this old, in years.
    pub minimum_age: u8,
}

/// The descriptive part of a product, everything but its SKU and price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductDetails {
    /// Name shown on receipts and screens.
    pub name: String,
    /// Category used for browsing and reports (wine, spirits, beer, ...).
    pub category: String,
    /// Tax class the terminal uses to compute tax (standard, reduced, exempt, ...).
    pub tax_class: String,
    /// Barcodes (EAN/UPC) that scan to this product.
    #[serde(default)]
    pub barcodes: Vec<String>,
    /// Present when the product may only be sold to customers of a minimum age.
    #[serde(default)]
    pub age_restriction: Option<AgeRestriction>,
    /// Stock level at or below which the product is flagged for reordering.
    #[serde(default)]
    pub reorder_point: Option<i64>,
    /// What one sold item comes in (for deposits and per-container or per-litre taxes);
    /// absent on products registered before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    /// What one unit of stock is called (`bottle`, `can`); absent on products registered
    /// before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_unit: Option<String>,
    /// Alcohol by volume in basis points (4.5 % is 450); absent when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abv_basis_points: Option<u16>,
    /// Present when this SKU is a pack of another product (a 6-pack of cans): it holds no
    /// stock of its own; selling or receiving one moves `units` of the base product.
    /// Fixed at registration (see docs/catalog.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<Pack>,
}

/// A pack: a sellable SKU made of a whole number of another product's units. Stock is
/// kept in the base product's units only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    /// The product whose units the pack holds (itself never a pack).
    pub base_sku: Sku,
    /// Base units in one pack (> 0): 6 for a six-pack, 24 for a case.
    pub units: u32,
}

impl Pack {
    /// The base units in `quantity` packs.
    pub fn base_units(&self, quantity: i64) -> i64 {
        quantity.saturating_mul(i64::from(self.units))
    }
}

/// A product entered the catalog.
///
/// Version history: v1 carried `price_cents` + `currency` and a boolean `age_restricted`
/// (meaning 21); v2 has a [`Money`] price and an [`AgeRestriction`]. See
/// [`crate::upcast`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductRegistered {
    /// The new product's SKU.
    pub sku: Sku,
    /// Name, category, barcodes and the rest.
    pub details: ProductDetails,
    /// Shelf price.
    pub price: Money,
}

/// A product's descriptive details were replaced (price changes have their own event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductUpdated {
    /// The product.
    pub sku: Sku,
    /// The complete new details.
    pub details: ProductDetails,
}

/// A product's shelf price changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductPriceChanged {
    /// The product.
    pub sku: Sku,
    /// The price from now on.
    pub price: Money,
    /// The price before, when known, for audit.
    #[serde(default)]
    pub previous_price: Option<Money>,
    /// The one location the price is for (v2); absent: every location without a price of
    /// its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationId>,
    /// When the price takes effect (v2); absent: when the event happened. A later instant
    /// schedules the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<DateTime<Utc>>,
}

/// A product is no longer sold; its history stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductDiscontinued {
    /// The product.
    pub sku: Sku,
    /// Why, in the manager's words.
    #[serde(default)]
    pub reason: Option<String>,
}
