//! The worked receipt of `docs/taxes.md`: Springfield, additive prices, 2026-03-14.
//! If a number here changes, the document must change with it.

use pricing::{RoundingMode, RoundingScope, TaxBasis};

use crate::fixtures::*;

#[test]
fn worked_receipt_per_line_half_up_matches_the_document() {
    let priced = price(&springfield(), &worked_basket(), additive(receipt_day()));

    // Line 1: whiskey 750 ml, 1 × 29.99, spirits, no deposit (the deposit is for beer
    // and non-alcoholic drinks only).
    //   spirits-litre: 205_000_000 µ¢/L × 750 ml / 10⁹ = 153.75 -> 154
    //   state 6.25 %:  2999 × 62_500 / 10⁶ = 187.4375        -> 187
    //   city 2.75 %:   2999 × 27_500 / 10⁶ =  82.4725        ->  82
    //   tax 154 + 187 + 82 = 423; total 2999 + 423 = 3422
    let whiskey = &priced.lines[0];
    assert_eq!(
        tax_amounts(whiskey),
        taxes(&[
            ("spirits-litre", "goods", 154),
            ("state-sales", "goods", 187),
            ("city-sales", "goods", 82)
        ])
    );
    assert_eq!(
        whiskey.taxes[0].basis,
        TaxBasis::PerLitre {
            micro_minor_per_litre: 205_000_000,
            volume_ml: 750
        }
    );
    assert_eq!(
        (
            whiskey.net_minor,
            whiskey.tax_minor,
            whiskey.deposit_minor,
            whiskey.total_minor
        ),
        (2999, 423, 0, 3422)
    );

    // Line 2: IPA six-pack of 355 ml cans, 2 × 10.99 less 1.00.
    //   gross 2198, discount 100, net 2098; containers 2 × 6 = 12
    //   deposit 12 × 10¢ = 120, not taxed
    //   bottle-fee 12 × 2¢ = 24, taxable
    //   state: goods 2098 × 6.25 % = 131.125, fee 24 × 6.25 % = 1.5; one rounding per
    //          line: 132.625 -> 133; floors 131 + 1 = 132, the missing cent goes to the
    //          larger remainder (.5 > .125): goods 131, fee 2
    //   city:  goods 2098 × 2.75 % = 57.695, fee 24 × 2.75 % = 0.66; 58.355 -> 58;
    //          floors 57 + 0, the cent to .695 > .66: goods 58, fee 0
    //   tax 24 + 131 + 2 + 58 + 0 = 215; total 2098 + 215 + 120 = 2433
    let ipa = &priced.lines[1];
    assert_eq!(
        tax_amounts(ipa),
        taxes(&[
            ("bottle-fee", "goods", 24),
            ("state-sales", "goods", 131),
            ("state-sales", "unit_taxes", 2),
            ("city-sales", "goods", 58),
            ("city-sales", "unit_taxes", 0),
        ])
    );
    let deposit = ipa.deposit.as_ref().expect("cans pay a deposit");
    assert_eq!(
        (
            deposit.containers,
            deposit.amount_per_container_minor,
            deposit.charged_minor
        ),
        (12, 10, 120)
    );
    assert_eq!(
        (
            ipa.gross_minor,
            ipa.discount_minor,
            ipa.net_minor,
            ipa.tax_minor,
            ipa.deposit_minor,
            ipa.total_minor
        ),
        (2198, 100, 2098, 215, 120, 2433)
    );

    // Line 3: water, 3 × 0.99 in 500 ml plastic bottles.
    //   net 297; deposit 3 × 10¢ = 30; bottle-fee 3 × 2¢ = 6
    //   state: 297 × 6.25 % = 18.5625, 6 × 6.25 % = 0.375; 18.9375 -> 19; floors 18 + 0;
    //          cent to .5625: goods 19, fee 0
    //   city:  297 × 2.75 % = 8.1675, 6 × 2.75 % = 0.165; 8.3325 -> 8: goods 8, fee 0
    //   tax 6 + 19 + 0 + 8 + 0 = 33; total 297 + 33 + 30 = 360
    let water = &priced.lines[2];
    assert_eq!(
        tax_amounts(water),
        taxes(&[
            ("bottle-fee", "goods", 6),
            ("state-sales", "goods", 19),
            ("state-sales", "unit_taxes", 0),
            ("city-sales", "goods", 8),
            ("city-sales", "unit_taxes", 0),
        ])
    );
    assert_eq!(
        (water.net_minor, water.tax_minor, water.deposit_minor, water.total_minor),
        (297, 33, 30, 360)
    );

    // Line 4: crackers, food: no tax applies.
    let crackers = &priced.lines[3];
    assert!(crackers.taxes.is_empty());
    assert_eq!(
        (crackers.net_minor, crackers.tax_minor, crackers.total_minor),
        (349, 0, 349)
    );

    // Receipt: gross 2999 + 2198 + 297 + 349 = 5843; discount 100; net 5743;
    // tax 423 + 215 + 33 = 671; deposit 150; total 5743 + 671 + 150 = 6564.
    assert_eq!(
        (
            priced.gross_minor,
            priced.discount_minor,
            priced.net_minor,
            priced.tax_minor,
            priced.deposit_minor
        ),
        (5843, 100, 5743, 671, 150)
    );
    assert_eq!(priced.total_minor, 6564);

    // Liabilities: per tax and rate, bases summed over the parts.
    //   spirits-litre 750 ml -> 154; bottle-fee 12 + 3 = 15 containers -> 30;
    //   state on 2999 + 2098 + 24 + 297 + 6 = 5424 -> 187 + 131 + 2 + 19 + 0 = 339;
    //   city on 5424 -> 82 + 58 + 0 + 8 + 0 = 148.
    let liabilities: Vec<(String, TaxBasis, i64)> = priced
        .taxes
        .iter()
        .map(|t| (t.tax_id.to_string(), t.basis, t.amount_minor))
        .collect();
    assert_eq!(
        liabilities,
        vec![
            (
                "spirits-litre".to_owned(),
                TaxBasis::PerLitre {
                    micro_minor_per_litre: 205_000_000,
                    volume_ml: 750
                },
                154
            ),
            (
                "bottle-fee".to_owned(),
                TaxBasis::PerContainer {
                    amount_minor: 2,
                    containers: 15
                },
                30
            ),
            (
                "state-sales".to_owned(),
                TaxBasis::Percentage {
                    rate_ppm: 62_500,
                    included: false,
                    base_minor: 5424
                },
                339
            ),
            (
                "city-sales".to_owned(),
                TaxBasis::Percentage {
                    rate_ppm: 27_500,
                    included: false,
                    base_minor: 5424
                },
                148
            ),
        ]
    );
    let deposits: Vec<(String, i64, i64)> = priced
        .deposits
        .iter()
        .map(|d| (d.deposit_id.to_string(), d.containers, d.amount_minor))
        .collect();
    assert_eq!(deposits, vec![("container-deposit".to_owned(), 15, 150)]);
}

#[test]
fn the_same_receipt_rounded_per_receipt_owes_one_cent_more_city_tax() {
    let jurisdiction = rounded(springfield(), RoundingScope::PerReceipt, RoundingMode::HalfUp);
    let priced = price(&jurisdiction, &worked_basket(), additive(receipt_day()));

    // state: 5424 × 62_500 / 10⁶ = 339.0 exactly -> 339 (as per line). Split back:
    //   exact 187.4375 | 131.125, 1.5 | 18.5625, 0.375; floors 187 + 131 + 1 + 18 + 0 = 337;
    //   2 cents to the largest remainders .5625 (line 3 goods) and .5 (line 2 fee).
    // city: 5424 × 27_500 / 10⁶ = 149.16 -> 149 (per line it was 148). Split back:
    //   exact 82.4725 | 57.695, 0.66 | 8.1675, 0.165; floors 82 + 57 + 0 + 8 + 0 = 147;
    //   2 cents to .695 (line 2 goods) and .66 (line 2 fee).
    assert_eq!(
        tax_amounts(&priced.lines[0]),
        taxes(&[
            ("spirits-litre", "goods", 154),
            ("state-sales", "goods", 187),
            ("city-sales", "goods", 82)
        ])
    );
    assert_eq!(
        tax_amounts(&priced.lines[1]),
        taxes(&[
            ("bottle-fee", "goods", 24),
            ("state-sales", "goods", 131),
            ("state-sales", "unit_taxes", 2),
            ("city-sales", "goods", 58),
            ("city-sales", "unit_taxes", 1),
        ])
    );
    assert_eq!(
        tax_amounts(&priced.lines[2]),
        taxes(&[
            ("bottle-fee", "goods", 6),
            ("state-sales", "goods", 19),
            ("state-sales", "unit_taxes", 0),
            ("city-sales", "goods", 8),
            ("city-sales", "unit_taxes", 0),
        ])
    );
    // Line taxes 423 + 216 + 33 = 672; total 5743 + 672 + 150 = 6565, one cent more.
    let line_taxes: Vec<i64> = priced.lines.iter().map(|l| l.tax_minor).collect();
    assert_eq!(line_taxes, vec![423, 216, 33, 0]);
    assert_eq!((priced.tax_minor, priced.total_minor), (672, 6565));
    let city = priced
        .taxes
        .iter()
        .find(|t| t.tax_id.as_str() == "city-sales")
        .expect("city liability");
    assert_eq!(city.amount_minor, 149);
}
