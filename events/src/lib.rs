//! The vocabulary shared by the command side (`command-api`) and the query side
//! (`projector`, replay jobs, reporting): event types, the envelope every event travels in,
//! validated identifiers, money, subject names and versioned decoding.
//!
//! This crate is data only. It performs no I/O and depends on neither tokio, NATS nor
//! MongoDB, so every rule in it can be tested in isolation and reused by any process that
//! reads the stream.
//!
//! # Layout
//! - [`tenant`]: [`TenantId`], validated once so it is safe as a subject token and inside
//!   the database name `tenant_<id>`.
//! - [`ids`]: identifiers that appear in subjects or documents ([`Sku`], [`SaleId`], ...).
//! - [`money`]: [`Money`] in integer minor units with an ISO 4217 [`Currency`].
//! - [`role`]: the [`Role`] of a user (admin, manager, cashier) and its ordering.
//! - [`aggregate`]: the kinds of aggregate events belong to.
//! - [`business_day`]: which business day an instant belongs to at a location.
//! - [`event`]: the domain events themselves (catalog, inventory, sales, users).
//! - [`feed`]: [`FeedEvent`], the public, versioned shape of an event for integrators,
//!   without personal data.
//! - [`envelope`]: the [`EventEnvelope`] with ids, clocks, actor and causality.
//! - [`instant`]: instants written into JSON as chrono writes them, formatted once.
//! - [`subject`]: the one place that turns (tenant, aggregate, id) into a NATS subject.
//! - [`headers`]: names of the NATS headers that accompany an event.
//! - [`codec`]: JSON encoding and versioned decoding with typed errors.
//! - [`control`]: [`ControlMarker`], the non-event message that tells the live projector
//!   to hand a tenant's read model over at one point of its stream.
//! - [`tax`]: taxes as data: tax classes, jurisdictions with dated rates and deposits,
//!   the rounding rule (the `pricing` crate computes with them).
//! - [`upcast`]: the chain that lifts older payload versions to the current one.

pub mod aggregate;
pub mod business_day;
pub mod codec;
pub mod control;
pub mod envelope;
pub mod event;
pub mod feed;
pub mod headers;
pub mod ids;
pub mod instant;
pub mod money;
pub mod role;
pub mod subject;
pub mod tax;
pub mod tenant;
pub mod upcast;

pub use aggregate::{AggregateKind, AggregateRef};
pub use business_day::{BusinessDayError, DayStart, TimeZoneName};
pub use codec::{DecodeError, decode, encode};
pub use control::ControlMarker;
pub use envelope::{Actor, EventEnvelope};
pub use event::{DomainEvent, EventType};
pub use feed::FeedEvent;
pub use ids::{
    CashMovementId, DrawerSessionId, IdError, LocationId, MovementId, PromotionId, PurchaseOrderId, RefundId, SaleId,
    Sku, SupplierId, TerminalId, UserId,
};
pub use money::{Currency, Money, MoneyError};
pub use role::Role;
pub use subject::{SubjectError, SubjectScheme};
pub use tenant::{TenantId, TenantIdError};
