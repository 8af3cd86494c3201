//! From the stream to recorded deliveries: one pinned partition reader per partition
//! (durable consumers `<prefix>-p<n>`, the projector's kind of reader), so each event of
//! the stream is looked at once however many worker processes run.
//!
//! For each batch: every event of a tenant with active endpoints that want its type
//! becomes one pending delivery per endpoint, with the body already rendered in the public
//! feed shape (`events::FeedEvent`, without personal data); the deliveries are written
//! (a redelivered event's ids exist already and are left alone), and only then is the
//! batch acknowledged. A crash before the acknowledgment replays the batch, which records
//! nothing new. Control markers and undecodable messages are passed over (logged).
//!
//! An endpoint limited to some locations (a store's) gets the events that act on the
//! whole chain or there; an event that acts where its aggregate is (a void, a drawer's
//! paid-out) is placed by the aggregate's earlier events (`eventstore::Places`). When that
//! cannot be read, the batch is not recorded and comes again, as when the write fails.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use events::{AggregateKind, FeedEvent};
use eventstore::{Delivery as Message, EventStore, PartitionReaderSettings, Places, ReadError};
use tokio::time::Instant;

use crate::store::{Delivery, DeliveryStatus, Endpoint, WebhookStore};

/// The priority group the worker processes pull with.
pub const GROUP: &str = "webhooks";

/// What an intake loop needs.
#[derive(Clone)]
pub struct Intake {
    /// The stream.
    pub store: EventStore,
    /// Endpoints and deliveries.
    pub webhooks: WebhookStore,
    /// Consumer names are `<prefix>-p<n>`.
    pub consumer_prefix: String,
    /// How long a tenant's endpoint list is reused.
    pub endpoint_cache: Duration,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("consumer_prefix", &self.consumer_prefix)
            .finish_non_exhaustive()
    }
}

impl Intake {
    /// The reader settings of `partition`.
    fn settings(&self, partition: u32) -> PartitionReaderSettings {
        PartitionReaderSettings {
            name: format!("{}-p{partition}", self.consumer_prefix),
            partition,
            group: GROUP.to_owned(),
            ack_wait: Duration::from_secs(60),
            max_deliver: -1,
            max_ack_pending: 5_000,
            pin_ttl: Duration::from_secs(30),
            batch_size: 500,
            // Intake only records deliveries; it gains nothing from larger batches.
            backlog_batch_size: 500,
            sparse_events: 0,
            linger: Duration::from_millis(5),
        }
    }

    /// Reads `partition` until the process stops, reopening the reader after a failure.
    pub async fn run(self, partition: u32) {
        let mut endpoints = EndpointCache::default();
        let mut places = Places::new();
        loop {
            let mut reader = match self.store.partition_reader(self.settings(partition)).await {
                Ok(reader) => reader,
                Err(err) => {
                    tracing::warn!(partition, error = %err, "cannot open the partition reader; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            loop {
                let batch = match reader.next_batch().await {
                    Ok(batch) => batch,
                    Err(err) => {
                        tracing::warn!(partition, error = %err, "pulling failed; reopening the reader");
                        break;
                    }
                };
                let Some(last) = batch.last() else { continue };
                if let Err(err) = self.record(&batch, &mut endpoints, &mut places).await {
                    tracing::warn!(partition, error = %err, "recording deliveries failed; the batch comes again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
                if let Err(err) = reader.ack(last).await {
                    tracing::warn!(partition, error = %err, "acknowledging failed; the batch comes again");
                    break;
                }
            }
        }
    }

    /// Records the deliveries `batch` makes.
    async fn record(
        &self,
        batch: &[Message],
        endpoints: &mut EndpointCache,
        places: &mut Places,
    ) -> Result<(), RecordError> {
        let mut deliveries = Vec::new();
        for message in batch {
            let sequence = message.sequence();
            match self.store.scheme().parse(message.subject()) {
                Ok((_, aggregate)) if aggregate.kind == AggregateKind::Control => continue,
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(sequence, error = %err, "webhooks: a message on an unparsable subject passed over");
                    continue;
                }
            }
            let envelope = match events::decode(message.payload()) {
                Ok(envelope) => envelope,
                Err(err) => {
                    tracing::warn!(sequence, error = %err, "webhooks: an undecodable event passed over");
                    continue;
                }
            };
            let tenant = envelope.tenant_id.as_str();
            let event_type = envelope.event_type().as_str();
            let wanted: Vec<Endpoint> = endpoints
                .of(&self.webhooks, tenant, self.endpoint_cache)
                .await?
                .iter()
                .filter(|e| e.wants(event_type))
                .cloned()
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let wanted = if wanted.iter().any(|endpoint| endpoint.locations.is_some()) {
                let reach = places
                    .of(&self.store, &envelope.tenant_id, sequence, &envelope.event)
                    .await?;
                wanted.into_iter().filter(|endpoint| endpoint.sees(&reach)).collect()
            } else {
                wanted
            };
            if wanted.is_empty() {
                continue;
            }
            let public = match FeedEvent::from_envelope(sequence, &envelope) {
                Ok(public) => public,
                Err(err) => {
                    tracing::warn!(sequence, error = %err, "webhooks: an event that cannot be shown passed over");
                    continue;
                }
            };
            let body = match serde_json::to_string(&public) {
                Ok(body) => body,
                Err(err) => {
                    tracing::warn!(sequence, error = %err, "webhooks: an event that cannot be written passed over");
                    continue;
                }
            };
            let now = Utc::now();
            let traceparent = message.trace().map(|trace| trace.header_value());
            for endpoint in wanted {
                deliveries.push(Delivery {
                    id: format!("{}-{}", endpoint.id, envelope.event_id.simple()),
                    endpoint_id: endpoint.id.clone(),
                    organization_id: tenant.to_owned(),
                    event_id: envelope.event_id.to_string(),
                    event_type: event_type.to_owned(),
                    sequence: i64::try_from(sequence).unwrap_or(i64::MAX),
                    aggregate: format!("{}/{}", public.aggregate.kind.as_str(), public.aggregate.id),
                    body: body.clone(),
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    next_attempt_at: now,
                    leased_until: None,
                    lease: None,
                    created_at: now,
                    delivered_at: None,
                    last_status: None,
                    last_error: None,
                    traceparent: traceparent.clone(),
                });
            }
        }
        Ok(self.webhooks.record(&deliveries).await?)
    }
}

/// Why a batch's deliveries were not recorded (it comes again).
#[derive(Debug, thiserror::Error)]
enum RecordError {
    /// Reading endpoints or writing deliveries.
    #[error("the webhook store: {0}")]
    Store(#[from] mongodb::error::Error),
    /// Reading where an event's aggregate is, for an endpoint of some locations.
    #[error("placing an event by its aggregate: {0}")]
    Events(#[from] ReadError),
}

/// Each tenant's endpoints, read again after a while.
#[derive(Default)]
struct EndpointCache {
    tenants: HashMap<String, (Instant, Vec<Endpoint>)>,
}

impl EndpointCache {
    async fn of(
        &mut self,
        store: &WebhookStore,
        tenant: &str,
        ttl: Duration,
    ) -> Result<&[Endpoint], mongodb::error::Error> {
        let fresh = self.tenants.get(tenant).is_some_and(|(read, _)| read.elapsed() < ttl);
        if !fresh {
            if self.tenants.len() > 100_000 {
                self.tenants.clear();
            }
            let endpoints = store.endpoints_of(tenant).await?;
            self.tenants.insert(tenant.to_owned(), (Instant::now(), endpoints));
        }
        Ok(self.tenants.get(tenant).map_or(&[], |(_, e)| e.as_slice()))
    }
}
