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

pub use events::tax::breakdown::{Difference, LineDifference};

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
    /// Tax the terminal charged on top of the price, minor units (in an inclusive store,
    /// only the per-unit taxes: see [`added_tax`]).
    pub tax_minor: i64,
    /// Deposit the terminal charged (tax included where the store's prices include it),
    /// when it records deposits; `None` skips the check.
    #[serde(default)]
    pub deposit_minor: Option<i64>,
}

impl From<&SaleLine> for RecordedLine {
    /// A recorded line's deposit is compared too (0 when the terminal charged none).
    fn from(line: &SaleLine) -> Self {
        Self {
            line_no: line.line_no,
            quantity: line.quantity,
            unit_price_minor: line.unit_price_minor,
            discount_minor: line.discount_minor,
            tax_minor: line.tax_minor,
            deposit_minor: Some(line.deposit_minor),
        }
    }
}

/// How `recorded` differs from `priced`: empty when they agree. The expected price is the
/// priced line's list price when it has one, else its unit price; the expected tax is the
/// tax added on top ([`added_tax`]) and the expected deposit the deposit charged
/// ([`deposit_charged`]), which in an additive store are the line's tax and deposit.
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
    let tax_added = added_tax(priced);
    if recorded.tax_minor != tax_added {
        differences.push(Difference::TaxMismatch {
            recorded_minor: recorded.tax_minor,
            expected_minor: tax_added,
        });
    }
    let deposit_charged = deposit_charged(priced);
    if let Some(deposit) = recorded.deposit_minor.filter(|d| *d != deposit_charged) {
        differences.push(Difference::DepositMismatch {
            recorded_minor: deposit,
            expected_minor: deposit_charged,
        });
    }
    differences
}

/// The deposit the customer sees charged on `line` (tax included in an inclusive store).
pub fn deposit_charged(line: &PricedLine) -> i64 {
    line.deposit.as_ref().map_or(0, |d| d.charged_minor)
}

/// The tax charged on top of the shelf price and the deposit: what a terminal records as
/// a line's `tax_minor`, so that `quantity × price − discount + tax + deposit` is what
/// the customer paid. In an additive store that is every tax of the line; in an inclusive
/// store only the per-unit taxes (the percentage taxes are inside the price and deposit).
pub fn added_tax(line: &PricedLine) -> i64 {
    line.total_minor - (line.gross_minor - line.discount_minor) - deposit_charged(line)
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
