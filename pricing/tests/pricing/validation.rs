//! Configuration that cannot be applied is refused as a whole, and the JSON shapes.

use pricing::{
    ContainerType, DepositId, DepositRule, DepositVersion, Jurisdiction, JurisdictionError, PricingError, TaxId,
    TaxRate, TaxVersion, price_basket,
};
use serde_json::json;

use crate::fixtures::*;

fn invalid(jurisdiction: &Jurisdiction) -> JurisdictionError {
    jurisdiction.validate().expect_err("invalid")
}

#[test]
fn the_fixtures_are_valid() {
    for jurisdiction in [springfield(), riverside(), germany()] {
        assert_eq!(jurisdiction.validate(), Ok(()), "{}", jurisdiction.id);
    }
}

#[test]
fn misconfigured_taxes_are_refused() {
    let mut twice = springfield();
    twice.taxes.push(twice.taxes[0].clone());
    assert_eq!(
        invalid(&twice),
        JurisdictionError::DuplicateTax(TaxId::parse("spirits-litre").expect("valid"))
    );

    let mut unordered = springfield();
    unordered.taxes[2].versions.swap(0, 1);
    assert!(
        matches!(invalid(&unordered), JurisdictionError::VersionsOutOfOrder { effective_from, .. } if effective_from == date(2019, 1, 1))
    );

    let mut same_day = springfield();
    same_day.taxes[2].versions[1].effective_from = date(2019, 1, 1);
    assert!(matches!(
        invalid(&same_day),
        JurisdictionError::VersionsOutOfOrder { .. }
    ));

    let mut no_versions = springfield();
    no_versions.taxes[0].versions.clear();
    assert_eq!(
        invalid(&no_versions),
        JurisdictionError::NoVersions("tax spirits-litre".into())
    );

    let mut no_classes = springfield();
    no_classes.taxes[0].applies_to.clear();
    assert!(matches!(invalid(&no_classes), JurisdictionError::NoClasses(_)));

    let mut too_high = springfield();
    too_high.taxes[2].versions[0].rate = TaxRate::Percentage { rate_ppm: 1_000_001 };
    assert!(matches!(
        invalid(&too_high),
        JurisdictionError::RateOutOfRange {
            rate_ppm: 1_000_001,
            ..
        }
    ));

    let mut compounding = springfield();
    compounding.taxes[2].taxable = true;
    assert!(matches!(invalid(&compounding), JurisdictionError::TaxablePercentage(_)));

    let mut negative = springfield();
    negative.taxes[1].versions.push(TaxVersion {
        effective_from: date(2030, 1, 1),
        rate: TaxRate::PerContainer { amount_minor: -1 },
    });
    assert!(matches!(invalid(&negative), JurisdictionError::NegativeAmount(_)));

    // price_basket validates first: nothing is half-priced.
    let refused = price_basket(&negative, &worked_basket(), additive(receipt_day()));
    assert!(matches!(refused, Err(PricingError::Jurisdiction { .. })));
}

fn deposit(id: &str, types: &[&str], min: u32, below: Option<u32>, classes: Option<&[&str]>) -> DepositRule {
    DepositRule {
        deposit_id: DepositId::parse(id).expect("valid"),
        name: id.to_owned(),
        container_types: types.iter().map(|t| ContainerType::parse(*t).expect("valid")).collect(),
        min_volume_ml: min,
        below_volume_ml: below,
        classes: classes.map(|cs| cs.iter().map(|c| class(c)).collect()),
        versions: vec![DepositVersion {
            effective_from: date(2020, 1, 1),
            amount_minor: 5,
        }],
        tax_class: None,
    }
}

#[test]
fn deposits_that_overlap_or_can_never_apply_are_refused() {
    let with = |rules: Vec<DepositRule>| Jurisdiction {
        deposits: rules,
        ..riverside()
    };
    // CRV-style: under 710 ml 5¢, 710 ml and up 10¢: adjacent, not overlapping.
    let crv = with(vec![
        deposit("small", &["can", "glass_bottle"], 0, Some(710), None),
        deposit("large", &["can", "glass_bottle"], 710, None, None),
    ]);
    assert_eq!(crv.validate(), Ok(()));
    // Same types, overlapping sizes.
    let overlap = with(vec![
        deposit("a", &["can"], 0, Some(711), None),
        deposit("b", &["can", "keg"], 710, None, None),
    ]);
    assert!(matches!(invalid(&overlap), JurisdictionError::OverlappingDeposits(..)));
    // Same types and sizes but disjoint classes: fine.
    let by_class = with(vec![
        deposit("beer", &["can"], 0, None, Some(&["beer"])),
        deposit("soda", &["can"], 0, None, Some(&["non_alcoholic"])),
    ]);
    assert_eq!(by_class.validate(), Ok(()));
    // One rule for every class overlaps one for some.
    let any_class = with(vec![
        deposit("all", &["can"], 0, None, None),
        deposit("beer", &["can"], 0, None, Some(&["beer"])),
    ]);
    assert!(matches!(
        invalid(&any_class),
        JurisdictionError::OverlappingDeposits(..)
    ));
    // Never applies: empty size range, no types, an empty class list.
    assert!(matches!(
        invalid(&with(vec![deposit("x", &["can"], 500, Some(500), None)])),
        JurisdictionError::DepositNeverApplies(_)
    ));
    assert!(matches!(
        invalid(&with(vec![deposit("x", &[], 0, None, None)])),
        JurisdictionError::DepositNeverApplies(_)
    ));
    assert!(matches!(
        invalid(&with(vec![deposit("x", &["can"], 0, None, Some(&[]))])),
        JurisdictionError::DepositNeverApplies(_)
    ));
    assert!(matches!(
        invalid(&with(vec![
            deposit("x", &["can"], 0, None, None),
            deposit("x", &["keg"], 0, None, None)
        ])),
        JurisdictionError::DuplicateDeposit(_)
    ));
}

#[test]
fn configuration_json_refuses_unknown_fields_floats_and_bad_slugs() {
    let rate = |value: serde_json::Value| serde_json::from_value::<TaxRate>(value);
    assert!(rate(json!({ "kind": "percentage", "rate_ppm": 88_750 })).is_ok());
    assert!(
        rate(json!({ "kind": "percentage", "rate_ppm": 8.875 })).is_err(),
        "no floats"
    );
    assert!(
        rate(json!({ "kind": "percentage", "rate": 88_750 })).is_err(),
        "unknown field"
    );
    assert!(rate(json!({ "kind": "not_levied" })).is_ok());
    let mut config = serde_json::to_value(springfield()).expect("serialises");
    assert_eq!(
        serde_json::from_value::<Jurisdiction>(config.clone()).expect("round trip"),
        springfield()
    );
    config["taxes"][0]["applies_to"] = json!(["Spirits"]);
    assert!(
        serde_json::from_value::<Jurisdiction>(config).is_err(),
        "classes are lowercase slugs"
    );
}

#[test]
fn a_priced_line_tax_has_a_stable_json_shape() {
    let priced = price(&springfield(), &worked_basket(), additive(receipt_day()));
    assert_eq!(
        serde_json::to_value(&priced.lines[0].taxes[1]).expect("json"),
        json!({
            "tax_id": "state-sales",
            "on": "goods",
            "basis": { "kind": "percentage", "rate_ppm": 62_500, "included": false, "base_minor": 2999 },
            "amount_minor": 187
        })
    );
    let round_trip: pricing::PricedBasket =
        serde_json::from_value(serde_json::to_value(&priced).expect("json")).expect("parses back");
    assert_eq!(round_trip, priced);
}
