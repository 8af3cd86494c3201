//! Errors of the event store, grouped by what the caller should do about them.

/// Why an append did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The aggregate's subject moved on since the expectation was formed (JetStream error
    /// 10071): reload the history and decide again.
    #[error("the aggregate changed concurrently (expected last subject sequence {expected})")]
    Conflict {
        /// The sequence that was expected.
        expected: u64,
    },
    /// NATS or the stream is not reachable, did not acknowledge in time, or cannot store
    /// now (JetStream status 503: storage or resources exhausted, no quorum). Nothing is
    /// known to be stored; the client may retry with the same idempotency key.
    #[error("the event store is unavailable: {0}")]
    Unavailable(String),
    /// The server refused the message for another reason.
    #[error("the event store refused the event: {0}")]
    Rejected(String),
    /// The envelope could not be encoded (a bug).
    #[error(transparent)]
    Encode(#[from] events::codec::EncodeError),
}

/// Why a history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// NATS or the stream is not reachable or did not answer in time.
    #[error("the event store is unavailable: {0}")]
    Unavailable(String),
    /// A stored event could not be decoded.
    #[error("event at sequence {sequence} cannot be decoded: {source}")]
    Decode {
        /// Its stream sequence.
        sequence: u64,
        /// Why.
        #[source]
        source: events::DecodeError,
    },
    /// The server answered with an error.
    #[error("reading the event store failed: {0}")]
    Other(String),
}

/// The stream could not be created or updated.
#[derive(Debug, thiserror::Error)]
#[error("cannot create or update stream {stream}: {message}")]
pub struct SetupError {
    /// The stream.
    pub stream: String,
    /// The server's or client's message.
    pub message: String,
}
