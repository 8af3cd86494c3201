//! The projector: consumes the event stream and keeps one MongoDB read model per tenant
//! (`tenant_<id>`: products, sales, inventorytransactions, users, daily_sales), right after
//! crashes, redeliveries and restarts, in per-tenant stream order, with poison events
//! parked instead of blocking anyone. Everything it does with JetStream goes through
//! [`eventstore`]; it never holds a raw JetStream handle.
//!
//! # Layout
//! - [`config`]: [`config::Config`] and the command line.
//! - [`startup`]: [`Projector`]: build, run, shut down.
//! - [`partition`]: the live loop: one [`eventstore::PartitionReader`] per partition,
//!   applying and acknowledging its batches; [`partition::handover`] acts on control
//!   markers (swapping in a rebuilt read model, moving a tenant) in stream order.
//! - [`projection`]: applying one tenant's share of a batch.
//! - [`rebuild`]: reading a tenant's events back in order and folding them into a target.
//! - [`replay`]: the operator jobs: rebuild online, verify, move, export/import, delete.
//! - [`model`]: the pure application of events to the read model's documents (which the
//!   `tenantdb` crate defines).
//! - [`store`]: tenant databases (shared pool, placement), loading and guarded writes.
//! - [`parked`]: listing parked events.
//! - [`redrive`]: re-driving one parked event, in the tenant's stream order.
//! - [`tenants`]: the tenants kept, with lag, placement, parked count and replay progress.
//! - [`http`]: the admin server (health, metrics, stats, tenants, lag, parked, re-drive).
//! - [`shutdown`]: the stop flag tasks wait on.

pub mod config;
pub mod http;
pub mod model;
pub mod parked;
pub mod partition;
pub mod projection;
pub mod rebuild;
pub mod redrive;
pub mod replay;
pub mod shutdown;
pub mod startup;
pub mod store;
pub mod tenants;

pub use config::Config;
pub use startup::Projector;
