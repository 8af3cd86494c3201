//! Why a basket cannot be priced.

use events::Currency;

use crate::jurisdiction::JurisdictionError;
use crate::slug::{JurisdictionId, TaxId};

/// What is wrong with one basket line. At the API: 422 `invalid_field`, with the field
/// path `lines[i].<field()>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The quantity is negative; returns are refunds, not negative lines.
    #[error("quantity {0} is negative")]
    NegativeQuantity(i64),
    /// The unit or list price is negative.
    #[error("price {0} is negative")]
    NegativePrice(i64),
    /// The discount is negative or larger than the line's gross amount.
    #[error("discount {discount} is outside 0..={gross}")]
    DiscountOutOfRange {
        /// The discount given.
        discount: i64,
        /// Quantity × unit price.
        gross: i64,
    },
    /// The container holds nothing or counts no units.
    #[error("a container needs a volume and at least one unit")]
    EmptyContainer,
    /// A per-unit tax applies to the line's class but the line has no container to count.
    #[error("tax {0} is charged per container or litre but the line has no container")]
    MissingContainer(TaxId),
}

impl LineError {
    /// The offending field of the line, for an error path such as `lines[2].quantity`.
    pub fn field(&self) -> &'static str {
        match self {
            LineError::NegativeQuantity(_) => "quantity",
            LineError::NegativePrice(_) => "unit_price_minor",
            LineError::DiscountOutOfRange { .. } => "discount_minor",
            LineError::EmptyContainer | LineError::MissingContainer(_) => "container",
        }
    }
}

/// Why [`crate::price_basket`] refused a basket. Nothing is half-priced: any error means
/// no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// The jurisdiction's configuration is invalid. At the API: 500 when it comes from
    /// stored configuration (it was validated when saved), 422 when sent with the request.
    #[error("jurisdiction {jurisdiction} is misconfigured: {source}")]
    Jurisdiction {
        /// The jurisdiction.
        jurisdiction: JurisdictionId,
        /// What is wrong with it.
        #[source]
        source: JurisdictionError,
    },
    /// The basket's currency is not the jurisdiction's. At the API: 422.
    #[error("basket is in {basket} but the jurisdiction prices in {jurisdiction}")]
    CurrencyMismatch {
        /// The basket's currency.
        basket: Currency,
        /// The jurisdiction's currency.
        jurisdiction: Currency,
    },
    /// Two lines share a number. At the API: 422 on `lines[i].line_no`.
    #[error("line number {0} appears twice")]
    DuplicateLine(u32),
    /// One line is invalid. At the API: 422 on `lines[i].<error.field()>`.
    #[error("line {line_no}: {error}")]
    Line {
        /// The line.
        line_no: u32,
        /// What is wrong with it.
        #[source]
        error: LineError,
    },
    /// An amount does not fit in 64 bits of minor units. At the API: 422.
    #[error("{} overflows 64 bits of minor units", .line_no.map_or("the basket total".to_owned(), |n| format!("line {n}")))]
    Overflow {
        /// The line whose amounts overflow, or `None` for a basket total.
        line_no: Option<u32>,
    },
}
