//! Sales: a filtered listing paged by stream sequence (newest first), and one sale with
//! its void and refunds.
//!
//! Paging follows the sale's stream sequence, not its time: a sale recorded later always
//! has a higher sequence, so new sales (even ones a terminal sends hours late, with an old
//! `occurred_at`) land before the first page and never shift the pages being read.

use bson::{Document, doc};
use chrono::{DateTime, Utc};
use mongodb::Database;
use serde::{Deserialize, Serialize};
use tenantdb::collections;
use tenantdb::docs::{
    AgeVerificationDoc, DrawerFlag, ID, RefundDoc, RefundLineDoc, SaleDoc, SaleLineDoc, SalePricingDoc, SaleStatus,
    TenderDoc, VoidDoc,
};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::queries::date::instant;
use crate::queries::document::rfc3339;
use crate::queries::page::{self, Page, list};

/// Filters of `GET /v1/sales`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SalesQuery {
    /// From this instant or date (inclusive), by the terminal's clock.
    pub from: Option<String>,
    /// Up to this instant or date (exclusive; a date means the end of that day).
    pub to: Option<String>,
    /// Store. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
    /// Till.
    pub terminal: Option<String>,
    /// Cashier's user id.
    pub cashier: Option<String>,
    /// `completed`, `voided`, `partially_refunded` or `refunded`.
    #[param(value_type = Option<SaleStatus>, inline)]
    pub status: Option<String>,
    /// Page size (1 to 500, default 50).
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Adds bounds on the instant `field` (`occurred_at`) to `filter` from optional `from`
/// (inclusive) and `to` (exclusive) query parameters.
pub fn period(filter: &mut Document, field: &str, from: Option<&str>, to: Option<&str>) -> Result<(), ApiError> {
    let mut time = Document::new();
    if let Some(from) = from {
        time.insert("$gte", bson::DateTime::from_chrono(instant("from", from, false)?));
    }
    if let Some(to) = to {
        time.insert("$lt", bson::DateTime::from_chrono(instant("to", to, true)?));
    }
    if !time.is_empty() {
        filter.insert(field, time);
    }
    Ok(())
}

/// A sale with its lines, tenders, void and refunds, as `GET /v1/sales` and
/// `GET /v1/sales/{sale_id}` answer it. Money is in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Sale {
    /// The sale id (chosen by the terminal).
    pub id: String,
    /// Where the sale stands: `completed`, `voided`, `partially_refunded` or `refunded`.
    pub status: SaleStatus,
    /// The till.
    pub terminal_id: String,
    /// The store.
    pub location: String,
    /// The cashier's user id.
    pub cashier_id: String,
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// The lines, with what was refunded of each.
    pub lines: Vec<SaleLineDoc>,
    /// Σ quantity × unit price, minor units.
    pub subtotal_minor: i64,
    /// Σ line discounts, minor units.
    pub discount_total_minor: i64,
    /// Σ line tax charged on top of prices, minor units.
    pub tax_total_minor: i64,
    /// Σ line container deposits, minor units.
    pub deposit_total_minor: i64,
    /// Amount due, minor units.
    pub total_minor: i64,
    /// How it was paid.
    pub tenders: Vec<TenderDoc>,
    /// Change given, minor units.
    pub change_minor: i64,
    /// How the customer's age was checked, if it was.
    pub age_verification: Option<AgeVerificationDoc>,
    /// When the sale happened (the terminal's clock).
    #[serde(serialize_with = "rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// The business day: the UTC date of `occurred_at`, `YYYY-MM-DD`.
    pub business_date: String,
    /// The void, if the sale was voided.
    pub void: Option<Void>,
    /// Its refunds, in order.
    pub refunds: Vec<Refund>,
    /// Σ refund totals, minor units.
    pub refunded_total_minor: i64,
    /// The server's pricing of the sale at its time (when its store has a tax
    /// jurisdiction): the rules applied and every difference flagged.
    pub pricing: Option<SalePricingDoc>,
    /// Why a manager recorded the sale although it was dated before the tenant's
    /// back-dating window (absent for sales within it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backdate_reason: Option<String>,
    /// The drawer session the terminal named (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drawer_session_id: Option<String>,
    /// Why its cash was not counted on that session (absent when it was, or none was
    /// named): `unknown_session`, `session_closed` or `other_location`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drawer_flag: Option<DrawerFlag>,
    /// Stream sequence of the sale: its read-your-writes token and the listing's order.
    pub sequence: i64,
}

/// The void of a sale.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Void {
    /// Why it was voided.
    pub reason: String,
    /// Who voided it.
    pub voided_by: String,
    /// When.
    #[serde(serialize_with = "rfc3339")]
    pub voided_at: DateTime<Utc>,
    /// The business day the void was recorded on (`YYYY-MM-DD`).
    pub business_date: String,
    /// Stream sequence of the void.
    pub sequence: i64,
}

/// One refund of a sale.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Refund {
    /// The refund id.
    pub refund_id: String,
    /// Where the goods came back.
    pub location: String,
    /// The refunded lines.
    pub lines: Vec<RefundLineDoc>,
    /// Money returned (tax included), minor units.
    pub total_minor: i64,
    /// How it was returned.
    pub tenders: Vec<TenderDoc>,
    /// Whether the goods went back into stock.
    pub restock: bool,
    /// Why.
    pub reason: String,
    /// Who refunded.
    pub refunded_by: String,
    /// When.
    #[serde(serialize_with = "rfc3339")]
    pub refunded_at: DateTime<Utc>,
    /// The business day the refund was recorded on at `location` (`YYYY-MM-DD`).
    pub business_date: String,
    /// Stream sequence of the refund.
    pub sequence: i64,
}

impl From<VoidDoc> for Void {
    fn from(doc: VoidDoc) -> Self {
        Self {
            reason: doc.reason,
            voided_by: doc.voided_by,
            voided_at: doc.voided_at,
            business_date: doc.business_date,
            sequence: doc.sequence,
        }
    }
}

impl From<RefundDoc> for Refund {
    fn from(doc: RefundDoc) -> Self {
        Self {
            refund_id: doc.refund_id,
            location: doc.location,
            lines: doc.lines,
            total_minor: doc.total_minor,
            tenders: doc.tenders,
            restock: doc.restock,
            reason: doc.reason,
            refunded_by: doc.refunded_by,
            refunded_at: doc.refunded_at,
            business_date: doc.business_date,
            sequence: doc.sequence,
        }
    }
}

impl From<SaleDoc> for Sale {
    fn from(doc: SaleDoc) -> Self {
        Self {
            id: doc.sale_id,
            status: doc.status,
            terminal_id: doc.terminal_id,
            location: doc.location,
            cashier_id: doc.cashier_id,
            currency: doc.currency,
            lines: doc.lines,
            subtotal_minor: doc.subtotal_minor,
            discount_total_minor: doc.discount_total_minor,
            tax_total_minor: doc.tax_total_minor,
            deposit_total_minor: doc.deposit_total_minor,
            total_minor: doc.total_minor,
            tenders: doc.tenders,
            change_minor: doc.change_minor,
            age_verification: doc.age_verification,
            occurred_at: doc.occurred_at,
            business_date: doc.business_date,
            void: doc.void.map(Void::from),
            refunds: doc.refunds.into_iter().map(Refund::from).collect(),
            refunded_total_minor: doc.refunded_total_minor,
            pricing: doc.pricing,
            backdate_reason: doc.backdate_reason,
            drawer_session_id: doc.drawer_session_id,
            drawer_flag: doc.drawer_flag,
            sequence: doc.sequence,
        }
    }
}

/// The sales matching `query`, newest recorded first.
pub async fn search(db: &Database, query: &SalesQuery) -> Result<Page<Sale>, ApiError> {
    let limit = page::limit(query.limit)?;
    let mut filter = Document::new();
    period(
        &mut filter,
        SaleDoc::OCCURRED_AT,
        query.from.as_deref(),
        query.to.as_deref(),
    )?;
    for (field, value) in [
        (SaleDoc::LOCATION, &query.location),
        (SaleDoc::TERMINAL_ID, &query.terminal),
        (SaleDoc::CASHIER_ID, &query.cashier),
    ] {
        if let Some(value) = value {
            filter.insert(field, value.as_str());
        }
    }
    if let Some(status) = &query.status {
        let status = SaleStatus::parse(status)
            .ok_or_else(|| ApiError::invalid("status", "must be completed, voided, partially_refunded or refunded"))?;
        filter.insert(SaleDoc::STATUS, status.as_str());
    }
    if let Some(cursor) = &query.cursor {
        let before = cursor
            .parse::<i64>()
            .map_err(|_| ApiError::invalid("cursor", "not a cursor from this listing"))?;
        filter.insert(SaleDoc::SEQUENCE, doc! {"$lt": before});
    }
    list(
        &collections::sales(db),
        filter,
        doc! {(SaleDoc::SEQUENCE): -1},
        limit,
        |doc| doc.sequence.to_string(),
        Sale::from,
    )
    .await
}

/// One sale.
pub async fn sale(db: &Database, sale_id: &str) -> Result<Sale, ApiError> {
    collections::sales(db)
        .find_one(doc! {ID: sale_id})
        .await?
        .map(Sale::from)
        .ok_or_else(|| ApiError::NotFound {
            resource: "sale",
            id: sale_id.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use tenantdb::docs::{AgeVerificationMethod, TenderKind};

    use super::*;
    use crate::queries::document::to_json;

    #[test]
    fn a_sale_is_served_as_its_stored_document_was() -> anyhow::Result<()> {
        let at = |millis| bson::DateTime::from_millis(millis).to_chrono();
        let tender = TenderDoc {
            kind: TenderKind::Card,
            amount_minor: 2598,
            reference: Some("slip 7".into()),
        };
        let doc = SaleDoc {
            sale_id: "s-1".into(),
            status: SaleStatus::PartiallyRefunded,
            terminal_id: "t-1".into(),
            location: "main".into(),
            cashier_id: "u-1".into(),
            currency: "EUR".into(),
            lines: vec![SaleLineDoc {
                line_no: 1,
                sku: "RIOJA".into(),
                quantity: 2,
                unit_price_minor: 1299,
                discount_minor: 0,
                tax_minor: 0,
                deposit_minor: 50,
                total_minor: 2648,
                list_price_minor: Some(1399),
                taxes: vec![events::tax::LineTax {
                    tax_id: events::tax::TaxId::parse("vat").expect("a valid tax id"),
                    on: events::tax::TaxedPart::Goods,
                    basis: events::tax::TaxBasis::Percentage {
                        rate_ppm: 190_000,
                        included: true,
                        base_minor: 2598,
                    },
                    amount_minor: 415,
                }],
                minimum_age: Some(18),
                pack: None,
                refunded_quantity: 1,
                refunded_amount_minor: 1324,
                refunded_tax_minor: 0,
                refunded_deposit_minor: 25,
                cost_minor: 0,
                promotions: Vec::new(),
            }],
            subtotal_minor: 2598,
            discount_total_minor: 0,
            tax_total_minor: 0,
            deposit_total_minor: 50,
            total_minor: 2648,
            tenders: vec![tender.clone()],
            change_minor: 0,
            age_verification: Some(AgeVerificationDoc {
                method: AgeVerificationMethod::IdScan,
                customer_age: 30,
                verified_by: "u-1".into(),
            }),
            occurred_at: at(1_795_000_000_123),
            business_date: "2026-11-18".into(),
            void: Some(VoidDoc {
                reason: "test".into(),
                voided_by: "u-2".into(),
                voided_at: at(1_795_000_100_000),
                business_date: "2026-11-18".into(),
                sequence: 9,
            }),
            refunds: vec![RefundDoc {
                business_date: "2026-11-18".into(),
                refund_id: "r-1".into(),
                location: "main".into(),
                lines: vec![RefundLineDoc {
                    line_no: 1,
                    sku: "RIOJA".into(),
                    quantity: 1,
                    amount_minor: 1324,
                    tax_minor: 0,
                    deposit_minor: 25,
                }],
                total_minor: 1299,
                tenders: vec![tender],
                restock: true,
                reason: "corked".into(),
                refunded_by: "u-2".into(),
                refunded_at: at(1_795_000_200_001),
                sequence: 8,
            }],
            refunded_total_minor: 1299,
            pricing: Some(SalePricingDoc {
                jurisdiction: "de".into(),
                date: "2026-11-18".into(),
                prices_include_tax: true,
                exceptions: vec![events::tax::LineDifference {
                    line_no: 1,
                    difference: events::tax::Difference::PriceOverride {
                        recorded_minor: 1299,
                        expected_minor: 1399,
                    },
                }],
            }),
            backdate_reason: Some("till offline over the holiday".into()),
            drawer_session_id: Some("shift-1".into()),
            drawer_flag: Some(DrawerFlag::SessionClosed),
            sequence: 5,
            last_seq: 9,
        };
        let stored = bson::to_document(&doc)?;
        let read: SaleDoc = bson::from_document(stored.clone())?;
        assert_eq!(serde_json::to_value(Sale::from(read))?, to_json(stored));
        Ok(())
    }
}
