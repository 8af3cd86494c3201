//! Sales: completing one (cashier and up), voiding and refunding it (manager and up).
//!
//! # Layout
//! - [`complete`]: [`CompleteSale`], with its arithmetic and age checks.
//! - [`void`]: cancelling a sale in full, [`VoidSale`].
//! - [`refund`]: returning lines of a sale, [`RefundSale`].
//! - [`reprice`]: the server's pricing of a recorded sale at its time, with the
//!   differences flagged (never refused).
//! - [`settings`]: the tenant's sales settings (the back-dating window),
//!   [`ConfigureSalesSettings`].
//! - [`state`]: [`SaleState`], a sale folded from its history (for voids and refunds).

pub mod complete;
pub mod refund;
pub mod reprice;
pub mod settings;
pub mod state;
pub mod void;

pub use complete::CompleteSale;
pub use refund::RefundSale;
pub use settings::ConfigureSalesSettings;
pub use state::SaleState;
pub use void::VoidSale;
