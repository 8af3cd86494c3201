//! MongoDB side of the projector: indexes, loading the documents a batch needs, and
//! writing what changed so that writing twice changes nothing. Which database holds a
//! tenant is the `tenantdb` crate's job.
//!
//! # Layout
//! - [`writer`]: loading a [`crate::model::fold::Snapshot`] and conditional writes.

pub mod writer;

pub use tenantdb::{PoolSettings, PoolStats, TenantDatabases};
