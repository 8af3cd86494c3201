//! Taxes (read-only, every role): the tax jurisdiction a location names, with its rounding
//! rule, each tax's classes and dated rates (the one in force on the location's business
//! day marked), and its container deposits. Read from `GET /v1/locations/{id}` and
//! `GET /v1/tax-jurisdictions/{id}`; jurisdictions are defined and replaced through the
//! API (admins), not from these pages yet.

use axum::extract::{Query, State};
use axum::response::Html;
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::PageError;
use crate::extract::SignedIn;
use crate::money;
use crate::pages::day::{Day, DayQuery};
use crate::pages::layout::{self, Section};
use crate::pages::location_edit::LocationDetail;
use crate::pages::sales::valid_id;
use crate::state::AppState;

/// `?location=`.
#[derive(Debug, Default, Deserialize)]
pub struct TaxQuery {
    #[serde(default)]
    location: Option<String>,
}

/// A rate of one version of a tax.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rate {
    /// Parts per million of the taxed amount.
    Percentage {
        /// 88750 = 8.875 %.
        rate_ppm: i64,
    },
    /// Minor units per container.
    PerContainer {
        /// Amount.
        amount_minor: i64,
    },
    /// Millionths of a minor unit per litre.
    PerLitre {
        /// Amount.
        micro_minor_per_litre: i64,
    },
    /// Not charged from this date.
    NotLevied,
    /// A kind this page does not know yet.
    #[serde(other)]
    Other,
}

/// One dated version of a tax.
#[derive(Debug, Clone, Deserialize)]
pub struct TaxVersion {
    /// From this local date.
    pub effective_from: NaiveDate,
    /// The rate.
    pub rate: Rate,
}

/// A tax of the jurisdiction.
#[derive(Debug, Clone, Deserialize)]
pub struct Tax {
    /// Its id.
    pub tax_id: String,
    /// Name on receipts.
    pub name: String,
    /// The tax classes it applies to.
    #[serde(default)]
    pub applies_to: Vec<String>,
    /// Oldest first.
    #[serde(default)]
    pub versions: Vec<TaxVersion>,
    /// Whether percentage taxes apply on top of it.
    #[serde(default)]
    pub taxable: bool,
}

/// One dated deposit amount.
#[derive(Debug, Clone, Deserialize)]
pub struct DepositVersion {
    /// From this local date.
    pub effective_from: NaiveDate,
    /// Per container, minor units.
    pub amount_minor: i64,
}

/// A container deposit scheme.
#[derive(Debug, Clone, Deserialize)]
pub struct Deposit {
    /// Its id.
    pub deposit_id: String,
    /// Name.
    pub name: String,
    /// Container types covered.
    #[serde(default)]
    pub container_types: Vec<String>,
    /// From this volume (inclusive).
    #[serde(default)]
    pub min_volume_ml: u32,
    /// Below this volume.
    #[serde(default)]
    pub below_volume_ml: Option<u32>,
    /// Classes covered (none: all).
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// Oldest first.
    #[serde(default)]
    pub versions: Vec<DepositVersion>,
}

/// A jurisdiction's rounding rule.
#[derive(Debug, Clone, Deserialize)]
pub struct Rounding {
    /// `per_line` or `per_receipt`.
    pub scope: String,
    /// `half_up` or `half_even`.
    pub mode: String,
}

/// `GET /v1/tax-jurisdictions/{id}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Jurisdiction {
    /// Its id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Currency of its amounts.
    pub currency: String,
    /// Rounding.
    pub rounding: Rounding,
    /// Taxes.
    #[serde(default)]
    pub taxes: Vec<Tax>,
    /// Deposits.
    #[serde(default)]
    pub deposits: Vec<Deposit>,
}

/// `value / 10^scale` in decimals, without trailing zeros past `keep` decimals.
fn decimal(value: i64, scale: u32, keep: usize) -> String {
    let unit = 10i64.pow(scale);
    let sign = if value < 0 { "-" } else { "" };
    let (whole, frac) = (
        value.unsigned_abs() / unit.unsigned_abs(),
        value.unsigned_abs() % unit.unsigned_abs(),
    );
    let frac = format!("{frac:0width$}", width = scale as usize);
    let trimmed = frac.trim_end_matches('0');
    let frac = if trimmed.len() < keep {
        &frac[..keep.min(frac.len())]
    } else {
        trimmed
    };
    if frac.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{frac}")
    }
}

/// A rate as a person reads it.
fn rate_text(rate: &Rate, currency: &str) -> String {
    match rate {
        Rate::Percentage { rate_ppm } => format!("{} %", decimal(*rate_ppm, 4, 0)),
        Rate::PerContainer { amount_minor } => format!("{} per container", money::format(*amount_minor, currency)),
        Rate::PerLitre { micro_minor_per_litre } => {
            let exp = money::exponent(currency);
            format!(
                "{currency} {} per litre",
                decimal(*micro_minor_per_litre, 6 + exp, exp as usize)
            )
        }
        Rate::NotLevied => "not levied".to_owned(),
        Rate::Other => "(another kind of rate)".to_owned(),
    }
}

/// The index of the version in force on `on`: the last one not after it.
fn in_force<T>(versions: &[T], from: impl Fn(&T) -> NaiveDate, on: NaiveDate) -> Option<usize> {
    versions.iter().rposition(|v| from(v) <= on)
}

fn jurisdiction_view(j: &Jurisdiction, on: NaiveDate) -> Markup {
    let c = j.currency.as_str();
    html! {
        dl class="cards" {
            div class="card" { dt class="label" { "Jurisdiction" } dd class="value" id="jurisdiction" { (j.name) " (" (j.id) ")" } }
            div class="card" { dt class="label" { "Currency" } dd class="value" { (c) } }
            div class="card" { dt class="label" { "Rounding" } dd class="value" id="rounding" { (j.rounding.scope.replace('_', " ")) ", " (j.rounding.mode.replace('_', " ")) } }
        }
        h2 { "Taxes" }
        @if j.taxes.is_empty() { p class="muted" { "No tax." } }
        table id="taxes" {
            thead { tr { th { "Tax" } th { "Applies to" } th { "From" } th { "Rate" } th { "" } } }
            tbody {
                @for t in &j.taxes {
                    @let current = in_force(&t.versions, |v| v.effective_from, on);
                    @for (i, v) in t.versions.iter().enumerate() {
                        tr data-tax=(t.tax_id) class=[(current == Some(i)).then_some("current")] {
                            td { @if i == 0 { (t.name) " (" (t.tax_id) ")" @if t.taxable { " · taxable" } } }
                            td { @if i == 0 { (t.applies_to.join(", ")) } }
                            td { (v.effective_from) }
                            td class="rate" { (rate_text(&v.rate, c)) }
                            td { @if current == Some(i) { strong { "in force" } } }
                        }
                    }
                }
            }
        }
        h2 { "Container deposits" }
        @if j.deposits.is_empty() {
            p class="muted" id="no-deposits" { "No deposit scheme." }
        } @else {
            table id="deposits" {
                thead { tr { th { "Deposit" } th { "Containers" } th { "Size" } th { "Classes" } th { "From" } th class="num" { "Per container" } th { "" } } }
                tbody {
                    @for d in &j.deposits {
                        @let current = in_force(&d.versions, |v| v.effective_from, on);
                        @for (i, v) in d.versions.iter().enumerate() {
                            tr data-deposit=(d.deposit_id) class=[(current == Some(i)).then_some("current")] {
                                td { @if i == 0 { (d.name) " (" (d.deposit_id) ")" } }
                                td { @if i == 0 { (d.container_types.join(", ")) } }
                                td { @if i == 0 {
                                    @match d.below_volume_ml {
                                        Some(below) => { (d.min_volume_ml) "–" (below) " ml (excl.)" }
                                        None => { "from " (d.min_volume_ml) " ml" }
                                    }
                                } }
                                td { @if i == 0 { (d.classes.as_ref().map(|c| c.join(", ")).unwrap_or_else(|| "all".to_owned())) } }
                                td { (v.effective_from) }
                                td class="num" { (money::format(v.amount_minor, c)) }
                                td { @if current == Some(i) { strong { "in force" } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /taxes?location=` (every role; read-only).
pub async fn page(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<TaxQuery>,
) -> Result<Html<String>, PageError> {
    let day = Day::pick(
        &state,
        &who,
        &DayQuery {
            location: query.location,
            date: None,
        },
    )
    .await?;
    let location: LocationDetail = state
        .api
        .get(who.token(), &format!("/v1/locations/{}", day.location.id), &[])
        .await?;
    let jurisdiction = match location.tax_jurisdiction.as_deref().filter(|j| valid_id(j)) {
        Some(id) => Some(
            state
                .api
                .get::<Jurisdiction>(who.token(), &format!("/v1/tax-jurisdictions/{id}"), &[])
                .await?,
        ),
        None => None,
    };
    let body = html! {
        form method="get" action="/taxes" class="filters" {
            div {
                label for="location" { "Location" }
                select id="location" name="location" {
                    @for l in &day.locations {
                        option value=(l.id) selected[l.id == day.location.id] { (l.name) " (" (l.id) ")" }
                    }
                }
            }
            div { button type="submit" class="secondary" { "Show" } }
        }
        p {
            (location.name) " (" (location.id) "): shelf prices "
            @if location.prices_include_tax { strong id="price-mode" { "include tax" } } @else { strong id="price-mode" { "exclude tax (added at the till)" } }
            ". Rates in force on its business day " (day.date_text()) " are marked."
        }
        @match &jurisdiction {
            Some(j) => { (jurisdiction_view(j, day.date)) }
            None => { p id="no-jurisdiction" class="muted" { "This location names no tax jurisdiction: its sales carry the taxes the terminal computed, unchecked by the server." } }
        }
        p class="muted" { "Rates, deposits and rounding are explained in docs/taxes.md. Admins define and replace jurisdictions through the API (POST /v1/tax-jurisdictions, PUT with If-Match)." }
    };
    Ok(layout::page(&who, Section::Taxes, "Taxes", body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_percentages_and_amounts() {
        assert_eq!(rate_text(&Rate::Percentage { rate_ppm: 88_750 }, "USD"), "8.875 %");
        assert_eq!(rate_text(&Rate::Percentage { rate_ppm: 190_000 }, "EUR"), "19 %");
        assert_eq!(
            rate_text(&Rate::PerContainer { amount_minor: 2 }, "USD"),
            "$0.02 per container"
        );
        assert_eq!(
            rate_text(
                &Rate::PerLitre {
                    micro_minor_per_litre: 377_080_000
                },
                "USD"
            ),
            "USD 3.7708 per litre"
        );
        assert_eq!(rate_text(&Rate::NotLevied, "USD"), "not levied");
    }

    #[test]
    fn the_version_in_force_is_the_last_one_not_after_the_day() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        let versions = [d("2019-01-01"), d("2026-01-01")];
        assert_eq!(in_force(&versions, |v| *v, d("2025-12-31")), Some(0));
        assert_eq!(in_force(&versions, |v| *v, d("2026-01-01")), Some(1));
        assert_eq!(in_force(&versions, |v| *v, d("2018-01-01")), None);
    }
}
