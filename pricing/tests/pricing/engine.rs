//! The engine's rules one at a time, each with its arithmetic worked by hand.

use pricing::{
    LineError, PricingError, RoundingMode, RoundingScope, TaxBasis, TaxClass, TaxId, TaxRate, TaxVersion, price_basket,
};
use serde_json::json;

use crate::fixtures::*;

#[test]
fn the_same_bottle_costs_differently_in_two_jurisdictions() {
    let wine = basket("USD", vec![line(1, "RIOJA", 1, 2000, "wine")]);
    // Springfield: state 2000 × 6.25 % = 125, city 2000 × 2.75 % = 55; tax 180.
    let springfield = price(&springfield(), &wine, additive(receipt_day()));
    assert_eq!(
        tax_amounts(&springfield.lines[0]),
        taxes(&[("state-sales", "goods", 125), ("city-sales", "goods", 55)])
    );
    assert_eq!((springfield.tax_minor, springfield.total_minor), (180, 2180));
    // Riverside: 2000 × 7.25 % = 145.
    let riverside = price(&riverside(), &wine, additive(receipt_day()));
    assert_eq!(
        tax_amounts(&riverside.lines[0]),
        taxes(&[("state-sales", "goods", 145)])
    );
    assert_eq!((riverside.tax_minor, riverside.total_minor), (145, 2145));
    assert_eq!(riverside.jurisdiction.as_str(), "us-yy-riverside");
}

#[test]
fn an_inclusive_store_extracts_vat_from_shelf_prices_and_taxes_the_pfand() {
    let shopping = basket(
        "EUR",
        vec![
            line(1, "PILS-CAN", 4, 89, "beer").container("can", 500, 1),
            line(2, "RIESLING", 1, 599, "wine").container("glass_bottle", 750, 1),
            line(3, "CHIPS", 1, 149, "food"),
        ],
    );
    let priced = price(&germany(), &shopping, inclusive(receipt_day()));

    // Per receipt, half up. 19 % group (included, denominator 10⁶ + 190_000):
    //   line 1 goods   356 × 19 / 119 = 56.840…  (4 × 0.89)
    //   line 1 Pfand   100 × 19 / 119 = 15.966…  (4 × 0.25, taxed as class "deposit")
    //   line 2 goods   599 × 19 / 119 = 95.638…  (glass is not under the single-use Pfand)
    //   sum 1055 × 19 / 119 = 168.445… -> 168; floors 56 + 15 + 95 = 166;
    //   2 cents to the largest remainders .966 (Pfand) and .840 (line 1 goods).
    // 7 % group: 149 × 7 / 107 = 9.747… -> 10.
    assert_eq!(
        tax_amounts(&priced.lines[0]),
        taxes(&[("vat-standard", "goods", 57), ("vat-standard", "deposit", 16)])
    );
    assert_eq!(tax_amounts(&priced.lines[1]), taxes(&[("vat-standard", "goods", 95)]));
    assert_eq!(tax_amounts(&priced.lines[2]), taxes(&[("vat-reduced", "goods", 10)]));
    assert_eq!(
        priced.lines[0].taxes[0].basis,
        TaxBasis::Percentage {
            rate_ppm: 190_000,
            included: true,
            base_minor: 356
        }
    );

    // Line 1: net 356 − 57 = 299; Pfand held 100 − 16 = 84; tax 73;
    // total 299 + 73 + 84 = 456 = the shelf price 356 plus the Pfand 100.
    let beer = &priced.lines[0];
    assert_eq!(
        (beer.net_minor, beer.tax_minor, beer.deposit_minor, beer.total_minor),
        (299, 73, 84, 456)
    );
    let pfand = beer.deposit.as_ref().expect("cans pay Pfand");
    assert_eq!((pfand.charged_minor, pfand.amount_minor), (100, 84));
    // Line 2: net 599 − 95 = 504; line 3: net 149 − 10 = 139. Totals are the shelf prices.
    assert_eq!((priced.lines[1].net_minor, priced.lines[1].total_minor), (504, 599));
    assert_eq!((priced.lines[2].net_minor, priced.lines[2].total_minor), (139, 149));
    // Receipt: 456 + 599 + 149 = 1204; tax 73 + 95 + 10 = 178.
    assert_eq!(
        (
            priced.total_minor,
            priced.tax_minor,
            priced.net_minor,
            priced.deposit_minor
        ),
        (1204, 178, 942, 84)
    );

    // Rounded per line instead: line 1 (356 + 100) × 19 / 119 = 72.806 -> 73 (57 + 16 as
    // above); line 2 95.638 -> 96; line 3 10. Tax 179, one cent more; still 1204 paid.
    let per_line = rounded(germany(), RoundingScope::PerLine, RoundingMode::HalfUp);
    let priced = price(&per_line, &shopping, inclusive(receipt_day()));
    let line_taxes: Vec<i64> = priced.lines.iter().map(|l| l.tax_minor).collect();
    assert_eq!(line_taxes, vec![73, 96, 10]);
    assert_eq!((priced.tax_minor, priced.total_minor), (179, 1204));
}

#[test]
fn a_six_pack_pays_six_deposits_and_a_taxable_deposit_adds_its_tax() {
    let six_pack = basket(
        "USD",
        vec![line(1, "LAGER-6PK", 1, 900, "beer").container("can", 355, 6)],
    );

    // Untaxed deposit (Springfield as configured): 6 cans × 10¢ = 60; fee 6 × 2¢ = 12.
    //   state: 900 × 6.25 % = 56.25, fee 12 × 6.25 % = 0.75; 57.0 -> 57; floors 56 + 0;
    //          the cent to .75: goods 56, fee 1
    //   city:  900 × 2.75 % = 24.75, fee 0.33; 25.08 -> 25; floors 24 + 0; cent to .75
    //   tax 12 + 56 + 1 + 25 + 0 = 94; total 900 + 94 + 60 = 1054
    let priced = price(&springfield(), &six_pack, additive(receipt_day()));
    let lager = &priced.lines[0];
    let deposit = lager.deposit.as_ref().expect("cans pay a deposit");
    assert_eq!(
        (deposit.containers, deposit.charged_minor, deposit.amount_minor),
        (6, 60, 60)
    );
    assert_eq!(
        tax_amounts(lager),
        taxes(&[
            ("bottle-fee", "goods", 12),
            ("state-sales", "goods", 56),
            ("state-sales", "unit_taxes", 1),
            ("city-sales", "goods", 25),
            ("city-sales", "unit_taxes", 0),
        ])
    );
    assert_eq!(
        (lager.tax_minor, lager.deposit_minor, lager.total_minor),
        (94, 60, 1054)
    );

    // Taxed deposit: the deposit is taxed as class "deposit", which both sales taxes cover.
    //   state: 56.25 + deposit 60 × 6.25 % = 3.75 + fee 0.75 = 60.75 -> 61;
    //          floors 56 + 3 + 0 = 59; 2 cents: .75 (deposit) and .75 (fee) beat .25
    //   city:  24.75 + 60 × 2.75 % = 1.65 + 0.33 = 26.73 -> 27; floors 24 + 1 + 0 = 25;
    //          2 cents: .75 (goods) and .65 (deposit)
    //   tax 12 + 56 + 4 + 1 + 25 + 2 + 0 = 100; total 900 + 100 + 60 = 1060
    let mut taxed = springfield();
    let deposit_class = TaxClass::parse("deposit").expect("valid");
    taxed.deposits[0].tax_class = Some(deposit_class.clone());
    for tax in taxed.taxes.iter_mut().filter(|t| t.tax_id.as_str().ends_with("-sales")) {
        tax.applies_to.push(deposit_class.clone());
    }
    let priced = price(&taxed, &six_pack, additive(receipt_day()));
    let lager = &priced.lines[0];
    assert_eq!(
        tax_amounts(lager),
        taxes(&[
            ("bottle-fee", "goods", 12),
            ("state-sales", "goods", 56),
            ("state-sales", "deposit", 4),
            ("state-sales", "unit_taxes", 1),
            ("city-sales", "goods", 25),
            ("city-sales", "deposit", 2),
            ("city-sales", "unit_taxes", 0),
        ])
    );
    // Additive: the deposit held is the full 60; its tax is tax, not deposit.
    assert_eq!(
        (lager.tax_minor, lager.deposit_minor, lager.total_minor),
        (100, 60, 1060)
    );
}

#[test]
fn deposits_follow_container_type_size_and_class() {
    let lines = vec![
        // 1 litre: not "below 1000 ml" -> no deposit.
        line(1, "WATER-1L", 1, 129, "non_alcoholic").container("plastic_bottle", 1000, 1),
        // 999 ml: deposit.
        line(2, "WATER-999", 1, 129, "non_alcoholic").container("plastic_bottle", 999, 1),
        // Keg: not a covered type.
        line(3, "KEG", 1, 9900, "beer").container("keg", 19_500, 1),
        // Wine in a glass bottle: the class is not covered.
        line(4, "WINE", 1, 999, "wine").container("glass_bottle", 750, 1),
    ];
    let priced = price(&springfield(), &basket("USD", lines), additive(receipt_day()));
    let deposits: Vec<i64> = priced.lines.iter().map(|l| l.deposit_minor).collect();
    assert_eq!(deposits, vec![0, 10, 0, 0]);
    assert!(priced.lines[0].deposit.is_none());
}

#[test]
fn per_litre_excise_counts_every_container_and_rounds_by_the_mode() {
    // Ten 50 ml miniatures: 500 ml; 205_000_000 µ¢/L × 500 / 10⁹ = 102.5 cents exactly.
    let minis = basket(
        "USD",
        vec![line(1, "MINI-10PK", 1, 1500, "spirits").container("glass_bottle", 50, 10)],
    );
    let up = price(&springfield(), &minis, additive(receipt_day()));
    assert_eq!(
        up.lines[0].taxes[0].basis,
        TaxBasis::PerLitre {
            micro_minor_per_litre: 205_000_000,
            volume_ml: 500
        }
    );
    assert_eq!(up.lines[0].taxes[0].amount_minor, 103, "102.5 half up");
    let even = rounded(springfield(), RoundingScope::PerLine, RoundingMode::HalfEven);
    let even = price(&even, &minis, additive(receipt_day()));
    assert_eq!(even.lines[0].taxes[0].amount_minor, 102, "102.5 half even");
    // Per-container: the bottle fee on 4 six-packs is 24 containers × 2¢ = 48, exact.
    let cases = basket(
        "USD",
        vec![line(1, "IPA-6PK", 4, 1099, "beer").container("can", 355, 6)],
    );
    let priced = price(&springfield(), &cases, additive(receipt_day()));
    assert_eq!(
        priced.lines[0].taxes[0].basis,
        TaxBasis::PerContainer {
            amount_minor: 2,
            containers: 24
        }
    );
    assert_eq!(priced.lines[0].taxes[0].amount_minor, 48);
}

#[test]
fn rates_and_deposits_change_on_their_effective_date_and_not_a_day_before() {
    let shopping = basket(
        "USD",
        vec![
            line(1, "WINE", 1, 1000, "wine"),
            line(2, "WATER-500", 1, 99, "non_alcoholic").container("can", 330, 1),
        ],
    );
    // 2025-12-31: state 6 %: wine 1000 × 6 % = 60, city 27.5 -> 28; deposit 5¢.
    let before = price(&springfield(), &shopping, additive(date(2025, 12, 31)));
    assert_eq!(
        tax_amounts(&before.lines[0]),
        taxes(&[("state-sales", "goods", 60), ("city-sales", "goods", 28)])
    );
    assert_eq!(before.lines[1].deposit_minor, 5);
    // 2026-01-01: state 6.25 %: 62.5 -> 63; deposit 10¢.
    let after = price(&springfield(), &shopping, additive(date(2026, 1, 1)));
    assert_eq!(
        tax_amounts(&after.lines[0]),
        taxes(&[("state-sales", "goods", 63), ("city-sales", "goods", 28)])
    );
    assert_eq!(after.lines[1].deposit_minor, 10);
    // Before any version (2018): no tax, no deposit.
    let ancient = price(&springfield(), &shopping, additive(date(2018, 12, 31)));
    assert_eq!((ancient.tax_minor, ancient.deposit_minor), (0, 0));

    // Germany's temporary VAT cut, inclusive: 5.99 wine.
    //   19 %: 599 × 19 / 119 = 95.64 -> 96;  16 %: 599 × 16 / 116 = 82.62 -> 83.
    let wine = basket("EUR", vec![line(1, "RIESLING", 1, 599, "wine")]);
    let vat_on = |y, m, d| price(&germany(), &wine, inclusive(date(y, m, d))).tax_minor;
    assert_eq!(vat_on(2020, 6, 30), 96);
    assert_eq!(vat_on(2020, 7, 1), 83);
    assert_eq!(vat_on(2020, 12, 31), 83);
    assert_eq!(vat_on(2021, 1, 1), 96);
}

#[test]
fn a_tax_holiday_drops_the_tax_until_the_next_version() {
    let mut holiday = springfield();
    let city = holiday
        .taxes
        .iter_mut()
        .find(|t| t.tax_id.as_str() == "city-sales")
        .expect("city tax");
    city.versions.push(TaxVersion {
        effective_from: date(2026, 3, 1),
        rate: TaxRate::NotLevied,
    });
    city.versions.push(TaxVersion {
        effective_from: date(2026, 3, 8),
        rate: TaxRate::Percentage { rate_ppm: 27_500 },
    });
    let wine = basket("USD", vec![line(1, "WINE", 1, 2000, "wine")]);
    // 2026-03-07: state only, 125. 2026-03-08: 125 + 55.
    assert_eq!(price(&holiday, &wine, additive(date(2026, 3, 7))).tax_minor, 125);
    assert_eq!(price(&holiday, &wine, additive(date(2026, 3, 8))).tax_minor, 180);
}

/// One 5 % tax on beer, so lines of 10, 30 and 50 cents owe exactly 0.5, 1.5 and 2.5.
fn five_percent(scope: RoundingScope, mode: RoundingMode) -> pricing::Jurisdiction {
    let mut jurisdiction: pricing::Jurisdiction = serde_json::from_value(json!({
        "id": "flat", "name": "Flat", "currency": "USD",
        "rounding": { "scope": "per_line", "mode": "half_up" },
        "taxes": [{
            "tax_id": "five", "name": "5 %", "applies_to": ["beer"],
            "versions": [{ "effective_from": "2000-01-01", "rate": { "kind": "percentage", "rate_ppm": 50_000 } }]
        }]
    }))
    .expect("flat parses");
    jurisdiction.rounding = pricing::Rounding { scope, mode };
    jurisdiction
}

#[test]
fn exact_halves_round_half_up_or_half_even_per_line_and_per_receipt() {
    let halves = basket(
        "USD",
        vec![
            line(1, "A", 1, 10, "beer"),
            line(2, "B", 1, 30, "beer"),
            line(3, "C", 1, 50, "beer"),
        ],
    );
    let line_taxes = |scope, mode| {
        let priced = price(&five_percent(scope, mode), &halves, additive(receipt_day()));
        (
            priced.lines.iter().map(|l| l.tax_minor).collect::<Vec<_>>(),
            priced.tax_minor,
        )
    };
    // Per line: 0.5, 1.5, 2.5 -> half up 1, 2, 3 (6); half even 0, 2, 2 (4).
    assert_eq!(
        line_taxes(RoundingScope::PerLine, RoundingMode::HalfUp),
        (vec![1, 2, 3], 6)
    );
    assert_eq!(
        line_taxes(RoundingScope::PerLine, RoundingMode::HalfEven),
        (vec![0, 2, 2], 4)
    );
    // Per receipt: 90 × 5 % = 4.5 -> half up 5, half even 4. Floors 0 + 1 + 2 = 3; all
    // remainders are .5, so ties go to the lower lines: half up 1, 2, 2; half even 1, 1, 2.
    assert_eq!(
        line_taxes(RoundingScope::PerReceipt, RoundingMode::HalfUp),
        (vec![1, 2, 2], 5)
    );
    assert_eq!(
        line_taxes(RoundingScope::PerReceipt, RoundingMode::HalfEven),
        (vec![1, 1, 2], 4)
    );
}

#[test]
fn per_receipt_ties_follow_line_numbers_not_basket_order() {
    // The same three lines listed in reverse: the cents still go to lines 1 and 2.
    let reversed = basket(
        "USD",
        vec![
            line(3, "C", 1, 10, "beer"),
            line(2, "B", 1, 10, "beer"),
            line(1, "A", 1, 10, "beer"),
        ],
    );
    let priced = price(
        &five_percent(RoundingScope::PerReceipt, RoundingMode::HalfUp),
        &reversed,
        additive(receipt_day()),
    );
    // 30 × 5 % = 1.5 -> 2; each line 0.5, floors 0; cents to lines 1 and 2.
    let by_line: Vec<(u32, i64)> = priced.lines.iter().map(|l| (l.line_no, l.tax_minor)).collect();
    assert_eq!(by_line, vec![(3, 0), (2, 1), (1, 1)]);
}

#[test]
fn a_zero_quantity_line_prices_to_zeros() {
    let nothing = basket(
        "USD",
        vec![line(1, "IPA-6PK", 0, 1099, "beer").container("can", 355, 6)],
    );
    let priced = price(&springfield(), &nothing, additive(receipt_day()));
    let line = &priced.lines[0];
    assert_eq!(
        (
            line.gross_minor,
            line.net_minor,
            line.tax_minor,
            line.deposit_minor,
            line.total_minor
        ),
        (0, 0, 0, 0, 0)
    );
    assert!(line.taxes.iter().all(|t| t.amount_minor == 0));
    assert_eq!(priced.total_minor, 0);
}

#[test]
fn large_quantities_are_exact_and_overflow_is_an_error_not_a_panic() {
    // A million bottles at 99,999.99: gross 9_999_999_000_000.
    //   state 6.25 %: 624_999_937_500; city 2.75 %: 274_999_972_500 (both exact).
    let big = basket("USD", vec![line(1, "GRAND-CRU", 1_000_000, 9_999_999, "wine")]);
    let priced = price(&springfield(), &big, additive(receipt_day()));
    assert_eq!(
        tax_amounts(&priced.lines[0]),
        taxes(&[
            ("state-sales", "goods", 624_999_937_500),
            ("city-sales", "goods", 274_999_972_500)
        ])
    );
    assert_eq!(priced.total_minor, 10_899_998_910_000);

    let j = springfield();
    let overflow_on = |lines| price_basket(&j, &basket("USD", lines), additive(receipt_day()));
    // quantity × price overflows.
    assert_eq!(
        overflow_on(vec![line(1, "X", i64::MAX, 2, "wine")]),
        Err(PricingError::Overflow { line_no: Some(1) })
    );
    // The gross fits, the total with tax does not.
    assert_eq!(
        overflow_on(vec![line(7, "X", i64::MAX, 1, "wine")]),
        Err(PricingError::Overflow { line_no: Some(7) })
    );
    // Containers (quantity × 6) overflow.
    assert_eq!(
        overflow_on(vec![line(2, "X", i64::MAX / 2, 0, "beer").container("can", 355, 6)]),
        Err(PricingError::Overflow { line_no: Some(2) })
    );
    // Untaxed food at i64::MAX fits on one line; two such lines overflow the receipt.
    let max_line = |n| line(n, "X", 1, i64::MAX, "food");
    assert_eq!(overflow_on(vec![max_line(1)]).map(|p| p.total_minor), Ok(i64::MAX));
    assert_eq!(
        overflow_on(vec![max_line(1), max_line(2)]),
        Err(PricingError::Overflow { line_no: None })
    );
}

#[test]
fn invalid_lines_and_baskets_are_refused_with_the_line_and_field() {
    let j = springfield();
    let refuse = |b: pricing::Basket| price_basket(&j, &b, additive(receipt_day())).expect_err("refused");
    let line_error = |error: PricingError| match error {
        PricingError::Line { line_no, error } => (line_no, error.field(), error),
        other => panic!("expected a line error, got {other}"),
    };
    let (no, field, error) = line_error(refuse(basket("USD", vec![line(4, "X", -1, 100, "wine")])));
    assert_eq!((no, field, error), (4, "quantity", LineError::NegativeQuantity(-1)));
    let (_, field, _) = line_error(refuse(basket("USD", vec![line(1, "X", 1, -5, "wine")])));
    assert_eq!(field, "unit_price_minor");
    let (_, field, error) = line_error(refuse(basket("USD", vec![line(1, "X", 2, 100, "wine").discount(201)])));
    assert_eq!(
        (field, error),
        (
            "discount_minor",
            LineError::DiscountOutOfRange {
                discount: 201,
                gross: 200
            }
        )
    );
    let (_, _, error) = line_error(refuse(basket(
        "USD",
        vec![line(1, "X", 1, 100, "beer").container("can", 355, 0)],
    )));
    assert_eq!(error, LineError::EmptyContainer);
    // Spirits pay a per-litre tax: without a container there is nothing to measure.
    let (_, field, error) = line_error(refuse(basket("USD", vec![line(1, "GIN", 1, 2500, "spirits")])));
    assert_eq!(
        (field, error),
        (
            "container",
            LineError::MissingContainer(TaxId::parse("spirits-litre").expect("valid"))
        )
    );

    assert_eq!(
        refuse(basket(
            "USD",
            vec![line(1, "X", 1, 100, "wine"), line(1, "Y", 1, 100, "wine")]
        )),
        PricingError::DuplicateLine(1)
    );
    assert!(matches!(
        refuse(basket("EUR", vec![])),
        PricingError::CurrencyMismatch { .. }
    ));
    // An empty basket prices to zeros.
    let empty = price(&j, &basket("USD", vec![]), additive(receipt_day()));
    assert_eq!((empty.total_minor, empty.lines.len()), (0, 0));
}
