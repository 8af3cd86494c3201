//! A recorded sale compared with the server's pricing: flagged, never refused.

use events::Sku;
use events::event::SaleLine;
use pricing::{Difference, LineDifference, RecordedLine, compare_line, compare_sale};

use crate::fixtures::*;

fn recorded(line_no: u32, quantity: i64, unit_price_minor: i64, discount_minor: i64, tax_minor: i64) -> RecordedLine {
    RecordedLine {
        line_no,
        quantity,
        unit_price_minor,
        discount_minor,
        tax_minor,
        deposit_minor: None,
    }
}

#[test]
fn an_offline_sale_at_last_weeks_price_is_a_price_override_and_its_tax_is_checked_on_what_was_charged() {
    // The terminal sold wine at 19.00 (last week's price) and charged the right tax on it.
    // The server's list price that day is 20.00. Priced again with the charged price and
    // the list price beside it, the tax agrees and the only difference is the override.
    let wine = basket("USD", vec![line(1, "RIOJA", 1, 1900, "wine").list_price(2000)]);
    let priced = price(&springfield(), &wine, additive(receipt_day()));
    // state 1900 × 6.25 % = 118.75 -> 119; city 1900 × 2.75 % = 52.25 -> 52; 171.
    assert_eq!(priced.lines[0].tax_minor, 171);
    assert!(priced.lines[0].is_price_override());
    let differences = compare_line(&recorded(1, 1, 1900, 0, 171), &priced.lines[0]);
    assert_eq!(
        differences,
        vec![Difference::PriceOverride {
            recorded_minor: 1900,
            expected_minor: 2000
        }]
    );
}

#[test]
fn a_terminal_with_an_old_rate_is_flagged_with_a_tax_mismatch_and_a_wrong_deposit_too() {
    // On 2026-03-14 the state rate is 6.25 %; a terminal still on 6 % charged 20.00 ×
    // (6 % + 2.75 %) = 175 instead of 180, and the old 5¢ deposit on a can.
    let shopping = basket(
        "USD",
        vec![
            line(1, "RIOJA", 1, 2000, "wine"),
            line(2, "COLA", 1, 100, "non_alcoholic").container("can", 330, 1),
        ],
    );
    let priced = price(&springfield(), &shopping, additive(receipt_day()));
    assert_eq!(priced.lines[1].deposit_minor, 10);
    let mut cola = recorded(2, 1, 100, 0, priced.lines[1].tax_minor);
    cola.deposit_minor = Some(5);
    let differences = compare_sale(
        &[recorded(1, 1, 2000, 0, 175), cola, recorded(9, 1, 100, 0, 0)],
        &priced,
    );
    assert_eq!(
        differences,
        vec![
            LineDifference {
                line_no: 1,
                difference: Difference::TaxMismatch {
                    recorded_minor: 175,
                    expected_minor: 180
                }
            },
            LineDifference {
                line_no: 2,
                difference: Difference::DepositMismatch {
                    recorded_minor: 5,
                    expected_minor: 10
                }
            },
            LineDifference {
                line_no: 9,
                difference: Difference::NotPriced
            },
        ]
    );
    // A priced line the terminal did not record, and a discount that differs.
    let differences = compare_sale(&[recorded(1, 1, 2000, 50, 180)], &priced);
    assert_eq!(
        differences,
        vec![
            LineDifference {
                line_no: 1,
                difference: Difference::DiscountDiffers {
                    recorded_minor: 50,
                    expected_minor: 0
                }
            },
            LineDifference {
                line_no: 2,
                difference: Difference::NotRecorded
            },
        ]
    );
    // Paired with the wrong line: only the quantity is reported.
    assert_eq!(
        compare_line(&recorded(1, 3, 1, 0, 0), &priced.lines[0]),
        vec![Difference::QuantityDiffers { recorded: 3, priced: 1 }]
    );
}

#[test]
fn todays_sale_lines_compare_without_a_deposit() {
    let sale_line = SaleLine {
        line_no: 1,
        sku: Sku::parse("RIOJA").expect("valid"),
        quantity: 1,
        unit_price_minor: 2000,
        discount_minor: 0,
        tax_minor: 180,
        deposit_minor: 0,
        total_minor: 2180,
        minimum_age: Some(21),
        pack: None,
    };
    let priced = price(
        &springfield(),
        &basket("USD", vec![line(1, "RIOJA", 1, 2000, "wine")]),
        additive(receipt_day()),
    );
    assert_eq!(compare_line(&RecordedLine::from(&sale_line), &priced.lines[0]), vec![]);
    let json = serde_json::to_value(Difference::TaxMismatch {
        recorded_minor: 1,
        expected_minor: 2,
    })
    .expect("json");
    assert_eq!(
        json,
        serde_json::json!({ "kind": "tax_mismatch", "recorded_minor": 1, "expected_minor": 2 })
    );
}

#[test]
fn in_an_inclusive_store_the_terminal_records_no_added_tax_and_the_deposit_it_charged() {
    // Germany, VAT 19 % inside the price and the deposit. A can of cola at 1.19 € with its
    // 0.25 € Pfand: the customer pays 1.19 + 0.25 = 1.44; nothing is added on top, so the
    // terminal records tax 0 and deposit 25. The server finds VAT 0.19 in the goods and
    // 25 × 19/119 = 3.99 -> 4 in the deposit, and agrees with the terminal.
    let cola = basket(
        "EUR",
        vec![line(1, "COLA", 1, 119, "non_alcoholic").container("can", 330, 1)],
    );
    let priced = price(&germany(), &cola, inclusive(date(2026, 3, 14)));
    assert_eq!(priced.lines[0].total_minor, 144);
    assert_eq!(pricing::added_tax(&priced.lines[0]), 0);
    assert_eq!(pricing::deposit_charged(&priced.lines[0]), 25);
    let mut recorded_line = recorded(1, 1, 119, 0, 0);
    recorded_line.deposit_minor = Some(25);
    assert_eq!(compare_line(&recorded_line, &priced.lines[0]), vec![]);
    // A terminal that also added the VAT on top is flagged.
    let doubled = recorded(1, 1, 119, 0, 19);
    assert_eq!(
        compare_line(&doubled, &priced.lines[0]),
        vec![Difference::TaxMismatch {
            recorded_minor: 19,
            expected_minor: 0
        }]
    );
}
