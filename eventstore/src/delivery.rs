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

    /// The trace position the event was appended under (its `traceparent` header), if it
    /// carries a valid one.
    pub fn trace(&self) -> Option<telemetry::trace::TraceContext> {
        self.message
            .headers
            .as_ref()
            .and_then(|h| h.get(telemetry::trace::TRACEPARENT))
            .and_then(|v| telemetry::trace::TraceContext::parse(v.as_str()))
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

/// Header carrying the pin id of a pinned-client delivery.
const PIN_HEADER: &str = "Nats-Pin-Id";
