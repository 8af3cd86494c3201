//! The read model: its documents and the pure, deterministic application of events to
//! them. No I/O here; [`crate::store`] loads and writes.
//!
//! # Layout
//! - [`docs`]: the documents per collection.
//! - [`fold`]: applying a tenant's events to a [`fold::Snapshot`] of its documents.

pub mod docs;
pub mod fold;
