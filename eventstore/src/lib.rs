//! The JetStream stream that holds every event, seen as an event store.
//!
//! One stream (default `POS`) captures `<prefix>.>`; each aggregate instance has its own
//! subject (see [`events::SubjectScheme`]). This crate is what the command side and the
//! replay tools share about that stream:
//!
//! - its configuration, created or updated idempotently at start-up ([`StreamSettings`]);
//! - appending one event per command with an optimistic-concurrency expectation on the
//!   aggregate's subject ([`EventStore::append`]), which is also what makes commands
//!   idempotent forever (a second "create" on the same subject is refused by the server);
//! - reading one aggregate's history back by subject ([`EventStore::history`]).
//!
//! # Layout
//! - [`settings`]: [`StreamSettings`] and creating/updating the stream.
//! - [`store`]: [`EventStore`], appends and reads.
//! - [`servers`]: the NATS server list (one URL or a cluster's seeds).
//! - [`error`]: [`AppendError`] and [`ReadError`], split into "conflict", "unavailable"
//!   and the rest, because callers answer them differently (409, 503, 500).

pub mod error;
pub mod servers;
pub mod settings;
pub mod store;

pub use error::{AppendError, ReadError, SetupError};
pub use servers::{ServerListError, server_addrs};
pub use settings::StreamSettings;
pub use store::{Appended, EventStore, Expected, StoredEvent};
