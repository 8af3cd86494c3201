//! The figures of one location on one local business day (`daily_sales`): the Z report.
//!
//! The rules (docs/reports.md has them with a worked day):
//! - A sale counts on its own business day (stamped on the event from the location's time
//!   zone and day start) in `sale_count`, gross, discounts, net, tax and tenders.
//! - A sale voided on its own business day is taken out of those figures again and
//!   appears under `voids` only: the customer got the money back before the drawer was
//!   counted, so it neither adds to takings nor to the expected cash.
//! - A void recorded on a later business day leaves the sale's day as it was (that
//!   drawer held the money) and is counted on the day of the void under `voids` and
//!   `earlier_day_voids`, which is deducted from that day's net, tax and expected cash, as
//!   a refund would be.
//! - A refund counts on the business day it is recorded, at the location where the goods
//!   came back.
//! - Empties brought back (container deposits paid out in cash) count on the business day
//!   of the return under `empties`; the cash paid lowers the deposits held and the expected
//!   cash.
//!
//! All amounts are integer minor units of `currency`; cash figures are net of change.

use bson::serde_helpers::{chrono_datetime_as_bson_datetime, chrono_datetime_as_bson_datetime_optional};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::tender::TenderTotals;

/// What kind of event changed a day after it was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AmendmentKind {
    /// A sale of that day arrived (an offline till uploading late).
    Sale,
    /// A void dated that day arrived.
    Void,
    /// A refund dated that day arrived.
    Refund,
    /// An empties return dated that day arrived.
    EmptiesReturn,
}

/// A change to a day after it was closed: counted on the day, and listed so the manager
/// sees what moved and when it arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmendmentDoc {
    /// Sale, void or refund.
    pub kind: AmendmentKind,
    /// The sale id (sale, void) or the refund id.
    pub reference: String,
    /// How it changed the day's money, tax included, minor units (refunds and voids
    /// negative).
    pub total_minor: i64,
    /// How it changed the day's expected cash, minor units.
    pub cash_minor: i64,
    /// When it happened (terminal clock).
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub occurred_at: DateTime<Utc>,
    /// When it arrived (server clock).
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub recorded_at: DateTime<Utc>,
}

/// Empty containers brought back on one day and the deposits paid out for them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmptiesTotals {
    /// Returns (one per customer at the counter).
    pub count: i64,
    /// Containers brought back.
    pub containers: i64,
    /// What the server's deposit schemes give for them, minor units.
    pub deposit_minor: i64,
    /// The cash the tills paid out for them, minor units: this is what leaves the drawers.
    pub paid_minor: i64,
    /// Returns whose cash paid differs from the server's amount (an offline till with an
    /// older deposit amount, or a cashier's override).
    pub differing_count: i64,
}

impl EmptiesTotals {
    /// Whether nothing came back (the field is then left out of the document, so days
    /// without empties keep their bytes).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Money going back to customers on one day, by one kind (voids or refunds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReversalTotals {
    /// How many (sales voided, or refunds).
    pub count: i64,
    /// Revenue taken back: totals minus tax, minor units.
    pub net_minor: i64,
    /// Tax taken back, minor units.
    pub tax_minor: i64,
    /// Container deposits given back, minor units.
    #[serde(default)]
    pub deposit_minor: i64,
    /// Money taken back, tax and deposits included, minor units.
    pub total_minor: i64,
    /// Money taken back per tender kind (cash net of change), minor units.
    pub tenders: TenderTotals,
}

impl ReversalTotals {
    /// Adds one reversal.
    pub fn add(&mut self, net_minor: i64, tax_minor: i64, deposit_minor: i64, tenders: &TenderTotals) {
        self.count += 1;
        self.net_minor += net_minor;
        self.tax_minor += tax_minor;
        self.deposit_minor += deposit_minor;
        self.total_minor += net_minor + tax_minor + deposit_minor;
        self.tenders.add_all(tenders, 1);
    }
}

/// The figures of one location on one business day (`daily_sales`): a Z report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailySalesDoc {
    /// `YYYY-MM-DD|<location>`.
    #[serde(rename = "_id")]
    pub id: String,
    /// The location's business day, `YYYY-MM-DD`.
    pub date: String,
    /// Location.
    pub location: String,
    /// Currency of the figures.
    pub currency: String,
    /// Sales completed that day and not voided that day.
    pub sale_count: i64,
    /// Σ quantity × unit price of those sales.
    pub gross_minor: i64,
    /// Σ their discounts.
    pub discounts_minor: i64,
    /// gross − discounts: their revenue before tax.
    pub net_minor: i64,
    /// Σ their tax charged on top of prices.
    pub tax_minor: i64,
    /// Σ their container deposits: held for customers, not revenue.
    #[serde(default)]
    pub deposits_minor: i64,
    /// net + tax + deposits: what their customers paid.
    pub total_minor: i64,
    /// Money taken for them per tender kind (cash net of change).
    pub tenders: TenderTotals,
    /// Every void recorded that day (of that day's sales and of earlier days' ones).
    pub voids: ReversalTotals,
    /// The part of `voids` that undid sales of earlier business days.
    pub earlier_day_voids: ReversalTotals,
    /// Refunds recorded that day.
    pub refunds: ReversalTotals,
    /// Empties brought back that day and the deposits paid out for them.
    #[serde(default, skip_serializing_if = "EmptiesTotals::is_empty")]
    pub empties: EmptiesTotals,
    /// net − refunds.net − earlier_day_voids.net: the day's revenue before tax.
    pub net_after_refunds_minor: i64,
    /// tax − refunds.tax − earlier_day_voids.tax: the tax the day owes.
    pub tax_after_refunds_minor: i64,
    /// deposits − refunds.deposit − earlier_day_voids.deposit − empties.paid: the
    /// deposits the day holds.
    #[serde(default)]
    pub deposits_after_refunds_minor: i64,
    /// tenders.cash − refunds.tenders.cash − earlier_day_voids.tenders.cash −
    /// empties.paid: the cash the day's drawers should hold beyond their floats (before
    /// paid-ins, paid-outs and safe drops, which the drawer sessions count).
    pub expected_cash_minor: i64,
    /// What the day owes per tax and rate, from the server's pricing of its sales (every
    /// tax, including those inside tax-inclusive prices); sales of stores without a tax
    /// jurisdiction are not in it.
    #[serde(default)]
    pub tax_liability: Vec<super::pricing::TaxLiabilityDoc>,
    /// The day's sales (not voided that day) the server's pricing flagged: the length of
    /// the day's exceptions report.
    #[serde(default)]
    pub exception_sale_count: i64,
    /// The day's sales (not voided that day) a manager recorded although they were dated
    /// before the back-dating window.
    #[serde(default)]
    pub backdated_sale_count: i64,
    /// When a manager closed the day (absent while open, so open days keep their bytes).
    #[serde(
        default,
        with = "chrono_datetime_as_bson_datetime_optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    /// Stream sequence of the close: events recorded after it are amendments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_seq: Option<i64>,
    /// What changed the day after its close, in arrival order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amendments: Vec<AmendmentDoc>,
    /// Stream sequence of the last event applied to this document.
    pub last_seq: i64,
}

impl DailySalesDoc {
    /// Field `date`.
    pub const DATE: &'static str = "date";
    /// Field `location`.
    pub const LOCATION: &'static str = "location";

    /// The id of a day and location.
    pub fn id_of(date: &str, location: &str) -> String {
        format!("{date}|{location}")
    }

    /// An empty day.
    pub fn empty(date: &str, location: &str, currency: &str) -> Self {
        Self {
            id: Self::id_of(date, location),
            date: date.to_owned(),
            location: location.to_owned(),
            currency: currency.to_owned(),
            sale_count: 0,
            gross_minor: 0,
            discounts_minor: 0,
            net_minor: 0,
            tax_minor: 0,
            deposits_minor: 0,
            total_minor: 0,
            tenders: TenderTotals::default(),
            voids: ReversalTotals::default(),
            earlier_day_voids: ReversalTotals::default(),
            refunds: ReversalTotals::default(),
            empties: EmptiesTotals::default(),
            net_after_refunds_minor: 0,
            tax_after_refunds_minor: 0,
            deposits_after_refunds_minor: 0,
            expected_cash_minor: 0,
            tax_liability: Vec::new(),
            exception_sale_count: 0,
            backdated_sale_count: 0,
            closed_at: None,
            closed_by: None,
            closed_seq: None,
            amendments: Vec::new(),
            last_seq: 0,
        }
    }

    /// Whether an event recorded at stream sequence `sequence` arrives after the day's
    /// close (a fact of the stream order, so a replay gives the same answer).
    pub fn closed_before(&self, sequence: i64) -> bool {
        self.closed_seq.is_some_and(|closed| closed < sequence)
    }

    /// Recomputes the derived figures from the others.
    pub fn settle(&mut self) {
        self.net_after_refunds_minor = self.net_minor - self.refunds.net_minor - self.earlier_day_voids.net_minor;
        self.tax_after_refunds_minor = self.tax_minor - self.refunds.tax_minor - self.earlier_day_voids.tax_minor;
        self.deposits_after_refunds_minor = self.deposits_minor
            - self.refunds.deposit_minor
            - self.earlier_day_voids.deposit_minor
            - self.empties.paid_minor;
        self.expected_cash_minor = self.tenders.cash
            - self.refunds.tenders.cash
            - self.earlier_day_voids.tenders.cash
            - self.empties.paid_minor;
    }
}
