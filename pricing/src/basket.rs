//! What the engine prices: a [`Basket`] of [`BasketLine`]s, on a date, in a store whose
//! shelf prices are either tax-exclusive or tax-inclusive ([`PricingContext`]).

use chrono::NaiveDate;
use events::{Currency, Sku};
use serde::{Deserialize, Serialize};

pub use events::tax::Container;

use crate::slug::TaxClass;

/// Whether a store's shelf prices include percentage taxes. A property of the location
/// (law or habit: VAT countries show inclusive prices, US and Canadian stores add tax at
/// the till).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PriceMode {
    /// Prices and deposits are before tax; percentage taxes are added on top.
    Additive,
    /// Prices and deposits include their percentage taxes, which are extracted from them.
    /// Per-unit taxes are still charged beside the price (see `docs/taxes.md`).
    Inclusive,
}

/// When and how a basket is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PricingContext {
    /// The store's local calendar date of the sale: picks the tax and deposit versions in
    /// force. For a recorded sale, its `occurred_at` in the store's time zone.
    pub date: NaiveDate,
    /// Whether the store's prices include tax.
    pub price_mode: PriceMode,
}

/// One line to price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BasketLine {
    /// Position on the receipt, unique within the basket; ties in per-receipt rounding go
    /// to the lower number.
    pub line_no: u32,
    /// The product; carried through to the priced line.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "JD-750ML"))]
    pub sku: Sku,
    /// Items sold (>= 0). Zero prices to all zeros.
    pub quantity: i64,
    /// Price charged for one item, minor units (>= 0): the list price, or the cashier's
    /// override. In a tax-inclusive store it includes tax.
    pub unit_price_minor: i64,
    /// The server's price for the item at the time (per location, as scheduled), when
    /// known. Differing from `unit_price_minor` makes the line a price override.
    #[serde(default)]
    pub list_price_minor: Option<i64>,
    /// Discount on the whole line, minor units (0 to quantity × unit price).
    #[serde(default)]
    pub discount_minor: i64,
    /// The product's tax class.
    pub tax_class: TaxClass,
    /// The container, for products that pay deposits or per-unit taxes.
    #[serde(default)]
    pub container: Option<Container>,
}

/// A set of lines priced together (a receipt, or a cart being rung up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Basket {
    /// Currency of every amount; must be the jurisdiction's.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "USD"))]
    pub currency: Currency,
    /// The lines, in receipt order.
    pub lines: Vec<BasketLine>,
}
