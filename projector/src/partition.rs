//! One partition's consumer: pull in stream order, apply per tenant, acknowledge.
//!
//! Each partition is read through an [`eventstore::PartitionReader`]: a durable pull
//! consumer `<prefix>-p<n>` in the priority group [`GROUP`], pinned to one process at a
//! time, reset to its ack floor whenever this process starts on the partition or is newly
//! pinned, so batches arrive in stream order and messages a previous reader left
//! unacknowledged come again before anything newer (see [`eventstore::partition_reader`]).
//! A batch is acknowledged (`AckAll`) after its writes are durable. Applying an event
//! that was already applied changes nothing (see [`crate::store::writer`]), so the only
//! thing that matters is never to apply a newer event of a tenant before an older one, and
//! this is what the reader guarantees.
//!
//! A control marker in a tenant's share of a batch is acted on between the tenant's events
//! before and after it ([`handover`]).
//!
//! # Layout
//! - [`handover`]: swapping in a rebuilt read model or moving a tenant at a marker.

pub mod handover;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use events::{ControlMarker, TenantId};
use eventstore::{Delivery, EventStore, PartitionReader, PartitionReaderSettings};
use futures::StreamExt;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::Config;
use crate::model::docs::collections::Target;
use crate::projection::{self, Item};
use crate::store::TenantDatabases;
use crate::store::writer::{self, ParkedDoc};

/// The priority group every projector process pulls with.
pub const GROUP: &str = "projector";

/// What a partition worker needs.
#[derive(Clone)]
pub struct PartitionContext {
    /// The event store (stream, scheme).
    pub store: EventStore,
    /// Tenant databases.
    pub databases: Arc<TenantDatabases>,
    /// Configuration.
    pub config: Arc<Config>,
    /// Cross-tenant writes: whether the servers take them, and how many were made.
    pub cross_tenant: Arc<CrossTenantWrites>,
}

/// Whether the servers take cross-database `bulkWrite` (cleared the first time one
/// refuses the command, see the partition module) and how many batches and tenants were written
/// that way, for the admin `/stats`.
#[derive(Debug)]
pub struct CrossTenantWrites {
    supported: AtomicBool,
    batches: AtomicU64,
    tenants: AtomicU64,
}

impl Default for CrossTenantWrites {
    fn default() -> Self {
        Self {
            supported: AtomicBool::new(true),
            batches: AtomicU64::new(0),
            tenants: AtomicU64::new(0),
        }
    }
}

impl CrossTenantWrites {
    /// `{supported, batches, tenants}`.
    pub fn stats(&self) -> serde_json::Value {
        serde_json::json!({
            "supported": self.supported.load(Ordering::Relaxed),
            "batches": self.batches.load(Ordering::Relaxed),
            "tenants": self.tenants.load(Ordering::Relaxed),
        })
    }
}

/// The reader settings of partition `partition`.
pub fn reader_settings(config: &Config, partition: u32) -> PartitionReaderSettings {
    PartitionReaderSettings {
        name: consumer_name(config, partition),
        partition,
        group: GROUP.to_owned(),
        ack_wait: config.ack_wait(),
        max_deliver: config.max_deliver,
        max_ack_pending: config.max_ack_pending,
        pin_ttl: Duration::from_secs(config.pinned_ttl_secs),
        batch_size: config.batch_size,
        backlog_batch_size: config
            .backlog_batch_size
            .min(usize::try_from(config.max_ack_pending).unwrap_or(usize::MAX)),
        sparse_events: GROW_FOR_EVENTS_PER_TENANT,
        linger: Duration::from_millis(5),
    }
}

/// `<prefix>-p<partition>`.
pub fn consumer_name(config: &Config, partition: u32) -> String {
    consumer_name_with(&config.consumer_prefix, partition)
}

/// `<prefix>-p<partition>` for a consumer prefix.
pub fn consumer_name_with(prefix: &str, partition: u32) -> String {
    format!("{prefix}-p{partition}")
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
                tracing::warn!(partition, error = %format!("{err:#}"), "partition consumer failed; restarting");
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
    // A tenant may have moved while another process held this partition.
    if let Err(err) = context.databases.refresh_placements().await {
        tracing::warn!(partition, error = %err, "cannot refresh the placement map");
    }
    let mut reader = context
        .store
        .partition_reader(reader_settings(&context.config, partition))
        .await?;
    tracing::info!(partition, consumer = %reader.name(), "partition consumer started");
    loop {
        let batch = tokio::select! {
            batch = reader.next_batch() => batch?,
            () = crate::shutdown::requested(shutdown) => {
                // Hand the partition over at once instead of after the pin's timeout.
                if let Err(err) = reader.release().await {
                    tracing::debug!(partition, error = %format!("{err:#}"), "releasing the pin failed; it will expire");
                }
                return Ok(());
            }
        };
        in_progress_while(
            &reader,
            &batch,
            context.config.ack_wait(),
            apply_batch(context, partition, &batch, shutdown),
        )
        .await;
        if let Some(last) = batch.last()
            && let Err(err) = reader.ack(last).await
        {
            tracing::warn!(partition, error = %format!("{err:#}"), "acknowledging the batch failed; it will be delivered again");
        }
    }
}

/// Runs `work` (applying `batch`), telling the server every third of the ack wait that
/// the batch is still in progress, so that a large batch (a backlog's) or one retried
/// with backoff is not delivered again while it is being applied.
async fn in_progress_while<F: Future>(
    reader: &PartitionReader,
    batch: &[Delivery],
    ack_wait: Duration,
    work: F,
) -> F::Output {
    let every = (ack_wait / 3).max(Duration::from_millis(100));
    let mut tick = tokio::time::interval_at(Instant::now() + every, every);
    tokio::pin!(work);
    loop {
        tokio::select! {
            output = &mut work => return output,
            _ = tick.tick() => reader.keep_in_progress(batch).await,
        }
    }
}

/// Applies a batch, retrying failed tenants with backoff until all succeeded or shutdown
/// was requested.
async fn apply_batch(context: &PartitionContext, partition: u32, batch: &[Delivery], shutdown: &watch::Receiver<bool>) {
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
            backoff.wait().await;
        }
    }
    let tenants = if context.config.cross_tenant_writes && tenants.len() > 1 {
        together(context, partition, tenants).await
    } else {
        tenants
    };
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
                        handover::perform(&context.store, &context.databases, &tenant, *sequence, marker).await.map_err(|e| format!("{:#}", anyhow::Error::new(e)))
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
                        backoff.wait().await;
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

/// Applies the sparse tenants of a batch (at most [`SPARSE_EVENTS`] events, no control
/// marker) together: each one's items
/// are folded on its own (the reads stay per database, [`TENANT_CONCURRENCY`] tenants at
/// once), then their writes go to each deployment as one `bulkWrite` per phase for every
/// `CROSS_TENANT_WRITE_TENANTS` of them ([`writer::execute_many`], [`TOGETHER_WRITES`] at
/// once).
/// Answers the tenants still to apply one by one: those
/// with markers, and any whose fold or write failed (applying again is harmless: every
/// write is idempotent), so a failure is retried with backoff by the usual path.
///
/// [`TENANT_CONCURRENCY`]: crate::config::Config::tenant_concurrency
async fn together(
    context: &PartitionContext,
    partition: u32,
    tenants: Vec<(TenantId, Vec<Item>)>,
) -> Vec<(TenantId, Vec<Item>)> {
    // Sparse tenants only: a tenant with many events in the batch is written faster on
    // its own (its reads and writes overlap other tenants'), measured in
    // docs/performance.md.
    let (simple, mut rest): (Vec<_>, Vec<_>) = tenants.into_iter().partition(|(_, items)| {
        items.len() <= SPARSE_EVENTS && !items.iter().any(|item| matches!(item, Item::Control(..)))
    });
    if simple.len() < 2 || !context.cross_tenant.supported.load(Ordering::Relaxed) {
        rest.extend(simple);
        return rest;
    }
    let databases = &context.databases;
    let folded: Vec<_> = futures::stream::iter(simple)
        .map(|(tenant, items)| async move {
            let outcome = tokio::time::timeout(databases.operation_timeout(), async {
                let db = databases.database(&tenant).await?;
                let mut snapshot = projection::live_snapshot(databases, &tenant);
                let folded = projection::fold_into(&db, &Target::live(), &tenant, &items, &mut snapshot, 0).await?;
                projection::set_up(databases, &db, &tenant, &snapshot).await?;
                Ok::<_, projection::ProjectionError>((db, folded))
            })
            .await;
            (tenant, items, outcome)
        })
        .buffer_unordered(context.config.tenant_concurrency.max(1) * FOLD_CONCURRENCY_FACTOR)
        .collect()
        .await;
    // One bulkWrite per deployment (tenants may be placed on several).
    let mut groups: HashMap<String, (mongodb::Client, Vec<FoldedTenant>)> = HashMap::new();
    for (tenant, items, outcome) in folded {
        match outcome {
            Ok(Ok((db, folded))) => {
                let uri = databases.uri_of(&tenant);
                let group = groups.entry(uri).or_insert_with(|| (db.client().clone(), Vec::new()));
                group.1.push((tenant, items, db.name().to_owned(), folded));
            }
            Ok(Err(err)) => {
                tracing::warn!(partition, tenant = %tenant, error = %err, "folding events failed; applying on its own");
                rest.push((tenant, items));
            }
            Err(_) => {
                tracing::warn!(partition, tenant = %tenant, "folding events timed out; applying on its own");
                rest.push((tenant, items));
            }
        }
    }
    // At most `cross_tenant_write_tenants` in one bulkWrite, so a timeout costs (and
    // re-applies) only its chunk.
    let mut chunks = Vec::new();
    for (_, (client, members)) in groups {
        let mut members = members.into_iter().peekable();
        while members.peek().is_some() {
            let chunk = members.by_ref().take(context.config.cross_tenant_write_tenants.max(1));
            chunks.push((client.clone(), chunk.collect()));
        }
    }
    let written: Vec<Vec<(TenantId, Vec<Item>)>> = futures::stream::iter(chunks)
        .map(|(client, members)| write_together(context, partition, client, members))
        .buffer_unordered(TOGETHER_WRITES)
        .collect()
        .await;
    rest.extend(written.into_iter().flatten());
    rest
}

/// Writes `members` (folded tenants of one deployment) in one `bulkWrite`; answers the
/// tenants to apply again one by one when it fails.
async fn write_together(
    context: &PartitionContext,
    partition: u32,
    client: mongodb::Client,
    members: Vec<FoldedTenant>,
) -> Vec<(TenantId, Vec<Item>)> {
    let mut writes = Vec::with_capacity(members.len());
    let mut applied = projection::Applied::default();
    let mut pending = Vec::with_capacity(members.len());
    for (tenant, items, db, folded) in members {
        applied.events += folded.applied.events;
        applied.parked += folded.applied.parked;
        writes.push((db, folded.write));
        pending.push((tenant, items));
    }
    let written = tokio::time::timeout(
        context.databases.operation_timeout(),
        writer::execute_many(&client, writes),
    )
    .await;
    match written {
        Ok(Ok(())) => {
            metrics::counter!("projector_events_applied_total").increment(applied.events as u64);
            metrics::counter!("projector_events_parked_total").increment(applied.parked as u64);
            metrics::counter!("projector_cross_tenant_writes_total").increment(1);
            context.cross_tenant.batches.fetch_add(1, Ordering::Relaxed);
            context
                .cross_tenant
                .tenants
                .fetch_add(pending.len() as u64, Ordering::Relaxed);
            Vec::new()
        }
        Ok(Err(err)) => {
            if err.is_unsupported_command() {
                context.cross_tenant.supported.store(false, Ordering::Relaxed);
                tracing::info!(
                    partition,
                    "the server has no bulkWrite command; writing each tenant on its own"
                );
            } else {
                tracing::warn!(partition, tenants = pending.len(), error = %err, "writing tenants together failed; applying each on its own");
            }
            pending
        }
        Err(_) => {
            tracing::warn!(
                partition,
                tenants = pending.len(),
                "writing tenants together timed out; applying each on its own"
            );
            pending
        }
    }
}

/// A full batch grows past `BATCH_SIZE` (to `BACKLOG_BATCH_SIZE`) when its tenants have at
/// most this many events each on average: many small tenants catching up, whose documents
/// a larger batch writes once for several events. A batch of a few large tenants already
/// shares them; growing it only takes memory.
const GROW_FOR_EVENTS_PER_TENANT: usize = 4;

/// Tenants with at most this many events in a batch are written together.
const SPARSE_EVENTS: usize = 16;

/// Cross-tenant writes of one batch in flight at once.
const TOGETHER_WRITES: usize = 2;

/// The folds of tenants written together only read (a few small finds each), so more of
/// them run at once than tenants applied one by one (`TENANT_CONCURRENCY` ×
/// this); the pool still bounds the connections.
const FOLD_CONCURRENCY_FACTOR: usize = 4;

/// A tenant's items, its database's name and what folding them gave.
type FoldedTenant = (TenantId, Vec<Item>, String, projection::Folded);

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
fn sort(context: &PartitionContext, batch: &[Delivery]) -> (Vec<(TenantId, Vec<Item>)>, Vec<ParkedDoc>) {
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

/// Exponential backoff between retries of a failed write (the batch is kept in progress
/// meanwhile by [`in_progress_while`]).
struct Backoff {
    pause: Duration,
}

impl Backoff {
    fn new() -> Self {
        Self {
            pause: Duration::from_millis(100),
        }
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(Duration::from_secs(10));
    }
}
