//! Opening the store, appending events with expectations (and control markers), and
//! reading an aggregate's history or a tenant's head.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::connection::State;
use async_nats::header::{HeaderName, HeaderValue};
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::stream::{self, DirectGetErrorKind};
use async_nats::jetstream::{self};
use chrono::{DateTime, Utc};
use events::{AggregateRef, ControlMarker, EventEnvelope, SubjectScheme, TenantId, headers};

use telemetry::trace::TraceContext;

use crate::error::{AppendError, ReadError, SetupError};
use crate::keys::{IdempotencyKeys, KeyClaim};
use crate::settings::StreamSettings;

// The header names the store writes, made once (a name made from a `&str` at each append
// is validated and copied).
const MSG_ID: HeaderName = HeaderName::from_static(headers::MSG_ID);
const EXPECTED_LAST_SUBJECT_SEQUENCE: HeaderName = HeaderName::from_static(headers::EXPECTED_LAST_SUBJECT_SEQUENCE);
const REQUEST_FINGERPRINT: HeaderName = HeaderName::from_static(headers::REQUEST_FINGERPRINT);
const TRACE: HeaderName = HeaderName::from_static(headers::TRACE);

/// What the aggregate's subject must look like for an append to go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Nothing is checked.
    Any,
    /// The subject must hold no event yet: the append creates the aggregate.
    NoEvents,
    /// The subject's last event must be at this stream sequence.
    LastSequence(u64),
}

impl Expected {
    fn header_value(self) -> Option<u64> {
        match self {
            Expected::Any => None,
            Expected::NoEvents => Some(0),
            Expected::LastSequence(sequence) => Some(sequence),
        }
    }
}

/// The server's acknowledgement of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Stream sequence of the stored event: the read-your-writes token.
    pub sequence: u64,
    /// The subject it was stored under.
    pub subject: String,
}

/// An event read back from the stream.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Its stream sequence.
    pub sequence: u64,
    /// When the server stored it.
    pub stored_at: DateTime<Utc>,
    /// The decoded envelope.
    pub envelope: EventEnvelope,
    /// Fingerprint of the command that produced it (`Tillstream-Request-Fingerprint`).
    pub request_fingerprint: Option<String>,
}

/// Appends to and reads from the event stream.
#[derive(Clone)]
pub struct EventStore {
    // Shared: handlers clone the store per request, and a stream handle carries its
    // whole configuration.
    inner: std::sync::Arc<Inner>,
}

struct Inner {
    jetstream: jetstream::Context,
    // The context's client, held once: `Context::client()` clones it, and every append
    // asks it whether the connection is up.
    client: async_nats::Client,
    stream: stream::Stream,
    scheme: SubjectScheme,
    keys: IdempotencyKeys,
}

impl EventStore {
    /// Ensures the stream exists with `settings` and opens it. `timeout` bounds every
    /// request to JetStream (acks included), so a slow or absent server never hangs a
    /// caller.
    pub async fn open(
        client: async_nats::Client,
        settings: &StreamSettings,
        timeout: Duration,
    ) -> Result<Self, SetupError> {
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(timeout)
            .backpressure_on_inflight(true)
            .build(client.clone());
        let (stream, scheme) = settings.ensure(&jetstream).await?;
        Ok(Self {
            inner: std::sync::Arc::new(Inner {
                jetstream,
                client,
                stream,
                scheme,
                keys: IdempotencyKeys::new(&settings.name, settings.replicas, settings.key_retention),
            }),
        })
    }

    /// The subject scheme of this stream.
    pub fn scheme(&self) -> &SubjectScheme {
        &self.inner.scheme
    }

    /// The stream handle. Crate-private: callers go through the typed operations.
    pub(crate) fn stream(&self) -> &stream::Stream {
        &self.inner.stream
    }

    /// The JetStream context. Crate-private, like [`EventStore::stream`].
    pub(crate) fn jetstream(&self) -> &jetstream::Context {
        &self.inner.jetstream
    }

    /// The idempotency keys' bucket.
    pub(crate) fn keys(&self) -> &IdempotencyKeys {
        &self.inner.keys
    }

    /// The stream's name.
    pub fn stream_name(&self) -> &str {
        &self.inner.stream.cached_info().config.name
    }

    /// Whether the NATS connection is up right now.
    pub fn is_connected(&self) -> bool {
        self.inner.client.connection_state() == State::Connected
    }

    /// Appends `envelope` to its aggregate's subject if `expected` holds, and waits for the
    /// stream's acknowledgement. `fingerprint` identifies the command that produced the
    /// event so that a retried command can be recognised later; `trace` (the request's
    /// span) goes into the `Tillstream-Trace` header, so whoever handles the event continues
    /// the request's trace (see `telemetry::trace`).
    pub async fn append(
        &self,
        envelope: &EventEnvelope,
        expected: Expected,
        fingerprint: Option<&str>,
        trace: Option<&TraceContext>,
    ) -> Result<Appended, AppendError> {
        if !self.is_connected() {
            return Err(AppendError::Unavailable("not connected to NATS".into()));
        }
        let subject = self.inner.scheme.subject(&envelope.tenant_id, &envelope.aggregate());
        // Only the headers something acts on (`events::headers`): no de-duplication id, the
        // expectation already makes a second publish of this event fail.
        let mut message_headers = HeaderMap::new();
        if let Some(sequence) = expected.header_value() {
            message_headers.insert(EXPECTED_LAST_SUBJECT_SEQUENCE, HeaderValue::from(sequence));
        }
        if let Some(fingerprint) = fingerprint {
            message_headers.insert(REQUEST_FINGERPRINT, fingerprint);
        }
        if let Some(trace) = trace {
            message_headers.insert(TRACE, HeaderValue::from(trace.header_value()));
        }
        let body = events::encode(envelope)?;
        let ack = self
            .inner
            .jetstream
            .publish_with_headers(subject.clone(), message_headers, body.into())
            .await
            .map_err(|err| classify_publish(err, expected))?
            .await
            .map_err(|err| classify_publish(err, expected))?;
        Ok(Appended {
            sequence: ack.sequence,
            subject,
        })
    }

    /// Claims the client's idempotency `key` of `tenant` for the request with
    /// `fingerprint` (see [`crate::keys`]).
    pub async fn claim_key(&self, tenant: &TenantId, key: &str, fingerprint: &str) -> Result<KeyClaim, AppendError> {
        if !self.is_connected() {
            return Err(AppendError::Unavailable("not connected to NATS".into()));
        }
        self.inner
            .keys
            .claim(&self.inner.jetstream, tenant, key, fingerprint)
            .await
    }

    /// Releases a key claimed at `revision` by a command that was then refused, so the
    /// client may send a corrected command under the same key.
    pub async fn release_key(&self, tenant: &TenantId, key: &str, revision: u64) -> Result<(), AppendError> {
        self.inner
            .keys
            .release(&self.inner.jetstream, tenant, key, revision)
            .await
    }

    /// Every event of one aggregate, oldest first.
    pub async fn history(&self, tenant: &TenantId, aggregate: &AggregateRef) -> Result<Vec<StoredEvent>, ReadError> {
        let subject = self.inner.scheme.subject(tenant, aggregate);
        let mut events = Vec::new();
        let mut from = 1;
        loop {
            match self
                .inner
                .stream
                .direct_get_next_for_subject(subject.as_str(), Some(from))
                .await
            {
                Ok(message) => {
                    from = message.sequence + 1;
                    events.push(stored(message)?);
                }
                Err(err) if err.kind() == DirectGetErrorKind::NotFound => return Ok(events),
                Err(err) => return Err(classify_read(err)),
            }
        }
    }

    /// Appends `envelopes` in order, without expectations or fingerprints, sending every
    /// one before waiting for the acknowledgements (an import of events that were already
    /// decided elsewhere: one round trip per call instead of one per event).
    pub async fn append_many(&self, envelopes: &[EventEnvelope]) -> Result<(), AppendError> {
        let mut acks = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let subject = self.inner.scheme.subject(&envelope.tenant_id, &envelope.aggregate());
            let body = events::encode(envelope)?;
            acks.push(
                self.inner
                    .jetstream
                    .publish_with_headers(subject, import_headers(envelope), body.into())
                    .await
                    .map_err(|err| classify_publish(err, Expected::Any))?,
            );
        }
        for ack in acks {
            ack.await.map_err(|err| classify_publish(err, Expected::Any))?;
        }
        Ok(())
    }

    /// Appends `marker` to `tenant`'s subjects (`<prefix>.<p>.<tenant>.control.<job>`), so
    /// the live projector acts on it after every earlier message of the tenant and before
    /// every later one. Returns its stream sequence.
    pub async fn place_marker(&self, tenant: &TenantId, marker: &ControlMarker) -> Result<u64, AppendError> {
        let subject = marker
            .subject(&self.inner.scheme, tenant)
            .map_err(AppendError::InvalidMarker)?;
        let body = marker.encode()?;
        let ack = self
            .inner
            .jetstream
            .publish(subject, body.into())
            .await
            .map_err(|err| classify_publish(err, Expected::Any))?
            .await
            .map_err(|err| classify_publish(err, Expected::Any))?;
        Ok(ack.sequence)
    }

    /// The stream sequence of `tenant`'s newest message (event or marker), or `None` when
    /// it has none: the head a tenant's read model is compared with to tell its lag.
    pub async fn tenant_head(&self, tenant: &TenantId) -> Result<Option<u64>, ReadError> {
        let filter = self.inner.scheme.tenant_filter(tenant);
        match self.inner.stream.direct_get_last_for_subject(filter).await {
            Ok(message) => Ok(Some(message.sequence)),
            Err(err) if err.kind() == DirectGetErrorKind::NotFound => Ok(None),
            Err(err) => Err(classify_read(err)),
        }
    }

    /// The latest event of one aggregate, if it has any.
    pub async fn last(&self, tenant: &TenantId, aggregate: &AggregateRef) -> Result<Option<StoredEvent>, ReadError> {
        let subject = self.inner.scheme.subject(tenant, aggregate);
        match self.inner.stream.direct_get_last_for_subject(subject.as_str()).await {
            Ok(message) => stored(message).map(Some),
            Err(err) if err.kind() == DirectGetErrorKind::NotFound => Ok(None),
            Err(err) => Err(classify_read(err)),
        }
    }
}

/// The headers every stored event carries (its ids, type and version).
/// An imported event's headers: its id for JetStream's de-duplication (an import carries
/// no expectation, so a re-sent import is dropped only within the window).
fn import_headers(envelope: &EventEnvelope) -> HeaderMap {
    let mut message_headers = HeaderMap::new();
    message_headers.insert(MSG_ID, HeaderValue::from(envelope.event_id.to_string()));
    message_headers
}

fn stored(message: async_nats::jetstream::message::StreamMessage) -> Result<StoredEvent, ReadError> {
    let envelope = events::decode(&message.payload).map_err(|source| ReadError::Decode {
        sequence: message.sequence,
        source,
    })?;
    let stored_at =
        DateTime::<Utc>::from_timestamp(message.time.unix_timestamp(), message.time.nanosecond()).unwrap_or_default();
    Ok(StoredEvent {
        sequence: message.sequence,
        stored_at,
        envelope,
        request_fingerprint: message
            .headers
            .get(headers::REQUEST_FINGERPRINT)
            .map(|value| value.as_str().to_owned()),
    })
}

fn classify_publish(err: async_nats::jetstream::context::PublishError, expected: Expected) -> AppendError {
    match err.kind() {
        PublishErrorKind::WrongLastSequence => AppendError::Conflict {
            expected: expected.header_value().unwrap_or_default(),
        },
        PublishErrorKind::TimedOut
        | PublishErrorKind::BrokenPipe
        | PublishErrorKind::StreamNotFound
        | PublishErrorKind::MaxAckPending => AppendError::Unavailable(err.into()),
        // The error's text carries the server's description and codes.
        _ if server_cannot_store_now(&err) => AppendError::Unavailable(err.into()),
        _ => AppendError::Rejected(err.into()),
    }
}

/// The JetStream error a refusal carries, if any.
fn jetstream_error(err: &async_nats::jetstream::context::PublishError) -> Option<&async_nats::jetstream::Error> {
    std::error::Error::source(err).and_then(|source| source.downcast_ref::<async_nats::jetstream::Error>())
}

/// Whether JetStream refused for lack of capacity rather than because of the message:
/// status 503 (storage or other resources exhausted, no quorum, a store failure). Nothing
/// was stored; the same command can succeed once an operator or the cluster fixes it.
fn server_cannot_store_now(err: &async_nats::jetstream::context::PublishError) -> bool {
    jetstream_error(err).is_some_and(|e| {
        e.code() == 503
            || e.error_code() == async_nats::jetstream::ErrorCode::INSUFFICIENT_RESOURCES
            || e.error_code() == async_nats::jetstream::ErrorCode::CLUSTER_NOT_AVAILABLE
    })
}

/// A failed direct get is the server's or the stream's trouble (timeout, no responders, the
/// stream gone), except for a subject we built wrongly.
fn classify_read(err: async_nats::jetstream::stream::DirectGetError) -> ReadError {
    match err.kind() {
        DirectGetErrorKind::InvalidSubject => ReadError::Other(err.into()),
        _ => ReadError::Unavailable(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_names_made_once_are_the_documented_ones() {
        // Readers look these names up as strings (`events::headers`): a name made once must
        // be written exactly as before, standard NATS name or ours.
        assert_eq!(
            EXPECTED_LAST_SUBJECT_SEQUENCE.to_string(),
            headers::EXPECTED_LAST_SUBJECT_SEQUENCE
        );
        assert_eq!(REQUEST_FINGERPRINT.to_string(), headers::REQUEST_FINGERPRINT);
        assert_eq!(MSG_ID.to_string(), headers::MSG_ID);
        assert_eq!(TRACE.to_string(), headers::TRACE);
        let mut message = HeaderMap::new();
        message.insert(EXPECTED_LAST_SUBJECT_SEQUENCE, HeaderValue::from(42_u64));
        message.insert(TRACE, HeaderValue::from(String::from("00-abc-def-01")));
        assert_eq!(
            message.get(headers::EXPECTED_LAST_SUBJECT_SEQUENCE).map(|v| v.as_str()),
            Some("42")
        );
        assert_eq!(message.get(headers::TRACE).map(|v| v.as_str()), Some("00-abc-def-01"));
    }
}
