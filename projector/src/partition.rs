//! One partition's consumer: pull in stream order, apply per tenant, acknowledge.
//!
//! Each partition has a durable pull consumer `<prefix>-p<n>` filtering
//! `<subject-prefix>.<n>.>`, acknowledged with `AckAll` after the batch's writes are
//! durable. Its priority group uses JetStream's pinned-client policy: every projector
//! process pulls every partition, the server delivers each partition to one pinned process
//! at a time, and when that process stops pulling for `PINNED_TTL_SECS` the pin moves to a
//! standby process. Per-tenant order follows from one reader per partition reading in
//! stream order.
//!
//! A process that starts on a partition, or finds itself newly pinned (a new
//! `Nats-Pin-Id`), first resets the consumer to its ack floor (ADR-60) and drops whatever
//! it received before the reset took effect, so messages the previous reader left
//! unacknowledged are delivered again, in order, before anything newer. The first delivery
//! after the reset is recognised exactly: the partition's first message from the reset
//! point, carrying the consumer sequence the reset rewound to (deliveries sent before the
//! reset carry higher consumer sequences). Applying an event
//! that was already applied changes nothing (see [`crate::store::writer`]), so the only
//! thing that matters is never to apply a newer event of a tenant before an older one, and
//! this is what the reset guarantees.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{self, AckPolicy, DeliverPolicy, PriorityPolicy, pull};
use async_nats::jetstream::stream::DirectGetErrorKind;
use events::{SubjectScheme, TenantId};
use eventstore::EventStore;
use futures::StreamExt;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::Config;
use crate::model::docs::collections::Target;
use crate::projection::{self, Item};
use crate::replay::marker::ControlMarker;
use crate::replay::swap;
use crate::store::TenantDatabases;
use crate::store::writer::{self, ParkedDoc};

/// The priority group every projector process pulls with.
pub const GROUP: &str = "projector";
/// Header carrying the pin id of a pinned-client delivery.
const PIN_HEADER: &str = "Nats-Pin-Id";

/// What a partition worker needs.
#[derive(Clone)]
pub struct PartitionContext {
    /// The event store (stream, scheme).
    pub store: EventStore,
    /// Tenant databases.
    pub databases: Arc<TenantDatabases>,
    /// Configuration.
    pub config: Arc<Config>,
}

/// The consumer configuration of partition `partition`.
pub fn consumer_config(config: &Config, scheme: &SubjectScheme, partition: u32) -> pull::Config {
    pull::Config {
        durable_name: Some(consumer_name(config, partition)),
        description: Some(format!("tillstream projector, partition {partition}")),
        filter_subject: scheme.partition_filter(partition),
        deliver_policy: DeliverPolicy::All,
        ack_policy: AckPolicy::All,
        ack_wait: config.ack_wait(),
        max_deliver: config.max_deliver,
        max_ack_pending: config.max_ack_pending,
        priority_policy: PriorityPolicy::PinnedClient,
        priority_groups: vec![GROUP.to_owned()],
        priority_timeout: Duration::from_secs(config.pinned_ttl_secs),
        ..Default::default()
    }
}

/// `<prefix>-p<partition>`.
pub fn consumer_name(config: &Config, partition: u32) -> String {
    format!("{}-p{partition}", config.consumer_prefix)
}

/// Consumes partition `partition` until `shutdown` turns true. Returns only on shutdown;
/// errors are logged and retried with a pause.
pub async fn run(context: PartitionContext, partition: u32, mut shutdown: watch::Receiver<bool>) {
    if !context.config.prefers(partition) {
        let delay = Duration::from_secs(context.config.standby_delay_secs);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {},
            () = crate::shutdown::requested(&mut shutdown) => return,
        }
    }
    loop {
        match consume(&context, partition, &mut shutdown).await {
            Ok(()) => return,
            Err(err) => {
                tracing::warn!(partition, error = %err, "partition consumer failed; restarting");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {},
                    () = crate::shutdown::requested(&mut shutdown) => return,
                }
            }
        }
    }
}

async fn consume(
    context: &PartitionContext,
    partition: u32,
    shutdown: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let config = &context.config;
    let stream = context.store.stream();
    let scheme = context.store.scheme();
    let name = consumer_name(config, partition);
    // A tenant may have moved while another process held this partition.
    if let Err(err) = context.databases.refresh_placements().await {
        tracing::warn!(partition, error = %err, "cannot refresh the placement map");
    }
    let consumer: consumer::PullConsumer = stream
        .create_consumer(consumer_config(config, scheme, partition))
        .await
        .map_err(|e| anyhow::anyhow!("creating consumer {name}: {e}"))?;
    stream
        .reset_consumer(&name, None)
        .await
        .map_err(|e| anyhow::anyhow!("resetting consumer {name}: {e}"))?;
    let mut messages = consumer
        .stream()
        .group(GROUP)
        .max_messages_per_batch(config.batch_size)
        .expires(Duration::from_secs(config.pinned_ttl_secs.clamp(2, 10) / 2))
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("pulling from {name}: {e}"))?;
    tracing::info!(partition, consumer = %name, "partition consumer started");

    let mut pin: Option<String> = None;
    // After a reset: the (stream sequence, consumer sequence) of the first delivery made
    // after it. Everything received before that was sent before the reset and is dropped.
    let mut resume_at: Option<(u64, u64)> = None;
    loop {
        let first = tokio::select! {
            next = messages.next() => next,
            () = crate::shutdown::requested(shutdown) => {
                // Hand the partition over at once instead of after the pin's timeout.
                if let Err(err) = stream.unpin_consumer(&name, GROUP).await {
                    tracing::debug!(partition, error = %err, "releasing the pin failed; it will expire");
                }
                return Ok(());
            }
        };
        let Some(first) = first else {
            anyhow::bail!("message stream of {name} ended")
        };
        let mut batch = vec![first.map_err(|e| anyhow::anyhow!("{e}"))?];
        let linger = Instant::now() + Duration::from_millis(5);
        while batch.len() < config.batch_size {
            match tokio::time::timeout_at(linger, messages.next()).await {
                Ok(Some(Ok(message))) => batch.push(message),
                Ok(Some(Err(err))) => tracing::debug!(partition, error = %err, "pull status"),
                Ok(None) | Err(_) => break,
            }
        }

        let mut ready = Vec::with_capacity(batch.len());
        for message in batch {
            let message_pin = message
                .headers
                .as_ref()
                .and_then(|h| h.get(PIN_HEADER))
                .map(|v| v.as_str().to_owned());
            if message_pin.is_some() && message_pin != pin {
                pin = message_pin;
                let reset = stream
                    .reset_consumer(&name, None)
                    .await
                    .map_err(|e| anyhow::anyhow!("resetting {name}: {e}"))?;
                let first = first_from(&context.store, scheme, partition, reset.reset_seq).await?;
                resume_at = first.map(|sequence| (sequence, reset.info.ack_floor.consumer_sequence + 1));
                tracing::info!(
                    partition,
                    next = reset.reset_seq,
                    ?resume_at,
                    "pinned to this process; replaying from the ack floor"
                );
                ready.clear();
                continue;
            }
            let (sequence, delivery) = message
                .info()
                .map(|i| (i.stream_sequence, i.consumer_sequence))
                .unwrap_or_default();
            if let Some(resume) = resume_at {
                if (sequence, delivery) != resume {
                    continue;
                }
                resume_at = None;
            }
            ready.push(message);
        }
        if ready.is_empty() {
            continue;
        }
        apply_batch(context, partition, &ready, shutdown).await;
        if let Some(last) = ready.last()
            && let Err(err) = last.ack().await
        {
            tracing::warn!(partition, error = %err, "acknowledging the batch failed; it will be delivered again");
        }
    }
}

/// The first sequence at or after `from` in `partition`, if any.
async fn first_from(
    store: &EventStore,
    scheme: &SubjectScheme,
    partition: u32,
    from: u64,
) -> anyhow::Result<Option<u64>> {
    match store
        .stream()
        .direct_get_next_for_subject(scheme.partition_filter(partition), Some(from.max(1)))
        .await
    {
        Ok(message) => Ok(Some(message.sequence)),
        Err(err) if err.kind() == DirectGetErrorKind::NotFound => Ok(None),
        Err(err) => Err(anyhow::anyhow!("finding the first message from {from}: {err}")),
    }
}

/// Applies a batch, retrying failed tenants with backoff (keeping the messages in
/// progress meanwhile) until all succeeded or shutdown was requested.
async fn apply_batch(
    context: &PartitionContext,
    partition: u32,
    batch: &[async_nats::jetstream::Message],
    shutdown: &watch::Receiver<bool>,
) {
    let started = Instant::now();
    let (tenants, unroutable) = sort(context, batch);
    if !unroutable.is_empty() {
        let db = context.databases.main_client().database(&context.config.projector_db);
        let mut backoff = Backoff::new();
        while let Err(err) = writer::write(
            &db,
            &Target::live(),
            &Default::default(),
            &Default::default(),
            &unroutable,
        )
        .await
        {
            tracing::error!(partition, error = %err, "parking unroutable messages failed; retrying");
            backoff.wait(batch, context.config.ack_wait()).await;
        }
    }
    let work = tenants.into_iter().map(|(tenant, items)| async move {
        for segment in segments(items) {
            let mut backoff = Backoff::new();
            loop {
                let outcome = match &segment {
                    Segment::Items(items) => projection::apply(&context.databases, &tenant, items).await.map(|applied| {
                        metrics::counter!("projector_events_applied_total").increment(applied.events as u64);
                        metrics::counter!("projector_events_parked_total").increment(applied.parked as u64);
                    }).map_err(|e| e.to_string()),
                    Segment::Control(sequence, marker) => {
                        swap::perform(&context.store, &context.databases, &tenant, *sequence, marker).await.map_err(|e| e.to_string())
                    }
                };
                match outcome {
                    Ok(()) => break,
                    Err(err) => {
                        metrics::counter!("projector_apply_retries_total").increment(1);
                        tracing::warn!(partition, tenant = %tenant, error = %err, "applying events failed; backing off");
                        if *shutdown.borrow() {
                            return;
                        }
                        backoff.wait(batch, context.config.ack_wait()).await;
                    }
                }
            }
        }
    });
    futures::stream::iter(work)
        .buffer_unordered(context.config.tenant_concurrency.max(1))
        .collect::<Vec<()>>()
        .await;
    metrics::histogram!("projector_batch_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("projector_batch_messages").record(batch.len() as f64);
}

/// A run of a tenant's items to apply together, or a control marker between two runs.
enum Segment {
    Items(Vec<Item>),
    Control(u64, ControlMarker),
}

/// Cuts a tenant's items at its control markers, keeping the order.
fn segments(items: Vec<Item>) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    for item in items {
        match item {
            Item::Control(sequence, marker) => {
                if !run.is_empty() {
                    out.push(Segment::Items(std::mem::take(&mut run)));
                }
                out.push(Segment::Control(sequence, marker));
            }
            other => run.push(other),
        }
    }
    if !run.is_empty() {
        out.push(Segment::Items(run));
    }
    out
}

/// Splits a batch into each tenant's items, in stream order, and unroutable messages.
fn sort(
    context: &PartitionContext,
    batch: &[async_nats::jetstream::Message],
) -> (Vec<(TenantId, Vec<Item>)>, Vec<ParkedDoc>) {
    let mut order: Vec<TenantId> = Vec::new();
    let mut items: HashMap<TenantId, Vec<Item>> = HashMap::new();
    let mut unroutable = Vec::new();
    for message in batch {
        match projection::classify(context.store.scheme(), message, context.config.park_after_deliveries) {
            Ok((tenant, item)) => {
                if !items.contains_key(&tenant) {
                    order.push(tenant.clone());
                }
                items.entry(tenant).or_default().push(item);
            }
            Err(parked) => unroutable.push(parked),
        }
    }
    let tenants = order
        .into_iter()
        .filter_map(|tenant| items.remove(&tenant).map(|list| (tenant, list)))
        .collect();
    (tenants, unroutable)
}

/// Exponential backoff that keeps a batch's messages from being redelivered meanwhile.
struct Backoff {
    pause: Duration,
    last_progress: Instant,
}

impl Backoff {
    fn new() -> Self {
        Self {
            pause: Duration::from_millis(100),
            last_progress: Instant::now(),
        }
    }

    async fn wait(&mut self, batch: &[async_nats::jetstream::Message], ack_wait: Duration) {
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(Duration::from_secs(10));
        if self.last_progress.elapsed() >= ack_wait / 3 {
            for message in batch {
                let _ = message.ack_with(AckKind::Progress).await;
            }
            self.last_progress = Instant::now();
        }
    }
}
