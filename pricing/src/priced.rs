//! What the engine returns: a [`PricedBasket`] of [`PricedLine`]s, each with its tax
//! breakdown ([`LineTax`]) and deposit ([`LineDeposit`]), and the basket's liabilities
//! per tax ([`TaxLiability`]) and per deposit scheme ([`DepositLiability`]).
//!
//! Every line and the basket satisfy
//!
//! ```text
//! gross   = quantity × unit_price
//! charged = gross − discount                       (what the shelf price asks for the goods)
//! net     = charged − taxes included in it         (revenue; = charged when additive)
//! total   = net + tax + deposit
//! ```
//!
//! and the basket's amounts are the sums of its lines'. `tax` holds every tax of the line
//! (on goods, on the deposit, per unit); `deposit` is the deposit before any tax included
//! in it, held for the customer and not revenue.

use chrono::NaiveDate;
use events::event::AppliedPromotion;
use events::{Currency, Sku};
use serde::{Deserialize, Serialize};

pub use events::tax::breakdown::{LineDeposit, LineTax, TaxBasis, TaxedPart};

use crate::basket::PriceMode;
use crate::rounding::Rounding;
use crate::slug::{DepositId, JurisdictionId, TaxClass, TaxId};

/// One priced line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PricedLine {
    /// The basket line's number.
    pub line_no: u32,
    /// The product.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sku: Sku,
    /// Items sold.
    pub quantity: i64,
    /// Price charged per item, minor units.
    pub unit_price_minor: i64,
    /// The server's list price, when the basket gave it.
    pub list_price_minor: Option<i64>,
    /// The product's tax class.
    pub tax_class: TaxClass,
    /// `quantity × unit_price`.
    pub gross_minor: i64,
    /// Discount on the line.
    pub discount_minor: i64,
    /// Revenue: `gross − discount` less any tax included in it.
    pub net_minor: i64,
    /// Every tax on the line, in the jurisdiction's tax order, then by part.
    pub taxes: Vec<LineTax>,
    /// Sum of `taxes`.
    pub tax_minor: i64,
    /// The deposit, if the container falls under a scheme.
    pub deposit: Option<LineDeposit>,
    /// The deposit held for the customer (`deposit.amount_minor`, or 0).
    pub deposit_minor: i64,
    /// What the customer pays for the line: `net + tax + deposit`.
    pub total_minor: i64,
    /// The promotions in `discount_minor`, each with its share of the line's discount
    /// (absent when none applied; see docs/promotions.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promotions: Vec<AppliedPromotion>,
}

impl PricedLine {
    /// Whether the line was charged another price than the list price.
    pub fn is_price_override(&self) -> bool {
        self.list_price_minor.is_some_and(|list| list != self.unit_price_minor)
    }
}

/// What a basket owes for one tax at one rate: the line amounts summed, for the tax
/// return.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaxLiability {
    /// The tax.
    pub tax_id: TaxId,
    /// Its name in the jurisdiction.
    pub name: String,
    /// Rate and summed base (base amount, containers or millilitres).
    pub basis: TaxBasis,
    /// Sum of the line amounts.
    pub amount_minor: i64,
}

/// What a basket collected for one deposit scheme.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DepositLiability {
    /// The scheme.
    pub deposit_id: DepositId,
    /// Its name in the jurisdiction.
    pub name: String,
    /// Containers charged.
    pub containers: i64,
    /// Deposit charged, tax included where it is.
    pub charged_minor: i64,
    /// Deposit held, before tax.
    pub amount_minor: i64,
}

/// A priced basket, with what priced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PricedBasket {
    /// The jurisdiction whose rules applied.
    pub jurisdiction: JurisdictionId,
    /// Currency of every amount.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "USD"))]
    pub currency: Currency,
    /// The date whose rates and deposits applied.
    pub date: NaiveDate,
    /// Whether prices included tax.
    pub price_mode: PriceMode,
    /// The rounding rule applied.
    pub rounding: Rounding,
    /// The lines, in basket order.
    pub lines: Vec<PricedLine>,
    /// Σ line gross.
    pub gross_minor: i64,
    /// Σ line discounts.
    pub discount_minor: i64,
    /// Σ line revenue.
    pub net_minor: i64,
    /// Σ line taxes (= Σ `taxes` amounts).
    pub tax_minor: i64,
    /// Σ line deposits.
    pub deposit_minor: i64,
    /// What the customer pays: `net + tax + deposit`.
    pub total_minor: i64,
    /// Per tax and rate, in the jurisdiction's tax order.
    pub taxes: Vec<TaxLiability>,
    /// Per deposit scheme, in the jurisdiction's order.
    pub deposits: Vec<DepositLiability>,
}

impl PricedBasket {
    /// The priced line numbered `line_no`.
    pub fn line(&self, line_no: u32) -> Option<&PricedLine> {
        self.lines.iter().find(|line| line.line_no == line_no)
    }
}
