//! The JetStream stream that holds every event, seen as an event store. No other crate
//! touches JetStream for it: the command side, the live projector and the operator jobs
//! all go through the typed operations below.
//!
//! One stream (default `POS`) captures `<prefix>.>`; each aggregate instance has its own
//! subject (see [`events::SubjectScheme`]). This crate owns:
//!
//! - its configuration, created or updated idempotently at start-up ([`StreamSettings`]);
//! - appending one event per command with an optimistic-concurrency expectation on the
//!   aggregate's subject ([`EventStore::append`]), which is also what makes commands
//!   idempotent forever (a second "create" on the same subject is refused by the server);
//!   importing decided events ([`EventStore::append_many`]); placing control markers
//!   ([`EventStore::place_marker`]);
//! - reading one aggregate's history back by subject ([`EventStore::history`]), a tenant's
//!   head ([`EventStore::tenant_head`]) and all of a tenant's messages in order
//!   ([`EventStore::tenant_reader`]), and following them as they are stored
//!   ([`EventStore::tenant_follower`]);
//! - the live projector's pinned, ordered reader of a partition, with its reset to the ack
//!   floor and its acknowledgements ([`EventStore::partition_reader`]), and where such a
//!   reader stands ([`EventStore::reader_position`]);
//! - the stream's state and erasing a tenant ([`EventStore::state`],
//!   [`EventStore::purge_tenant`]).
//!
//! # Layout
//! - [`args`]: [`StreamArgs`], the stream's command-line flags, and connecting with them.
//! - [`settings`]: [`StreamSettings`] and creating/updating the stream.
//! - [`store`]: [`EventStore`]: opening, appends, markers, history and head reads.
//! - [`partition_reader`]: [`PartitionReader`], the pinned ordered reader of a partition.
//! - [`tenant_reader`]: [`TenantReader`], every message of one tenant in order.
//! - [`delivery`]: [`Delivery`], a message as a reader received it.
//! - [`keys`]: claiming a client's `Idempotency-Key` per tenant across aggregates
//!   ([`EventStore::claim_key`]).
//! - [`maintenance`]: [`StreamState`] and purging a tenant (its events and its keys).
//! - [`servers`]: the NATS server list (one URL or a cluster's seeds).
//! - [`error`]: [`AppendError`] and [`ReadError`], split into "conflict", "unavailable"
//!   and the rest, because callers answer them differently (409, 503, 500);
//!   [`StreamError`] for reader and maintenance requests. Every error keeps its cause as
//!   its source.

pub mod args;
pub mod delivery;
pub mod error;
pub mod keys;
pub mod maintenance;
pub mod partition_reader;
pub mod places;
pub mod servers;
pub mod settings;
pub mod store;
pub mod tenant_reader;

pub use args::{ConnectError, StreamArgs};
pub use delivery::Delivery;
pub use error::{AppendError, Cause, ReadError, SetupError, StreamError};
pub use keys::KeyClaim;
pub use maintenance::StreamState;
pub use partition_reader::{PartitionReader, PartitionReaderSettings, ReaderPosition};
pub use places::Places;
pub use servers::{ServerListError, server_addrs};
pub use settings::StreamSettings;
pub use store::{Appended, EventStore, Expected, StoredEvent};
pub use tenant_reader::TenantReader;
