//! The documents of a tenant's read model, as stored in MongoDB.
//!
//! Every document that events change carries `last_seq`, the stream sequence of the last
//! event applied to it. Writes are conditional on it (see [`crate::store::writer`]), which
//! is what makes applying an event twice change nothing. Documents hold only what the
//! events say (event times, never the projector's clock), so a replay rebuilds them
//! identically.

use std::collections::BTreeMap;

use bson::serde_helpers::chrono_datetime_as_bson_datetime;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use tenantdb::collections;

/// Money inside a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoneyDoc {
    /// Minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

impl From<events::Money> for MoneyDoc {
    fn from(money: events::Money) -> Self {
        Self {
            amount_minor: money.amount_minor,
            currency: money.currency.code().to_owned(),
        }
    }
}

/// A product with its stock per location (`products`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDoc {
    /// The SKU.
    #[serde(rename = "_id")]
    pub sku: String,
    /// `active`, `discontinued`, or `unregistered` (stock moved before the product was
    /// registered).
    pub status: String,
    /// Display name.
    pub name: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Tax class.
    pub tax_class: Option<String>,
    /// Barcodes.
    pub barcodes: Vec<String>,
    /// Minimum age to buy, if restricted.
    pub minimum_age: Option<i32>,
    /// Reorder point.
    pub reorder_point: Option<i64>,
    /// Current shelf price.
    pub price: Option<MoneyDoc>,
    /// Catalog version: stream sequence of the last catalog event (the API's ETag).
    pub version: i64,
    /// Units on hand per location.
    pub stock: BTreeMap<String, i64>,
    /// Units on hand over all locations.
    pub on_hand_total: i64,
    /// `on_hand_total <= reorder_point`.
    pub low_stock: bool,
    /// Some location is below zero.
    pub negative_stock: bool,
    /// When the last applied event happened.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub updated_at: DateTime<Utc>,
    /// Stream sequence of the last event applied to this document.
    pub last_seq: i64,
}

impl ProductDoc {
    /// A product known only through stock movements or sales so far.
    pub fn unregistered(sku: &str, at: DateTime<Utc>) -> Self {
        Self {
            sku: sku.to_owned(),
            status: "unregistered".to_owned(),
            name: None,
            category: None,
            tax_class: None,
            barcodes: Vec::new(),
            minimum_age: None,
            reorder_point: None,
            price: None,
            version: 0,
            stock: BTreeMap::new(),
            on_hand_total: 0,
            low_stock: false,
            negative_stock: false,
            updated_at: at,
            last_seq: 0,
        }
    }

    /// Recomputes the totals and flags from the per-location stock.
    pub fn refresh_flags(&mut self) {
        self.on_hand_total = self.stock.values().sum();
        self.negative_stock = self.stock.values().any(|q| *q < 0);
        self.low_stock = self.reorder_point.is_some_and(|point| self.on_hand_total <= point);
    }
}

/// One line of a sale document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleLineDoc {
    /// Line number from 1.
    pub line_no: i64,
    /// Product.
    pub sku: String,
    /// Units sold.
    pub quantity: i64,
    /// Unit price.
    pub unit_price_minor: i64,
    /// Line discount.
    pub discount_minor: i64,
    /// Line tax.
    pub tax_minor: i64,
    /// Line total.
    pub total_minor: i64,
    /// Minimum age applied.
    pub minimum_age: Option<i32>,
    /// Units refunded so far.
    pub refunded_quantity: i64,
    /// Money refunded so far for this line (tax included).
    pub refunded_amount_minor: i64,
    /// The tax part of `refunded_amount_minor`.
    pub refunded_tax_minor: i64,
}

/// A tender inside a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenderDoc {
    /// cash, card, other.
    pub kind: String,
    /// Amount.
    pub amount_minor: i64,
    /// Reference.
    pub reference: Option<String>,
}

/// One refund of a sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundDoc {
    /// Refund id.
    pub refund_id: String,
    /// Where the goods came back.
    pub location: String,
    /// (line_no, quantity, amount_minor, tax_minor) per refunded line.
    pub lines: Vec<RefundLineDoc>,
    /// Money returned.
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
    /// Its stream sequence.
    pub sequence: i64,
}

/// One refunded line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundLineDoc {
    /// Sale line.
    pub line_no: i64,
    /// Product.
    pub sku: String,
    /// Units.
    pub quantity: i64,
    /// Money including tax.
    pub amount_minor: i64,
    /// Tax part.
    pub tax_minor: i64,
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
    /// Its stream sequence.
    pub sequence: i64,
}

/// Age verification inside a sale document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgeVerificationDoc {
    /// id_scan, id_inspected.
    pub method: String,
    /// Customer's age.
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
    /// completed, voided, partially_refunded, refunded.
    pub status: String,
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
    /// Σ tax.
    pub tax_total_minor: i64,
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
    /// Stream sequence of the completion: the read-your-writes token of the sale.
    pub sequence: i64,
    /// Stream sequence of the last event applied to this document.
    pub last_seq: i64,
}

/// One stock movement of one SKU at one location (`inventorytransactions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryTransactionDoc {
    /// `<sequence, 20 digits>:<index, 2 digits>`: unique and in stream order.
    #[serde(rename = "_id")]
    pub id: String,
    /// sale, void, refund, receipt, adjustment, count_correction, transfer_out, transfer_in.
    pub kind: String,
    /// Product.
    pub sku: String,
    /// Location.
    pub location: String,
    /// Change in units (negative when stock leaves).
    pub quantity: i64,
    /// Units on hand before.
    pub quantity_before: i64,
    /// Units on hand after.
    pub quantity_after: i64,
    /// The sale, refund or movement behind it.
    pub reference: String,
    /// Why, for adjustments.
    pub reason: Option<String>,
    /// When it happened.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub occurred_at: DateTime<Utc>,
    /// The event's id.
    pub event_id: String,
    /// The event's stream sequence.
    pub sequence: i64,
}

/// Money per tender kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenderTotals {
    /// Cash kept (tendered minus change).
    pub cash: i64,
    /// Card.
    pub card: i64,
    /// Other.
    pub other: i64,
}

impl TenderTotals {
    /// Adds `amount` to `kind`.
    pub fn add(&mut self, kind: &str, amount: i64) {
        match kind {
            "cash" => self.cash += amount,
            "card" => self.card += amount,
            _ => self.other += amount,
        }
    }
}

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

/// A user of the organization (`users`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDoc {
    /// The user id.
    #[serde(rename = "_id")]
    pub user_id: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Role.
    pub role: String,
    /// Whether they may sign in.
    pub active: bool,
    /// When they joined.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub joined_at: DateTime<Utc>,
    /// When they were deactivated.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub deactivated_at: Option<DateTime<Utc>>,
    /// Stream sequence of the last event applied to this document.
    pub last_seq: i64,
}
