//! The command API: POS terminals post commands (sales, voids, refunds, stock movements,
//! catalog changes) with a tenant JWT; the API verifies the token, validates the command,
//! appends the resulting event to NATS JetStream on the tenant's subjects and answers only
//! after JetStream has acknowledged it. Every command is idempotent.
//!
//! # Layout
//! - [`config`]: [`Config`], flags and environment.
//! - [`startup`]: [`Application`]: build, bind, serve, shut down.
//! - [`server`]: the accept loop and what bounds a client: connection and request caps,
//!   header, idle and body timeouts, the query timeout, security headers.
//! - [`state`]: [`AppState`] shared by handlers.
//! - [`auth`]: JWT verification and the [`auth::TenantContext`] extractor with role types.
//! - [`extract`]: JSON body, `Idempotency-Key` and `If-Match` extractors.
//! - [`commands`]: one file per command: its body, its [`commands::Command`] impl (name,
//!   route, role, aggregate, idempotency key) and the pure decision that makes its event.
//! - [`feed`]: a page of a tenant's event feed for integrators, read from the event
//!   store (long poll).
//! - [`identity`]: signup, verification, login, refresh tokens, users.
//! - [`quote`]: pricing a basket on the server with the `pricing` engine.
//! - [`queries`]: the read side: products, stock, sales, transactions, reports.
//! - [`execute`]: append with optimistic concurrency and retry recognition.
//! - [`catalog_ages`]: age restrictions of products, from the cached product states.
//! - [`folded`]: aggregates (locations, jurisdictions, products) folded from their events
//!   and cached, for the commands and quotes that name them.
//! - [`routes`]: the HTTP routes (route tables, with one generic command handler),
//!   health, metrics and the OpenAPI document.
//! - [`error`]: [`ApiError`], the one mapping of failures to HTTP.

pub mod auth;
pub mod catalog_ages;
pub mod codes;
pub mod commands;
pub mod config;
pub mod error;
pub mod execute;
pub mod extract;
pub mod feed;
pub mod folded;
pub mod identity;
pub mod queries;
pub mod quote;
pub mod routes;
pub mod server;
pub mod startup;
pub mod state;

pub use config::Config;
pub use error::ApiError;
pub use startup::Application;
pub use state::AppState;
