//! The figures of one location on one business day (`daily_sales`): a Z report.

use serde::{Deserialize, Serialize};

use super::tender::TenderTotals;

/// The figures of one location on one business day (`daily_sales`): a Z report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailySalesDoc {
    /// `YYYY-MM-DD|<location>`.
    #[serde(rename = "_id")]
    pub id: String,
    /// Business day (UTC).
    pub date: String,
    /// Location.
    pub location: String,
    /// Currency of the figures.
    pub currency: String,
    /// Completed sales.
    pub sale_count: i64,
    /// Σ quantity × unit price.
    pub gross_minor: i64,
    /// Σ discounts.
    pub discounts_minor: i64,
    /// Σ tax.
    pub tax_minor: i64,
    /// gross − discounts (before tax).
    pub net_minor: i64,
    /// Refunds made that day.
    pub refund_count: i64,
    /// Money refunded that day (tax included).
    pub refunds_minor: i64,
    /// Tax part of the refunds.
    pub refund_tax_minor: i64,
    /// Sales voided that day.
    pub void_count: i64,
    /// Totals of the voided sales.
    pub voids_minor: i64,
    /// Money taken per tender kind (cash net of change).
    pub tenders: TenderTotals,
    /// Money paid back per tender kind.
    pub refund_tenders: TenderTotals,
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
            tax_minor: 0,
            net_minor: 0,
            refund_count: 0,
            refunds_minor: 0,
            refund_tax_minor: 0,
            void_count: 0,
            voids_minor: 0,
            tenders: TenderTotals::default(),
            refund_tenders: TenderTotals::default(),
            last_seq: 0,
        }
    }
}
