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
//! | `traceparent` | appends made inside a traced request | the projector and the webhook worker (their spans' parent) |
//! | `Nats-Msg-Id` | imports (`EventStore::append_many`) only | JetStream, de-duplicating a re-sent import within its window |

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
