//! The rounding rule: where amounts are rounded (per line or per receipt) and how (half up
//! or half to even), plus the deterministic split of a rounded total among its parts.
//!
//! Every tax amount starts as an exact fraction of a minor unit, `numerator / denominator`
//! with integers only. It is rounded **once** per scope:
//!
//! - [`RoundingScope::PerLine`]: each line's tax is rounded on its own; the receipt's tax
//!   is the sum of the rounded lines.
//! - [`RoundingScope::PerReceipt`]: the exact amounts of all lines are added up and the
//!   sum is rounded once; the rounded sum is then split back to the lines by
//!   largest remainder, so the line taxes always add up to the receipt's tax
//!   (refunds and reports need line shares).
//!
//! [`RoundingMode`] says what happens to an exact half: [`HalfUp`](RoundingMode::HalfUp)
//! rounds it away from zero (0.5 → 1, 2.5 → 3), [`HalfEven`](RoundingMode::HalfEven) to
//! the even neighbour (0.5 → 0, 1.5 → 2, 2.5 → 2; "banker's rounding"). Anything that is
//! not an exact half rounds to the nearest integer in both modes.

use serde::{Deserialize, Serialize};

/// How an exact half of a minor unit is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Halves go away from zero: 0.5 → 1, 2.5 → 3. What most US states and Canada use.
    HalfUp,
    /// Halves go to the even neighbour: 0.5 → 0, 1.5 → 2, 2.5 → 2. Unbiased over many
    /// amounts.
    HalfEven,
}

/// Where tax is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoundingScope {
    /// Each line's tax is rounded on its own.
    PerLine,
    /// Each tax is rounded once on the receipt's total and split back to the lines.
    PerReceipt,
}

/// A jurisdiction's rounding rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Rounding {
    /// Per line or per receipt.
    pub scope: RoundingScope,
    /// What an exact half does.
    pub mode: RoundingMode,
}

impl RoundingMode {
    /// `numerator / denominator` rounded to an integer by this mode.
    ///
    /// # Panics
    /// If `denominator` is not positive; every denominator in this crate is a positive
    /// constant or a sum of rates plus one million.
    pub fn divide(self, numerator: i128, denominator: i128) -> i128 {
        assert!(denominator > 0, "denominator must be positive");
        let quotient = numerator.div_euclid(denominator);
        let remainder = numerator.rem_euclid(denominator);
        // 0 <= remainder < denominator; compare remainder with denominator / 2 exactly.
        let twice = remainder * 2;
        if twice < denominator {
            quotient
        } else if twice > denominator {
            quotient + 1
        } else {
            match self {
                // Away from zero: up for positive amounts, and for negative ones the floor
                // (quotient) is already the one further from zero.
                RoundingMode::HalfUp if numerator >= 0 => quotient + 1,
                RoundingMode::HalfUp => quotient,
                RoundingMode::HalfEven if quotient % 2 == 0 => quotient,
                RoundingMode::HalfEven => quotient + 1,
            }
        }
    }
}

/// Splits `total` among parts whose exact values are `numerators[i] / denominator`.
///
/// Each part first gets its exact value rounded down; the units still missing from
/// `total` then go one each to the parts with the largest remainders, the earlier part
/// first when remainders are equal. Callers order the parts by line number, so ties go to
/// the lower line. If `total` is more than one unit per part away from the floors (it
/// never is when `total` is the rounded sum of the parts), the distribution cycles; if it
/// is below the floors, units are taken back from the smallest remainders, later parts
/// first. Either way the result always sums to `total`.
///
/// # Panics
/// If `denominator` is not positive.
pub fn allocate(total: i128, numerators: &[i128], denominator: i128) -> Vec<i128> {
    assert!(denominator > 0, "denominator must be positive");
    let mut shares: Vec<i128> = numerators.iter().map(|n| n.div_euclid(denominator)).collect();
    if numerators.is_empty() {
        return shares;
    }
    let remainders: Vec<i128> = numerators.iter().map(|n| n.rem_euclid(denominator)).collect();
    let mut order: Vec<usize> = (0..numerators.len()).collect();
    // Largest remainder first; the sort is stable, so equal remainders keep part order.
    order.sort_by(|&a, &b| remainders[b].cmp(&remainders[a]));
    let mut left = total - shares.iter().sum::<i128>();
    let n = i128::try_from(order.len()).unwrap_or(i128::MAX);
    // Whole rounds first (only when `total` is far from the floors), then the rest.
    let (rounds, rest) = (left / n, left % n);
    if rounds != 0 {
        shares.iter_mut().for_each(|s| *s += rounds);
        left = rest;
    }
    if left > 0 {
        for &i in order.iter().take(usize::try_from(left).unwrap_or(usize::MAX)) {
            shares[i] += 1;
        }
    } else if left < 0 {
        for &i in order.iter().rev().take(usize::try_from(-left).unwrap_or(usize::MAX)) {
            shares[i] -= 1;
        }
    }
    shares
}

/// Splits `total` in proportion to `weights`, exactly, by largest remainder (ties to the
/// earlier weight). For spreading a receipt-level discount over the lines by their gross
/// amounts before pricing, so every line's discount is known and refundable.
///
/// Returns `None` when a weight is negative, all weights are zero while `total` is not,
/// or the sums overflow.
///
/// ```
/// // $1.00 off a receipt of $3.00 + $3.00 + $3.00: 34 + 33 + 33 cents.
/// assert_eq!(events::tax::split_proportionally(100, &[300, 300, 300]), Some(vec![34, 33, 33]));
/// ```
pub fn split_proportionally(total: i64, weights: &[i64]) -> Option<Vec<i64>> {
    if weights.iter().any(|&w| w < 0) {
        return None;
    }
    let sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
    if sum == 0 {
        return (total == 0).then(|| vec![0; weights.len()]);
    }
    let numerators: Vec<i128> = weights
        .iter()
        .map(|&w| i128::from(total).checked_mul(i128::from(w)))
        .collect::<Option<_>>()?;
    allocate(i128::from(total), &numerators, sum)
        .into_iter()
        .map(|share| i64::try_from(share).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_halves_follow_the_mode_and_the_rest_rounds_to_nearest() {
        use RoundingMode::{HalfEven, HalfUp};
        // (numerator, denominator, half up, half even)
        let cases = [
            (5, 10, 1, 0),     // 0.5
            (15, 10, 2, 2),    // 1.5
            (25, 10, 3, 2),    // 2.5
            (35, 10, 4, 4),    // 3.5
            (49, 100, 0, 0),   // 0.49
            (51, 100, 1, 1),   // 0.51
            (0, 7, 0, 0),      // 0
            (14, 7, 2, 2),     // 2
            (-5, 10, -1, 0),   // -0.5
            (-15, 10, -2, -2), // -1.5
            (-25, 10, -3, -2), // -2.5
            (-26, 10, -3, -3), // -2.6
        ];
        for (n, d, up, even) in cases {
            assert_eq!(HalfUp.divide(n, d), up, "{n}/{d} half up");
            assert_eq!(HalfEven.divide(n, d), even, "{n}/{d} half even");
        }
    }

    #[test]
    fn allocation_gives_the_missing_units_to_the_largest_remainders_then_the_earlier_part() {
        // Exact parts 0.5, 0.5, 0.5 (over 10): total rounded 1.5 -> 2. Floors 0,0,0; two
        // units left; equal remainders -> parts 0 and 1.
        assert_eq!(allocate(2, &[5, 5, 5], 10), vec![1, 1, 0]);
        // 0.2, 0.7, 0.6 -> total 1.5 -> 2: floors 0; units to 0.7 and 0.6.
        assert_eq!(allocate(2, &[2, 7, 6], 10), vec![0, 1, 1]);
        // Far from the floors: cycles, still sums.
        assert_eq!(allocate(7, &[1, 2], 10), vec![3, 4]);
        // Below the floors: taken back from the smallest remainder, later first.
        assert_eq!(allocate(1, &[10, 10], 10), vec![1, 0]);
        assert_eq!(allocate(0, &[], 10), Vec::<i128>::new());
    }

    #[test]
    fn proportional_split_is_exact_and_refuses_nonsense() {
        assert_eq!(split_proportionally(100, &[300, 300, 300]), Some(vec![34, 33, 33]));
        assert_eq!(split_proportionally(10, &[1, 0, 3]), Some(vec![3, 0, 7])); // 2.5, 0, 7.5
        assert_eq!(split_proportionally(0, &[0, 0]), Some(vec![0, 0]));
        assert_eq!(split_proportionally(5, &[0, 0]), None);
        assert_eq!(split_proportionally(5, &[-1, 2]), None);
        assert_eq!(
            split_proportionally(i64::MAX, &[i64::MAX, i64::MAX]).map(|v| v.iter().sum::<i64>()),
            Some(i64::MAX)
        );
    }
}
