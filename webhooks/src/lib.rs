//! Signed webhooks: each tenant's endpoints receive its events as HTTP POSTs, signed with
//! HMAC-SHA256, retried with backoff and jitter, dead-lettered when they keep failing. The
//! worker (`webhooks` binary) consumes the event stream like the projector, with its own
//! durable consumers; the command API manages endpoints and shows deliveries through this
//! crate's store. See docs/webhooks.md.
//!
//! # Layout
//! - [`config`]: [`config::Config`], the worker's flags and environment.
//! - [`store`]: [`store::WebhookStore`], the endpoint and delivery collections, typed.
//! - [`sealing`]: signing secrets at rest, sealed under `WEBHOOK_SECRET_KEY`.
//! - [`reseal`]: re-sealing every endpoint's secrets under the current key.
//! - [`signature`]: the `Tillstream-Signature` header: signing and verifying.
//! - [`target`]: which URLs an endpoint may have (no private hosts unless allowed).
//! - [`backoff`]: [`backoff::Backoff`], when a failed delivery is tried again.
//! - [`intake`]: stream → pending deliveries, per partition.
//! - [`dispatch`]: pending deliveries → signed requests, in order per endpoint and aggregate.
//! - [`worker`]: [`Worker`], building and running the whole.

pub mod backoff;
pub mod config;
pub mod dispatch;
pub mod intake;
pub mod reseal;
pub mod sealing;
pub mod signature;
pub mod store;
pub mod target;
pub mod worker;

pub use worker::Worker;
