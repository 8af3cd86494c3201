//! The pure, deterministic application of events to a tenant's read model. The documents
//! themselves are the `tenantdb` crate's ([`tenantdb::docs`]): the projector writes them,
//! the command API reads them, both through the same types. No I/O here; [`crate::store`]
//! loads and writes.
//!
//! # Layout
//! - [`docs`]: the documents per collection, re-exported from [`tenantdb::docs`] (with
//!   [`tenantdb::collections`]) for the modules that still import them from here.
//! - [`fold`]: applying a tenant's events to a [`fold::Snapshot`] of its documents.

pub mod fold;

/// The read model's documents and collections, as defined in `tenantdb`.
pub mod docs {
    pub use tenantdb::collections;
    pub use tenantdb::docs::*;
}
