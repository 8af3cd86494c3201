//! The commands terminals send: one file per command, each with its body, its
//! [`Command`] impl (name, route, role, aggregate, idempotency key, decision) and its unit
//! tests.
//!
//! Nothing here does I/O except the [`Command::load`] / [`Command::recorded`] hooks of
//! the few commands that need them: the generic handler in [`crate::routes::command`]
//! extracts a command, runs it through [`crate::execute`] and answers.
//!
//! # Layout
//! - [`command`]: the [`Command`] trait, its [`Route`] and the [`Fold`] of a state.
//! - [`target`]: [`Target`]: what the path and headers address (a sale id, a product
//!   version) and how it enters the fingerprint.
//! - [`meta`]: [`CommandMeta`], what every command carries besides its body, and the
//!   request fingerprint.
//! - [`fields`]: shared checks for text, quantities and timestamps.
//! - [`cash`]: drawer sessions `open`, `pay_in`, `pay_out`, `safe_drop`, `close`,
//!   `approve`, the tenant's cash `settings`, and their folded `state`.
//! - [`sales`]: `complete`, `void`, `refund`, and a sale's folded `state`.
//! - [`inventory`]: `receive`, `adjust`, `count`, `transfer` (stock movements).
//! - [`catalog`]: `register`, `update`, `change_price`, `discontinue`, and a product's
//!   folded `state`.
//! - [`locations`]: `open`, `update`, `close`, and a location's folded `state`.
//! - [`purchasing`]: suppliers, purchase orders (`draft`, `submit`, `receive`, `close`,
//!   `cancel`) and reorder levels per location, with their folded `state`.
//! - [`promotions`]: `create`, `update`, `end` a promotion, its folded `state`, and
//!   the promotions in force at a store ([`promotions::active`]).
//! - [`settings`]: what the tenant's settings commands share (one aggregate per kind,
//!   changes naming the version they replace).
//! - [`taxes`]: `define`, `replace` a tax jurisdiction, and its folded `state`.
//! - [`users`]: `change_role`, `deactivate` (the event first, then the login store),
//!   and a user's folded `state`.

pub mod cash;
pub mod catalog;
pub mod command;
pub mod fields;
pub mod inventory;
pub mod locations;
pub mod meta;
pub mod promotions;
pub mod purchasing;
pub mod sales;
pub mod settings;
pub mod target;
pub mod taxes;
pub mod users;

pub use command::{AggregateId, Command, Decision, Fold, Method, Route};
pub use meta::CommandMeta;
pub use target::{JurisdictionVersion, LocationVersion, PathId, ProductVersion, Target, Versioned, expect_version};
