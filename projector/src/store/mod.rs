//! MongoDB side of the projector: which database holds a tenant, loading the documents a
//! batch needs, and writing what changed so that writing twice changes nothing.
//!
//! # Layout
//! - [`databases`]: [`TenantDatabases`]: one shared client and pool, the placement map,
//!   per-tenant index creation and connection statistics.
//! - [`indexes`]: the indexes of a tenant database.
//! - [`writer`]: loading a [`crate::model::fold::Snapshot`] and conditional writes.

pub mod databases;
pub mod indexes;
pub mod writer;

pub use databases::{PoolStats, TenantDatabases};
