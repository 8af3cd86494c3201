//! [`refund_share`]: what returning some items of a priced line gives back.
//!
//! A line can be refunded in several parts (two bottles today, one next week). Each part
//! must be deterministic, and the parts must add up exactly to the line, tax by tax, so
//! that a fully returned line leaves nothing behind in the books. Every amount `A` of a
//! line of `n` items is therefore shared out cumulatively:
//!
//! ```text
//! refunded after k items  R(k) = round_half_up(A × k / n)     R(0) = 0, R(n) = A
//! share of items a+1..a+q      = R(a + q) − R(a)
//! ```
//!
//! so however the `n` items are split into parts, the shares telescope to `A`. This is
//! done for the revenue, each tax entry and the deposit separately; the refund's total is
//! their sum.

use serde::{Deserialize, Serialize};

use crate::priced::{PricedLine, TaxedPart};
use crate::rounding::RoundingMode;
use crate::slug::TaxId;

/// The part of one line tax given back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundTax {
    /// The tax.
    pub tax_id: TaxId,
    /// What it was charged on.
    pub on: TaxedPart,
    /// Amount given back, minor units.
    pub amount_minor: i64,
}

/// What returning some items of a line gives back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefundShare {
    /// The sale line.
    pub line_no: u32,
    /// Items returned in this part.
    pub quantity: i64,
    /// Revenue reversed.
    pub net_minor: i64,
    /// Taxes given back, one per line tax, in the line's order.
    pub taxes: Vec<RefundTax>,
    /// Σ `taxes`.
    pub tax_minor: i64,
    /// Deposit given back (before any tax included in it; that tax is in `taxes`).
    pub deposit_minor: i64,
    /// What the customer gets: `net + tax + deposit`.
    pub amount_minor: i64,
}

/// Why a refund share cannot be computed. At the API: 422 on the refund line's
/// `quantity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    /// The quantity to refund is zero or negative.
    #[error("refund quantity {0} must be positive")]
    NonPositiveQuantity(i64),
    /// The quantity already refunded is negative.
    #[error("already refunded quantity {0} must not be negative")]
    NegativeAlreadyRefunded(i64),
    /// More items than the line has left.
    #[error("line has {line_quantity} items, {already_refunded} already refunded; {requested} more is too many")]
    ExceedsLine {
        /// Items on the line.
        line_quantity: i64,
        /// Items refunded before.
        already_refunded: i64,
        /// Items asked for now.
        requested: i64,
    },
}

/// The share of `line` given back when `quantity` more items are returned after
/// `already_refunded` were. Refunding a line in any number of parts gives back exactly its
/// net, each of its taxes and its deposit.
pub fn refund_share(line: &PricedLine, already_refunded: i64, quantity: i64) -> Result<RefundShare, RefundError> {
    if quantity <= 0 {
        return Err(RefundError::NonPositiveQuantity(quantity));
    }
    if already_refunded < 0 {
        return Err(RefundError::NegativeAlreadyRefunded(already_refunded));
    }
    let exceeds = RefundError::ExceedsLine {
        line_quantity: line.quantity,
        already_refunded,
        requested: quantity,
    };
    let after = already_refunded.checked_add(quantity).ok_or(exceeds)?;
    if after > line.quantity {
        return Err(exceeds);
    }
    // `line.quantity >= after >= 1` here, so the divisor is positive; amounts and
    // quantities are i64, so their product fits in i128, and a share lies between 0 and
    // the amount, so it fits back in i64.
    let n = i128::from(line.quantity);
    let refunded_after = |amount: i64, k: i64| RoundingMode::HalfUp.divide(i128::from(amount) * i128::from(k), n);
    let share = |amount: i64| -> i64 {
        let part = refunded_after(amount, after) - refunded_after(amount, already_refunded);
        i64::try_from(part).unwrap_or(if part > 0 { i64::MAX } else { i64::MIN })
    };
    let taxes: Vec<RefundTax> = line
        .taxes
        .iter()
        .map(|tax| RefundTax {
            tax_id: tax.tax_id.clone(),
            on: tax.on,
            amount_minor: share(tax.amount_minor),
        })
        .collect();
    let net_minor = share(line.net_minor);
    let tax_minor = share_sum(taxes.iter().map(|t| t.amount_minor));
    let deposit_minor = share(line.deposit_minor);
    Ok(RefundShare {
        line_no: line.line_no,
        quantity,
        net_minor,
        taxes,
        tax_minor,
        deposit_minor,
        amount_minor: share_sum([net_minor, tax_minor, deposit_minor]),
    })
}

/// Sums shares of one line; they are parts of the line's amounts, which fit in i64, so
/// the sum does too (saturating only guards against a hand-made inconsistent line).
fn share_sum(parts: impl IntoIterator<Item = i64>) -> i64 {
    parts.into_iter().fold(0i64, i64::saturating_add)
}
