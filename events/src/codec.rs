//! The wire format of an [`EventEnvelope`] (JSON) and versioned decoding.
//!
//! ```json
//! {"event_id":"0190…","tenant_id":"acme","aggregate_kind":"sale","aggregate_id":"s-1",
//!  "event_type":"SaleCompleted","schema_version":1,"occurred_at":"…","recorded_at":"…",
//!  "actor":{"user_id":"u1","role":"cashier","terminal_id":"t1"},
//!  "correlation_id":"…","causation_id":null,"idempotency_key":"…","payload":{…}}
//! ```
//!
//! Decoding never guesses: an unknown event type, a version newer than this build knows,
//! a payload that does not match its type or an aggregate that disagrees with the payload
//! is a typed [`DecodeError`], which the projector parks. An older version is lifted to
//! the current one by [`crate::upcast`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::aggregate::{AggregateKind, AggregateRef};
use crate::envelope::{Actor, EventEnvelope};
use crate::event::{DomainEvent, EventType};
use crate::tenant::TenantId;
use crate::upcast::{self, UpcastError};

/// Why bytes could not be decoded into an [`EventEnvelope`].
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or the envelope's fields are missing or of the wrong type.
    #[error("malformed envelope: {0}")]
    Malformed(#[source] serde_json::Error),
    /// The event type is not one this build knows.
    #[error("unknown event type {0:?}")]
    UnknownEventType(String),
    /// The payload was written by a newer build.
    #[error("{event_type} version {version} is newer than this build's version {current}")]
    UnsupportedVersion {
        /// The event type.
        event_type: EventType,
        /// The version found.
        version: u32,
        /// The newest version this build understands.
        current: u32,
    },
    /// Version 0 does not exist.
    #[error("{event_type} has invalid schema version 0")]
    InvalidVersion {
        /// The event type.
        event_type: EventType,
    },
    /// An older payload could not be lifted to the current version.
    #[error(transparent)]
    Upcast(#[from] UpcastError),
    /// The payload does not match its event type.
    #[error("invalid {event_type} payload: {source}")]
    InvalidPayload {
        /// The event type.
        event_type: EventType,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },
    /// The envelope names a different aggregate than its payload.
    #[error("envelope says aggregate {envelope} but the payload belongs to {payload}")]
    AggregateMismatch {
        /// Aggregate named in the envelope.
        envelope: AggregateRef,
        /// Aggregate implied by the payload.
        payload: AggregateRef,
    },
}

/// Why an envelope could not be encoded. Only a bug can cause this (all our payloads are
/// plain data), but it is reported rather than panicking.
#[derive(Debug, thiserror::Error)]
#[error("could not encode event envelope: {0}")]
pub struct EncodeError(#[from] serde_json::Error);

#[derive(Serialize)]
struct WireOut<'a> {
    event_id: &'a Uuid,
    tenant_id: &'a TenantId,
    aggregate_kind: AggregateKind,
    aggregate_id: &'a str,
    event_type: &'static str,
    schema_version: u32,
    #[serde(serialize_with = "crate::instant::serialize")]
    occurred_at: &'a DateTime<Utc>,
    #[serde(serialize_with = "crate::instant::serialize")]
    recorded_at: &'a DateTime<Utc>,
    actor: &'a Actor,
    correlation_id: &'a Uuid,
    causation_id: &'a Option<Uuid>,
    idempotency_key: &'a str,
    payload: &'a DomainEvent,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireIn<'a> {
    event_id: Uuid,
    tenant_id: TenantId,
    aggregate_kind: AggregateKind,
    aggregate_id: String,
    #[serde(borrow)]
    event_type: std::borrow::Cow<'a, str>,
    schema_version: u32,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    actor: Actor,
    correlation_id: Uuid,
    #[serde(default)]
    causation_id: Option<Uuid>,
    idempotency_key: String,
    #[serde(borrow)]
    payload: &'a RawValue,
}

/// Encodes `envelope` as JSON, always at the current schema version of its event.
pub fn encode(envelope: &EventEnvelope) -> Result<Vec<u8>, EncodeError> {
    let aggregate = envelope.aggregate();
    let event_type = envelope.event_type();
    let wire = WireOut {
        event_id: &envelope.event_id,
        tenant_id: &envelope.tenant_id,
        aggregate_kind: aggregate.kind,
        aggregate_id: &aggregate.id,
        event_type: event_type.as_str(),
        schema_version: event_type.current_version(),
        occurred_at: &envelope.occurred_at,
        recorded_at: &envelope.recorded_at,
        actor: &envelope.actor,
        correlation_id: &envelope.correlation_id,
        causation_id: &envelope.causation_id,
        idempotency_key: &envelope.idempotency_key,
        payload: &envelope.event,
    };
    // Most envelopes (a sale of a few lines) fit 1 KiB: written there at once instead of
    // growing from serde_json's 128 bytes, copying the text three times on the way.
    let mut bytes = Vec::with_capacity(1024);
    serde_json::to_writer(&mut bytes, &wire)?;
    Ok(bytes)
}

/// Decodes bytes written by [`encode`] of this or any older build.
pub fn decode(bytes: &[u8]) -> Result<EventEnvelope, DecodeError> {
    let wire: WireIn<'_> = serde_json::from_slice(bytes).map_err(DecodeError::Malformed)?;
    let event_type = EventType::from_name(&wire.event_type)
        .ok_or_else(|| DecodeError::UnknownEventType(wire.event_type.clone().into_owned()))?;
    let current = event_type.current_version();
    let version = wire.schema_version;
    if version == 0 {
        return Err(DecodeError::InvalidVersion { event_type });
    }
    if version > current {
        return Err(DecodeError::UnsupportedVersion {
            event_type,
            version,
            current,
        });
    }
    let event = if version == current {
        DomainEvent::from_payload_str(event_type, wire.payload.get())
    } else {
        let old: serde_json::Value = serde_json::from_str(wire.payload.get()).map_err(DecodeError::Malformed)?;
        let lifted = upcast::to_current(event_type, version, old)?;
        DomainEvent::from_payload_json(event_type, lifted)
    }
    .map_err(|source| DecodeError::InvalidPayload { event_type, source })?;

    let envelope_aggregate = AggregateRef {
        kind: wire.aggregate_kind,
        id: wire.aggregate_id,
    };
    let payload_aggregate = event.aggregate();
    if envelope_aggregate != payload_aggregate {
        return Err(DecodeError::AggregateMismatch {
            envelope: envelope_aggregate,
            payload: payload_aggregate,
        });
    }
    Ok(EventEnvelope {
        event_id: wire.event_id,
        tenant_id: wire.tenant_id,
        occurred_at: wire.occurred_at,
        recorded_at: wire.recorded_at,
        actor: wire.actor,
        correlation_id: wire.correlation_id,
        causation_id: wire.causation_id,
        idempotency_key: wire.idempotency_key,
        event,
    })
}
