//! [`apply_promotions`]: which promotions a basket gets, and each line's share.
//!
//! Pure and deterministic like the rest of the engine: the caller picks the promotions in
//! force at the store and instant ([`ActivePromotion`]), this module works out the
//! discounts in integer minor units. The rules (also in docs/promotions.md):
//!
//! **Evaluating one promotion** on the lines it may use:
//! - *Mix and match* (`quantity` N, a product set): the set's items form
//!   `groups = ⌊items / N⌋` groups; the `groups × N` items grouped are the most expensive
//!   ones (price descending, then line number). With `G` their price: percent off gives
//!   `round_half_up(G × bp / 10000)`, amount off `min(groups × amount, G)`, fixed price
//!   `max(0, G − groups × price)`.
//! - *Quantity breaks* (one SKU): the highest break whose `min_quantity` the SKU's items
//!   reach prices every item of it: `Σ quantity × max(0, price − break price)`.
//! - *Buy X get Y*: `groups = ⌊items / (X + Y)⌋`, and the `groups × Y` cheapest items
//!   (price ascending, then line number) get `round_half_up(G × bp / 10000)` off, `G`
//!   their price.
//!
//! **Allocation.** A promotion's discount is spread over the lines whose items it
//! discounted in proportion to those items' price, by largest remainder in minor units
//! ([`crate::split_proportionally`]: floors first, the leftover units one each to the
//! largest remainders, ties to the earlier line). The shares add up to the discount
//! exactly, and each line's share is fixed when the sale is recorded, so a refund gives
//! back the refunded items' part of it.
//!
//! **Stacking.** By default a line gets at most one promotion, the one best for the
//! customer: among the non-stackable promotions, the one giving the largest discount on
//! the lines still free is taken (ties: the smaller promotion id), the lines it used are
//! taken out, and the rest are evaluated again on what is left, until none gives
//! anything. Then every promotion marked `stackable` applies on top, on every line it
//! matches, computed on the shelf price, each line's total discount capped at its gross.

use events::event::{AppliedPromotion, PromotionReward, PromotionRule};
use events::{PromotionId, Sku};

use crate::rounding::{RoundingMode, split_proportionally};

/// Basis points in one whole.
const WHOLE_BP: i128 = 10_000;

/// A promotion in force at the basket's store and instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivePromotion {
    /// The promotion.
    pub id: PromotionId,
    /// What it does.
    pub rule: PromotionRule,
    /// Whether it applies on top of another promotion.
    pub stackable: bool,
}

/// A basket line as promotions see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionLine {
    /// Position on the receipt.
    pub line_no: u32,
    /// The product.
    pub sku: Sku,
    /// The product's catalog category, when known.
    pub category: Option<String>,
    /// Items (>= 0).
    pub quantity: i64,
    /// Shelf price of one item, minor units (>= 0).
    pub unit_price_minor: i64,
}

impl PromotionLine {
    fn gross(&self) -> i128 {
        i128::from(self.quantity.max(0)) * i128::from(self.unit_price_minor.max(0))
    }
}

/// What one line gets from promotions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinePromotions {
    /// Position on the receipt.
    pub line_no: u32,
    /// Each promotion's share, in the order they were applied.
    pub applied: Vec<AppliedPromotion>,
    /// Σ `applied` amounts.
    pub discount_minor: i64,
}

/// One promotion evaluated on some lines.
#[derive(Debug, Default)]
struct Evaluation {
    /// The discount, minor units.
    total: i64,
    /// Each line's share (by index into the lines).
    shares: Vec<(usize, i64)>,
    /// The lines the promotion used (grouped or counted), which a non-stackable
    /// promotion takes out.
    used: Vec<usize>,
}

/// The promotions of `lines`, one entry per line in the same order. See the
/// [module](self) for the rules.
pub fn apply_promotions(promotions: &[ActivePromotion], lines: &[PromotionLine]) -> Vec<LinePromotions> {
    let mut result: Vec<LinePromotions> = lines
        .iter()
        .map(|line| LinePromotions {
            line_no: line.line_no,
            ..LinePromotions::default()
        })
        .collect();
    let mut sorted: Vec<&ActivePromotion> = promotions.iter().collect();
    sorted.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let (stackable, mut exclusive): (Vec<&ActivePromotion>, Vec<&ActivePromotion>) =
        sorted.into_iter().partition(|p| p.stackable);

    let mut free = vec![true; lines.len()];
    loop {
        let mut best: Option<(usize, Evaluation)> = None;
        for (i, promotion) in exclusive.iter().enumerate() {
            let evaluation = evaluate(&promotion.rule, lines, &free);
            if evaluation.total > best.as_ref().map_or(0, |(_, b)| b.total) {
                best = Some((i, evaluation));
            }
        }
        let Some((i, evaluation)) = best else { break };
        let promotion = exclusive.remove(i);
        for &l in &evaluation.used {
            free[l] = false;
        }
        record(&mut result, lines, promotion, &evaluation);
    }
    let everything = vec![true; lines.len()];
    for promotion in stackable {
        let evaluation = evaluate(&promotion.rule, lines, &everything);
        record(&mut result, lines, promotion, &evaluation);
    }
    result
}

/// Adds `evaluation`'s shares to the lines, each line's discount capped at its gross.
fn record(
    result: &mut [LinePromotions],
    lines: &[PromotionLine],
    promotion: &ActivePromotion,
    evaluation: &Evaluation,
) {
    for &(l, share) in &evaluation.shares {
        let room = i64::try_from(lines[l].gross()).unwrap_or(i64::MAX) - result[l].discount_minor;
        let amount = share.min(room);
        if amount <= 0 {
            continue;
        }
        result[l].discount_minor += amount;
        result[l].applied.push(AppliedPromotion {
            promotion_id: promotion.id.clone(),
            amount_minor: amount,
        });
    }
}

/// `rule` on the lines marked usable.
fn evaluate(rule: &PromotionRule, lines: &[PromotionLine], usable: &[bool]) -> Evaluation {
    let candidates = |matches: &dyn Fn(&PromotionLine) -> bool| -> Vec<usize> {
        (0..lines.len())
            .filter(|&l| usable[l] && lines[l].quantity > 0 && matches(&lines[l]))
            .collect()
    };
    match rule {
        PromotionRule::MixAndMatch {
            products,
            quantity,
            reward,
        } => {
            let eligible = candidates(&|line| products.contains(&line.sku, line.category.as_deref()));
            let items: i64 = eligible.iter().map(|&l| lines[l].quantity).sum();
            if *quantity <= 0 || items < *quantity {
                return Evaluation::default();
            }
            let groups = items / quantity;
            let taken = take(lines, eligible, groups * quantity, true);
            let grouped: i128 = taken
                .iter()
                .map(|&(l, k)| i128::from(k) * i128::from(lines[l].unit_price_minor))
                .sum();
            let total = match *reward {
                PromotionReward::PercentOff { basis_points } => percent(grouped, basis_points),
                PromotionReward::AmountOff { amount_minor } => {
                    (i128::from(groups) * i128::from(amount_minor.max(0))).min(grouped)
                }
                PromotionReward::FixedPrice { price_minor } => {
                    (grouped - i128::from(groups) * i128::from(price_minor.max(0))).max(0)
                }
            };
            allocate(lines, &taken, total)
        }
        PromotionRule::QuantityBreaks { sku, breaks } => {
            let eligible = candidates(&|line| &line.sku == sku);
            let items: i64 = eligible.iter().map(|&l| lines[l].quantity).sum();
            let Some(reached) = breaks
                .iter()
                .filter(|b| b.min_quantity <= items)
                .max_by_key(|b| b.min_quantity)
            else {
                return Evaluation::default();
            };
            let shares: Vec<(usize, i64)> = eligible
                .iter()
                .map(|&l| {
                    let off = (lines[l].unit_price_minor - reached.unit_price_minor).max(0);
                    (l, lines[l].quantity.saturating_mul(off))
                })
                .filter(|(_, amount)| *amount > 0)
                .collect();
            Evaluation {
                total: shares.iter().map(|(_, a)| *a).fold(0i64, i64::saturating_add),
                used: eligible,
                shares,
            }
        }
        PromotionRule::BuyXGetY {
            products,
            buy,
            get,
            get_basis_points,
        } => {
            let eligible = candidates(&|line| products.contains(&line.sku, line.category.as_deref()));
            let items: i64 = eligible.iter().map(|&l| lines[l].quantity).sum();
            let per_group = buy.saturating_add(*get);
            if *buy <= 0 || *get <= 0 || items < per_group {
                return Evaluation::default();
            }
            let given = items / per_group * get;
            let taken = take(lines, eligible.clone(), given, false);
            let price: i128 = taken
                .iter()
                .map(|&(l, k)| i128::from(k) * i128::from(lines[l].unit_price_minor))
                .sum();
            let mut evaluation = allocate(lines, &taken, percent(price, *get_basis_points));
            evaluation.used = eligible;
            evaluation
        }
    }
}

/// `base × bp / 10000`, half up.
fn percent(base: i128, basis_points: u32) -> i128 {
    let bp = i128::from(basis_points).min(WHOLE_BP);
    RoundingMode::HalfUp.divide(base * bp, WHOLE_BP)
}

/// `count` items of `eligible` lines: the most expensive first when `dearest`, else the
/// cheapest; equal prices by line number. Returns (line, items taken) for lines that gave
/// some.
fn take(lines: &[PromotionLine], mut eligible: Vec<usize>, count: i64, dearest: bool) -> Vec<(usize, i64)> {
    eligible.sort_by(|&a, &b| {
        let by_price = lines[a].unit_price_minor.cmp(&lines[b].unit_price_minor);
        let by_price = if dearest { by_price.reverse() } else { by_price };
        by_price.then(lines[a].line_no.cmp(&lines[b].line_no))
    });
    let mut left = count;
    let mut taken = Vec::new();
    for l in eligible {
        if left <= 0 {
            break;
        }
        let k = lines[l].quantity.min(left);
        left -= k;
        taken.push((l, k));
    }
    taken.sort_by_key(|&(l, _)| lines[l].line_no);
    taken
}

/// Spreads `total` over the taken items' lines by their price, largest remainder.
fn allocate(lines: &[PromotionLine], taken: &[(usize, i64)], total: i128) -> Evaluation {
    let used: Vec<usize> = taken.iter().map(|&(l, _)| l).collect();
    let weights: Vec<i64> = taken
        .iter()
        .map(|&(l, k)| k.saturating_mul(lines[l].unit_price_minor.max(0)))
        .collect();
    let total = i64::try_from(total.max(0)).unwrap_or(i64::MAX);
    let Some(split) = split_proportionally(total, &weights) else {
        return Evaluation {
            used,
            ..Evaluation::default()
        };
    };
    Evaluation {
        total,
        shares: used.iter().copied().zip(split).filter(|(_, a)| *a > 0).collect(),
        used,
    }
}

#[cfg(test)]
mod tests {
    use events::event::{ProductSet, QuantityBreak};

    use super::*;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).expect("sku")
    }

    fn line(line_no: u32, s: &str, quantity: i64, price: i64) -> PromotionLine {
        PromotionLine {
            line_no,
            sku: sku(s),
            category: Some("wine".into()),
            quantity,
            unit_price_minor: price,
        }
    }

    fn promo(id: &str, rule: PromotionRule, stackable: bool) -> ActivePromotion {
        ActivePromotion {
            id: PromotionId::parse(id).expect("id"),
            rule,
            stackable,
        }
    }

    fn case_of(n: i64, bp: u32) -> PromotionRule {
        PromotionRule::MixAndMatch {
            products: ProductSet {
                skus: vec![],
                categories: vec!["wine".into()],
            },
            quantity: n,
            reward: PromotionReward::PercentOff { basis_points: bp },
        }
    }

    fn amounts(result: &[LinePromotions]) -> Vec<i64> {
        result.iter().map(|l| l.discount_minor).collect()
    }

    #[test]
    fn a_mixed_case_gets_ten_percent_split_by_largest_remainder() {
        let lines = [line(1, "A", 4, 1299), line(2, "B", 4, 1599), line(3, "C", 4, 899)];
        // G = 5196 + 6396 + 3596 = 15188; 10 % = 1518.8 -> 1519.
        // 1519 × (5196, 6396, 3596) / 15188 = 519.6, 639.6, 359.6: floors 1517, two units
        // left, equal remainders -> lines 1 and 2.
        let result = apply_promotions(&[promo("case", case_of(12, 1000), false)], &lines);
        assert_eq!(amounts(&result), vec![520, 640, 359]);
    }

    #[test]
    fn eleven_bottles_get_nothing_and_thirteen_group_the_dearest_twelve() {
        let short = [line(1, "A", 11, 1000)];
        assert_eq!(
            amounts(&apply_promotions(&[promo("case", case_of(12, 1000), false)], &short)),
            vec![0]
        );
        // 13 bottles: 12 grouped, the 500 one left out: 12 × 1000 × 10 % = 1200.
        let lines = [line(1, "A", 1, 500), line(2, "B", 12, 1000)];
        assert_eq!(
            amounts(&apply_promotions(&[promo("case", case_of(12, 1000), false)], &lines)),
            vec![0, 1200]
        );
    }

    #[test]
    fn the_best_single_promotion_wins_unless_one_stacks() {
        let lines = [line(1, "A", 12, 1000)];
        let breaks = PromotionRule::QuantityBreaks {
            sku: sku("A"),
            breaks: vec![QuantityBreak {
                min_quantity: 6,
                unit_price_minor: 950,
            }],
        };
        // Case: 1200 off; breaks: 12 × 50 = 600. The case wins alone.
        let both = [
            promo("breaks", breaks.clone(), false),
            promo("case", case_of(12, 1000), false),
        ];
        let result = apply_promotions(&both, &lines);
        assert_eq!(amounts(&result), vec![1200]);
        assert_eq!(result[0].applied.len(), 1);
        // Stackable breaks add their 600.
        let stacked = [promo("breaks", breaks, true), promo("case", case_of(12, 1000), false)];
        assert_eq!(amounts(&apply_promotions(&stacked, &lines)), vec![1800]);
    }

    #[test]
    fn buy_two_get_one_gives_the_cheapest_item() {
        let rule = PromotionRule::BuyXGetY {
            products: ProductSet {
                skus: vec![sku("A"), sku("B")],
                categories: vec![],
            },
            buy: 2,
            get: 1,
            get_basis_points: 10_000,
        };
        let lines = [line(1, "A", 2, 1000), line(2, "B", 1, 700)];
        assert_eq!(
            amounts(&apply_promotions(&[promo("b2g1", rule, false)], &lines)),
            vec![0, 700]
        );
    }

    #[test]
    fn fixed_price_and_amount_off_per_group() {
        let fixed = PromotionRule::MixAndMatch {
            products: ProductSet {
                skus: vec![sku("A")],
                categories: vec![],
            },
            quantity: 3,
            reward: PromotionReward::FixedPrice { price_minor: 2500 },
        };
        let lines = [line(1, "A", 6, 1000)];
        // Two groups of 3 at 25.00 instead of 30.00: 1000 off.
        assert_eq!(
            amounts(&apply_promotions(&[promo("f", fixed, false)], &lines)),
            vec![1000]
        );
        let off = PromotionRule::MixAndMatch {
            products: ProductSet {
                skus: vec![sku("A")],
                categories: vec![],
            },
            quantity: 3,
            reward: PromotionReward::AmountOff { amount_minor: 400 },
        };
        assert_eq!(amounts(&apply_promotions(&[promo("o", off, false)], &lines)), vec![800]);
    }
}
