//! A per-test JetStream stream with its own subject prefix.

use anyhow::Context;
use async_nats::jetstream;
use events::SubjectScheme;
use eventstore::StreamSettings;

use crate::names::unique_prefix;

/// A stream `<PREFIX>` capturing `<prefix>.>`, so a test can count or read every message it
/// caused without seeing anyone else's. Call [`TestStream::delete`] at the end; a stream
/// left behind by a failed test only costs disk in the test server's data folder.
pub struct TestStream {
    /// The stream's name.
    pub name: String,
    /// The subject scheme rooted at this stream's prefix.
    pub scheme: SubjectScheme,
    /// JetStream context used to create it.
    pub jetstream: jetstream::Context,
}

impl TestStream {
    /// The stream flags of a service using this stream on the test NATS server.
    pub fn args(&self) -> eventstore::StreamArgs {
        eventstore::StreamArgs {
            nats_url: crate::servers::nats_url(),
            nats_user: std::env::var("NATS_USER").ok(),
            nats_password: std::env::var("NATS_PASSWORD").ok().map(Into::into),
            stream_name: self.name.clone(),
            subject_prefix: self.scheme.prefix().to_owned(),
            stream_partitions: self.scheme.partitions(),
            stream_replicas: 1,
            idempotency_key_retention_days: 30,
            stream_max_consumers: eventstore::StreamSettings::DEFAULT_MAX_CONSUMERS,
        }
    }

    /// Creates a fresh stream configured exactly like the production one.
    pub async fn create(jetstream: &jetstream::Context) -> anyhow::Result<Self> {
        let prefix = unique_prefix();
        let scheme = SubjectScheme::new(prefix.clone()).context("test prefix")?;
        let name = prefix.to_uppercase();
        StreamSettings::new(name.clone(), scheme.clone())
            .ensure(jetstream)
            .await
            .with_context(|| format!("creating test stream {name}"))?;
        Ok(Self {
            name,
            scheme,
            jetstream: jetstream.clone(),
        })
    }

    /// Number of messages stored in the stream.
    pub async fn message_count(&self) -> anyhow::Result<u64> {
        let mut stream = self
            .jetstream
            .get_stream(&self.name)
            .await
            .context("getting test stream")?;
        Ok(stream.info().await.context("stream info")?.state.messages)
    }

    /// Deletes the stream.
    pub async fn delete(self) -> anyhow::Result<()> {
        self.jetstream
            .delete_stream(&self.name)
            .await
            .with_context(|| format!("deleting test stream {}", self.name))?;
        // Its idempotency keys' bucket, if a command with a key made it.
        let bucket = eventstore::keys::bucket_name(&self.name);
        if self.jetstream.get_key_value(&bucket).await.is_ok() {
            self.jetstream
                .delete_key_value(&bucket)
                .await
                .with_context(|| format!("deleting test bucket {bucket}"))?;
        }
        Ok(())
    }
}
