//! The domain events, grouped by area, and the two enums that name them:
//! [`DomainEvent`] (an event with its payload) and [`EventType`] (just its name and
//! current schema version).
//!
//! Names are past tense: an event records something that happened and cannot be refused.
//!
//! # Layout
//! - [`cash`]: drawer sessions opened and closed, paid in/out, safe drops, over/short
//!   approved, cash settings.
//! - [`catalog`]: products registered, updated, repriced, discontinued.
//! - [`inventory`]: stock received, adjusted, counted, transferred.
//! - [`locations`]: stores opened, changed, closed; business days closed.
//! - [`purchasing`]: suppliers, purchase orders and their deliveries, reorder levels.
//! - [`reach`]: which locations an event acts on ([`reach::Reach`]).
//! - [`promotions`]: promotions created, changed, ended.
//! - [`sales`]: sales completed, voided, refunded.
//! - [`taxes`]: tax jurisdictions configured.
//! - [`users`]: users joined, changed role, deactivated.

pub mod cash;
pub mod catalog;
pub mod inventory;
pub mod locations;
pub mod promotions;
pub mod purchasing;
pub mod reach;
pub mod sales;
pub mod taxes;
pub mod users;

use std::fmt;

pub use cash::{
    CashReason, CashSettingsConfigured, DenominationCount, DrawerSessionClosed, DrawerSessionOpened, EmptiesLine,
    EmptiesReturned, OverShortApproved, PaidInRecorded, PaidOutRecorded, SafeDropRecorded, VoidWindow,
};
pub use catalog::{
    AgeRestriction, Pack, ProductDetails, ProductDiscontinued, ProductPriceChanged, ProductRegistered, ProductUpdated,
};
pub use inventory::{AdjustmentReason, StockAdjusted, StockCounted, StockReceived, StockTransferred};
pub use locations::{Address, BusinessDayClosed, LocationClosed, LocationDetails, LocationOpened, LocationUpdated};
pub use promotions::{
    AppliedPromotion, ProductSet, PromotionCreated, PromotionDetails, PromotionEnded, PromotionReward, PromotionRule,
    PromotionUpdated, QuantityBreak,
};
pub use purchasing::{
    OnOrderUnits, PurchaseOrderCancelled, PurchaseOrderClosed, PurchaseOrderDrafted, PurchaseOrderLine,
    PurchaseOrderReceived, PurchaseOrderStatus, PurchaseOrderSubmitted, ReceivedLine, ReorderLevelsChanged,
    SupplierItem, SupplierRegistered, SupplierUpdated,
};
pub use sales::{
    AgeVerification, AgeVerificationMethod, DEFAULT_BACKDATE_WINDOW_HOURS, LinePricing, RefundLine, SaleCompleted,
    SaleLine, SalePricing, SaleRefunded, SaleVoided, SalesSettingsConfigured, Tender, TenderKind,
};
pub use taxes::TaxJurisdictionConfigured;
pub use users::{UserDeactivated, UserJoined, UserLocationsChanged, UserRoleChanged};

use crate::aggregate::AggregateRef;

/// Declares [`EventType`] and [`DomainEvent`] from one table, so a new event cannot be
/// added to one enum and forgotten in the other.
macro_rules! events {
    ($( $variant:ident($payload:ty) = version $version:literal, aggregate $aggregate:expr; )+) => {
        /// The name of an event type, with the schema version this build writes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $(
                #[doc = concat!("`", stringify!($variant), "`")]
                $variant,
            )+
        }

        impl EventType {
            /// Every event type.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),+];

            /// The name written in the envelope's `event_type` and the NATS header.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => stringify!($variant),)+
                }
            }

            /// The schema version this build writes and decodes to.
            pub fn current_version(self) -> u32 {
                match self {
                    $(EventType::$variant => $version,)+
                }
            }

            /// Looks up a name; `None` for names this build does not know.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($variant) => Some(EventType::$variant),)+
                    _ => None,
                }
            }
        }

        /// A domain event with its payload.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum DomainEvent {
            $(
                #[doc = concat!("See [`", stringify!($payload), "`].")]
                $variant($payload),
            )+
        }

        impl DomainEvent {
            /// The event's type.
            pub fn event_type(&self) -> EventType {
                match self {
                    $(DomainEvent::$variant(_) => EventType::$variant,)+
                }
            }

            /// The aggregate instance the event belongs to.
            pub fn aggregate(&self) -> AggregateRef {
                match self {
                    $(DomainEvent::$variant(e) => ($aggregate)(e),)+
                }
            }

            /// The payload as JSON (current schema version).
            pub fn payload_json(&self) -> Result<serde_json::Value, serde_json::Error> {
                match self {
                    $(DomainEvent::$variant(e) => serde_json::to_value(e),)+
                }
            }

            /// Builds an event of `event_type` from payload text already at the current
            /// version, without an intermediate JSON tree.
            pub fn from_payload_str(event_type: EventType, payload: &str) -> Result<Self, serde_json::Error> {
                match event_type {
                    $(EventType::$variant => serde_json::from_str(payload).map(DomainEvent::$variant),)+
                }
            }

            /// Builds an event of `event_type` from a payload already at the current version.
            pub fn from_payload_json(
                event_type: EventType,
                payload: serde_json::Value,
            ) -> Result<Self, serde_json::Error> {
                match event_type {
                    $(EventType::$variant => serde_json::from_value(payload).map(DomainEvent::$variant),)+
                }
            }
        }

        /// A `DomainEvent` serializes as its bare payload; its type and version travel
        /// beside it in the envelope.
        impl serde::Serialize for DomainEvent {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(DomainEvent::$variant(e) => e.serialize(serializer),)+
                }
            }
        }

        $(
            impl From<$payload> for DomainEvent {
                fn from(event: $payload) -> Self {
                    DomainEvent::$variant(event)
                }
            }
        )+
    };
}

events! {
    ProductRegistered(ProductRegistered) = version 2, aggregate |e: &ProductRegistered| AggregateRef::product(&e.sku);
    ProductUpdated(ProductUpdated) = version 1, aggregate |e: &ProductUpdated| AggregateRef::product(&e.sku);
    ProductPriceChanged(ProductPriceChanged) = version 2, aggregate |e: &ProductPriceChanged| AggregateRef::product(&e.sku);
    ProductDiscontinued(ProductDiscontinued) = version 1, aggregate |e: &ProductDiscontinued| AggregateRef::product(&e.sku);
    StockReceived(StockReceived) = version 1, aggregate |e: &StockReceived| AggregateRef::movement(&e.movement_id);
    StockAdjusted(StockAdjusted) = version 2, aggregate |e: &StockAdjusted| AggregateRef::movement(&e.movement_id);
    StockCounted(StockCounted) = version 1, aggregate |e: &StockCounted| AggregateRef::movement(&e.movement_id);
    StockTransferred(StockTransferred) = version 1, aggregate |e: &StockTransferred| AggregateRef::movement(&e.movement_id);
    SaleCompleted(SaleCompleted) = version 3, aggregate |e: &SaleCompleted| AggregateRef::sale(&e.sale_id);
    SaleVoided(SaleVoided) = version 2, aggregate |e: &SaleVoided| AggregateRef::sale(&e.sale_id);
    SaleRefunded(SaleRefunded) = version 3, aggregate |e: &SaleRefunded| AggregateRef::sale(&e.sale_id);
    UserJoined(UserJoined) = version 1, aggregate |e: &UserJoined| AggregateRef::user(&e.user_id);
    UserRoleChanged(UserRoleChanged) = version 1, aggregate |e: &UserRoleChanged| AggregateRef::user(&e.user_id);
    UserDeactivated(UserDeactivated) = version 1, aggregate |e: &UserDeactivated| AggregateRef::user(&e.user_id);
    LocationOpened(LocationOpened) = version 1, aggregate |e: &LocationOpened| AggregateRef::location(&e.location_id);
    LocationUpdated(LocationUpdated) = version 1, aggregate |e: &LocationUpdated| AggregateRef::location(&e.location_id);
    LocationClosed(LocationClosed) = version 1, aggregate |e: &LocationClosed| AggregateRef::location(&e.location_id);
    BusinessDayClosed(BusinessDayClosed) = version 1, aggregate |e: &BusinessDayClosed| AggregateRef::location(&e.location_id);
    TaxJurisdictionConfigured(TaxJurisdictionConfigured) = version 1, aggregate |e: &TaxJurisdictionConfigured| AggregateRef::jurisdiction(&e.jurisdiction.id);
    DrawerSessionOpened(DrawerSessionOpened) = version 1, aggregate |e: &DrawerSessionOpened| AggregateRef::drawer_session(&e.session_id);
    PaidInRecorded(PaidInRecorded) = version 1, aggregate |e: &PaidInRecorded| AggregateRef::drawer_session(&e.session_id);
    PaidOutRecorded(PaidOutRecorded) = version 1, aggregate |e: &PaidOutRecorded| AggregateRef::drawer_session(&e.session_id);
    SafeDropRecorded(SafeDropRecorded) = version 1, aggregate |e: &SafeDropRecorded| AggregateRef::drawer_session(&e.session_id);
    EmptiesReturned(EmptiesReturned) = version 1, aggregate |e: &EmptiesReturned| AggregateRef::drawer_session(&e.session_id);
    DrawerSessionClosed(DrawerSessionClosed) = version 1, aggregate |e: &DrawerSessionClosed| AggregateRef::drawer_session(&e.session_id);
    OverShortApproved(OverShortApproved) = version 1, aggregate |e: &OverShortApproved| AggregateRef::drawer_session(&e.session_id);
    CashSettingsConfigured(CashSettingsConfigured) = version 1, aggregate |_: &CashSettingsConfigured| AggregateRef::cash_settings();
    SalesSettingsConfigured(SalesSettingsConfigured) = version 1, aggregate |_: &SalesSettingsConfigured| AggregateRef::sales_settings();
    SupplierRegistered(SupplierRegistered) = version 1, aggregate |e: &SupplierRegistered| AggregateRef::supplier(&e.supplier_id);
    SupplierUpdated(SupplierUpdated) = version 1, aggregate |e: &SupplierUpdated| AggregateRef::supplier(&e.supplier_id);
    PurchaseOrderDrafted(PurchaseOrderDrafted) = version 1, aggregate |e: &PurchaseOrderDrafted| AggregateRef::purchase_order(&e.po_id);
    PurchaseOrderSubmitted(PurchaseOrderSubmitted) = version 1, aggregate |e: &PurchaseOrderSubmitted| AggregateRef::purchase_order(&e.po_id);
    PurchaseOrderReceived(PurchaseOrderReceived) = version 1, aggregate |e: &PurchaseOrderReceived| AggregateRef::purchase_order(&e.po_id);
    PurchaseOrderClosed(PurchaseOrderClosed) = version 1, aggregate |e: &PurchaseOrderClosed| AggregateRef::purchase_order(&e.po_id);
    PurchaseOrderCancelled(PurchaseOrderCancelled) = version 1, aggregate |e: &PurchaseOrderCancelled| AggregateRef::purchase_order(&e.po_id);
    ReorderLevelsChanged(ReorderLevelsChanged) = version 1, aggregate |e: &ReorderLevelsChanged| AggregateRef::replenishment(&e.sku);
    PromotionCreated(PromotionCreated) = version 1, aggregate |e: &PromotionCreated| AggregateRef::promotion(&e.promotion_id);
    PromotionUpdated(PromotionUpdated) = version 1, aggregate |e: &PromotionUpdated| AggregateRef::promotion(&e.promotion_id);
    PromotionEnded(PromotionEnded) = version 1, aggregate |e: &PromotionEnded| AggregateRef::promotion(&e.promotion_id);
    UserLocationsChanged(UserLocationsChanged) = version 1, aggregate |e: &UserLocationsChanged| AggregateRef::user(&e.user_id);
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
