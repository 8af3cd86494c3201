//! Test harness shared by the end-to-end suites in `tests/tests/`.
//!
//! The suites talk to real servers: the NATS JetStream and MongoDB servers that
//! `scripts/services up` starts (or whatever `NATS_URL` and `MONGODB_URI` point to). Each
//! test isolates itself by name instead of by server, so all tests run in parallel
//! against the same two servers:
//!
//! - its own tenant id ([`unique_tenant`]), hence its own subjects and database;
//! - its own JetStream stream and subject prefix ([`TestStream`]) when it needs to count
//!   or inspect every message;
//! - its own scratch MongoDB database ([`TestDatabase`]).
//!
//! Waiting is done by polling a condition against a deadline ([`eventually`]), never by
//! sleeping a fixed time.
//!
//! # Layout
//! - [`servers`]: where the servers are and connected clients for them.
//! - [`names`]: unique tenant ids, prefixes and names per test.
//! - [`stream`]: a per-test JetStream stream that deletes itself.
//! - [`database`]: a per-test MongoDB database.
//! - [`poll`]: [`eventually`], the deadline-bound polling helper.
//! - [`tokens`]: signed test JWTs for any tenant, user and role.
//! - [`command_app`]: [`CommandApp`], the real command API on a random port with typed
//!   request helpers.
//! - [`projector_app`]: [`ProjectorApp`], the real projector in-process, stoppable
//!   gracefully or abruptly.
//! - [`generator`]: realistic, seeded streams of mixed events for one tenant.
//! - [`processes`]: real server and service processes a test can stop and `kill -9`.
//! - [`read_model`]: dumping a tenant's read model for whole-content comparison.
//! - [`backoffice_app`]: [`BackofficeApp`], the real back office in front of a
//!   [`CommandApp`], accounts made through the identity flow, a cookie-keeping client.
//! - [`webdriver`]: a real headless Chromium over WebDriver.
//! - [`webhook_app`]: [`WebhookApp`], the real webhook worker in-process, and
//!   [`webhook_app::Receiver`], a local HTTP receiver that fails on request.

pub mod backoffice_app;
pub mod command_app;
pub mod database;
pub mod generator;
pub mod names;
pub mod poll;
pub mod processes;
pub mod projector_app;
pub mod read_model;
pub mod servers;
pub mod stream;
pub mod tokens;
pub mod webdriver;
pub mod webhook_app;

pub use backoffice_app::BackofficeApp;
pub use command_app::CommandApp;
pub use database::TestDatabase;
pub use names::{unique_name, unique_prefix, unique_tenant};
pub use poll::eventually;
pub use projector_app::ProjectorApp;
pub use servers::{Servers, mongo_client, mongodb_uri, nats_client, nats_url};
pub use stream::TestStream;
pub use tokens::TokenIssuer;
pub use webhook_app::WebhookApp;
