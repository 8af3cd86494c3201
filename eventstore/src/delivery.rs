//! One message of the stream as a reader received it, not yet decoded.

use async_nats::jetstream;
use bytes::Bytes;

/// A message delivered by a [`crate::PartitionReader`] or a [`crate::TenantReader`]: an
/// event, a control marker or something undecodable; the reader's caller decides which
/// from the subject and the body. Acknowledging one is the partition reader's business
/// ([`crate::PartitionReader::ack`]); a tenant reader needs no acknowledgements.
#[derive(Debug)]
pub struct Delivery {
    // Kept whole: acknowledgements are replies to it.
    message: jetstream::Message,
    sequence: u64,
    consumer_sequence: u64,
    deliveries: i64,
    pending: u64,
}

impl Delivery {
    /// Wraps `message`; a message without JetStream delivery information (never seen in
    /// practice) counts as sequence 0, delivered 0 times.
    pub(crate) fn new(message: jetstream::Message) -> Self {
        let (sequence, consumer_sequence, deliveries, pending) = message
            .info()
            .map(|i| (i.stream_sequence, i.consumer_sequence, i.delivered, i.pending))
            .unwrap_or_default();
        Self {
            message,
            sequence,
            consumer_sequence,
            deliveries,
            pending,
        }
    }

    /// Wraps `message`, which must carry its delivery information.
    pub(crate) fn with_info(message: jetstream::Message) -> Result<Self, async_nats::Error> {
        let (sequence, consumer_sequence, deliveries, pending) = message
            .info()
            .map(|i| (i.stream_sequence, i.consumer_sequence, i.delivered, i.pending))?;
        Ok(Self {
            message,
            sequence,
            consumer_sequence,
            deliveries,
            pending,
        })
    }

    /// The subject it was stored under.
    pub fn subject(&self) -> &str {
        &self.message.subject
    }

    /// The body as stored.
    pub fn payload(&self) -> &Bytes {
        &self.message.payload
    }

    /// Its stream sequence.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// How many times it has been delivered, this delivery included.
    pub fn deliveries(&self) -> i64 {
        self.deliveries
    }

    /// How many messages the reader had left to deliver after this one when it was sent.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// The consumer's own sequence of this delivery (rewound by a reset).
    pub(crate) fn consumer_sequence(&self) -> u64 {
        self.consumer_sequence
    }

    /// The trace position the event was appended under, if it carries a valid one (see
    /// [`trace_of`]).
    pub fn trace(&self) -> Option<telemetry::trace::TraceContext> {
        trace_of(self.message.headers.as_ref())
    }

    /// The `Nats-Pin-Id` of a pinned-client delivery.
    pub(crate) fn pin_id(&self) -> Option<&str> {
        self.message
            .headers
            .as_ref()
            .and_then(|h| h.get(PIN_HEADER))
            .map(|v| v.as_str())
    }

    /// The message, to acknowledge it.
    pub(crate) fn message(&self) -> &jetstream::Message {
        &self.message
    }
}

/// The trace position in a stored event's headers: `Tillstream-Trace`, or for an event
/// appended before it existed, `traceparent` (`events::headers::TRACE`). A malformed value
/// is no trace: the reader's span starts a new one.
pub fn trace_of(headers: Option<&async_nats::HeaderMap>) -> Option<telemetry::trace::TraceContext> {
    let headers = headers?;
    headers
        .get(events::headers::TRACE)
        .or_else(|| headers.get(events::headers::LEGACY_TRACEPARENT))
        .and_then(|v| telemetry::trace::TraceContext::parse(v.as_str()))
}

/// Header carrying the pin id of a pinned-client delivery.
const PIN_HEADER: &str = "Nats-Pin-Id";

#[cfg(test)]
mod tests {
    use async_nats::HeaderMap;
    use events::headers::{LEGACY_TRACEPARENT, TRACE};

    use super::trace_of;

    const NEW: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const OLD: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    fn with(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, *value);
        }
        headers
    }

    fn trace_id(headers: &HeaderMap) -> Option<String> {
        trace_of(Some(headers)).map(|t| t.trace_id())
    }

    #[test]
    fn the_trace_is_read_from_its_header_and_from_the_one_older_events_carry() {
        assert_eq!(
            trace_id(&with(&[(TRACE, NEW)])).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(
            trace_id(&with(&[(LEGACY_TRACEPARENT, OLD)])).as_deref(),
            Some("0af7651916cd43dd8448eb211c80319c")
        );
        // Both (never written together): the current header wins.
        assert_eq!(
            trace_id(&with(&[(LEGACY_TRACEPARENT, OLD), (TRACE, NEW)])).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }

    #[test]
    fn no_header_or_a_malformed_one_is_no_trace() {
        assert!(trace_of(None).is_none());
        assert!(trace_id(&with(&[])).is_none());
        assert!(trace_id(&with(&[(TRACE, "00-not-a-trace")])).is_none());
        assert!(trace_id(&with(&[("Nats-Expected-Last-Subject-Sequence", "0")])).is_none());
    }
}
