//! Properties over random baskets: the amounts always add up, line taxes always sum to the
//! receipt's rounded tax, and refunds in any parts sum to the line.

use pricing::{
    Basket, BasketLine, Jurisdiction, PriceMode, PricedBasket, PricingContext, RoundingMode, RoundingScope, TaxBasis,
    refund_share,
};
use proptest::prelude::*;

use crate::fixtures::*;

const CLASSES: [&str; 5] = ["spirits", "wine", "beer", "non_alcoholic", "food"];
const CONTAINERS: [&str; 4] = ["can", "glass_bottle", "plastic_bottle", "keg"];

/// A random line: quantity, unit price, discount percent, class index and maybe a
/// container (type index, volume, units).
type LineSpec = (i64, i64, i64, usize, Option<(usize, u32, u32)>);

fn arb_line() -> impl Strategy<Value = LineSpec> {
    (
        0i64..50,
        0i64..200_000,
        0i64..=100,
        0..CLASSES.len(),
        proptest::option::of((0..CONTAINERS.len(), 50u32..2000, 1u32..25)),
    )
}

fn build(lines: Vec<LineSpec>, currency: &str) -> Basket {
    let lines = lines
        .into_iter()
        .enumerate()
        .map(|(i, (quantity, price, discount_pct, class, container))| {
            let line_no = u32::try_from(i).expect("few lines") + 1;
            let mut l: BasketLine = line(line_no, "SKU", quantity, price, CLASSES[class]);
            l.discount_minor = quantity * price * discount_pct / 100;
            // Springfield charges spirits per litre and beer and soft drinks per container:
            // those lines always have a container.
            let measured = ["spirits", "beer", "non_alcoholic"].contains(&CLASSES[class]);
            let container = container.or(measured.then_some((1, 700, 1)));
            if let Some((kind, volume, units)) = container {
                l = l.container(CONTAINERS[kind], volume, units);
            }
            l
        })
        .collect();
    basket(currency, lines)
}

fn arb_case() -> impl Strategy<Value = (Jurisdiction, Basket, PricingContext)> {
    (
        prop::bool::ANY,
        prop::bool::ANY,
        prop::bool::ANY,
        prop::bool::ANY,
        proptest::collection::vec(arb_line(), 0..20),
        (2019i32..2028, 1u32..13, 1u32..29),
    )
        .prop_map(|(german, per_receipt, half_even, inclusive, lines, (y, m, d))| {
            let scope = if per_receipt {
                RoundingScope::PerReceipt
            } else {
                RoundingScope::PerLine
            };
            let mode = if half_even {
                RoundingMode::HalfEven
            } else {
                RoundingMode::HalfUp
            };
            let (jurisdiction, currency) = if german {
                (germany(), "EUR")
            } else {
                (springfield(), "USD")
            };
            let price_mode = if inclusive {
                PriceMode::Inclusive
            } else {
                PriceMode::Additive
            };
            (
                rounded(jurisdiction, scope, mode),
                build(lines, currency),
                PricingContext {
                    date: date(y, m, d),
                    price_mode,
                },
            )
        })
}

/// The denominator a percentage was divided by: 10⁶ when added; when included, 10⁶ plus
/// every percentage rate on the part (Germany: one VAT per class; Springfield: state and
/// city together on every drink).
fn denominator(jurisdiction: &Jurisdiction, priced: &PricedBasket, included: bool, rate_ppm: u32) -> i128 {
    if !included {
        return 1_000_000;
    }
    if jurisdiction.id.as_str() == "de" {
        1_000_000 + i128::from(rate_ppm)
    } else {
        let state = priced
            .taxes
            .iter()
            .find_map(|t| match (t.tax_id.as_str(), t.basis) {
                ("state-sales", TaxBasis::Percentage { rate_ppm, .. }) => Some(rate_ppm),
                _ => None,
            })
            .expect("a percentage was charged, so the state tax was too");
        1_000_000 + i128::from(state) + 27_500
    }
}

/// The exact-then-rounded amount of a summed basis.
fn rounded_once(jurisdiction: &Jurisdiction, priced: &PricedBasket, basis: TaxBasis, mode: RoundingMode) -> i128 {
    match basis {
        TaxBasis::Percentage {
            rate_ppm,
            included,
            base_minor,
        } => mode.divide(
            i128::from(base_minor) * i128::from(rate_ppm),
            denominator(jurisdiction, priced, included, rate_ppm),
        ),
        TaxBasis::PerContainer {
            amount_minor,
            containers,
        } => i128::from(amount_minor) * i128::from(containers),
        TaxBasis::PerLitre {
            micro_minor_per_litre,
            volume_ml,
        } => mode.divide(i128::from(micro_minor_per_litre) * i128::from(volume_ml), 1_000_000_000),
    }
}

proptest! {
    #[test]
    fn amounts_always_add_up((jurisdiction, basket, context) in arb_case()) {
        let priced = price(&jurisdiction, &basket, context);
        for (line, input) in priced.lines.iter().zip(&basket.lines) {
            let charged = line.gross_minor - line.discount_minor;
            prop_assert_eq!(line.gross_minor, input.quantity * input.unit_price_minor);
            prop_assert_eq!(line.tax_minor, line.taxes.iter().map(|t| t.amount_minor).sum::<i64>());
            prop_assert_eq!(line.total_minor, line.net_minor + line.tax_minor + line.deposit_minor);
            let deposit_charged = line.deposit.as_ref().map_or(0, |d| d.charged_minor);
            let added: i64 = line
                .taxes
                .iter()
                .filter(|t| !matches!(t.basis, TaxBasis::Percentage { included: true, .. }))
                .map(|t| t.amount_minor)
                .sum();
            // What the customer pays: the shelf amounts plus every tax not already in them.
            prop_assert_eq!(line.total_minor, charged + deposit_charged + added);
            if context.price_mode == PriceMode::Additive {
                prop_assert_eq!(line.net_minor, charged);
            }
            prop_assert!(line.net_minor >= 0 && line.tax_minor >= 0 && line.deposit_minor >= 0);
        }
        prop_assert_eq!(priced.total_minor, priced.lines.iter().map(|l| l.total_minor).sum::<i64>());
        prop_assert_eq!(priced.tax_minor, priced.taxes.iter().map(|t| t.amount_minor).sum::<i64>());
        prop_assert_eq!(priced.deposit_minor, priced.deposits.iter().map(|d| d.amount_minor).sum::<i64>());
        prop_assert_eq!(priced.total_minor, priced.net_minor + priced.tax_minor + priced.deposit_minor);
    }

    #[test]
    fn line_taxes_sum_to_the_tax_rounded_once_per_scope((jurisdiction, basket, context) in arb_case()) {
        let priced = price(&jurisdiction, &basket, context);
        let mode = jurisdiction.rounding.mode;
        match jurisdiction.rounding.scope {
            // Per receipt: each liability (tax, rate, included) is its summed base rounded once.
            RoundingScope::PerReceipt => {
                for liability in &priced.taxes {
                    prop_assert_eq!(
                        i128::from(liability.amount_minor),
                        rounded_once(&jurisdiction, &priced, liability.basis, mode),
                        "{}", liability.tax_id
                    );
                }
            }
            // Per line: within a line, each tax's parts (same inclusion) are rounded once.
            RoundingScope::PerLine => {
                for line in &priced.lines {
                    let mut groups: Vec<(String, bool, TaxBasis, i64)> = Vec::new();
                    for tax in &line.taxes {
                        let included = matches!(tax.basis, TaxBasis::Percentage { included: true, .. });
                        match groups.iter_mut().find(|(id, inc, _, _)| id == tax.tax_id.as_str() && *inc == included) {
                            Some((_, _, basis, amount)) => {
                                *basis = with_more_base(*basis, base(tax.basis));
                                *amount += tax.amount_minor;
                            }
                            None => groups.push((tax.tax_id.to_string(), included, tax.basis, tax.amount_minor)),
                        }
                    }
                    for (id, _, basis, amount) in groups {
                        prop_assert_eq!(i128::from(amount), rounded_once(&jurisdiction, &priced, basis, mode), "{}", id);
                    }
                }
            }
        }
    }

    #[test]
    fn refunds_in_any_parts_sum_to_the_line(
        (jurisdiction, basket, context) in arb_case(),
        cuts in proptest::collection::vec(1i64..10, 1..10),
    ) {
        let priced = price(&jurisdiction, &basket, context);
        for line in priced.lines.iter().filter(|l| l.quantity > 0) {
            // Split the quantity into parts of the given sizes, the last taking the rest.
            let (mut already, mut total, mut tax, mut net, mut deposit) = (0, 0, 0, 0, 0);
            let mut per_tax = vec![0i64; line.taxes.len()];
            for cut in cuts.iter().copied().chain(std::iter::once(i64::MAX)) {
                let quantity = cut.min(line.quantity - already);
                if quantity == 0 {
                    break;
                }
                let share = refund_share(line, already, quantity).expect("within the line");
                prop_assert_eq!(share.amount_minor, share.net_minor + share.tax_minor + share.deposit_minor);
                already += quantity;
                total += share.amount_minor;
                tax += share.tax_minor;
                net += share.net_minor;
                deposit += share.deposit_minor;
                for (sum, part) in per_tax.iter_mut().zip(&share.taxes) {
                    *sum += part.amount_minor;
                }
            }
            prop_assert_eq!(already, line.quantity);
            prop_assert_eq!((total, tax, net, deposit), (line.total_minor, line.tax_minor, line.net_minor, line.deposit_minor));
            prop_assert_eq!(per_tax, line.taxes.iter().map(|t| t.amount_minor).collect::<Vec<_>>());
        }
    }
}

/// The base of a basis (amount, containers or millilitres).
fn base(basis: TaxBasis) -> i64 {
    match basis {
        TaxBasis::Percentage { base_minor, .. } => base_minor,
        TaxBasis::PerContainer { containers, .. } => containers,
        TaxBasis::PerLitre { volume_ml, .. } => volume_ml,
    }
}

/// `basis` with `extra` added to its base.
fn with_more_base(basis: TaxBasis, extra: i64) -> TaxBasis {
    match basis {
        TaxBasis::Percentage {
            rate_ppm,
            included,
            base_minor,
        } => TaxBasis::Percentage {
            rate_ppm,
            included,
            base_minor: base_minor + extra,
        },
        TaxBasis::PerContainer {
            amount_minor,
            containers,
        } => TaxBasis::PerContainer {
            amount_minor,
            containers: containers + extra,
        },
        TaxBasis::PerLitre {
            micro_minor_per_litre,
            volume_ml,
        } => TaxBasis::PerLitre {
            micro_minor_per_litre,
            volume_ml: volume_ml + extra,
        },
    }
}
