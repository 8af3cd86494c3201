//! Request extractors that turn HTTP details into typed values or [`ApiError`]s.
//!
//! # Layout
//! - [`json`]: [`ApiJson`], a JSON body with the API's error shape and field paths.
//! - [`idempotency`]: the optional `Idempotency-Key` header.
//! - [`if_match`]: the `If-Match` version of catalog updates.
//! - [`query`]: query-string parameters and the read-your-writes `min_sequence`.
//!
//! [`ApiError`]: crate::error::ApiError

pub mod idempotency;
pub mod if_match;
pub mod json;
pub mod query;

pub use idempotency::IdempotencyKey;
pub use if_match::IfMatch;
pub use json::ApiJson;
pub use query::{ApiQuery, MinSequence};
