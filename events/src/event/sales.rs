//! Sales events: a sale is completed, voided, or refunded in whole or in part. They belong
//! to the sale aggregate, keyed by the terminal-generated sale id.
//!
//! Amounts inside a sale are integer minor units of the sale's one `currency`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::event::catalog::Pack;
use crate::ids::{DrawerSessionId, LocationId, RefundId, SaleId, Sku, TerminalId, UserId};
use crate::money::Currency;
use crate::tax::breakdown::{LineDeposit, LineDifference, LineTax};
use crate::tax::slug::JurisdictionId;

use super::promotions::AppliedPromotion;

/// How a customer paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenderKind {
    /// Notes and coins; the only tender that can produce change.
    Cash,
    /// Debit or credit card.
    Card,
    /// Gift card, voucher, account, ...
    Other,
}

impl TenderKind {
    /// Every kind, in a fixed order.
    pub const ALL: [TenderKind; 3] = [TenderKind::Cash, TenderKind::Card, TenderKind::Other];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TenderKind::Cash => "cash",
            TenderKind::Card => "card",
            TenderKind::Other => "other",
        }
    }
}

/// One payment towards a sale (or one payout of a refund).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tender {
    /// Cash, card or other.
    pub kind: TenderKind,
    /// Amount tendered, minor units (> 0).
    pub amount_minor: i64,
    /// Card authorisation code, voucher number, ...
    #[serde(default)]
    pub reference: Option<String>,
}

/// One line of a sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaleLine {
    /// Position on the receipt, from 1; refunds refer to lines by it.
    pub line_no: u32,
    /// The product sold.
    pub sku: Sku,
    /// Units sold (> 0).
    pub quantity: i64,
    /// Price of one unit, minor units.
    pub unit_price_minor: i64,
    /// Discount on the whole line, minor units (>= 0).
    pub discount_minor: i64,
    /// Tax charged on top of the price after discount, minor units (>= 0). In a store
    /// whose prices include tax, only the taxes charged beside the price (per-unit
    /// excise); the included ones are in the server's breakdown ([`SalePricing`]).
    pub tax_minor: i64,
    /// Container deposit charged on the line, minor units (>= 0; v3, 0 before): held for
    /// the customer, not revenue.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deposit_minor: i64,
    /// `quantity * unit_price - discount + tax + deposit`.
    pub total_minor: i64,
    /// The product's minimum age at the time of sale, if it was age-restricted.
    #[serde(default)]
    pub minimum_age: Option<u8>,
    /// Set by the server when the SKU sold is a pack: the stock of `pack.base_sku` goes
    /// down by `quantity × pack.units` (and back up on a void or a restocked refund).
    /// Absent for single products and on sales recorded before packs existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<Pack>,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// The server's pricing of a recorded sale at its `occurred_at` (v3): the tax breakdown
/// and deposit of each line, worked out on what was charged, and how the terminal's
/// figures differed. Present when the sale's location has a tax jurisdiction. A sale is
/// never refused for these differences; they are flags for the exceptions report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalePricing {
    /// The jurisdiction whose rules applied.
    pub jurisdiction: JurisdictionId,
    /// The location's business date whose rates and deposits applied.
    pub date: NaiveDate,
    /// Whether the store's prices included tax.
    pub prices_include_tax: bool,
    /// Per line, in receipt order (lines whose product the catalog did not know are
    /// absent, and flagged `not_priced`).
    pub lines: Vec<LinePricing>,
    /// Every difference between the terminal's lines and this pricing.
    #[serde(default)]
    pub exceptions: Vec<LineDifference>,
}

/// One line as the server priced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinePricing {
    /// The sale line.
    pub line_no: u32,
    /// The catalog's price per item at the sale's time, when the product had one.
    #[serde(default)]
    pub list_price_minor: Option<i64>,
    /// Revenue of the line: price after discount, less any tax included in it.
    pub net_minor: i64,
    /// Every tax owed on the line (included or added), in the jurisdiction's order.
    pub taxes: Vec<LineTax>,
    /// The container deposit, where a scheme covers the container.
    #[serde(default)]
    pub deposit: Option<LineDeposit>,
    /// The promotions the server found for the line at the sale's store and time, with
    /// each one's share of the line's discount (absent when none applied; see
    /// docs/promotions.md). When their sum differs from the terminal's discount the line
    /// is flagged `discount_differs`; the sale keeps the terminal's discount.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promotions: Vec<AppliedPromotion>,
}

/// How the customer's age was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeVerificationMethod {
    /// An ID document was scanned by the terminal.
    IdScan,
    /// The cashier inspected an ID document.
    IdInspected,
}

/// Proof that the customer's age was checked. Only the age is kept, not the birth date or
/// document number, so the stream holds no more personal data than the law asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeVerification {
    /// How the age was checked.
    pub method: AgeVerificationMethod,
    /// The customer's age in whole years on the day of the sale.
    pub customer_age: u8,
    /// The user who checked it.
    pub verified_by: UserId,
}

/// A sale was rung up and paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaleCompleted {
    /// The terminal-generated id.
    pub sale_id: SaleId,
    /// Till that rang it up.
    pub terminal_id: TerminalId,
    /// Store it happened in.
    pub location: LocationId,
    /// Cashier who rang it up.
    pub cashier_id: UserId,
    /// Currency of every amount in the sale.
    pub currency: Currency,
    /// The lines, in receipt order.
    pub lines: Vec<SaleLine>,
    /// Sum of `quantity * unit_price` over the lines.
    pub subtotal_minor: i64,
    /// Sum of line discounts.
    pub discount_total_minor: i64,
    /// Sum of line taxes.
    pub tax_total_minor: i64,
    /// Sum of line deposits (v3; 0 before).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deposit_total_minor: i64,
    /// `subtotal - discounts + tax + deposits`: what the customer owes.
    pub total_minor: i64,
    /// How it was paid.
    pub tenders: Vec<Tender>,
    /// Cash handed back: `tendered - total`.
    pub change_minor: i64,
    /// Present when a line was age-restricted.
    #[serde(default)]
    pub age_verification: Option<AgeVerification>,
    /// The location's business day the sale belongs to, decided when it was recorded
    /// (see [`crate::business_day`]). Absent on sales recorded before locations had time
    /// zones (v1): their day is the UTC date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_date: Option<NaiveDate>,
    /// The server's pricing of the sale at its `occurred_at` (v3; absent before, and for
    /// stores without a tax jurisdiction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<SalePricing>,
    /// Why a manager recorded a sale dated before the tenant's back-dating window (v3;
    /// absent for sales within it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backdate_reason: Option<String>,
    /// The drawer session whose drawer took the cash, when the terminal had one open.
    /// Absent on sales recorded before drawer sessions existed and on terminals without
    /// one; an absent field keeps the stored bytes of older events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawer_session_id: Option<DrawerSessionId>,
}

/// A completed sale was cancelled in full (same day, by a manager); stock returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaleVoided {
    /// The sale.
    pub sale_id: SaleId,
    /// Why.
    pub reason: String,
    /// The business day of the void at the sale's location (absent before v2: the UTC
    /// date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_date: Option<NaiveDate>,
    /// The open drawer session that handed the voided sale's cash back, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawer_session_id: Option<DrawerSessionId>,
}

/// One line of a refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundLine {
    /// The sale line refunded.
    pub line_no: u32,
    /// Its product.
    pub sku: Sku,
    /// Units returned (> 0, at most what is left of the line).
    pub quantity: i64,
    /// Money returned for these units including tax, minor units.
    pub amount_minor: i64,
    /// The tax part of `amount_minor`.
    pub tax_minor: i64,
    /// The container-deposit part of `amount_minor` (v3; 0 before).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deposit_minor: i64,
}

/// Some or all lines of a sale were refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaleRefunded {
    /// The sale.
    pub sale_id: SaleId,
    /// The terminal-generated refund id.
    pub refund_id: RefundId,
    /// Where the goods came back.
    pub location: LocationId,
    /// Currency of the amounts (the sale's).
    pub currency: Currency,
    /// What was returned.
    pub lines: Vec<RefundLine>,
    /// Sum of the line amounts.
    pub total_minor: i64,
    /// How the money went back.
    pub tenders: Vec<Tender>,
    /// Whether the goods go back on the shelf (false for broken or opened goods).
    pub restock: bool,
    /// Why.
    pub reason: String,
    /// The business day of the refund at `location` (absent before v2: the UTC date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_date: Option<NaiveDate>,
    /// The open drawer session that paid the cash back, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawer_session_id: Option<DrawerSessionId>,
}

/// The hours a sale's `occurred_at` may lie before the moment it is recorded, for a
/// tenant that never set a window: a week.
pub const DEFAULT_BACKDATE_WINDOW_HOURS: u32 = 168;

/// The tenant's sales settings were set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesSettingsConfigured {
    /// How many hours before it is recorded a sale may have happened and still be recorded
    /// from a cashier; older sales need a manager and a reason.
    pub backdate_window_hours: u32,
}

/// The settings a tenant has before it configures any.
impl Default for SalesSettingsConfigured {
    fn default() -> Self {
        Self {
            backdate_window_hours: DEFAULT_BACKDATE_WINDOW_HOURS,
        }
    }
}
