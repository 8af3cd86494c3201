//! A sale and what happened to it (`sales`): its lines, tenders, age check, void and
//! refunds.

use bson::serde_helpers::chrono_datetime_as_bson_datetime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::tender::TenderDoc;

/// Where a sale stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SaleStatus {
    /// Rung up and paid.
    Completed,
    /// Cancelled as a whole: its stock went back and it counts in no takings.
    Voided,
    /// Some units were refunded.
    PartiallyRefunded,
    /// Every unit was refunded.
    Refunded,
}

impl SaleStatus {
    /// Every status.
    pub const ALL: [SaleStatus; 4] = [Self::Completed, Self::Voided, Self::PartiallyRefunded, Self::Refunded];

    /// The stored string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Voided => "voided",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }

    /// The status stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// One line of a sale document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaleLineDoc {
    /// Line number from 1.
    pub line_no: i64,
    /// Product.
    pub sku: String,
    /// Units sold.
    pub quantity: i64,
    /// Unit price, minor units.
    pub unit_price_minor: i64,
    /// Discount on the whole line, minor units.
    pub discount_minor: i64,
    /// Tax charged on top of the price, minor units.
    pub tax_minor: i64,
    /// Container deposit charged, minor units.
    #[serde(default)]
    pub deposit_minor: i64,
    /// Line total (after discount, tax and deposit included), minor units.
    pub total_minor: i64,
    /// The catalog's price per item when the sale happened, when the server priced it.
    #[serde(default)]
    pub list_price_minor: Option<i64>,
    /// Every tax the server found owed on the line (included or added), when it priced
    /// the sale.
    #[serde(default)]
    pub taxes: Vec<events::tax::LineTax>,
    /// Minimum age applied, if the product was age-restricted.
    pub minimum_age: Option<i32>,
    /// Present when the SKU sold is a pack: its base product's stock moved by
    /// `quantity × pack.units`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<super::product::PackDoc>,
    /// Units refunded so far.
    pub refunded_quantity: i64,
    /// Money refunded so far for this line (tax included), minor units.
    #[serde(default)]
    pub refunded_amount_minor: i64,
    /// The tax part of `refunded_amount_minor`, minor units.
    #[serde(default)]
    pub refunded_tax_minor: i64,
    /// The deposit part of `refunded_amount_minor`, minor units.
    #[serde(default)]
    pub refunded_deposit_minor: i64,
    /// Cost of goods of the line: what the units cost at the location's moving average
    /// when the sale was folded, in stream order (so a replay gives the same), minor
    /// units. Refunds return their share by `refunded_share`'s rule.
    #[serde(default)]
    pub cost_minor: i64,
    /// The promotions the server found for the line, each with its share of the line's
    /// discount (absent when none applied).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promotions: Vec<super::promotion::LinePromotionDoc>,
}

impl SaleLineDoc {
    /// Field `sku`.
    pub const SKU: &'static str = "sku";
    /// Field `quantity`.
    pub const QUANTITY: &'static str = "quantity";
    /// Field `tax_minor`.
    pub const TAX_MINOR: &'static str = "tax_minor";
    /// Field `deposit_minor` (absent on lines stored before deposits: read it as 0).
    pub const DEPOSIT_MINOR: &'static str = "deposit_minor";
    /// Field `total_minor`.
    pub const TOTAL_MINOR: &'static str = "total_minor";
    /// Field `refunded_quantity`.
    pub const REFUNDED_QUANTITY: &'static str = "refunded_quantity";
    /// Field `refunded_amount_minor`.
    pub const REFUNDED_AMOUNT_MINOR: &'static str = "refunded_amount_minor";
    /// Field `refunded_tax_minor`.
    pub const REFUNDED_TAX_MINOR: &'static str = "refunded_tax_minor";
    /// Field `promotions`.
    pub const PROMOTIONS: &'static str = "promotions";
}

/// One refund of a sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundDoc {
    /// Refund id.
    pub refund_id: String,
    /// Where the goods came back.
    pub location: String,
    /// The refunded lines.
    pub lines: Vec<RefundLineDoc>,
    /// Money returned (tax included), minor units.
    pub total_minor: i64,
    /// How it was returned.
    pub tenders: Vec<TenderDoc>,
    /// Whether the goods were restocked.
    pub restock: bool,
    /// Why.
    pub reason: String,
    /// Who.
    pub refunded_by: String,
    /// When.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub refunded_at: DateTime<Utc>,
    /// The business day it was recorded on at `location` (`YYYY-MM-DD`).
    #[serde(default)]
    pub business_date: String,
    /// Its stream sequence.
    pub sequence: i64,
}

/// One refunded line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundLineDoc {
    /// The sale line.
    pub line_no: i64,
    /// Product.
    pub sku: String,
    /// Units refunded.
    pub quantity: i64,
    /// Money refunded, tax included, minor units.
    pub amount_minor: i64,
    /// The tax part of `amount_minor`, minor units.
    pub tax_minor: i64,
    /// The deposit part of `amount_minor`, minor units.
    #[serde(default)]
    pub deposit_minor: i64,
}

/// The void of a sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoidDoc {
    /// Why.
    pub reason: String,
    /// Who.
    pub voided_by: String,
    /// When.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub voided_at: DateTime<Utc>,
    /// The business day it was recorded on (`YYYY-MM-DD`).
    #[serde(default)]
    pub business_date: String,
    /// Its stream sequence.
    pub sequence: i64,
}

/// How a customer's age was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgeVerificationMethod {
    /// An ID document was scanned by the terminal.
    IdScan,
    /// The cashier inspected an ID document.
    IdInspected,
}

impl From<events::event::sales::AgeVerificationMethod> for AgeVerificationMethod {
    fn from(method: events::event::sales::AgeVerificationMethod) -> Self {
        match method {
            events::event::sales::AgeVerificationMethod::IdScan => Self::IdScan,
            events::event::sales::AgeVerificationMethod::IdInspected => Self::IdInspected,
        }
    }
}

/// Age verification inside a sale document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgeVerificationDoc {
    /// How the age was checked.
    pub method: AgeVerificationMethod,
    /// The customer's age in whole years.
    pub customer_age: i32,
    /// Who checked.
    pub verified_by: String,
}

/// A sale and what happened to it (`sales`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleDoc {
    /// The sale id.
    #[serde(rename = "_id")]
    pub sale_id: String,
    /// Where the sale stands.
    pub status: SaleStatus,
    /// Till.
    pub terminal_id: String,
    /// Store.
    pub location: String,
    /// Cashier.
    pub cashier_id: String,
    /// Currency.
    pub currency: String,
    /// Lines.
    pub lines: Vec<SaleLineDoc>,
    /// Σ quantity × unit price.
    pub subtotal_minor: i64,
    /// Σ discounts.
    pub discount_total_minor: i64,
    /// Σ tax charged on top of prices.
    pub tax_total_minor: i64,
    /// Σ deposits.
    #[serde(default)]
    pub deposit_total_minor: i64,
    /// Amount due.
    pub total_minor: i64,
    /// Payments.
    pub tenders: Vec<TenderDoc>,
    /// Change given.
    pub change_minor: i64,
    /// Age check.
    pub age_verification: Option<AgeVerificationDoc>,
    /// When the sale happened (terminal clock).
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub occurred_at: DateTime<Utc>,
    /// The business day (UTC date of `occurred_at`), `YYYY-MM-DD`.
    pub business_date: String,
    /// The void, if voided.
    pub void: Option<VoidDoc>,
    /// Refunds, in order.
    pub refunds: Vec<RefundDoc>,
    /// Σ refund totals.
    pub refunded_total_minor: i64,
    /// The server's pricing of the sale at its time, when its store had a tax
    /// jurisdiction: the flags of the exceptions report.
    #[serde(default)]
    pub pricing: Option<super::pricing::SalePricingDoc>,
    /// Why a manager recorded it although it was dated before the tenant's back-dating
    /// window (absent for sales within it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backdate_reason: Option<String>,
    /// The drawer session the terminal named, if any (absent on sales without one, so
    /// their stored documents keep their bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawer_session_id: Option<String>,
    /// Why the sale's cash was not counted on the session it named (unknown, closed or
    /// at another location): recorded all the same, flagged for a manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawer_flag: Option<super::drawer::DrawerFlag>,
    /// Stream sequence of the completion: the read-your-writes token of the sale.
    pub sequence: i64,
    /// Stream sequence of the last event applied to this document.
    pub last_seq: i64,
}

impl SaleDoc {
    /// Field `status`.
    pub const STATUS: &'static str = "status";
    /// Field `terminal_id`.
    pub const TERMINAL_ID: &'static str = "terminal_id";
    /// Field `location`.
    pub const LOCATION: &'static str = "location";
    /// Field `cashier_id`.
    pub const CASHIER_ID: &'static str = "cashier_id";
    /// Field `currency`.
    pub const CURRENCY: &'static str = "currency";
    /// Field `lines` (an array of [`SaleLineDoc`]).
    pub const LINES: &'static str = "lines";
    /// Field `occurred_at`.
    pub const OCCURRED_AT: &'static str = "occurred_at";
    /// Field `sequence`.
    pub const SEQUENCE: &'static str = "sequence";
    /// Field `business_date`.
    pub const BUSINESS_DATE: &'static str = "business_date";
    /// Field `void` (a [`VoidDoc`] or null).
    pub const VOID: &'static str = "void";
    /// Field `refunds` (an array of [`RefundDoc`]).
    pub const REFUNDS: &'static str = "refunds";
    /// Field `pricing` (a [`super::pricing::SalePricingDoc`] or null).
    pub const PRICING: &'static str = "pricing";
}

impl VoidDoc {
    /// Field `business_date`.
    pub const BUSINESS_DATE: &'static str = "business_date";
}

impl RefundLineDoc {
    /// Field `sku`.
    pub const SKU: &'static str = "sku";
    /// Field `quantity`.
    pub const QUANTITY: &'static str = "quantity";
    /// Field `amount_minor`.
    pub const AMOUNT_MINOR: &'static str = "amount_minor";
    /// Field `tax_minor`.
    pub const TAX_MINOR: &'static str = "tax_minor";
    /// Field `deposit_minor` (absent on lines stored before deposits: read it as 0).
    pub const DEPOSIT_MINOR: &'static str = "deposit_minor";
}

impl RefundDoc {
    /// Field `business_date`.
    pub const BUSINESS_DATE: &'static str = "business_date";
    /// Field `location`.
    pub const LOCATION: &'static str = "location";
    /// Field `lines` (an array of [`RefundLineDoc`]).
    pub const LINES: &'static str = "lines";
}
