//! A jurisdiction's configuration: its taxes with their dated rates, its container
//! deposits and its rounding rule.
//!
//! A [`Jurisdiction`] is everything that applies at one store's address, layers included:
//! a store in Los Angeles has one jurisdiction holding the state, county and district
//! taxes as separate [`TaxDefinition`]s. Rates and deposit amounts change over time, so
//! each carries a list of versions with the date they take effect; the engine uses the
//! version in force on the sale's date and never forgets an old one, which is what lets
//! a sale made offline last week be priced as it was then.

use crate::money::Currency;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::tax::rounding::Rounding;
use crate::tax::slug::{ContainerType, DepositId, JurisdictionId, TaxClass, TaxId};

/// One million: percentage rates are parts per million of the taxed amount, per-litre
/// rates are millionths of a minor unit.
pub const MILLION: i64 = 1_000_000;

/// Highest percentage rate accepted, in parts per million (100 %).
pub const MAX_RATE_PPM: u32 = 1_000_000;

/// How much a tax charges, in one version of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TaxRate {
    /// A share of the taxed amount, in parts per million: 8.875 % is `88_750`, 19 % is
    /// `190_000`. Six decimals of a fraction, four of a percent, which covers every
    /// published sales tax and VAT rate.
    Percentage {
        /// The rate, parts per million (0 to [`MAX_RATE_PPM`]).
        rate_ppm: u32,
    },
    /// A fixed amount for every container sold (excise per can or bottle, environmental
    /// fees). A six-pack sold once is six containers.
    PerContainer {
        /// Amount per container, minor units (>= 0).
        amount_minor: i64,
    },
    /// A fixed amount per litre of product sold (spirits liter taxes, per-volume excise),
    /// in millionths of a minor unit so that rates like USD 3.7708 per litre
    /// (`377_080_000`) or one converted from a per-gallon rate are exact enough.
    PerLitre {
        /// Millionths of a minor unit per litre (>= 0).
        micro_minor_per_litre: i64,
    },
    /// The tax is not charged from this date on (repealed, or suspended for a tax
    /// holiday; a later version can bring it back).
    NotLevied,
}

impl TaxRate {
    /// True for [`TaxRate::PerContainer`] and [`TaxRate::PerLitre`].
    pub fn is_per_unit(self) -> bool {
        matches!(self, TaxRate::PerContainer { .. } | TaxRate::PerLitre { .. })
    }
}

/// One version of a tax: the rate from a date on, until the next version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaxVersion {
    /// First day (the store's local calendar date) on which this rate applies.
    pub effective_from: NaiveDate,
    /// The rate from that day on.
    pub rate: TaxRate,
}

/// One tax of a jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaxDefinition {
    /// The tax's key in line breakdowns and liability reports.
    pub tax_id: TaxId,
    /// What the receipt and the reports call it ("CA sales tax", "MwSt 19 %").
    pub name: String,
    /// The tax classes it is charged on; at least one.
    pub applies_to: Vec<TaxClass>,
    /// Its rate history, oldest first, with strictly increasing dates. Before the first
    /// version the tax does not exist.
    pub versions: Vec<TaxVersion>,
    /// For a per-unit tax: whether the jurisdiction's percentage taxes are also charged on
    /// its amount (an environmental fee that sales tax applies to). Must be false for a
    /// tax that is ever a percentage: percentage taxes never compound on each other.
    #[serde(default)]
    pub taxable: bool,
}

impl TaxDefinition {
    /// The rate in force on `date`, if the tax existed then.
    pub fn rate_on(&self, date: NaiveDate) -> Option<TaxRate> {
        in_force(&self.versions, date, |v| v.effective_from).map(|v| v.rate)
    }

    /// Whether the tax is charged on goods of `class` (whatever its rate).
    pub fn applies_to(&self, class: &TaxClass) -> bool {
        self.applies_to.contains(class)
    }
}

/// One version of a deposit: the amount per container from a date on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DepositVersion {
    /// First day (the store's local calendar date) on which this amount applies.
    pub effective_from: NaiveDate,
    /// Deposit per container, minor units (>= 0; 0 suspends the deposit). In a
    /// tax-inclusive store it includes the deposit's tax, as German Pfand does.
    pub amount_minor: i64,
}

/// A container deposit scheme (California CRV, Michigan 10¢, German Pfand, a Canadian
/// provincial deposit): an amount per container of some types and sizes, charged beside
/// the price, held for the customer and refunded when the goods are returned. It is not
/// revenue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DepositRule {
    /// The scheme's key in line breakdowns and deposit reports.
    pub deposit_id: DepositId,
    /// What the receipt calls it ("CRV", "Pfand").
    pub name: String,
    /// Container types it applies to; at least one.
    pub container_types: Vec<ContainerType>,
    /// Smallest container it applies to, millilitres, inclusive.
    #[serde(default)]
    pub min_volume_ml: u32,
    /// Containers of this size or more are outside the rule, millilitres, exclusive.
    /// `None`: no upper bound. CRV's "under 24 fl oz" is `Some(710)`.
    #[serde(default)]
    pub below_volume_ml: Option<u32>,
    /// The tax classes it applies to (CRV is charged on beer but not on wine or spirits);
    /// `None` for every class. When present, at least one.
    #[serde(default)]
    pub classes: Option<Vec<TaxClass>>,
    /// Its amount history, oldest first, with strictly increasing dates.
    pub versions: Vec<DepositVersion>,
    /// Whether the deposit is taxed, and as which class: the percentage taxes that apply to
    /// this class are charged on it. `None`: the deposit is not taxed (CRV, Michigan).
    #[serde(default)]
    pub tax_class: Option<TaxClass>,
}

impl DepositRule {
    /// Whether the rule covers a container of `container_type` and `volume_ml` holding
    /// goods of `class`.
    pub fn covers(&self, container_type: &ContainerType, volume_ml: u32, class: &TaxClass) -> bool {
        self.container_types.contains(container_type)
            && volume_ml >= self.min_volume_ml
            && self.below_volume_ml.is_none_or(|below| volume_ml < below)
            && self.classes.as_ref().is_none_or(|classes| classes.contains(class))
    }

    /// The amount per container in force on `date`, if the rule existed then.
    pub fn amount_on(&self, date: NaiveDate) -> Option<i64> {
        in_force(&self.versions, date, |v| v.effective_from).map(|v| v.amount_minor)
    }

    fn volume_range(&self) -> (u32, u32) {
        (self.min_volume_ml, self.below_volume_ml.unwrap_or(u32::MAX))
    }

    /// Whether some container could fall under both rules.
    fn overlaps(&self, other: &DepositRule) -> bool {
        let types = self.container_types.iter().any(|t| other.container_types.contains(t));
        let ((lo_a, hi_a), (lo_b, hi_b)) = (self.volume_range(), other.volume_range());
        let volumes = lo_a.max(lo_b) < hi_a.min(hi_b);
        let classes = match (&self.classes, &other.classes) {
            (Some(a), Some(b)) => a.iter().any(|c| b.contains(c)),
            _ => true,
        };
        types && volumes && classes
    }
}

/// Everything that prices a sale at one store's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Jurisdiction {
    /// Its key; priced baskets record it.
    pub id: JurisdictionId,
    /// Human name ("Los Angeles, CA").
    pub name: String,
    /// Currency of every amount in it (per-container taxes, deposits).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "USD"))]
    pub currency: Currency,
    /// Per line or per receipt, half up or half even.
    pub rounding: Rounding,
    /// Its taxes, in the order receipts list them.
    pub taxes: Vec<TaxDefinition>,
    /// Its container deposits; no container may fall under two of them.
    #[serde(default)]
    pub deposits: Vec<DepositRule>,
}

/// Why a jurisdiction's configuration cannot be used. At the API: 422, on the
/// configuration request that carries it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JurisdictionError {
    /// Two taxes share an id.
    #[error("tax {0} is defined twice")]
    DuplicateTax(TaxId),
    /// A tax applies to no class.
    #[error("tax {0} applies to no tax class")]
    NoClasses(TaxId),
    /// A tax or deposit has no version.
    #[error("{0} has no version")]
    NoVersions(String),
    /// Versions are not in strictly increasing date order.
    #[error("{id}: version effective {effective_from} is not after the one before it")]
    VersionsOutOfOrder {
        /// The tax or deposit.
        id: String,
        /// The misplaced version's date.
        effective_from: NaiveDate,
    },
    /// A percentage above [`MAX_RATE_PPM`].
    #[error("tax {tax_id}: rate {rate_ppm} ppm is above 100 %")]
    RateOutOfRange {
        /// The tax.
        tax_id: TaxId,
        /// The rejected rate.
        rate_ppm: u32,
    },
    /// A negative per-unit amount or deposit.
    #[error("{0}: amounts must not be negative")]
    NegativeAmount(String),
    /// `taxable` on a tax that is a percentage in some version.
    #[error("tax {0} is a percentage in some version, so it cannot be taxable: percentage taxes do not compound")]
    TaxablePercentage(TaxId),
    /// Two deposits share an id.
    #[error("deposit {0} is defined twice")]
    DuplicateDeposit(DepositId),
    /// A deposit with no container type, an empty class list or an empty volume range.
    #[error("deposit {0} can never apply: no container type, no class or an empty volume range")]
    DepositNeverApplies(DepositId),
    /// Some container would fall under two deposits.
    #[error("deposits {0} and {1} overlap: a container would pay both")]
    OverlappingDeposits(DepositId, DepositId),
}

impl Jurisdiction {
    /// Checks the configuration: unique ids, versions in date order, rates and amounts in
    /// range, no compounding percentages, deposits that can apply and do not overlap.
    /// `pricing::price_basket` calls it, so a bad configuration is reported, never
    /// half-applied.
    pub fn validate(&self) -> Result<(), JurisdictionError> {
        for (i, tax) in self.taxes.iter().enumerate() {
            if self.taxes[..i].iter().any(|t| t.tax_id == tax.tax_id) {
                return Err(JurisdictionError::DuplicateTax(tax.tax_id.clone()));
            }
            if tax.applies_to.is_empty() {
                return Err(JurisdictionError::NoClasses(tax.tax_id.clone()));
            }
            let id = || format!("tax {}", tax.tax_id);
            check_versions(&tax.versions, |v| v.effective_from, id)?;
            for version in &tax.versions {
                match version.rate {
                    TaxRate::Percentage { rate_ppm } if rate_ppm > MAX_RATE_PPM => {
                        return Err(JurisdictionError::RateOutOfRange {
                            tax_id: tax.tax_id.clone(),
                            rate_ppm,
                        });
                    }
                    TaxRate::Percentage { .. } if tax.taxable => {
                        return Err(JurisdictionError::TaxablePercentage(tax.tax_id.clone()));
                    }
                    TaxRate::PerContainer { amount_minor: amount }
                    | TaxRate::PerLitre {
                        micro_minor_per_litre: amount,
                    } if amount < 0 => {
                        return Err(JurisdictionError::NegativeAmount(id()));
                    }
                    _ => {}
                }
            }
        }
        for (i, rule) in self.deposits.iter().enumerate() {
            let id = || format!("deposit {}", rule.deposit_id);
            if self.deposits[..i].iter().any(|d| d.deposit_id == rule.deposit_id) {
                return Err(JurisdictionError::DuplicateDeposit(rule.deposit_id.clone()));
            }
            let (lo, hi) = rule.volume_range();
            if rule.container_types.is_empty() || rule.classes.as_ref().is_some_and(Vec::is_empty) || lo >= hi {
                return Err(JurisdictionError::DepositNeverApplies(rule.deposit_id.clone()));
            }
            check_versions(&rule.versions, |v| v.effective_from, id)?;
            if rule.versions.iter().any(|v| v.amount_minor < 0) {
                return Err(JurisdictionError::NegativeAmount(id()));
            }
            if let Some(other) = self.deposits[..i].iter().find(|d| d.overlaps(rule)) {
                return Err(JurisdictionError::OverlappingDeposits(
                    other.deposit_id.clone(),
                    rule.deposit_id.clone(),
                ));
            }
        }
        Ok(())
    }

    /// The deposit rule covering a container, if any (at most one, once validated).
    pub fn deposit_for(
        &self,
        container_type: &ContainerType,
        volume_ml: u32,
        class: &TaxClass,
    ) -> Option<&DepositRule> {
        self.deposits
            .iter()
            .find(|rule| rule.covers(container_type, volume_ml, class))
    }
}

/// The version in force on `date`: the last one whose date is not after it.
fn in_force<V>(versions: &[V], date: NaiveDate, from: impl Fn(&V) -> NaiveDate) -> Option<&V> {
    let after = versions.partition_point(|v| from(v) <= date);
    after.checked_sub(1).map(|i| &versions[i])
}

fn check_versions<V>(
    versions: &[V],
    from: impl Fn(&V) -> NaiveDate,
    id: impl Fn() -> String,
) -> Result<(), JurisdictionError> {
    if versions.is_empty() {
        return Err(JurisdictionError::NoVersions(id()));
    }
    match versions.windows(2).find(|pair| from(&pair[0]) >= from(&pair[1])) {
        Some(pair) => Err(JurisdictionError::VersionsOutOfOrder {
            id: id(),
            effective_from: from(&pair[1]),
        }),
        None => Ok(()),
    }
}
