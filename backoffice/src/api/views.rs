//! The API's answers as the pages read them. Only the fields a page shows are declared;
//! the API's own types (`command_api::queries`) are the contract, described in
//! `/openapi.json`. Money is in minor units of the named currency.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// `{"items": [...]}`.
#[derive(Debug, Deserialize)]
pub struct Items<T> {
    /// The rows.
    pub items: Vec<T>,
}

/// `{"items": [...], "next_cursor": ...}`.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// The cursor of the next page, if there is one.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// `POST /v1/auth/login` and `/v1/auth/refresh`.
#[derive(Debug, Deserialize)]
pub struct TokenPair {
    /// The bearer token (short-lived).
    pub access_token: String,
    /// Its lifetime, seconds.
    pub expires_in: u64,
    /// The single-use refresh token.
    pub refresh_token: String,
    /// The user.
    pub user_id: String,
    /// The tenant.
    pub organization_id: String,
    /// `admin`, `manager` or `cashier`.
    pub role: String,
    /// The stores the user is limited to; empty: every store.
    #[serde(default)]
    pub locations: Vec<String>,
}

/// A store or warehouse.
#[derive(Debug, Clone, Deserialize)]
pub struct Location {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Local `HH:MM` at which its business day begins.
    pub business_day_start: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// `open` or `closed`.
    pub status: String,
}

/// Money per tender kind.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TenderTotals {
    /// Cash (net of change).
    pub cash: i64,
    /// Card.
    pub card: i64,
    /// Other.
    pub other: i64,
}

/// Voids or refunds of a day.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Reversals {
    /// How many.
    pub count: i64,
    /// Net (before tax).
    pub net_minor: i64,
    /// Tax.
    pub tax_minor: i64,
    /// Total.
    pub total_minor: i64,
    /// Per tender.
    pub tenders: TenderTotals,
}

/// The Z report of one location and business day (every figure in docs/reports.md).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DailyReport {
    /// The business day.
    pub date: String,
    /// The location.
    pub location: String,
    /// Currency of every amount.
    pub currency: String,
    /// Sales (not voided that day).
    pub sale_count: i64,
    /// Gross.
    pub gross_minor: i64,
    /// Discounts.
    pub discounts_minor: i64,
    /// Net of discounts, before tax.
    pub net_minor: i64,
    /// Tax.
    pub tax_minor: i64,
    /// Total paid.
    pub total_minor: i64,
    /// Taken per tender.
    pub tenders: TenderTotals,
    /// Voids recorded that day.
    pub voids: Reversals,
    /// The voids of earlier days' sales.
    pub earlier_day_voids: Reversals,
    /// Refunds recorded that day.
    pub refunds: Reversals,
    /// Net after refunds and earlier-day voids.
    pub net_after_refunds_minor: i64,
    /// Tax owed.
    pub tax_after_refunds_minor: i64,
    /// Cash the drawers should hold beyond their floats.
    pub expected_cash_minor: i64,
    /// Container deposits charged.
    #[serde(default)]
    pub deposits_minor: i64,
    /// Deposits held after refunds, earlier-day voids and empties paid out.
    #[serde(default)]
    pub deposits_after_refunds_minor: i64,
    /// Empties brought back.
    #[serde(default)]
    pub empties: Empties,
    /// The drawer sessions opened that day and their sums (absent without sessions).
    #[serde(default)]
    pub drawers: DrawerDay,
    /// When a manager closed the day.
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it.
    #[serde(default)]
    pub closed_by: Option<String>,
    /// What arrived after the close.
    #[serde(default)]
    pub amendments: Vec<Amendment>,
}

/// Empties brought back on a day.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Empties {
    /// Returns.
    pub count: i64,
    /// Containers.
    pub containers: i64,
    /// The server's deposit amounts.
    pub deposit_minor: i64,
    /// Cash paid out.
    pub paid_minor: i64,
    /// Returns paid with another amount.
    pub differing_count: i64,
}

/// The drawer sessions of a day at a location.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DrawerDay {
    /// Their ids.
    pub sessions: Vec<String>,
    /// How many are still open.
    pub open_count: i64,
    /// Σ expected cash.
    pub expected_cash_minor: i64,
    /// Σ counted cash of the closed ones.
    pub counted_cash_minor: i64,
    /// Σ over/short of the closed ones.
    pub over_short_minor: i64,
}

/// A change to a closed day.
#[derive(Debug, Clone, Deserialize)]
pub struct Amendment {
    /// `sale`, `void`, `refund` or `empties_return`.
    pub kind: String,
    /// The sale, refund or return id.
    pub reference: String,
    /// Change of the day's money.
    pub total_minor: i64,
    /// Change of the day's expected cash.
    pub cash_minor: i64,
    /// When it arrived.
    pub recorded_at: DateTime<Utc>,
}

/// `GET /v1/drawer-sessions/{id}`: a drawer session's X (open) or Z (closed) report.
#[derive(Debug, Clone, Deserialize)]
pub struct DrawerSession {
    /// The session id.
    pub id: String,
    /// `open` or `closed`.
    pub status: String,
    /// The till.
    pub terminal_id: String,
    /// The store.
    pub location: String,
    /// The cashier.
    pub cashier_id: String,
    /// Currency of every amount.
    pub currency: String,
    /// The business day it opened on.
    pub business_date: String,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it closed.
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// The float.
    pub opening_float_minor: i64,
    /// Cash sales, net of change.
    pub cash_sales_minor: i64,
    /// Cash refunds.
    pub cash_refunds_minor: i64,
    /// Cash of voided sales.
    pub cash_voids_minor: i64,
    /// Paid in.
    pub paid_in_minor: i64,
    /// Paid out.
    pub paid_out_minor: i64,
    /// Safe drops.
    pub safe_drops_minor: i64,
    /// Empties paid out.
    #[serde(default)]
    pub empties_paid_minor: i64,
    /// Every cash movement, in order.
    pub movements: Vec<CashMovement>,
    /// Expected cash (absent when hidden from a cashier closing blind).
    #[serde(default)]
    pub expected_cash_minor: Option<i64>,
    /// Counted cash, once closed.
    #[serde(default)]
    pub counted_cash_minor: Option<i64>,
    /// counted − expected.
    #[serde(default)]
    pub over_short_minor: Option<i64>,
    /// `not_needed`, `pending` or `approved`.
    #[serde(default)]
    pub approval: Option<String>,
}

/// A paid-in, paid-out, safe drop or empties return.
#[derive(Debug, Clone, Deserialize)]
pub struct CashMovement {
    /// The terminal's id of it.
    pub movement_id: String,
    /// `paid_in`, `paid_out`, `safe_drop` or `empties_return`.
    pub kind: String,
    /// Amount.
    pub amount_minor: i64,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// Free text.
    #[serde(default)]
    pub note: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

/// One line of a sale.
#[derive(Debug, Clone, Deserialize)]
pub struct SaleLine {
    /// Line number, from 1.
    pub line_no: i64,
    /// The product.
    pub sku: String,
    /// Units sold.
    pub quantity: i64,
    /// Unit price.
    pub unit_price_minor: i64,
    /// Discount.
    pub discount_minor: i64,
    /// Tax.
    pub tax_minor: i64,
    /// Line total.
    pub total_minor: i64,
    /// Units refunded so far.
    #[serde(default)]
    pub refunded_quantity: i64,
}

/// One tender of a sale or refund.
#[derive(Debug, Clone, Deserialize)]
pub struct Tender {
    /// `cash`, `card`, ...
    pub kind: String,
    /// Amount.
    pub amount_minor: i64,
}

/// The void of a sale.
#[derive(Debug, Clone, Deserialize)]
pub struct Void {
    /// Why.
    pub reason: String,
    /// Who.
    pub voided_by: String,
    /// When.
    pub voided_at: DateTime<Utc>,
    /// The business day it was recorded on.
    pub business_date: String,
}

/// A refund of a sale.
#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    /// Its id.
    pub refund_id: String,
    /// Money returned.
    pub total_minor: i64,
    /// Why.
    pub reason: String,
    /// Who.
    pub refunded_by: String,
    /// When.
    pub refunded_at: DateTime<Utc>,
    /// The business day it was recorded on.
    pub business_date: String,
}

/// A sale.
#[derive(Debug, Clone, Deserialize)]
pub struct Sale {
    /// The sale id.
    pub id: String,
    /// `completed`, `voided`, `partially_refunded`, `refunded`.
    pub status: String,
    /// The till.
    pub terminal_id: String,
    /// The store.
    pub location: String,
    /// The cashier.
    pub cashier_id: String,
    /// Currency.
    pub currency: String,
    /// Lines.
    pub lines: Vec<SaleLine>,
    /// Subtotal.
    pub subtotal_minor: i64,
    /// Discounts.
    pub discount_total_minor: i64,
    /// Tax.
    pub tax_total_minor: i64,
    /// Total.
    pub total_minor: i64,
    /// Tenders.
    pub tenders: Vec<Tender>,
    /// Change given.
    pub change_minor: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Its business day.
    pub business_date: String,
    /// The void, if any.
    #[serde(default)]
    pub void: Option<Void>,
    /// Refunds.
    #[serde(default)]
    pub refunds: Vec<Refund>,
    /// Σ refunds.
    #[serde(default)]
    pub refunded_total_minor: i64,
}

impl Sale {
    /// Whether the sale counts in its own day's takings: not voided on that same day
    /// (docs/reports.md, rule 2).
    pub fn counts_on_its_day(&self) -> bool {
        self.void
            .as_ref()
            .is_none_or(|void| void.business_date != self.business_date)
    }
}

/// A price.
#[derive(Debug, Clone, Deserialize)]
pub struct Price {
    /// Amount.
    pub amount_minor: i64,
    /// Currency.
    pub currency: String,
}

/// A product.
#[derive(Debug, Clone, Deserialize)]
pub struct Product {
    /// The SKU.
    pub id: String,
    /// `active`, `discontinued`, `unregistered`.
    pub status: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Category.
    #[serde(default)]
    pub category: Option<String>,
    /// Tax class.
    #[serde(default)]
    pub tax_class: Option<String>,
    /// Barcodes.
    #[serde(default)]
    pub barcodes: Vec<String>,
    /// Minimum age.
    #[serde(default)]
    pub minimum_age: Option<i64>,
    /// Reorder point.
    #[serde(default)]
    pub reorder_point: Option<i64>,
    /// Shelf price.
    #[serde(default)]
    pub price: Option<Price>,
    /// Catalog version (the `If-Match` of changes).
    pub version: i64,
    /// On hand per location.
    #[serde(default)]
    pub stock: BTreeMap<String, i64>,
    /// On hand in total.
    pub on_hand_total: i64,
    /// At or below the reorder point.
    pub low_stock: bool,
}

/// The stock level of a product.
#[derive(Debug, Clone, Deserialize)]
pub struct StockLevel {
    /// The SKU.
    pub sku: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// On hand at the location asked for (or in total).
    #[serde(default)]
    pub on_hand: Option<i64>,
    /// Reorder point.
    #[serde(default)]
    pub reorder_point: Option<i64>,
    /// At or below the reorder point.
    pub low_stock: bool,
    /// Below zero somewhere.
    pub negative_stock: bool,
}

/// A stock movement.
#[derive(Debug, Clone, Deserialize)]
pub struct Movement {
    /// What moved the stock.
    pub kind: String,
    /// The location.
    pub location: String,
    /// Change in units.
    pub quantity: i64,
    /// Before.
    pub quantity_before: i64,
    /// After.
    pub quantity_after: i64,
    /// The sale, refund or movement behind it.
    pub reference: String,
    /// Why (adjustments).
    #[serde(default)]
    pub reason: Option<String>,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

/// A user of the organization (`GET /v1/users`).
#[derive(Debug, Clone, Deserialize)]
pub struct UserEntry {
    /// The user id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// `admin`, `manager` or `cashier`.
    pub role: String,
    /// Whether the user can sign in.
    pub active: bool,
    /// The stores they may act at; empty: every store.
    #[serde(default)]
    pub locations: Vec<String>,
}
