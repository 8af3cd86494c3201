//! The commands terminals send, and the pure decisions that turn a command plus the
//! aggregate's history into one event (or a refusal).
//!
//! Nothing here does I/O: the handlers in [`crate::routes`] load what a decision needs and
//! hand its result to [`crate::execute`], which appends it.
//!
//! # Layout
//! - [`meta`]: [`CommandMeta`], what every command carries besides its body, and the
//!   request fingerprint.
//! - [`fields`]: shared checks for text, quantities and timestamps.
//! - [`sale`]: completing a sale, with its arithmetic and age checks.
//! - [`sale_state`]: a sale's state folded from its history (for voids and refunds).
//! - [`void`], [`refund`]: voiding and refunding a sale.
//! - [`inventory`]: receiving, adjusting, counting and transferring stock.
//! - [`catalog`]: registering, updating, repricing and discontinuing products.
//! - [`product_state`]: a product's state folded from its history.

pub mod catalog;
pub mod fields;
pub mod inventory;
pub mod meta;
pub mod product_state;
pub mod refund;
pub mod sale;
pub mod sale_state;
pub mod void;

pub use meta::CommandMeta;
