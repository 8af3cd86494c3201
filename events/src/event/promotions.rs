//! Promotion events: a promotion is created, changed or ended. They belong to the
//! promotion aggregate, keyed by the promotion id the back office chose.
//!
//! A promotion is a rule ([`PromotionRule`]: mix-and-match over a product set, quantity
//! breaks on one product, buy X get Y), a time window, the locations it applies at and
//! whether it stacks with other promotions. The `pricing` crate applies them
//! (`pricing::promotion`); the stacking rule and the allocation of a basket discount to
//! lines are described in docs/promotions.md.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{LocationId, PromotionId, Sku};
use crate::money::Currency;

/// The products a promotion counts: a line belongs to the set when its SKU is listed or
/// its product's category is. An empty set matches nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProductSet {
    /// SKUs in the set.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, example = json!(["RIOJA-750", "CHABLIS-750"])))]
    pub skus: Vec<Sku>,
    /// Catalog categories in the set (compared exactly with the product's `category`).
    #[serde(default)]
    pub categories: Vec<String>,
}

impl ProductSet {
    /// Whether a product with `sku` and `category` is in the set.
    pub fn contains(&self, sku: &Sku, category: Option<&str>) -> bool {
        self.skus.contains(sku) || category.is_some_and(|c| self.categories.iter().any(|wanted| wanted == c))
    }
}

/// What a mix-and-match group of items gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PromotionReward {
    /// A percentage off the group's price, in basis points (1000 = 10 %; 1 to 10000).
    PercentOff {
        /// Basis points off.
        basis_points: u32,
    },
    /// A fixed amount off each group, minor units (at most the group's price).
    AmountOff {
        /// Amount off per group.
        amount_minor: i64,
    },
    /// The group sells for this price, minor units (applies only when it is below the
    /// group's price).
    FixedPrice {
        /// Price of one group.
        price_minor: i64,
    },
}

/// One step of a quantity-break table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuantityBreak {
    /// Items of the product in the basket from which this price applies (>= 2).
    pub min_quantity: i64,
    /// Price of each item at that quantity, minor units.
    pub unit_price_minor: i64,
}

/// What a promotion does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PromotionRule {
    /// Any `quantity` items of the product set, mixed as the customer likes, form a
    /// group that gets `reward`; a basket may hold several groups.
    MixAndMatch {
        /// The products counted.
        products: ProductSet,
        /// Items per group (>= 1).
        quantity: i64,
        /// What each group gets.
        reward: PromotionReward,
    },
    /// The product's price per item falls with the quantity bought: the highest break
    /// reached sets the price of every item of it.
    QuantityBreaks {
        /// The product.
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        sku: Sku,
        /// The breaks (at least one, by rising quantity).
        breaks: Vec<QuantityBreak>,
    },
    /// Buy `buy` items of the set, get `get` more at `get_basis_points` off (10000 =
    /// free); the cheapest items are the ones given.
    BuyXGetY {
        /// The products counted.
        products: ProductSet,
        /// Items paid for in full per group (>= 1).
        buy: i64,
        /// Items discounted per group (>= 1).
        get: i64,
        /// Discount on the given items, basis points (default 10000: free).
        #[serde(default = "free")]
        get_basis_points: u32,
    },
}

fn free() -> u32 {
    10_000
}

/// Everything about a promotion but its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionDetails {
    /// Name shown on receipts and reports.
    pub name: String,
    /// Currency of its amounts; it applies only at stores selling in it.
    pub currency: Currency,
    /// What it does.
    pub rule: PromotionRule,
    /// From when it applies (a sale's `occurred_at` at or after it).
    pub starts_at: DateTime<Utc>,
    /// Until when it applies (sales before it); open-ended when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    /// The locations it applies at; every location when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<LocationId>,
    /// Whether it applies on top of another promotion on the same line (default: no, the
    /// best single promotion wins).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stackable: bool,
}

/// A promotion was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionCreated {
    /// The promotion.
    pub promotion_id: PromotionId,
    /// Its details.
    pub details: PromotionDetails,
}

/// A promotion's details were replaced. Sales already recorded keep the discounts they
/// were given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionUpdated {
    /// The promotion.
    pub promotion_id: PromotionId,
    /// Its new details.
    pub details: PromotionDetails,
}

/// A promotion was ended early: it no longer applies to sales that happen at or after
/// the event's `occurred_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionEnded {
    /// The promotion.
    pub promotion_id: PromotionId,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A promotion's share of one line's discount, as the server allocated it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AppliedPromotion {
    /// The promotion.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "wine-case-10"))]
    pub promotion_id: PromotionId,
    /// Its discount on the line, minor units (> 0).
    pub amount_minor: i64,
}
