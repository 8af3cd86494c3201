//! Refunds in parts add up to the line, tax by tax.

use pricing::{RefundError, RefundShare, refund_share};

use crate::fixtures::*;

/// `(net, [tax amounts], deposit, total)` of a share.
fn amounts(share: &RefundShare) -> (i64, Vec<i64>, i64, i64) {
    (
        share.net_minor,
        share.taxes.iter().map(|t| t.amount_minor).collect(),
        share.deposit_minor,
        share.amount_minor,
    )
}

#[test]
fn refunding_the_water_line_one_bottle_at_a_time_gives_back_exactly_the_line() {
    let priced = price(&springfield(), &worked_basket(), additive(receipt_day()));
    // Worked receipt line 3: 3 bottles; net 297; taxes fee 6, state 19 (+0 on the fee),
    // city 8 (+0); deposit 30; total 360. Each amount A is refunded as
    // R(k) − R(k−1) with R(k) = round_half_up(A × k / 3):
    //   net 297: 99, 198, 297       -> 99, 99, 99
    //   fee 6:    2,   4,   6       ->  2,  2,  2
    //   state 19: 6.33->6, 12.67->13, 19 -> 6, 7, 6
    //   city 8:   2.67->3,  5.33->5,  8 -> 3, 2, 3
    //   deposit 30                  -> 10, 10, 10
    // Each part: 99 + 11 + 10 = 120; 3 × 120 = 360.
    let water = &priced.lines[2];
    assert_eq!(water.total_minor, 360);
    let parts: Vec<_> = (0..3)
        .map(|already| amounts(&refund_share(water, already, 1).expect("refundable")))
        .collect();
    assert_eq!(
        parts,
        vec![
            (99, vec![2, 6, 0, 3, 0], 10, 120),
            (99, vec![2, 7, 0, 2, 0], 10, 120),
            (99, vec![2, 6, 0, 3, 0], 10, 120),
        ]
    );

    // Two then one: R(2) then R(3) − R(2).
    let first = refund_share(water, 0, 2).expect("refundable");
    let second = refund_share(water, 2, 1).expect("refundable");
    assert_eq!(amounts(&first), (198, vec![4, 13, 0, 5, 0], 20, 240));
    assert_eq!(amounts(&second), (99, vec![2, 6, 0, 3, 0], 10, 120));
    assert_eq!(first.tax_minor + second.tax_minor, water.tax_minor);
}

#[test]
fn refunding_the_whole_line_at_once_gives_back_its_amounts_exactly() {
    let priced = price(&springfield(), &worked_basket(), additive(receipt_day()));
    for line in &priced.lines {
        let share = refund_share(line, 0, line.quantity).expect("refundable");
        assert_eq!(share.amount_minor, line.total_minor);
        assert_eq!(share.tax_minor, line.tax_minor);
        assert_eq!(share.net_minor, line.net_minor);
        assert_eq!(share.deposit_minor, line.deposit_minor);
    }
}

#[test]
fn refunding_more_than_is_left_or_nothing_is_refused() {
    let priced = price(&springfield(), &worked_basket(), additive(receipt_day()));
    let water = &priced.lines[2];
    assert_eq!(
        refund_share(water, 2, 2),
        Err(RefundError::ExceedsLine {
            line_quantity: 3,
            already_refunded: 2,
            requested: 2
        })
    );
    assert_eq!(
        refund_share(water, 3, 1),
        Err(RefundError::ExceedsLine {
            line_quantity: 3,
            already_refunded: 3,
            requested: 1
        })
    );
    assert!(matches!(
        refund_share(water, i64::MAX, 1),
        Err(RefundError::ExceedsLine { .. })
    ));
    assert_eq!(refund_share(water, 0, 0), Err(RefundError::NonPositiveQuantity(0)));
    assert_eq!(
        refund_share(water, -1, 1),
        Err(RefundError::NegativeAlreadyRefunded(-1))
    );
}
