//! **A measurement fixture, not part of tillstream.** The peer of issue 22: tillstream's
//! "complete a sale" command (`POST /v1/sales`, the load generator's payloads) built the way
//! an engineer choosing an event-sourced Rust backend might build it instead: `cqrs-es` 0.5
//! with its PostgreSQL event store `postgres-es` 0.5, behind axum, with tillstream's JWT
//! check. `loadgen --peer-url` drives it over HTTP with the same generator, in the same run.
//!
//! Per command: verify the token, parse and validate the sale (the same arithmetic rules
//! as tillstream), load the sale aggregate from the `events` table, append its
//! `SaleCompleted` event (optimistic lock on the aggregate's sequence), then update the
//! read model in the same request, as cqrs-es dispatches queries after the commit: the
//! sale's view (`sale_view`, a `GenericQuery` over `PostgresViewRepository`) and the stock
//! per SKU (`stock`, one upsert).
//!
//! # Layout
//! - [`config`]: the binary's flags and environment (tillstream's JWT variables).
//! - [`auth`]: HS256 verification of tillstream's access tokens.
//! - [`sale`]: the aggregate, its command, its event and the validation.
//! - [`views`]: the read model (sale view, stock) and the schema.
//! - [`http`]: the routes and the error body.

pub mod auth;
pub mod config;
pub mod http;
pub mod sale;
pub mod views;
