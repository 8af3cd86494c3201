//! Errors of the event store, grouped by what the caller should do about them. Each keeps
//! the NATS client's error as its source, so a log of the chain says what went wrong.
//!
//! Callers answer them differently: a command API maps [`AppendError::Conflict`] to 409
//! (after deciding again), [`AppendError::Unavailable`] and [`ReadError::Unavailable`] to
//! 503 with `Retry-After`, and everything else to 500.

/// The underlying failure as the NATS client (or the stream's own checks) reported it.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why an append did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The aggregate's subject moved on since the expectation was formed (JetStream error
    /// 10071): reload the history and decide again. 409 once the retries are exhausted.
    #[error("the aggregate changed concurrently (expected last subject sequence {expected})")]
    Conflict {
        /// The sequence that was expected.
        expected: u64,
    },
    /// NATS or the stream is not reachable, did not acknowledge in time, or cannot store
    /// now (JetStream status 503: storage or resources exhausted, no quorum). Nothing is
    /// known to be stored; the client may retry with the same idempotency key. 503.
    #[error("the event store is unavailable")]
    Unavailable(#[source] Cause),
    /// The server refused the message for another reason. 500.
    #[error("the event store refused the message")]
    Rejected(#[source] Cause),
    /// The envelope or marker could not be encoded (a bug). 500.
    #[error(transparent)]
    Encode(#[from] events::codec::EncodeError),
    /// A control marker's job id is not a valid subject token. 500.
    #[error("the control marker's job id cannot be a subject token")]
    InvalidMarker(#[source] events::IdError),
}

/// Why a history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// NATS or the stream is not reachable or did not answer in time. 503.
    #[error("the event store is unavailable")]
    Unavailable(#[source] Cause),
    /// A stored event could not be decoded. 500.
    #[error("event at sequence {sequence} cannot be decoded")]
    Decode {
        /// Its stream sequence.
        sequence: u64,
        /// Why.
        #[source]
        source: events::DecodeError,
    },
    /// The server answered with an error. 500.
    #[error("reading the event store failed")]
    Other(#[source] Cause),
}

/// A request about the stream's readers or contents failed: opening, resetting or pulling
/// from a partition or tenant reader, acknowledging, reading a reader's position or the
/// stream's state, purging a tenant. The operator jobs and the projector retry or report
/// these; none of them is an HTTP answer of the command API.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed")]
pub struct StreamError {
    /// What was being done, e.g. "resetting consumer projector-p3".
    pub operation: String,
    /// Why.
    #[source]
    pub source: Cause,
}

impl StreamError {
    /// `operation` failed because of `source`.
    pub(crate) fn new(operation: impl Into<String>, source: impl Into<Cause>) -> Self {
        Self {
            operation: operation.into(),
            source: source.into(),
        }
    }
}

/// The stream could not be created or updated.
#[derive(Debug, thiserror::Error)]
#[error("cannot create or update stream {stream}")]
pub struct SetupError {
    /// The stream.
    pub stream: String,
    /// The server's or client's error.
    #[source]
    pub source: Cause,
}
