//! Names of the NATS message headers that accompany an event.
//!
//! The envelope in the body is the source of truth (the subject names the tenant and the
//! aggregate). An event carries only the headers that JetStream or a reader acts on: every
//! header costs the server a scan on each publish, and the informational ones (tenant,
//! type, schema version, correlation id, media type) and the de-duplication id made a
//! command's append cost the server ~1.7× what the same message costs without them
//! (docs/performance.md, "Tenth session"). The `Nats-*` names are JetStream's own.
//!
//! | Header | On | Read by |
//! |---|---|---|
//! | `Nats-Expected-Last-Subject-Sequence` | every command's append | JetStream (optimistic concurrency) |
//! | `Tillstream-Request-Fingerprint` | every command's append | the API, recognising a retry in the aggregate's history |
//! | `Tillstream-Trace` | appends made inside a traced request | the projector and the webhook worker (their spans' parent) |
//! | `Nats-Msg-Id` | imports (`EventStore::append_many`) only | JetStream, de-duplicating a re-sent import within its window |
//!
//! The trace travels under [`TRACE`], not under W3C's `traceparent`: nats-server reads a
//! `traceparent` header itself, as a request for its own message tracing (ADR-41), and
//! for every message that carries one it copies all the message's headers into a map
//! before it looks at its configuration. That cost nats-server ~1.3 µs per append in
//! isolation and ~7 % of its CPU under batch upload (docs/performance.md, "Fifteenth
//! session"); the same value under another name costs it ~0.2 µs. Events appended
//! before are read under [`LEGACY_TRACEPARENT`].

/// JetStream de-duplication id: the event id. Sent on imports, which carry no
/// expectation; a command's append needs none (its expectation makes a second publish of
/// the same event fail, and the API then finds the first by its fingerprint).
pub const MSG_ID: &str = "Nats-Msg-Id";
/// JetStream optimistic concurrency: the publish succeeds only if the subject's last
/// sequence equals this value (0: the subject must be empty).
pub const EXPECTED_LAST_SUBJECT_SEQUENCE: &str = "Nats-Expected-Last-Subject-Sequence";
/// Fingerprint (SHA-256, hex) of the command that produced the event: a retried command
/// with the same fingerprint gets the original answer; another one gets 409.
pub const REQUEST_FINGERPRINT: &str = "Tillstream-Request-Fingerprint";
/// The W3C `traceparent` value (`00-<trace id>-<span id>-<flags>`) of the request that
/// appended the event: the span the projector's and the webhook worker's spans continue.
pub const TRACE: &str = "Tillstream-Trace";
/// Where events appended before [`TRACE`] carry their trace (same value). Read, never
/// written.
pub const LEGACY_TRACEPARENT: &str = "traceparent";
