//! Names of the NATS message headers that accompany an event.
//!
//! The envelope in the body is the source of truth; the headers repeat a few of its fields
//! so that operators and consumers can filter, route and de-duplicate without decoding the
//! body. The `Nats-*` names are JetStream's own.

/// JetStream de-duplication id: the event id.
pub const MSG_ID: &str = "Nats-Msg-Id";
/// JetStream optimistic concurrency: the publish succeeds only if the subject's last
/// sequence equals this value (0: the subject must be empty).
pub const EXPECTED_LAST_SUBJECT_SEQUENCE: &str = "Nats-Expected-Last-Subject-Sequence";
/// Fingerprint (SHA-256, hex) of the command that produced the event: a retried command
/// with the same fingerprint gets the original answer; another one gets 409.
pub const REQUEST_FINGERPRINT: &str = "Tillstream-Request-Fingerprint";
/// The tenant id.
pub const TENANT: &str = "Tillstream-Tenant";
/// The event type name, e.g. `SaleCompleted`.
pub const EVENT_TYPE: &str = "Tillstream-Event-Type";
/// The payload's schema version.
pub const SCHEMA_VERSION: &str = "Tillstream-Schema-Version";
/// The correlation id.
pub const CORRELATION_ID: &str = "Tillstream-Correlation-Id";
/// Media type of the body.
pub const CONTENT_TYPE: &str = "Content-Type";
/// The body's media type: a JSON envelope.
pub const ENVELOPE_CONTENT_TYPE: &str = "application/vnd.tillstream.event+json";

/// The headers to send with `envelope`, as (name, value) pairs. The publisher adds
/// transport-specific ones (expected sequences) itself.
pub fn for_envelope(envelope: &crate::EventEnvelope) -> [(&'static str, String); 6] {
    [
        (MSG_ID, envelope.event_id.to_string()),
        (TENANT, envelope.tenant_id.to_string()),
        (EVENT_TYPE, envelope.event_type().as_str().to_owned()),
        (SCHEMA_VERSION, envelope.schema_version().to_string()),
        (CORRELATION_ID, envelope.correlation_id.to_string()),
        (CONTENT_TYPE, ENVELOPE_CONTENT_TYPE.to_owned()),
    ]
}
