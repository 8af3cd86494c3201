//! [`compare_line`] and [`compare_sale`]: how a sale the terminal recorded differs from the
//! server's pricing of it.
//!
//! A sale that happened is never refused for its prices or taxes: the terminal may have
//! been offline with last week's price list, or the cashier overrode a price. The server
//! records the sale as sold, prices it again at its `occurred_at`, and keeps the
//! differences for the exceptions report. The recommended way to price it again is to
//! give the engine the terminal's unit price and discount with the server's list price
//! beside it ([`crate::BasketLine::list_price_minor`]): the tax and deposit are then
//! checked on what was actually charged, and a different price shows up once, as a
//! [`Difference::PriceOverride`], rather than again as a tax mismatch.

use events::event::SaleLine;
use serde::{Deserialize, Serialize};

use crate::priced::{PricedBasket, PricedLine};

/// What the terminal recorded for a line: the amounts to compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RecordedLine {
    /// Position on the receipt.
    pub line_no: u32,
    /// Items sold.
    pub quantity: i64,
    /// Price charged per item, minor units.
    pub unit_price_minor: i64,
    /// Discount on the line, minor units.
    pub discount_minor: i64,
    /// Tax the terminal charged on the line, minor units.
    pub tax_minor: i64,
    /// Deposit the terminal charged, when it records deposits; `None` skips the check.
    #[serde(default)]
    pub deposit_minor: Option<i64>,
}

impl From<&SaleLine> for RecordedLine {
    /// Today's sale lines carry no deposit, so it is not compared.
    fn from(line: &SaleLine) -> Self {
        Self {
            line_no: line.line_no,
            quantity: line.quantity,
            unit_price_minor: line.unit_price_minor,
            discount_minor: line.discount_minor,
            tax_minor: line.tax_minor,
            deposit_minor: None,
        }
    }
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

/// How `recorded` differs from `priced`: empty when they agree. The expected price is the
/// priced line's list price when it has one, else its unit price.
pub fn compare_line(recorded: &RecordedLine, priced: &PricedLine) -> Vec<Difference> {
    if recorded.quantity != priced.quantity {
        return vec![Difference::QuantityDiffers {
            recorded: recorded.quantity,
            priced: priced.quantity,
        }];
    }
    let mut differences = Vec::new();
    let expected_price = priced.list_price_minor.unwrap_or(priced.unit_price_minor);
    if recorded.unit_price_minor != expected_price {
        differences.push(Difference::PriceOverride {
            recorded_minor: recorded.unit_price_minor,
            expected_minor: expected_price,
        });
    }
    if recorded.discount_minor != priced.discount_minor {
        differences.push(Difference::DiscountDiffers {
            recorded_minor: recorded.discount_minor,
            expected_minor: priced.discount_minor,
        });
    }
    if recorded.tax_minor != priced.tax_minor {
        differences.push(Difference::TaxMismatch {
            recorded_minor: recorded.tax_minor,
            expected_minor: priced.tax_minor,
        });
    }
    if let Some(deposit) = recorded.deposit_minor.filter(|d| *d != priced.deposit_minor) {
        differences.push(Difference::DepositMismatch {
            recorded_minor: deposit,
            expected_minor: priced.deposit_minor,
        });
    }
    differences
}

/// [`compare_line`] for every line of a sale, paired by line number, in recorded order
/// then the priced lines nobody recorded.
pub fn compare_sale(recorded: &[RecordedLine], priced: &PricedBasket) -> Vec<LineDifference> {
    let mut differences = Vec::new();
    for line in recorded {
        let found = match priced.line(line.line_no) {
            Some(priced_line) => compare_line(line, priced_line),
            None => vec![Difference::NotPriced],
        };
        differences.extend(found.into_iter().map(|difference| LineDifference {
            line_no: line.line_no,
            difference,
        }));
    }
    for line in &priced.lines {
        if !recorded.iter().any(|r| r.line_no == line.line_no) {
            differences.push(LineDifference {
                line_no: line.line_no,
                difference: Difference::NotRecorded,
            });
        }
    }
    differences
}
