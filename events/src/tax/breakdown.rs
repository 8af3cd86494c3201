//! A sale line's tax breakdown and deposit, as the pricing engine works them out and a
//! recorded sale keeps them ([`crate::event::SalePricing`]): which tax ([`LineTax`]), on
//! which part of the line ([`TaxedPart`]), at which rate and on what base ([`TaxBasis`]),
//! and the container deposit ([`LineDeposit`]); and how a recorded line differed from the
//! server's pricing of it ([`LineDifference`]). The `pricing` crate computes them; the
//! rules are in docs/taxes.md.

use serde::{Deserialize, Serialize};

use crate::tax::slug::{DepositId, TaxId};

/// What part of a line a tax amount is charged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaxedPart {
    /// The goods: price after discount, or the containers and litres for per-unit taxes.
    Goods,
    /// The container deposit, where the jurisdiction taxes it.
    Deposit,
    /// The line's taxable per-unit taxes (percentage taxes charged on a fee).
    UnitTaxes,
}

/// How a line's tax amount was worked out: the rate and what it was applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TaxBasis {
    /// A percentage of an amount.
    Percentage {
        /// The rate in force, parts per million.
        rate_ppm: u32,
        /// True when `base_minor` includes this and the other percentage taxes
        /// (tax-inclusive store): the tax was extracted, not added.
        included: bool,
        /// The amount taxed, minor units.
        base_minor: i64,
    },
    /// A fixed amount per container.
    PerContainer {
        /// Amount per container in force, minor units.
        amount_minor: i64,
        /// Containers taxed (quantity × units per item).
        containers: i64,
    },
    /// A fixed amount per litre.
    PerLitre {
        /// Rate in force, millionths of a minor unit per litre.
        micro_minor_per_litre: i64,
        /// Millilitres taxed (containers × volume).
        volume_ml: i64,
    },
}

/// One tax on one line: which tax, at which rate, on what, how much.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LineTax {
    /// The tax.
    pub tax_id: TaxId,
    /// What it is charged on.
    pub on: TaxedPart,
    /// Its rate and base.
    pub basis: TaxBasis,
    /// The amount, minor units, after the jurisdiction's rounding rule.
    pub amount_minor: i64,
}

/// The deposit charged on a line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LineDeposit {
    /// The scheme.
    pub deposit_id: DepositId,
    /// Containers it is charged on (quantity × units per item).
    pub containers: i64,
    /// Deposit per container in force, minor units (tax included in an inclusive store).
    pub amount_per_container_minor: i64,
    /// `containers × amount_per_container`: what the customer sees charged.
    pub charged_minor: i64,
    /// `charged` less any tax included in it: the deposit held for the customer.
    pub amount_minor: i64,
}

/// One way a recorded line differs from its pricing. None of them refuses the sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Difference {
    /// The line was priced for another quantity than recorded (the caller paired the
    /// wrong lines); the other amounts are not compared.
    QuantityDiffers {
        /// Items recorded.
        recorded: i64,
        /// Items priced.
        priced: i64,
    },
    /// The item was sold at another price than the server's list price (manual
    /// override, or an old price list on an offline terminal).
    PriceOverride {
        /// Price the terminal charged per item.
        recorded_minor: i64,
        /// The server's price per item at the sale's time.
        expected_minor: i64,
    },
    /// The discount differs from the one the server priced.
    DiscountDiffers {
        /// Discount recorded.
        recorded_minor: i64,
        /// Discount priced.
        expected_minor: i64,
    },
    /// The tax differs (old rate, wrong class, other rounding).
    TaxMismatch {
        /// Tax recorded.
        recorded_minor: i64,
        /// Tax priced.
        expected_minor: i64,
    },
    /// The deposit differs.
    DepositMismatch {
        /// Deposit recorded.
        recorded_minor: i64,
        /// Deposit priced (before any tax included in it).
        expected_minor: i64,
    },
    /// The terminal recorded a line that was not priced.
    NotPriced,
    /// A priced line that the terminal did not record.
    NotRecorded,
}

/// A difference on one line of a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LineDifference {
    /// The line.
    pub line_no: u32,
    /// What differs.
    pub difference: Difference,
}
