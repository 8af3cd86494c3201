//! Applying one tenant's share of a batch: load the documents it touches, fold the events
//! in order, write the changes and park what cannot be applied.

use chrono::Utc;
use events::TenantId;

use crate::model::fold::{self, FoldError, Sequenced, Snapshot};
use crate::store::TenantDatabases;
use crate::store::writer::{self, ParkedDoc, WriteError};

/// Where a message came from, kept to park it faithfully.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Subject it was stored under.
    pub subject: String,
    /// Deliveries so far.
    pub deliveries: i64,
    /// The body as received.
    pub payload: bytes::Bytes,
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
pub async fn apply(
    databases: &TenantDatabases,
    tenant: &TenantId,
    items: &[Item],
) -> Result<Applied, ProjectionError> {
    match tokio::time::timeout(
        databases.operation_timeout(),
        apply_unbounded(databases, tenant, items),
    )
    .await
    {
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
    let events: Vec<Sequenced> = items
        .iter()
        .filter_map(|item| match item {
            Item::Event(event, _) => Some(event.clone()),
            Item::Poison(_) => None,
        })
        .collect();
    let mut parked: Vec<ParkedDoc> = items
        .iter()
        .filter_map(|item| match item {
            Item::Poison(doc) => Some(doc.clone()),
            Item::Event(..) => None,
        })
        .collect();

    let mut snapshot = Snapshot::default();
    writer::load(&db, &fold::direct_needs(&events), &mut snapshot).await?;
    let derived = fold::derived_needs(&events, &snapshot);
    writer::load(&db, &derived, &mut snapshot).await?;
    let mut changes = fold::apply_all(&mut snapshot, &events)?;

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
    writer::write(&db, &snapshot, &changes, &parked).await?;
    Ok(Applied {
        events: events.len() - changes.parked.len(),
        parked: parked.len(),
    })
}
