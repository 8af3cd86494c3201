//! The documents of a tenant's read model, as stored in MongoDB: the one contract between
//! the projector, which writes them, and the command API's queries, which read them.
//!
//! Every document that events change carries `last_seq`, the stream sequence of the last
//! event applied to it. The projector's writes are conditional on it, which is what makes
//! applying an event twice change nothing. Documents hold only what the events say (event
//! times, never the projector's clock), so a replay rebuilds them identically, byte for
//! byte: field order and the stored strings of every enum are part of the contract (the
//! enums serialize in `snake_case`, as the strings stored before they were enums).
//!
//! Each document type names its fields in associated constants (`SaleDoc::STATUS`), which
//! filters, sorts, aggregation pipelines and indexes use instead of string literals.
//!
//! # Layout
//! - [`product`]: [`ProductDoc`] (`products`), its [`ProductStatus`] and [`MoneyDoc`].
//! - [`sale`]: [`SaleDoc`] (`sales`) with its lines, void, refunds and [`SaleStatus`].
//! - [`tender`]: [`TenderDoc`], [`TenderKind`] and [`TenderTotals`].
//! - [`transaction`]: [`InventoryTransactionDoc`] (`inventorytransactions`) and its
//!   [`TransactionKind`].
//! - [`daily`]: [`DailySalesDoc`] (`daily_sales`), the Z report, with [`ReversalTotals`].
//! - [`pricing`]: a sale's server pricing flags ([`SalePricingDoc`]) and a day's tax
//!   liability per tax and rate ([`TaxLiabilityDoc`]).
//! - [`drawer`]: [`DrawerSessionDoc`] (`drawer_sessions`), a cashier's shift on a drawer,
//!   with its statuses, cash movements and flagged sales.
//! - [`location`]: [`LocationDoc`] (`locations`) and its [`LocationStatus`].
//! - [`promotion`]: [`PromotionDoc`] (`promotions`), its [`PromotionStatus`], and a sale
//!   line's share of one ([`LinePromotionDoc`]).
//! - [`purchasing`]: [`SupplierDoc`] (`suppliers`) and [`PurchaseOrderDoc`]
//!   (`purchase_orders`) with its lines and deliveries.
//! - [`user`]: [`UserDoc`] (`users`).

pub mod daily;
pub mod drawer;
pub mod location;
pub mod pricing;
pub mod product;
pub mod promotion;
pub mod purchasing;
pub mod sale;
pub mod tender;
pub mod transaction;
pub mod user;

pub use daily::{AmendmentDoc, AmendmentKind, DailySalesDoc, EmptiesTotals, ReversalTotals};
pub use drawer::{
    ApprovalStatus, CashMovementDoc, CashMovementKind, CashReason, DenominationDoc, DrawerFlag, DrawerSessionDoc,
    DrawerSessionStatus, FlaggedSaleDoc,
};
pub use location::{AddressDoc, LocationDoc, LocationStatus};
pub use pricing::{SalePricingDoc, TaxLiabilityDoc};
pub use product::{MoneyDoc, PackDoc, PriceChangeDoc, ProductDoc, ProductStatus, ReorderLevelsDoc, SupplierItemDoc};
pub use promotion::{LinePromotionDoc, PromotionDoc, PromotionStatus};
pub use purchasing::{PurchaseOrderDoc, PurchaseOrderLineDoc, PurchaseReceiptDoc, SupplierDoc, SupplierLineDoc};
pub use sale::{
    AgeVerificationDoc, AgeVerificationMethod, RefundDoc, RefundLineDoc, SaleDoc, SaleLineDoc, SaleStatus, VoidDoc,
};
pub use tender::{TenderDoc, TenderKind, TenderTotals};
pub use transaction::{InventoryTransactionDoc, TransactionKind};
pub use user::UserDoc;

/// The `_id` field every document has.
pub const ID: &str = "_id";
/// The `last_seq` field of the documents events change (the projector's bookkeeping).
pub const LAST_SEQ: &str = "last_seq";

#[cfg(test)]
mod tests {
    use bson::Bson;
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::*;

    /// `value` is stored as `text`, and `text` reads back as `value`.
    fn stored_as<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T, text: &str) {
        assert_eq!(
            bson::to_bson(&value).ok(),
            Some(Bson::String(text.to_owned())),
            "{value:?}"
        );
        assert_eq!(
            bson::from_bson::<T>(Bson::String(text.to_owned())).ok(),
            Some(value),
            "{text}"
        );
    }

    #[test]
    fn every_status_and_kind_round_trips_to_the_strings_stored_before_they_were_enums() {
        for (status, text) in [
            (ProductStatus::Active, "active"),
            (ProductStatus::Discontinued, "discontinued"),
            (ProductStatus::Unregistered, "unregistered"),
        ] {
            stored_as(status, text);
            assert_eq!((status.as_str(), ProductStatus::parse(text)), (text, Some(status)));
        }
        for (status, text) in [
            (SaleStatus::Completed, "completed"),
            (SaleStatus::Voided, "voided"),
            (SaleStatus::PartiallyRefunded, "partially_refunded"),
            (SaleStatus::Refunded, "refunded"),
        ] {
            stored_as(status, text);
            assert_eq!((status.as_str(), SaleStatus::parse(text)), (text, Some(status)));
        }
        for (kind, text) in [
            (TransactionKind::Sale, "sale"),
            (TransactionKind::Void, "void"),
            (TransactionKind::Refund, "refund"),
            (TransactionKind::Receipt, "receipt"),
            (TransactionKind::Adjustment, "adjustment"),
            (TransactionKind::CountCorrection, "count_correction"),
            (TransactionKind::TransferOut, "transfer_out"),
            (TransactionKind::TransferIn, "transfer_in"),
        ] {
            stored_as(kind, text);
            assert_eq!(kind.as_str(), text);
        }
        for (kind, text) in [
            (TenderKind::Cash, "cash"),
            (TenderKind::Card, "card"),
            (TenderKind::Other, "other"),
        ] {
            stored_as(kind, text);
        }
        for kind in events::event::sales::TenderKind::ALL {
            stored_as(TenderKind::from(kind), kind.as_str());
        }
        for (status, text) in [
            (DrawerSessionStatus::Open, "open"),
            (DrawerSessionStatus::Closed, "closed"),
        ] {
            stored_as(status, text);
        }
        for (status, text) in [
            (ApprovalStatus::NotNeeded, "not_needed"),
            (ApprovalStatus::Pending, "pending"),
            (ApprovalStatus::Approved, "approved"),
        ] {
            stored_as(status, text);
        }
        for (kind, text) in [
            (CashMovementKind::PaidIn, "paid_in"),
            (CashMovementKind::PaidOut, "paid_out"),
            (CashMovementKind::SafeDrop, "safe_drop"),
            (CashMovementKind::EmptiesReturn, "empties_return"),
        ] {
            stored_as(kind, text);
        }
        for (flag, text) in [
            (DrawerFlag::UnknownSession, "unknown_session"),
            (DrawerFlag::SessionClosed, "session_closed"),
            (DrawerFlag::OtherLocation, "other_location"),
        ] {
            stored_as(flag, text);
        }
        for reason in events::event::CashReason::ALL {
            stored_as(CashReason::from(reason), reason.as_str());
        }
        stored_as(AgeVerificationMethod::IdScan, "id_scan");
        stored_as(AgeVerificationMethod::IdInspected, "id_inspected");
        for role in [events::Role::Cashier, events::Role::Manager, events::Role::Admin] {
            stored_as(role, role.as_str());
        }
    }

    #[test]
    fn unknown_statuses_are_not_parsed() {
        assert_eq!(SaleStatus::parse("sold"), None);
        assert_eq!(ProductStatus::parse("Active"), None);
    }

    fn keys<T: Serialize>(doc: &T) -> Vec<String> {
        bson::to_document(doc)
            .map(|d| d.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn field_constants_name_stored_fields() {
        let at = chrono::DateTime::UNIX_EPOCH;
        let product = keys(&ProductDoc::unregistered("A", at));
        for field in [
            ID,
            LAST_SEQ,
            ProductDoc::STATUS,
            ProductDoc::NAME,
            ProductDoc::CATEGORY,
            ProductDoc::BARCODES,
            ProductDoc::STOCK,
            ProductDoc::LOW_STOCK,
            ProductDoc::NEGATIVE_STOCK,
        ] {
            assert!(product.iter().any(|k| k == field), "products.{field}");
        }
        let day = keys(&DailySalesDoc::empty("2026-11-29", "main", "USD"));
        for field in [ID, LAST_SEQ, DailySalesDoc::DATE, DailySalesDoc::LOCATION] {
            assert!(day.iter().any(|k| k == field), "daily_sales.{field}");
        }
        let line = SaleLineDoc {
            line_no: 1,
            sku: "A".into(),
            quantity: 1,
            unit_price_minor: 100,
            discount_minor: 0,
            tax_minor: 0,
            deposit_minor: 0,
            total_minor: 100,
            list_price_minor: None,
            taxes: Vec::new(),
            minimum_age: None,
            pack: None,
            refunded_quantity: 0,
            refunded_amount_minor: 0,
            refunded_tax_minor: 0,
            refunded_deposit_minor: 0,
            cost_minor: 0,
            promotions: Vec::new(),
        };
        let line_keys = keys(&line);
        for field in [
            SaleLineDoc::SKU,
            SaleLineDoc::QUANTITY,
            SaleLineDoc::TAX_MINOR,
            SaleLineDoc::TOTAL_MINOR,
            SaleLineDoc::REFUNDED_QUANTITY,
            SaleLineDoc::REFUNDED_AMOUNT_MINOR,
            SaleLineDoc::REFUNDED_TAX_MINOR,
        ] {
            assert!(line_keys.iter().any(|k| k == field), "lines.{field}");
        }
        let sale = SaleDoc {
            sale_id: "s".into(),
            status: SaleStatus::Completed,
            terminal_id: "t".into(),
            location: "main".into(),
            cashier_id: "c".into(),
            currency: "USD".into(),
            lines: vec![line],
            subtotal_minor: 100,
            discount_total_minor: 0,
            tax_total_minor: 0,
            deposit_total_minor: 0,
            total_minor: 100,
            tenders: Vec::new(),
            change_minor: 0,
            age_verification: None,
            occurred_at: at,
            business_date: "1970-01-01".into(),
            void: None,
            refunds: Vec::new(),
            refunded_total_minor: 0,
            pricing: None,
            backdate_reason: None,
            drawer_session_id: None,
            drawer_flag: None,
            sequence: 1,
            last_seq: 1,
        };
        let sale_keys = keys(&sale);
        for field in [
            ID,
            LAST_SEQ,
            SaleDoc::STATUS,
            SaleDoc::TERMINAL_ID,
            SaleDoc::LOCATION,
            SaleDoc::CASHIER_ID,
            SaleDoc::CURRENCY,
            SaleDoc::LINES,
            SaleDoc::OCCURRED_AT,
            SaleDoc::SEQUENCE,
        ] {
            assert!(sale_keys.iter().any(|k| k == field), "sales.{field}");
        }
    }

    #[test]
    fn sale_lines_stored_before_refund_amounts_were_kept_still_read() {
        let stored = bson::doc! {
            "line_no": 1_i64, "sku": "A", "quantity": 2_i64, "unit_price_minor": 100_i64,
            "discount_minor": 0_i64, "tax_minor": 0_i64, "total_minor": 200_i64,
            "minimum_age": null, "refunded_quantity": 0_i64,
        };
        let line: Result<SaleLineDoc, _> = bson::from_document(stored);
        assert_eq!(
            line.map(|l| (l.refunded_amount_minor, l.refunded_tax_minor)).ok(),
            Some((0, 0))
        );
    }
}
