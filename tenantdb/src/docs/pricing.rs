//! The server's pricing as the read model keeps it: a sale's flags
//! ([`SalePricingDoc`]) and a day's tax liability ([`TaxLiabilityDoc`]).
//!
//! Line taxes, deposits and differences are stored in the shapes the events carry
//! ([`events::tax::LineTax`], [`events::tax::LineDeposit`], [`events::tax::LineDifference`]),
//! so the read model and the events cannot drift apart.

use events::tax::{LineDifference, LineTax, TaxBasis};
use serde::{Deserialize, Serialize};

/// The server's pricing of a sale at its time: what rules applied, and where the
/// terminal's figures differed (never a reason to refuse the sale).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalePricingDoc {
    /// The jurisdiction whose rules applied.
    pub jurisdiction: String,
    /// The business date whose rates and deposits applied, `YYYY-MM-DD`.
    pub date: String,
    /// Whether the store's prices included tax.
    pub prices_include_tax: bool,
    /// Every difference between the terminal's lines and the server's pricing.
    pub exceptions: Vec<LineDifference>,
}

impl SalePricingDoc {
    /// Field `exceptions`.
    pub const EXCEPTIONS: &'static str = "exceptions";
}

/// What one day owes for one tax at one rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaxLiabilityDoc {
    /// The tax.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub tax_id: events::tax::TaxId,
    /// The rate, with the base of the day's sales it was charged on (summed: amount,
    /// containers or millilitres).
    pub basis: TaxBasis,
    /// Tax on the day's sales (less those voided the same day), minor units.
    pub collected_minor: i64,
    /// Tax given back that day: refunds, and voids of earlier days' sales, minor units.
    pub returned_minor: i64,
    /// `collected − returned`: what the day owes for this tax and rate.
    pub owed_minor: i64,
}

impl TaxLiabilityDoc {
    /// Adds `sign` × `tax` to the rows in `rows` (one per tax and rate, kept in tax then
    /// rate order), as collected (`returned == false`) or given back.
    pub fn add(rows: &mut Vec<TaxLiabilityDoc>, tax: &LineTax, sign: i64, returned: bool) {
        let index = match rows
            .iter()
            .position(|row| row.tax_id == tax.tax_id && same_rate(&row.basis, &tax.basis))
        {
            Some(index) => index,
            None => {
                let row = TaxLiabilityDoc {
                    tax_id: tax.tax_id.clone(),
                    basis: scaled_base(&tax.basis, 0),
                    collected_minor: 0,
                    returned_minor: 0,
                    owed_minor: 0,
                };
                let at = rows
                    .iter()
                    .position(|r| (r.tax_id.as_str(), rate_key(&r.basis)) > (row.tax_id.as_str(), rate_key(&row.basis)))
                    .unwrap_or(rows.len());
                rows.insert(at, row);
                at
            }
        };
        let row = &mut rows[index];
        if returned {
            row.returned_minor += sign * tax.amount_minor;
        } else {
            row.collected_minor += sign * tax.amount_minor;
            row.basis = add_base(&row.basis, &tax.basis, sign);
        }
        row.owed_minor = row.collected_minor - row.returned_minor;
    }
}

/// Whether two bases are the same tax rate (kind, rate and whether it was included).
fn same_rate(a: &TaxBasis, b: &TaxBasis) -> bool {
    rate_key(a) == rate_key(b)
}

/// Orders and identifies rates: kind, then the rate.
fn rate_key(basis: &TaxBasis) -> (u8, i64, bool) {
    match *basis {
        TaxBasis::Percentage { rate_ppm, included, .. } => (0, i64::from(rate_ppm), included),
        TaxBasis::PerContainer { amount_minor, .. } => (1, amount_minor, false),
        TaxBasis::PerLitre {
            micro_minor_per_litre, ..
        } => (2, micro_minor_per_litre, false),
    }
}

/// `basis` with its base set to `base`.
fn scaled_base(basis: &TaxBasis, base: i64) -> TaxBasis {
    match *basis {
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

fn base_of(basis: &TaxBasis) -> i64 {
    match *basis {
        TaxBasis::Percentage { base_minor, .. } => base_minor,
        TaxBasis::PerContainer { containers, .. } => containers,
        TaxBasis::PerLitre { volume_ml, .. } => volume_ml,
    }
}

/// `row` with `sign` × the base of `line` added to its base.
fn add_base(row: &TaxBasis, line: &TaxBasis, sign: i64) -> TaxBasis {
    scaled_base(row, base_of(row) + sign * base_of(line))
}

#[cfg(test)]
mod tests {
    use events::tax::TaxedPart;

    use super::*;

    fn tax(id: &str, rate_ppm: u32, base: i64, amount: i64) -> LineTax {
        LineTax {
            tax_id: events::tax::TaxId::parse(id).expect("a valid tax id"),
            on: TaxedPart::Goods,
            basis: TaxBasis::Percentage {
                rate_ppm,
                included: false,
                base_minor: base,
            },
            amount_minor: amount,
        }
    }

    #[test]
    fn rows_are_per_tax_and_rate_in_order_and_owe_collected_less_returned() {
        let mut rows = Vec::new();
        // Two sales at 6.25 %, one at the old 6 %, a city tax; one refund at 6.25 %.
        TaxLiabilityDoc::add(&mut rows, &tax("state", 62_500, 2000, 125), 1, false);
        TaxLiabilityDoc::add(&mut rows, &tax("city", 27_500, 2000, 55), 1, false);
        TaxLiabilityDoc::add(&mut rows, &tax("state", 62_500, 1000, 63), 1, false);
        TaxLiabilityDoc::add(&mut rows, &tax("state", 60_000, 1000, 60), 1, false);
        TaxLiabilityDoc::add(&mut rows, &tax("state", 62_500, 1000, 63), 1, true);
        let summary: Vec<(&str, i64, i64, i64, i64)> = rows
            .iter()
            .map(|r| {
                (
                    r.tax_id.as_str(),
                    base_of(&r.basis),
                    r.collected_minor,
                    r.returned_minor,
                    r.owed_minor,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("city", 2000, 55, 0, 55),
                ("state", 1000, 60, 0, 60),
                ("state", 3000, 188, 63, 125),
            ]
        );
        // A same-day void takes a sale back out of what was collected, base included.
        TaxLiabilityDoc::add(&mut rows, &tax("city", 27_500, 2000, 55), -1, false);
        assert_eq!((base_of(&rows[0].basis), rows[0].owed_minor), (0, 0));
    }
}
