//! The pinned, ordered reader of one partition: how the live projector consumes the stream.
//!
//! Each partition has a durable pull consumer (named by the caller, e.g. `projector-p<n>`)
//! filtering `<subject-prefix>.<n>.>`, acknowledged with `AckAll` after the caller's
//! writes are durable. Its priority group uses JetStream's pinned-client policy: every
//! process pulls every partition, the server delivers each partition to one pinned process
//! at a time, and when that process stops pulling for the pin's time-to-live the pin moves
//! to a standby process. Per-tenant order follows from one reader per partition reading in
//! stream order.
//!
//! A reader that starts on a partition ([`crate::EventStore::partition_reader`]), or finds
//! itself newly pinned (a new `Nats-Pin-Id`), first resets the consumer to its ack floor
//! (ADR-60) and drops whatever it received before the reset took effect, so messages the
//! previous reader left unacknowledged are delivered again, in order, before anything
//! newer. The first delivery after the reset is recognised exactly: the partition's first
//! message from the reset point, carrying the consumer sequence the reset rewound to
//! (deliveries sent before the reset carry higher consumer sequences). The caller only sees
//! batches in stream order ([`PartitionReader::next_batch`]); applying a message twice must
//! change nothing on its side, and then the one thing that matters, never applying a newer
//! event of a tenant before an older one, is what the reset guarantees.

use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PriorityPolicy, PullConsumer, pull};
use async_nats::jetstream::stream::DirectGetErrorKind;
use futures::StreamExt;
use tokio::time::Instant;

use crate::delivery::Delivery;
use crate::error::StreamError;
use crate::store::EventStore;

/// How a partition reader is configured. Every process reading the same partition must use
/// the same settings: the consumer is durable and shared.
#[derive(Debug, Clone)]
pub struct PartitionReaderSettings {
    /// The durable consumer's name (e.g. `projector-p3`).
    pub name: String,
    /// The partition it reads.
    pub partition: u32,
    /// The priority group the processes pull with (e.g. `projector`).
    pub group: String,
    /// How long a delivery may stay unacknowledged before it is delivered again.
    pub ack_wait: Duration,
    /// Deliveries of one message before JetStream gives up on it.
    pub max_deliver: i64,
    /// Unacknowledged deliveries allowed at once.
    pub max_ack_pending: i64,
    /// How long a pinned process may stop pulling before the pin moves to a standby.
    pub pin_ttl: Duration,
    /// Largest batch [`PartitionReader::next_batch`] returns while it keeps up.
    pub batch_size: usize,
    /// Largest batch while a backlog of small tenants waits: a batch that filled up to
    /// `batch_size` with tenants averaging at most `sparse_events` events each goes on
    /// taking messages as long as the server reports more waiting, up to this many (at
    /// least `batch_size`; more than `max_ack_pending` is never reached). Catching up many
    /// small tenants is then one pass over each tenant's documents for several of its
    /// events (docs/performance.md). Batches of a few large tenants do not grow: they gain
    /// nothing from it and would only take memory.
    pub backlog_batch_size: usize,
    /// The most events per tenant, on average over a full batch, for which it grows.
    pub sparse_events: usize,
    /// How long a batch waits for more messages once it has one.
    pub linger: Duration,
}

impl PartitionReaderSettings {
    fn consumer_config(&self, store: &EventStore) -> pull::Config {
        pull::Config {
            durable_name: Some(self.name.clone()),
            description: Some(format!("tillstream {}, partition {}", self.group, self.partition)),
            filter_subject: store.scheme().partition_filter(self.partition),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::All,
            ack_wait: self.ack_wait,
            max_deliver: self.max_deliver,
            max_ack_pending: self.max_ack_pending,
            priority_policy: PriorityPolicy::PinnedClient,
            priority_groups: vec![self.group.clone()],
            priority_timeout: self.pin_ttl,
            ..Default::default()
        }
    }

    /// Expiry of each pull request: short enough to notice a lost pin quickly.
    fn pull_expiry(&self) -> Duration {
        Duration::from_secs(self.pin_ttl.as_secs().clamp(2, 10) / 2)
    }
}

/// How many tenants a batch holds: its distinct subjects without their last two tokens
/// (the aggregate's kind and id; `<prefix>.<partition>.<tenant>` remains).
fn tenants(batch: &[Delivery]) -> usize {
    batch
        .iter()
        .map(|delivery| delivery.subject().rsplitn(3, '.').nth(2).unwrap_or_default())
        .collect::<std::collections::HashSet<&str>>()
        .len()
}

/// Longest wait for the next message of a backlog (see [`PartitionReader::next_batch`]).
const BACKLOG_WAIT: Duration = Duration::from_millis(50);

/// Where a partition reader's durable consumer stands (what lag reports show).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderPosition {
    /// Messages of the partition not delivered yet.
    pub pending: u64,
    /// Deliveries not acknowledged yet.
    pub ack_pending: usize,
    /// Stream sequence up to which everything is acknowledged.
    pub ack_floor: u64,
    /// Stream sequence of the last delivery.
    pub delivered: u64,
}

/// The pinned, ordered reader of one partition (see the [module](self) documentation).
pub struct PartitionReader {
    store: EventStore,
    settings: PartitionReaderSettings,
    messages: pull::Stream,
    /// The pin this process last saw.
    pin: Option<String>,
    /// After a reset: the (stream sequence, consumer sequence) of the first delivery made
    /// after it. Everything received before that was sent before the reset is dropped.
    resume_at: Option<(u64, u64)>,
}

impl EventStore {
    /// Opens the partition reader `settings` describe: creates (or updates) its durable
    /// consumer, resets it to its ack floor and starts pulling in its priority group.
    pub async fn partition_reader(&self, settings: PartitionReaderSettings) -> Result<PartitionReader, StreamError> {
        let name = settings.name.clone();
        let consumer: PullConsumer = self
            .stream()
            .create_consumer(settings.consumer_config(self))
            .await
            .map_err(|e| StreamError::new(format!("creating consumer {name}"), e))?;
        self.stream()
            .reset_consumer(&name, None)
            .await
            .map_err(|e| StreamError::new(format!("resetting consumer {name}"), e))?;
        let messages = consumer
            .stream()
            .group(settings.group.as_str())
            .max_messages_per_batch(settings.batch_size)
            .expires(settings.pull_expiry())
            .messages()
            .await
            .map_err(|e| StreamError::new(format!("pulling from {name}"), e))?;
        Ok(PartitionReader {
            store: self.clone(),
            settings,
            messages,
            pin: None,
            resume_at: None,
        })
    }

    /// Where the durable partition reader `name` stands.
    pub async fn reader_position(&self, name: &str) -> Result<ReaderPosition, StreamError> {
        let info = self
            .stream()
            .consumer_info(name)
            .await
            .map_err(|e| StreamError::new(format!("reading the state of consumer {name}"), e))?;
        Ok(ReaderPosition {
            pending: info.num_pending,
            ack_pending: info.num_ack_pending,
            ack_floor: info.ack_floor.stream_sequence,
            delivered: info.delivered.stream_sequence,
        })
    }
}

impl PartitionReader {
    /// The durable consumer's name.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// The next batch of the partition, in stream order: waits for a first message, then
    /// up to the linger time for more (up to the batch size); a full batch of small tenants
    /// grows while a backlog waits (up to the backlog batch size, see
    /// [`PartitionReaderSettings`]). Never empty. Deliveries sent before this process was
    /// (newly) pinned are dropped after resetting to the ack floor.
    /// Fails when pulling fails; open a new reader then.
    pub async fn next_batch(&mut self) -> Result<Vec<Delivery>, StreamError> {
        loop {
            let batch = self.receive().await?;
            let ready = self.in_order(batch).await?;
            if !ready.is_empty() {
                return Ok(ready);
            }
        }
    }

    /// Whatever arrives: a first message, then more until the linger time is over.
    async fn receive(&mut self) -> Result<Vec<Delivery>, StreamError> {
        let name = &self.settings.name;
        let first = match self.messages.next().await {
            Some(Ok(message)) => message,
            Some(Err(err)) => return Err(StreamError::new(format!("pulling from {name}"), err)),
            None => {
                return Err(StreamError::new(
                    format!("pulling from {name}"),
                    "the message stream ended",
                ));
            }
        };
        let mut batch = vec![Delivery::new(first)];
        let linger = Instant::now() + self.settings.linger;
        while batch.len() < self.settings.batch_size {
            match tokio::time::timeout_at(linger, self.messages.next()).await {
                Ok(Some(Ok(message))) => batch.push(Delivery::new(message)),
                Ok(Some(Err(err))) => {
                    tracing::debug!(partition = self.settings.partition, error = %err, "pull status");
                }
                Ok(None) | Err(_) => break,
            }
        }
        // A backlog of small tenants (the batch filled up with few events per tenant and
        // the server reports more waiting): take what keeps coming. The server has those
        // messages, so each may take longer than the linger time (a busy machine); it stops
        // when the server stops sending (nothing left, or `max_ack_pending` reached).
        let backlog_limit = self.settings.backlog_batch_size.max(self.settings.batch_size);
        let backlog_wait = (self.settings.linger * 10).max(BACKLOG_WAIT);
        let grow =
            batch.len() >= self.settings.batch_size && tenants(&batch) * self.settings.sparse_events >= batch.len();
        while grow && batch.len() < backlog_limit && batch.last().is_some_and(|delivery| delivery.pending() > 0) {
            match tokio::time::timeout(backlog_wait, self.messages.next()).await {
                Ok(Some(Ok(message))) => batch.push(Delivery::new(message)),
                Ok(Some(Err(err))) => {
                    tracing::debug!(partition = self.settings.partition, error = %err, "pull status");
                    break;
                }
                Ok(None) | Err(_) => break,
            }
        }
        Ok(batch)
    }

    /// Drops what was sent before the latest reset; resets again on a new pin.
    async fn in_order(&mut self, batch: Vec<Delivery>) -> Result<Vec<Delivery>, StreamError> {
        let mut ready = Vec::with_capacity(batch.len());
        for delivery in batch {
            let pin = delivery.pin_id();
            if pin.is_some() && pin != self.pin.as_deref() {
                self.pin = pin.map(str::to_owned);
                self.reset().await?;
                ready.clear();
                continue;
            }
            if let Some(resume) = self.resume_at {
                if (delivery.sequence(), delivery.consumer_sequence()) != resume {
                    continue;
                }
                self.resume_at = None;
            }
            ready.push(delivery);
        }
        Ok(ready)
    }

    /// Resets the consumer to its ack floor and notes which delivery comes first after it.
    async fn reset(&mut self) -> Result<(), StreamError> {
        let name = &self.settings.name;
        let reset = self
            .store
            .stream()
            .reset_consumer(name, None)
            .await
            .map_err(|e| StreamError::new(format!("resetting consumer {name}"), e))?;
        let first = self.first_from(reset.reset_seq).await?;
        self.resume_at = first.map(|sequence| (sequence, reset.info.ack_floor.consumer_sequence + 1));
        tracing::info!(
            partition = self.settings.partition,
            next = reset.reset_seq,
            resume_at = ?self.resume_at,
            "pinned to this process; replaying from the ack floor"
        );
        Ok(())
    }

    /// The first sequence at or after `from` in the partition, if any.
    async fn first_from(&self, from: u64) -> Result<Option<u64>, StreamError> {
        let filter = self.store.scheme().partition_filter(self.settings.partition);
        match self
            .store
            .stream()
            .direct_get_next_for_subject(filter, Some(from.max(1)))
            .await
        {
            Ok(message) => Ok(Some(message.sequence)),
            Err(err) if err.kind() == DirectGetErrorKind::NotFound => Ok(None),
            Err(err) => Err(StreamError::new(format!("finding the first message from {from}"), err)),
        }
    }

    /// Acknowledges `last` and, the consumer acknowledging all, every delivery before it.
    pub async fn ack(&self, last: &Delivery) -> Result<(), StreamError> {
        last.message()
            .ack()
            .await
            .map_err(|e| StreamError::new(format!("acknowledging sequence {}", last.sequence()), e))
    }

    /// Tells the server the caller is still working on `batch`, so it is not delivered
    /// again meanwhile (best effort).
    pub async fn keep_in_progress(&self, batch: &[Delivery]) {
        for delivery in batch {
            let _ = delivery.message().ack_with(AckKind::Progress).await;
        }
    }

    /// Gives the pin up at once, so a standby takes the partition over now instead of after
    /// the pin's time-to-live. Call it when stopping.
    pub async fn release(&self) -> Result<(), StreamError> {
        let name = &self.settings.name;
        self.store
            .stream()
            .unpin_consumer(name, &self.settings.group)
            .await
            .map_err(|e| StreamError::new(format!("releasing the pin of {name}"), e))
    }
}
