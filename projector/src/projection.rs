//! Applying one tenant's share of a batch: load the documents it touches, fold the events
//! in order, write the changes and park what cannot be applied.

use std::collections::HashMap;

use chrono::Utc;
use events::{AggregateKind, AggregateRef, ControlMarker, EventEnvelope, SubjectScheme, TenantId};
use eventstore::Delivery;

use mongodb::Database;

use crate::model::fold::{self, Changes, FoldError, Sequenced, Snapshot};
use crate::store::TenantDatabases;
use crate::store::writer::{self, ParkedDoc, Prepared, WriteError};
use tenantdb::collections::Target;

/// Where a message came from, kept to park it faithfully.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Subject it was stored under.
    pub subject: String,
    /// Deliveries so far.
    pub deliveries: i64,
    /// The body as received.
    pub payload: bytes::Bytes,
    /// The trace it was appended under (its trace header: `Delivery::trace`), if any.
    pub trace: Option<telemetry::trace::TraceContext>,
}

/// A message of one tenant, decoded or not. Items live only for one batch, so the size
/// difference between the variants does not matter.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Item {
    /// A decodable event.
    Event(Sequenced, Origin),
    /// A message that cannot be applied, whatever the read model holds.
    Poison(ParkedDoc),
    /// A control marker: act on it at this point of the tenant's stream.
    Control(u64, ControlMarker),
}

/// Turns a message of the stream into its tenant and an [`Item`], or, when its subject
/// names no valid tenant, into a parked document for the unroutable collection (rare,
/// so its size on the error path does not matter).
/// `park_after` deliveries make any message poison (it keeps coming back unapplied).
#[allow(clippy::result_large_err)]
pub fn classify(scheme: &SubjectScheme, message: &Delivery, park_after: i64) -> Result<(TenantId, Item), ParkedDoc> {
    let (sequence, deliveries) = (message.sequence(), message.deliveries());
    let subject = message.subject().to_owned();
    let poison = |error: String, event_type: Option<String>| ParkedDoc {
        sequence: sequence as i64,
        subject: subject.clone(),
        event_type,
        error,
        payload: String::from_utf8_lossy(message.payload()).into_owned(),
        deliveries,
        parked_at: Utc::now(),
    };
    let (tenant, aggregate) = match scheme.parse(&subject) {
        Ok(parsed) => parsed,
        Err(err) => {
            tracing::warn!(sequence, %subject, error = %err, "unroutable message parked");
            return Err(poison(err.to_string(), None));
        }
    };
    let item = if deliveries > park_after {
        Item::Poison(poison(
            format!("delivered {deliveries} times without being applied"),
            None,
        ))
    } else if aggregate.kind == AggregateKind::Control {
        match ControlMarker::decode(message.payload()) {
            Ok(marker) if marker.job_id == aggregate.id => Item::Control(sequence, marker),
            Ok(_) => Item::Poison(poison(
                "control marker names another job than its subject".to_owned(),
                None,
            )),
            Err(err) => Item::Poison(poison(format!("malformed control marker: {err}"), None)),
        }
    } else {
        match decode_event(&tenant, &aggregate, message.payload()) {
            Err(Undecodable { error, event_type }) => Item::Poison(poison(error, event_type)),
            Ok(envelope) => Item::Event(
                Sequenced { sequence, envelope },
                Origin {
                    subject: subject.clone(),
                    deliveries,
                    payload: message.payload().clone(),
                    trace: message.trace(),
                },
            ),
        }
    };
    if let Item::Poison(doc) = &item {
        tracing::warn!(tenant = %tenant, sequence, error = %doc.error, "message parked");
    }
    Ok((tenant, item))
}

/// Why a message stored under a tenant's event subject is not an event of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable {
    /// What is wrong, as recorded on the parked event.
    pub error: String,
    /// The event type, when the envelope could be read that far.
    pub event_type: Option<String>,
}

/// Decodes (and upcasts) the body of a message stored under `tenant`'s subject for
/// `aggregate`, and checks that the envelope names the same tenant and aggregate. The
/// live loop and a re-drive ([`crate::redrive`]) decide the same way.
pub fn decode_event(tenant: &TenantId, aggregate: &AggregateRef, payload: &[u8]) -> Result<EventEnvelope, Undecodable> {
    let envelope = events::decode(payload).map_err(|err| Undecodable {
        error: err.to_string(),
        event_type: None,
    })?;
    let event_type = || Some(envelope.event_type().as_str().to_owned());
    if envelope.tenant_id != *tenant {
        return Err(Undecodable {
            error: format!(
                "envelope names tenant {} but the subject tenant {tenant}",
                envelope.tenant_id
            ),
            event_type: event_type(),
        });
    }
    if envelope.aggregate() != *aggregate {
        return Err(Undecodable {
            error: format!(
                "envelope names aggregate {} but the subject {aggregate}",
                envelope.aggregate()
            ),
            event_type: event_type(),
        });
    }
    Ok(envelope)
}

/// The span in which the live projector applies `event`, a step of the trace it was
/// appended under.
fn apply_span(tenant: &TenantId, event: &Sequenced, trace: &telemetry::trace::TraceContext) -> tracing::Span {
    let span = tracing::info_span!(
        "apply_event",
        tenant = %tenant,
        sequence = event.sequence,
        event_type = %event.envelope.event_type(),
        trace_id = tracing::field::Empty,
    );
    telemetry::trace::link(&span, Some(trace));
    span
}

/// What applying a tenant's items did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Applied {
    /// Events applied (or found already applied).
    pub events: usize,
    /// Events parked.
    pub parked: usize,
}

/// Why a tenant's items were not applied. All of these are retried.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// MongoDB failed.
    #[error(transparent)]
    Store(#[from] WriteError),
    /// The loader missed a document (a bug, never parked).
    #[error(transparent)]
    Fold(#[from] FoldError),
    /// MongoDB took longer than the operation timeout.
    #[error("MongoDB did not finish within {0:?}")]
    TimedOut(std::time::Duration),
}

impl From<mongodb::error::Error> for ProjectionError {
    fn from(err: mongodb::error::Error) -> Self {
        ProjectionError::Store(WriteError::Mongo(err))
    }
}

/// Applies `items` (one tenant's, in stream order) to its read model, within the
/// configured operation timeout.
pub async fn apply(databases: &TenantDatabases, tenant: &TenantId, items: &[Item]) -> Result<Applied, ProjectionError> {
    match tokio::time::timeout(databases.operation_timeout(), apply_unbounded(databases, tenant, items)).await {
        Ok(result) => result,
        Err(_) => Err(ProjectionError::TimedOut(databases.operation_timeout())),
    }
}

async fn apply_unbounded(
    databases: &TenantDatabases,
    tenant: &TenantId,
    items: &[Item],
) -> Result<Applied, ProjectionError> {
    let db = databases.database(tenant).await?;
    let mut snapshot = live_snapshot(databases, tenant);
    let folded = fold_into(&db, &Target::live(), tenant, items, &mut snapshot, 0).await?;
    set_up(databases, &db, tenant, &snapshot).await?;
    folded.write.execute(&db).await?;
    Ok(folded.applied)
}

/// The snapshot a live batch of `tenant` folds onto: the first time this process meets
/// the tenant it asks for the checkpoint, which then comes with the batch's first read
/// (no round trip of its own), to learn whether the tenant's indexes exist ([`set_up`]).
pub fn live_snapshot(databases: &TenantDatabases, tenant: &TenantId) -> Snapshot {
    Snapshot {
        wants_checkpoint: !databases.is_set_up(tenant),
        ..Snapshot::default()
    }
}

/// After folding a live batch onto a [`live_snapshot`], before writing it: the first time
/// this process meets `tenant`, creates its indexes unless its checkpoint records that
/// they exist for [`tenantdb::indexes::VERSION`] (a new tenant, or a changed index set),
/// then notes the tenant as set up. A projector that starts with thousands of small
/// tenants queued (after a deploy or an outage) so pays no command per tenant for its
/// indexes; seven `createIndexes` took ≈ 1.8 ms of the server's time per tenant
/// (docs/performance.md, eleventh session).
pub async fn set_up(
    databases: &TenantDatabases,
    db: &Database,
    tenant: &TenantId,
    snapshot: &Snapshot,
) -> Result<(), ProjectionError> {
    if !snapshot.wants_checkpoint {
        return Ok(());
    }
    let recorded = snapshot.checkpoint.as_ref().map_or(0, |checkpoint| checkpoint.indexes);
    if recorded < tenantdb::indexes::VERSION {
        tenantdb::indexes::ensure(db, &Target::live()).await?;
    }
    databases.mark_set_up(tenant);
    Ok(())
}

/// A batch folded onto a snapshot, with the writes that store it.
#[derive(Debug)]
pub struct Folded {
    /// The writes, to execute before the checkpoint can be relied on.
    pub write: Prepared,
    /// What it applied and parked.
    pub applied: Applied,
    /// What it changed.
    pub changes: Changes,
}

/// Folds `items` (one tenant's, in stream order) onto `snapshot`, first loading from the
/// collections `target` of `db` the documents they touch that `snapshot` lacks, and
/// encodes the writes; the checkpoint moves to the last item, or to `through` if later
/// (a replay also passes the markers it skipped).
pub async fn fold_into(
    db: &Database,
    target: &Target,
    tenant: &TenantId,
    items: &[Item],
    snapshot: &mut Snapshot,
    through: u64,
) -> Result<Folded, ProjectionError> {
    let events: Vec<Sequenced> = items
        .iter()
        .filter_map(|item| match item {
            Item::Event(event, _) => Some(event.clone()),
            Item::Poison(_) | Item::Control(..) => None,
        })
        .collect();
    let mut parked: Vec<ParkedDoc> = items
        .iter()
        .filter_map(|item| match item {
            Item::Poison(doc) => Some(doc.clone()),
            Item::Event(..) | Item::Control(..) => None,
        })
        .collect();

    writer::load(db, target, &fold::direct_needs(&events), snapshot).await?;
    let derived = fold::derived_needs(&events, snapshot);
    writer::load(db, target, &derived, snapshot).await?;
    // Live events that carry a trace are applied each in a span of that trace
    // (`apply_event`, with `trace_id` for the logs); a rebuild's are not.
    let traces: HashMap<u64, telemetry::trace::TraceContext> = if target.is_live() {
        items
            .iter()
            .filter_map(|item| match item {
                Item::Event(event, Origin { trace: Some(trace), .. }) => Some((event.sequence, *trace)),
                _ => None,
            })
            .collect()
    } else {
        HashMap::new()
    };
    let mut changes = fold::apply_all_in(snapshot, &events, |event| match traces.get(&event.sequence) {
        Some(trace) => apply_span(tenant, event, trace),
        None => tracing::Span::none(),
    })?;

    for (sequence, error) in &changes.parked {
        let found = items.iter().find_map(|item| match item {
            Item::Event(event, origin) if event.sequence == *sequence => Some((event, origin)),
            _ => None,
        });
        if let Some((event, origin)) = found {
            tracing::warn!(tenant = %tenant, sequence, event_type = %event.envelope.event_type(), %error, "event parked");
            parked.push(ParkedDoc {
                sequence: *sequence as i64,
                subject: origin.subject.clone(),
                event_type: Some(event.envelope.event_type().as_str().to_owned()),
                error: error.clone(),
                payload: String::from_utf8_lossy(&origin.payload).into_owned(),
                deliveries: origin.deliveries,
                parked_at: Utc::now(),
            });
        }
    }
    for doc in &parked {
        changes.last_sequence = changes.last_sequence.max(doc.sequence as u64);
    }
    changes.last_sequence = changes.last_sequence.max(through);
    let write = Prepared::new(target, snapshot, &changes, &parked)?;
    let applied = Applied {
        events: events.len() - changes.parked.len(),
        parked: parked.len(),
    };
    Ok(Folded {
        write,
        applied,
        changes,
    })
}
