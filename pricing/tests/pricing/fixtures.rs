//! Jurisdictions and basket builders shared by the tests. The jurisdictions are written in
//! JSON, the shape in which configuration reaches the server, so these tests also pin that
//! shape. Rates are illustrative, not legal advice.

use chrono::NaiveDate;
use events::{Currency, Sku};
use pricing::{
    Basket, BasketLine, Container, ContainerType, Jurisdiction, PriceMode, PricedBasket, PricingContext, Rounding,
    RoundingMode, RoundingScope, TaxClass, price_basket,
};
use serde_json::json;

pub(crate) fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid date")
}

/// The day of the worked receipt in `docs/taxes.md`.
pub(crate) fn receipt_day() -> NaiveDate {
    date(2026, 3, 14)
}

/// A US-style jurisdiction, additive prices, rounded per line half up:
/// - `spirits-litre`: USD 2.05 per litre of spirits;
/// - `bottle-fee`: 2¢ per container of beer or non-alcoholic drink, itself subject to the
///   sales taxes (taxable);
/// - `state-sales`: 6 % until 2025-12-31, 6.25 % from 2026-01-01, on every drink;
/// - `city-sales`: 2.75 % on every drink;
/// - food is taxed by none of them;
/// - `container-deposit`: 5¢, then 10¢ from 2026-01-01, per can or bottle under one
///   litre of beer or non-alcoholic drink; not taxed.
pub(crate) fn springfield() -> Jurisdiction {
    let drinks = json!(["spirits", "wine", "beer", "non_alcoholic"]);
    serde_json::from_value(json!({
        "id": "us-xx-springfield",
        "name": "Springfield",
        "currency": "USD",
        "rounding": { "scope": "per_line", "mode": "half_up" },
        "taxes": [
            {
                "tax_id": "spirits-litre",
                "name": "Spirits liter tax",
                "applies_to": ["spirits"],
                "versions": [
                    { "effective_from": "2019-01-01", "rate": { "kind": "per_litre", "micro_minor_per_litre": 205_000_000 } }
                ]
            },
            {
                "tax_id": "bottle-fee",
                "name": "Bottle fee",
                "applies_to": ["beer", "non_alcoholic"],
                "taxable": true,
                "versions": [
                    { "effective_from": "2019-01-01", "rate": { "kind": "per_container", "amount_minor": 2 } }
                ]
            },
            {
                "tax_id": "state-sales",
                "name": "State sales tax",
                "applies_to": drinks,
                "versions": [
                    { "effective_from": "2019-01-01", "rate": { "kind": "percentage", "rate_ppm": 60_000 } },
                    { "effective_from": "2026-01-01", "rate": { "kind": "percentage", "rate_ppm": 62_500 } }
                ]
            },
            {
                "tax_id": "city-sales",
                "name": "City sales tax",
                "applies_to": drinks,
                "versions": [
                    { "effective_from": "2019-01-01", "rate": { "kind": "percentage", "rate_ppm": 27_500 } }
                ]
            }
        ],
        "deposits": [
            {
                "deposit_id": "container-deposit",
                "name": "Container deposit",
                "container_types": ["can", "glass_bottle", "plastic_bottle"],
                "below_volume_ml": 1000,
                "classes": ["beer", "non_alcoholic"],
                "versions": [
                    { "effective_from": "2019-01-01", "amount_minor": 5 },
                    { "effective_from": "2026-01-01", "amount_minor": 10 }
                ]
            }
        ]
    }))
    .expect("springfield parses")
}

/// A second US-style jurisdiction with one 7.25 % sales tax on drinks, nothing else.
pub(crate) fn riverside() -> Jurisdiction {
    serde_json::from_value(json!({
        "id": "us-yy-riverside",
        "name": "Riverside",
        "currency": "USD",
        "rounding": { "scope": "per_line", "mode": "half_up" },
        "taxes": [{
            "tax_id": "state-sales",
            "name": "State sales tax",
            "applies_to": ["spirits", "wine", "beer", "non_alcoholic"],
            "versions": [{ "effective_from": "2019-01-01", "rate": { "kind": "percentage", "rate_ppm": 72_500 } }]
        }]
    }))
    .expect("riverside parses")
}

/// A German-style jurisdiction: VAT included in shelf prices, rounded per receipt half up.
/// 19 % on drinks (16 % from 2020-07-01 to 2020-12-31, the real temporary cut), 7 % on
/// food (5 % in the same window); single-use Pfand of 25 ct per can or plastic bottle,
/// taxed at the drinks' rate through the class `deposit`.
pub(crate) fn germany() -> Jurisdiction {
    serde_json::from_value(json!({
        "id": "de",
        "name": "Deutschland",
        "currency": "EUR",
        "rounding": { "scope": "per_receipt", "mode": "half_up" },
        "taxes": [
            {
                "tax_id": "vat-standard",
                "name": "MwSt 19 %",
                "applies_to": ["beer", "wine", "spirits", "non_alcoholic", "deposit"],
                "versions": [
                    { "effective_from": "2007-01-01", "rate": { "kind": "percentage", "rate_ppm": 190_000 } },
                    { "effective_from": "2020-07-01", "rate": { "kind": "percentage", "rate_ppm": 160_000 } },
                    { "effective_from": "2021-01-01", "rate": { "kind": "percentage", "rate_ppm": 190_000 } }
                ]
            },
            {
                "tax_id": "vat-reduced",
                "name": "MwSt 7 %",
                "applies_to": ["food"],
                "versions": [
                    { "effective_from": "2007-01-01", "rate": { "kind": "percentage", "rate_ppm": 70_000 } },
                    { "effective_from": "2020-07-01", "rate": { "kind": "percentage", "rate_ppm": 50_000 } },
                    { "effective_from": "2021-01-01", "rate": { "kind": "percentage", "rate_ppm": 70_000 } }
                ]
            }
        ],
        "deposits": [{
            "deposit_id": "pfand-einweg",
            "name": "Pfand (Einweg)",
            "container_types": ["can", "plastic_bottle"],
            "versions": [{ "effective_from": "2006-05-01", "amount_minor": 25 }],
            "tax_class": "deposit"
        }]
    }))
    .expect("germany parses")
}

/// `jurisdiction` with another rounding rule.
pub(crate) fn rounded(mut jurisdiction: Jurisdiction, scope: RoundingScope, mode: RoundingMode) -> Jurisdiction {
    jurisdiction.rounding = Rounding { scope, mode };
    jurisdiction
}

pub(crate) fn class(name: &str) -> TaxClass {
    TaxClass::parse(name).expect("valid class")
}

/// A basket line without discount or container.
pub(crate) fn line(line_no: u32, sku: &str, quantity: i64, unit_price_minor: i64, tax_class: &str) -> BasketLine {
    BasketLine {
        line_no,
        sku: Sku::parse(sku).expect("valid sku"),
        quantity,
        unit_price_minor,
        list_price_minor: None,
        discount_minor: 0,
        tax_class: class(tax_class),
        container: None,
    }
}

/// Builder steps for a basket line.
pub(crate) trait LineExt {
    fn discount(self, discount_minor: i64) -> Self;
    fn container(self, container_type: &str, volume_ml: u32, units: u32) -> Self;
    fn list_price(self, list_price_minor: i64) -> Self;
}

impl LineExt for BasketLine {
    fn discount(mut self, discount_minor: i64) -> Self {
        self.discount_minor = discount_minor;
        self
    }

    fn container(mut self, container_type: &str, volume_ml: u32, units: u32) -> Self {
        let container_type = ContainerType::parse(container_type).expect("valid container type");
        self.container = Some(Container {
            container_type,
            volume_ml,
            units,
        });
        self
    }

    fn list_price(mut self, list_price_minor: i64) -> Self {
        self.list_price_minor = Some(list_price_minor);
        self
    }
}

pub(crate) fn basket(currency: &str, lines: Vec<BasketLine>) -> Basket {
    Basket {
        currency: Currency::parse(currency).expect("valid currency"),
        lines,
    }
}

pub(crate) fn additive(date: NaiveDate) -> PricingContext {
    PricingContext {
        date,
        price_mode: PriceMode::Additive,
    }
}

pub(crate) fn inclusive(date: NaiveDate) -> PricingContext {
    PricingContext {
        date,
        price_mode: PriceMode::Inclusive,
    }
}

/// Prices or fails the test.
pub(crate) fn price(jurisdiction: &Jurisdiction, basket: &Basket, context: PricingContext) -> PricedBasket {
    price_basket(jurisdiction, basket, context).expect("basket prices")
}

/// The amounts of a line's taxes as `(tax id, part, amount)`, for compact assertions.
pub(crate) fn tax_amounts(line: &pricing::PricedLine) -> Vec<(String, &'static str, i64)> {
    line.taxes
        .iter()
        .map(|tax| {
            let part = match tax.on {
                pricing::TaxedPart::Goods => "goods",
                pricing::TaxedPart::Deposit => "deposit",
                pricing::TaxedPart::UnitTaxes => "unit_taxes",
            };
            (tax.tax_id.to_string(), part, tax.amount_minor)
        })
        .collect()
}

/// `(tax id, amount)` pairs, for comparing with [`tax_amounts`].
pub(crate) fn taxes(expected: &[(&str, &'static str, i64)]) -> Vec<(String, &'static str, i64)> {
    expected
        .iter()
        .map(|(id, part, amount)| ((*id).to_owned(), *part, *amount))
        .collect()
}

/// The basket of the worked receipt in `docs/taxes.md`.
pub(crate) fn worked_basket() -> Basket {
    basket(
        "USD",
        vec![
            line(1, "WHISKEY-750", 1, 2999, "spirits").container("glass_bottle", 750, 1),
            line(2, "IPA-6PK", 2, 1099, "beer")
                .discount(100)
                .container("can", 355, 6),
            line(3, "WATER-500", 3, 99, "non_alcoholic").container("plastic_bottle", 500, 1),
            line(4, "CRACKERS", 1, 349, "food"),
        ],
    )
}
