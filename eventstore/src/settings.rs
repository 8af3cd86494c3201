//! The stream's configuration and its idempotent creation.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use events::SubjectScheme;

use crate::error::{Cause, SetupError};

/// What the event stream looks like. Every process that touches the stream builds the same
/// settings from its configuration, so whichever starts first creates it.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// Stream name (default `POS`).
    pub name: String,
    /// Subject scheme; the stream captures `<prefix>.>`. Its partition count is used only
    /// when the stream is created; an existing stream's recorded count wins.
    pub scheme: SubjectScheme,
    /// Replicas: 1 on a single server, 3 on a cluster.
    pub replicas: usize,
    /// JetStream's de-duplication window for `Nats-Msg-Id`. Idempotency does not depend on
    /// it (per-subject expectations do that forever); it only absorbs a publisher's own
    /// immediate retries.
    pub duplicate_window: Duration,
    /// How long a client's `Idempotency-Key` stays claimed for its tenant across
    /// aggregates (its bucket's `max_age`). Within one aggregate, retries are recognised
    /// forever from the events themselves.
    pub key_retention: Duration,
    /// Most consumers the stream may have (-1: no limit). Set explicitly: NATS 2.15
    /// gives a stream that sets none a default of 1,000 (`default_max_consumers`), and every
    /// tenant shares this stream, each open feed stream and feed page holding an ephemeral
    /// consumer, so the whole platform would be refused its 1,001st reader.
    pub max_consumers: i32,
}

impl StreamSettings {
    /// Default retention of client idempotency keys: offline terminals resend after days.
    pub const DEFAULT_KEY_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
    /// Default stream name.
    pub const DEFAULT_NAME: &'static str = "POS";
    /// Stream metadata key recording the partition count.
    pub const PARTITIONS_METADATA: &'static str = "tillstream.partitions";
    /// Default of [`StreamSettings::max_consumers`]: far above what the API's connection
    /// caps let its processes open, still a bound.
    pub const DEFAULT_MAX_CONSUMERS: i32 = 100_000;

    /// Settings for a single server with the given name and scheme.
    pub fn new(name: impl Into<String>, scheme: SubjectScheme) -> Self {
        Self {
            name: name.into(),
            scheme,
            replicas: 1,
            duplicate_window: Duration::from_secs(120),
            key_retention: Self::DEFAULT_KEY_RETENTION,
            max_consumers: Self::DEFAULT_MAX_CONSUMERS,
        }
    }

    /// The JetStream configuration these settings stand for.
    pub fn stream_config(&self) -> stream::Config {
        stream::Config {
            name: self.name.clone(),
            description: Some("tillstream events: every tenant's commands, as facts".to_owned()),
            subjects: vec![self.scheme.all_filter()],
            // Events are the source of truth: never expire, never drop.
            retention: stream::RetentionPolicy::Limits,
            max_age: Duration::ZERO,
            max_messages: -1,
            max_bytes: -1,
            max_messages_per_subject: -1,
            discard: stream::DiscardPolicy::New,
            storage: stream::StorageType::File,
            num_replicas: self.replicas,
            max_consumers: self.max_consumers,
            duplicate_window: self.duplicate_window,
            // Aggregate histories are read by subject with direct gets.
            allow_direct: true,
            // Single messages may not be deleted (history is append-only); purging a whole
            // tenant's subjects stays possible for erasure.
            deny_delete: true,
            deny_purge: false,
            metadata: [(
                Self::PARTITIONS_METADATA.to_owned(),
                self.scheme.partitions().to_string(),
            )]
            .into(),
            ..Default::default()
        }
    }

    /// Creates the stream, or updates it to these settings if it exists, keeping the
    /// partition count it was created with. Returns the stream and the effective scheme.
    pub async fn ensure(&self, jetstream: &jetstream::Context) -> Result<(stream::Stream, SubjectScheme), SetupError> {
        let error = |source: Cause| SetupError {
            stream: self.name.clone(),
            source,
        };
        let mut effective = self.clone();
        if let Ok(mut existing) = jetstream.get_stream(&self.name).await {
            let info = existing.info().await.map_err(|e| error(e.into()))?;
            if let Some(recorded) = info.config.metadata.get(Self::PARTITIONS_METADATA) {
                let partitions = recorded.parse::<u32>().map_err(|e| {
                    error(format!("metadata {} is {recorded:?}: {e}", Self::PARTITIONS_METADATA).into())
                })?;
                if partitions != self.scheme.partitions() {
                    tracing::info!(stream = %self.name, partitions, configured = self.scheme.partitions(),
                        "using the partition count the stream was created with");
                }
                effective.scheme =
                    SubjectScheme::with_partitions(self.scheme.prefix(), partitions).map_err(|e| error(e.into()))?;
            }
        }
        jetstream
            .create_or_update_stream(effective.stream_config())
            .await
            .map_err(|e| error(e.into()))?;
        let stream = jetstream.get_stream(&self.name).await.map_err(|e| error(e.into()))?;
        Ok((stream, effective.scheme))
    }
}
