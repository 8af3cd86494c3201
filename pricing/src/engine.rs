//! [`price_basket`]: the engine itself.
//!
//! The steps, for a basket priced on `date` in a jurisdiction:
//!
//! 1. Check the configuration, the currency and every line; nothing is priced if one is
//!    wrong.
//! 2. For each line: `gross = quantity × unit_price`, `charged = gross − discount`, the
//!    containers (`quantity × units`), the volume (`containers × volume_ml`) and the
//!    deposit (`containers × amount` of the one rule covering the container, if any).
//! 3. Take the taxes in force on `date` (their latest version not after it; `not_levied`
//!    drops them).
//! 4. Per-unit taxes: `amount × containers` (exact) or `micro_per_litre × ml / 10⁹`
//!    (a fraction), rounded by the rule.
//! 5. Percentage taxes, on up to three parts of each line: the goods (`charged`), the
//!    deposit (if its rule names a tax class) and the taxable per-unit taxes from step 4.
//!    Each part is taxed by the percentage taxes that apply to its class. Additive:
//!    `amount = base × rate / 10⁶`. Inclusive (goods and deposit only):
//!    `amount = base × rate / (10⁶ + Σ rates)`, the rates summed over every percentage
//!    tax on that part, so that `base = net × (1 + Σ rates)` exactly before rounding.
//! 6. Rounding (steps 4 and 5): exact amounts are grouped by tax, by whether they are
//!    included, by denominator, and by line when rounding per line; each group's exact
//!    sum is rounded once and split back to its members by largest remainder, ties to the
//!    lower line number, then goods before deposit before per-unit taxes. Per line, the
//!    group is the line's parts; per receipt, every line's.
//! 7. `net = charged − included taxes on goods`, `deposit = charged deposit − included
//!    taxes on it`, `total = net + tax + deposit`; then the basket sums and the
//!    liabilities per tax and rate and per deposit scheme.
//!
//! All arithmetic is on integers: amounts in `i64`, products and sums in `i128`, and a
//! result that does not fit back in `i64` is [`PricingError::Overflow`], never a panic.

use std::collections::{BTreeMap, HashSet};

use crate::basket::{Basket, BasketLine, PriceMode, PricingContext};
use crate::error::{LineError, PricingError};
use crate::jurisdiction::{DepositRule, Jurisdiction, MILLION, TaxDefinition, TaxRate};
use crate::priced::{
    DepositLiability, LineDeposit, LineTax, PricedBasket, PricedLine, TaxBasis, TaxLiability, TaxedPart,
};
use crate::rounding::{RoundingMode, RoundingScope, allocate};

/// Millionths of a minor unit per litre times millilitres: divide by 10⁶ × 10³.
const PER_LITRE_DENOMINATOR: i128 = 1_000_000_000;

/// Prices `basket` in `jurisdiction` on `context.date`.
///
/// Deterministic and pure: the same inputs always give the same result, so the server
/// can price a sale again long after the terminal did, at the sale's own date, and
/// compare (see [`crate::compare_line`]).
pub fn price_basket(
    jurisdiction: &Jurisdiction,
    basket: &Basket,
    context: PricingContext,
) -> Result<PricedBasket, PricingError> {
    jurisdiction.validate().map_err(|source| PricingError::Jurisdiction {
        jurisdiction: jurisdiction.id.clone(),
        source,
    })?;
    if basket.currency != jurisdiction.currency {
        return Err(PricingError::CurrencyMismatch {
            basket: basket.currency,
            jurisdiction: jurisdiction.currency,
        });
    }
    let mut seen = HashSet::new();
    if let Some(line) = basket.lines.iter().find(|line| !seen.insert(line.line_no)) {
        return Err(PricingError::DuplicateLine(line.line_no));
    }

    let taxes: Vec<(&TaxDefinition, TaxRate)> = jurisdiction
        .taxes
        .iter()
        .filter_map(|tax| tax.rate_on(context.date).map(|rate| (tax, rate)))
        .filter(|(_, rate)| *rate != TaxRate::NotLevied)
        .collect();
    let lines: Vec<Prepared<'_>> = basket
        .lines
        .iter()
        .map(|line| Prepared::new(line, jurisdiction, &taxes, context))
        .collect::<Result<_, _>>()?;
    let settle = Settle {
        scope: jurisdiction.rounding.scope,
        mode: jurisdiction.rounding.mode,
        lines: &lines,
    };

    // Step 4: per-unit taxes.
    let mut unit_shares = Vec::new();
    for (l, line) in lines.iter().enumerate() {
        for (t, (tax, rate)) in taxes.iter().enumerate() {
            if !tax.applies_to(&line.input.tax_class) {
                continue;
            }
            let overflow = || line.overflow();
            let (basis, numerator, denominator) = match *rate {
                TaxRate::PerContainer { amount_minor } => {
                    let containers = line.containers.ok_or_else(|| line.missing_container(tax))?;
                    let exact = i128::from(amount_minor) * i128::from(containers);
                    (
                        TaxBasis::PerContainer {
                            amount_minor,
                            containers,
                        },
                        exact,
                        1,
                    )
                }
                TaxRate::PerLitre { micro_minor_per_litre } => {
                    let volume_ml = line.volume_ml.ok_or_else(|| line.missing_container(tax))?;
                    let exact = i128::from(micro_minor_per_litre)
                        .checked_mul(i128::from(volume_ml))
                        .ok_or_else(overflow)?;
                    (
                        TaxBasis::PerLitre {
                            micro_minor_per_litre,
                            volume_ml,
                        },
                        exact,
                        PER_LITRE_DENOMINATOR,
                    )
                }
                TaxRate::Percentage { .. } | TaxRate::NotLevied => continue,
            };
            unit_shares.push(Share {
                line: l,
                tax: t,
                on: TaxedPart::Goods,
                basis,
                included: false,
                numerator,
                denominator,
            });
        }
    }
    let unit_amounts = settle.amounts(&unit_shares)?;

    // Step 5: percentage taxes on goods, deposit and taxable per-unit taxes.
    let mut taxable_unit_taxes = vec![0i128; lines.len()];
    for (share, amount) in unit_shares.iter().zip(&unit_amounts) {
        if taxes[share.tax].0.taxable {
            taxable_unit_taxes[share.line] += i128::from(*amount);
        }
    }
    let inclusive = context.price_mode == PriceMode::Inclusive;
    let mut percentage_shares = Vec::new();
    for (l, line) in lines.iter().enumerate() {
        let class = &line.input.tax_class;
        let deposit = line.deposit.as_ref();
        let parts = [
            (TaxedPart::Goods, Some(class), i128::from(line.charged), inclusive),
            (
                TaxedPart::Deposit,
                deposit.and_then(|d| d.rule.tax_class.as_ref()),
                deposit.map_or(0, |d| i128::from(d.charged)),
                inclusive,
            ),
            (TaxedPart::UnitTaxes, Some(class), taxable_unit_taxes[l], false),
        ];
        for (on, class, base, included) in parts {
            let Some(class) = class else { continue };
            if base == 0 {
                continue;
            }
            let base_minor = i64::try_from(base).map_err(|_| line.overflow())?;
            let applicable: Vec<(usize, u32)> = taxes
                .iter()
                .enumerate()
                .filter(|(_, (tax, _))| tax.applies_to(class))
                .filter_map(|(t, (_, rate))| match rate {
                    TaxRate::Percentage { rate_ppm } => Some((t, *rate_ppm)),
                    _ => None,
                })
                .collect();
            let rates: i128 = applicable.iter().map(|(_, rate)| i128::from(*rate)).sum();
            let denominator = i128::from(MILLION) + if included { rates } else { 0 };
            for (t, rate_ppm) in applicable {
                percentage_shares.push(Share {
                    line: l,
                    tax: t,
                    on,
                    basis: TaxBasis::Percentage {
                        rate_ppm,
                        included,
                        base_minor,
                    },
                    included,
                    // |base| < 2⁶³ and rate <= 10⁶: the product fits easily in i128.
                    numerator: base * i128::from(rate_ppm),
                    denominator,
                });
            }
        }
    }
    let percentage_amounts = settle.amounts(&percentage_shares)?;

    // Step 7: lines, totals, liabilities.
    let mut line_taxes: Vec<Vec<(usize, LineTax, bool)>> = vec![Vec::new(); lines.len()];
    for (share, amount) in unit_shares
        .iter()
        .zip(unit_amounts)
        .chain(percentage_shares.iter().zip(percentage_amounts))
    {
        let tax = LineTax {
            tax_id: taxes[share.tax].0.tax_id.clone(),
            on: share.on,
            basis: share.basis,
            amount_minor: amount,
        };
        line_taxes[share.line].push((share.tax, tax, share.included));
    }
    let priced_lines: Vec<PricedLine> = lines
        .iter()
        .zip(line_taxes)
        .map(|(line, mut taxes)| {
            taxes.sort_by_key(|(t, tax, _)| (*t, tax.on));
            line.finish(taxes)
        })
        .collect::<Result<_, _>>()?;
    basket_totals(jurisdiction, context, priced_lines, &taxes)
}

/// A line checked and measured: everything but its taxes.
struct Prepared<'a> {
    input: &'a BasketLine,
    gross: i64,
    charged: i64,
    containers: Option<i64>,
    volume_ml: Option<i64>,
    deposit: Option<Deposit<'a>>,
}

/// The deposit a line pays.
struct Deposit<'a> {
    rule: &'a DepositRule,
    per_container: i64,
    containers: i64,
    charged: i64,
}

impl<'a> Prepared<'a> {
    fn new(
        input: &'a BasketLine,
        jurisdiction: &'a Jurisdiction,
        taxes: &[(&TaxDefinition, TaxRate)],
        context: PricingContext,
    ) -> Result<Self, PricingError> {
        let invalid = |error| PricingError::Line {
            line_no: input.line_no,
            error,
        };
        let overflow = || PricingError::Overflow {
            line_no: Some(input.line_no),
        };
        if input.quantity < 0 {
            return Err(invalid(LineError::NegativeQuantity(input.quantity)));
        }
        if let Some(price) = [Some(input.unit_price_minor), input.list_price_minor]
            .into_iter()
            .flatten()
            .find(|p| *p < 0)
        {
            return Err(invalid(LineError::NegativePrice(price)));
        }
        let gross = input
            .quantity
            .checked_mul(input.unit_price_minor)
            .ok_or_else(overflow)?;
        if !(0..=gross).contains(&input.discount_minor) {
            return Err(invalid(LineError::DiscountOutOfRange {
                discount: input.discount_minor,
                gross,
            }));
        }
        let charged = gross - input.discount_minor;
        let (mut containers, mut volume_ml, mut deposit) = (None, None, None);
        if let Some(container) = &input.container {
            if container.units == 0 || container.volume_ml == 0 {
                return Err(invalid(LineError::EmptyContainer));
            }
            let count = input
                .quantity
                .checked_mul(i64::from(container.units))
                .ok_or_else(overflow)?;
            containers = Some(count);
            volume_ml = Some(count.checked_mul(i64::from(container.volume_ml)).ok_or_else(overflow)?);
            let rule = jurisdiction.deposit_for(&container.container_type, container.volume_ml, &input.tax_class);
            if let Some((rule, per_container)) = rule.and_then(|r| r.amount_on(context.date).map(|a| (r, a))) {
                let charged = count.checked_mul(per_container).ok_or_else(overflow)?;
                deposit = Some(Deposit {
                    rule,
                    per_container,
                    containers: count,
                    charged,
                });
            }
        } else if let Some((tax, _)) = taxes
            .iter()
            .find(|(tax, rate)| rate.is_per_unit() && tax.applies_to(&input.tax_class))
        {
            return Err(invalid(LineError::MissingContainer(tax.tax_id.clone())));
        }
        Ok(Self {
            input,
            gross,
            charged,
            containers,
            volume_ml,
            deposit,
        })
    }

    fn overflow(&self) -> PricingError {
        PricingError::Overflow {
            line_no: Some(self.input.line_no),
        }
    }

    fn missing_container(&self, tax: &TaxDefinition) -> PricingError {
        PricingError::Line {
            line_no: self.input.line_no,
            error: LineError::MissingContainer(tax.tax_id.clone()),
        }
    }

    /// The priced line, from its taxes in final order (with the index of their tax and
    /// whether they were included in the price).
    fn finish(&self, taxes: Vec<(usize, LineTax, bool)>) -> Result<PricedLine, PricingError> {
        let overflow = || self.overflow();
        let included_in = |part: TaxedPart| -> i128 {
            taxes
                .iter()
                .filter(|(_, tax, included)| *included && tax.on == part)
                .map(|(_, tax, _)| i128::from(tax.amount_minor))
                .sum()
        };
        let net = i128::from(self.charged) - included_in(TaxedPart::Goods);
        let tax: i128 = taxes.iter().map(|(_, tax, _)| i128::from(tax.amount_minor)).sum();
        let deposit = match &self.deposit {
            Some(d) => {
                let amount = i128::from(d.charged) - included_in(TaxedPart::Deposit);
                Some(LineDeposit {
                    deposit_id: d.rule.deposit_id.clone(),
                    containers: d.containers,
                    amount_per_container_minor: d.per_container,
                    charged_minor: d.charged,
                    amount_minor: i64::try_from(amount).map_err(|_| overflow())?,
                })
            }
            None => None,
        };
        let deposit_minor = deposit.as_ref().map_or(0, |d| d.amount_minor);
        let total = net + tax + i128::from(deposit_minor);
        let fit = |value: i128| i64::try_from(value).map_err(|_| overflow());
        Ok(PricedLine {
            line_no: self.input.line_no,
            sku: self.input.sku.clone(),
            quantity: self.input.quantity,
            unit_price_minor: self.input.unit_price_minor,
            list_price_minor: self.input.list_price_minor,
            tax_class: self.input.tax_class.clone(),
            gross_minor: self.gross,
            discount_minor: self.input.discount_minor,
            net_minor: fit(net)?,
            taxes: taxes.into_iter().map(|(_, tax, _)| tax).collect(),
            tax_minor: fit(tax)?,
            deposit,
            deposit_minor,
            total_minor: fit(total)?,
            promotions: Vec::new(),
        })
    }
}

/// One exact tax amount before rounding: `numerator / denominator` minor units.
struct Share {
    line: usize,
    tax: usize,
    on: TaxedPart,
    basis: TaxBasis,
    included: bool,
    numerator: i128,
    denominator: i128,
}

/// The rounding step: groups shares, rounds each group once, splits it back.
struct Settle<'a> {
    scope: RoundingScope,
    mode: RoundingMode,
    lines: &'a [Prepared<'a>],
}

impl Settle<'_> {
    /// The rounded amount of each share, in the order given.
    fn amounts(&self, shares: &[Share]) -> Result<Vec<i64>, PricingError> {
        let line_no = |share: &Share| self.lines[share.line].input.line_no;
        let mut groups: BTreeMap<(Option<u32>, usize, bool, i128), Vec<usize>> = BTreeMap::new();
        for (i, share) in shares.iter().enumerate() {
            let scope = match self.scope {
                RoundingScope::PerLine => Some(line_no(share)),
                RoundingScope::PerReceipt => None,
            };
            groups
                .entry((scope, share.tax, share.included, share.denominator))
                .or_default()
                .push(i);
        }
        let mut amounts = vec![0i64; shares.len()];
        for ((scope, _, _, denominator), mut members) in groups {
            members.sort_by_key(|&i| (line_no(&shares[i]), shares[i].on));
            let overflow = || PricingError::Overflow { line_no: scope };
            let numerators: Vec<i128> = members.iter().map(|&i| shares[i].numerator).collect();
            let sum = numerators
                .iter()
                .try_fold(0i128, |sum, n| sum.checked_add(*n))
                .ok_or_else(overflow)?;
            let total = self.mode.divide(sum, denominator);
            for (&i, amount) in members.iter().zip(allocate(total, &numerators, denominator)) {
                amounts[i] = i64::try_from(amount).map_err(|_| PricingError::Overflow {
                    line_no: Some(line_no(&shares[i])),
                })?;
            }
        }
        Ok(amounts)
    }
}

/// The basket: line sums and liabilities.
fn basket_totals(
    jurisdiction: &Jurisdiction,
    context: PricingContext,
    lines: Vec<PricedLine>,
    taxes: &[(&TaxDefinition, TaxRate)],
) -> Result<PricedBasket, PricingError> {
    let overflow = || PricingError::Overflow { line_no: None };
    let sum = |field: fn(&PricedLine) -> i64| -> Result<i64, PricingError> {
        let total: i128 = lines.iter().map(|line| i128::from(field(line))).sum();
        i64::try_from(total).map_err(|_| overflow())
    };

    // Per tax and rate (the basis without its base), in the jurisdiction's order.
    let mut liabilities: Vec<(usize, TaxBasis, i128, i128)> = Vec::new();
    for tax in lines.iter().flat_map(|line| &line.taxes) {
        let Some(t) = taxes.iter().position(|(def, _)| def.tax_id == tax.tax_id) else {
            continue;
        };
        let (rate_key, base) = split_basis(tax.basis);
        match liabilities
            .iter_mut()
            .find(|(i, key, _, _)| *i == t && *key == rate_key)
        {
            Some((_, _, summed_base, amount)) => {
                *summed_base += base;
                *amount += i128::from(tax.amount_minor);
            }
            None => liabilities.push((t, rate_key, base, i128::from(tax.amount_minor))),
        }
    }
    liabilities.sort_by_key(|(t, _, _, _)| *t);
    let tax_liabilities = liabilities
        .into_iter()
        .map(|(t, key, base, amount)| {
            let base = i64::try_from(base).map_err(|_| overflow())?;
            Ok(TaxLiability {
                tax_id: taxes[t].0.tax_id.clone(),
                name: taxes[t].0.name.clone(),
                basis: with_base(key, base),
                amount_minor: i64::try_from(amount).map_err(|_| overflow())?,
            })
        })
        .collect::<Result<_, PricingError>>()?;

    let mut deposits = Vec::new();
    for rule in &jurisdiction.deposits {
        let charged: Vec<&LineDeposit> = lines
            .iter()
            .filter_map(|line| line.deposit.as_ref())
            .filter(|d| d.deposit_id == rule.deposit_id)
            .collect();
        if charged.is_empty() {
            continue;
        }
        let total = |field: fn(&LineDeposit) -> i64| {
            i64::try_from(charged.iter().map(|d| i128::from(field(d))).sum::<i128>()).map_err(|_| overflow())
        };
        deposits.push(DepositLiability {
            deposit_id: rule.deposit_id.clone(),
            name: rule.name.clone(),
            containers: total(|d| d.containers)?,
            charged_minor: total(|d| d.charged_minor)?,
            amount_minor: total(|d| d.amount_minor)?,
        });
    }

    Ok(PricedBasket {
        jurisdiction: jurisdiction.id.clone(),
        currency: jurisdiction.currency,
        date: context.date,
        price_mode: context.price_mode,
        rounding: jurisdiction.rounding,
        gross_minor: sum(|l| l.gross_minor)?,
        discount_minor: sum(|l| l.discount_minor)?,
        net_minor: sum(|l| l.net_minor)?,
        tax_minor: sum(|l| l.tax_minor)?,
        deposit_minor: sum(|l| l.deposit_minor)?,
        total_minor: sum(|l| l.total_minor)?,
        lines,
        taxes: tax_liabilities,
        deposits,
    })
}

/// A basis with its base zeroed (the liability's key) and the base.
fn split_basis(basis: TaxBasis) -> (TaxBasis, i128) {
    match basis {
        TaxBasis::Percentage {
            rate_ppm,
            included,
            base_minor,
        } => (
            TaxBasis::Percentage {
                rate_ppm,
                included,
                base_minor: 0,
            },
            i128::from(base_minor),
        ),
        TaxBasis::PerContainer {
            amount_minor,
            containers,
        } => (
            TaxBasis::PerContainer {
                amount_minor,
                containers: 0,
            },
            i128::from(containers),
        ),
        TaxBasis::PerLitre {
            micro_minor_per_litre,
            volume_ml,
        } => (
            TaxBasis::PerLitre {
                micro_minor_per_litre,
                volume_ml: 0,
            },
            i128::from(volume_ml),
        ),
    }
}

/// `key` with its base set to `base`.
fn with_base(key: TaxBasis, base: i64) -> TaxBasis {
    match key {
        TaxBasis::Percentage { rate_ppm, included, .. } => TaxBasis::Percentage {
            rate_ppm,
            included,
            base_minor: base,
        },
        TaxBasis::PerContainer { amount_minor, .. } => TaxBasis::PerContainer {
            amount_minor,
            containers: base,
        },
        TaxBasis::PerLitre {
            micro_minor_per_litre, ..
        } => TaxBasis::PerLitre {
            micro_minor_per_litre,
            volume_ml: base,
        },
    }
}
