//! Reading a tenant's events back from the stream, in order, and folding them into a
//! target (shadow collections, a scratch database, another deployment). Both the live
//! hand-over ([`crate::partition::handover`]) and the operator jobs ([`crate::replay`])
//! build on it.
//!
//! # Layout
//! - [`progress`]: a progress bar on a terminal, structured logs otherwise.

pub mod progress;

use std::time::Duration;

use events::TenantId;
use eventstore::EventStore;
use mongodb::Database;

use crate::model::fold::Snapshot;
use crate::projection::{self, Item, ProjectionError};
use crate::rebuild::progress::Progress;
use crate::store::writer::WriteError;
use tenantdb::checkpoint;
use tenantdb::collections::Target;
use tenantdb::indexes;

/// Why a rebuild stopped. All of these leave the target consistent with its own
/// checkpoint: run the rebuild again to continue.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// Reading the tenant's messages failed.
    #[error(transparent)]
    Stream(#[from] eventstore::StreamError),
    /// The stream stopped delivering before the rebuild reached its end.
    #[error("the event stream stalled: {0}")]
    Stalled(&'static str),
    /// MongoDB failed.
    #[error(transparent)]
    Store(#[from] ProjectionError),
    /// The task writing a batch panicked or was cancelled.
    #[error("the write task failed")]
    WriteTask(#[source] tokio::task::JoinError),
}

impl From<mongodb::error::Error> for RebuildError {
    fn from(err: mongodb::error::Error) -> Self {
        RebuildError::Store(err.into())
    }
}

/// Events applied per write round.
const BATCH: usize = 1000;
/// Products, days and users kept in memory between batches (a tenant's hot documents).
const MAX_HOT_DOCUMENTS: usize = 100_000;

/// Moves the target's checkpoint forward to `sequence` (never back).
pub async fn advance_checkpoint(db: &Database, target: &Target, sequence: u64) -> Result<(), RebuildError> {
    Ok(checkpoint::advance(db, target, sequence).await?)
}

/// Applies `tenant`'s events after the target's checkpoint to the target, up to `until`
/// (inclusive) or, without it, up to the newest event at the time it gets there. Returns
/// the sequence the target now holds. Control markers are skipped; events that cannot be
/// applied are parked in the target's `parked`, as the live projector would.
pub async fn rebuild(
    store: &EventStore,
    db: &Database,
    target: &Target,
    tenant: &TenantId,
    until: Option<u64>,
    progress: &mut Progress,
) -> Result<u64, RebuildError> {
    indexes::ensure(db, target).await?;
    let from = checkpoint::sequence(db, target).await? + 1;
    if until.is_some_and(|until| until < from) {
        return Ok(from - 1);
    }
    let mut reader = store.tenant_reader(tenant, from).await?;
    if reader.pending() == 0 {
        return Ok(from - 1);
    }
    let mut last = from - 1;
    // Batch N is written (in its own task) while batch N+1 is read and folded onto the
    // same snapshot; at most one write is in flight, so the checkpoints land in order.
    let mut snapshot = Snapshot::default();
    let mut writing: Option<InFlight> = None;
    loop {
        let mut items = Vec::with_capacity(BATCH);
        let mut pending = 0;
        let mut reached_end = false;
        while items.len() < BATCH {
            let wait = if items.is_empty() {
                Duration::from_secs(30)
            } else {
                Duration::from_millis(5)
            };
            let message = match tokio::time::timeout(wait, reader.next()).await {
                Ok(Some(Ok(message))) => message,
                Ok(Some(Err(err))) => return settle(writing, progress, Err(err.into())).await,
                Ok(None) => return settle(writing, progress, Err(RebuildError::Stalled("the reader stopped"))).await,
                Err(_) if items.is_empty() => {
                    let err = RebuildError::Stalled("no event arrived within 30 s");
                    return settle(writing, progress, Err(err)).await;
                }
                Err(_) => break,
            };
            let (sequence, left) = (message.sequence(), message.pending());
            if until.is_some_and(|until| sequence > until) {
                reached_end = true;
                break;
            }
            last = sequence;
            pending = left;
            match projection::classify(store.scheme(), &message, i64::MAX) {
                Ok((_, Item::Control(..))) => {}
                Ok((_, item)) => items.push(item),
                Err(parked) => tracing::warn!(
                    sequence = parked.sequence,
                    "unroutable message in a tenant's subjects skipped"
                ),
            }
            if left == 0 || until == Some(sequence) {
                reached_end = true;
                break;
            }
        }
        let folded = match projection::fold_into(db, target, tenant, &items, &mut snapshot, last).await {
            Ok(folded) => folded,
            Err(err) => return settle(writing, progress, Err(err.into())).await,
        };
        snapshot.keep_for_next(&folded.changes, MAX_HOT_DOCUMENTS);
        if let Some(previous) = writing.take() {
            previous.finish(progress).await?;
        }
        let (db, write) = (db.clone(), folded.write);
        writing = Some(InFlight {
            task: tokio::spawn(async move { write.execute(&db).await }),
            applied: items.len() as u64,
            pending,
        });
        if reached_end {
            return settle(writing, progress, Ok(last)).await;
        }
    }
}

/// A batch's write running in its own task.
struct InFlight {
    task: tokio::task::JoinHandle<Result<(), WriteError>>,
    applied: u64,
    pending: u64,
}

impl InFlight {
    /// Waits for the write; counts the batch as done once it is stored.
    async fn finish(self, progress: &mut Progress) -> Result<(), RebuildError> {
        match self.task.await {
            Ok(Ok(())) => {
                progress.advance(self.applied, self.pending);
                Ok(())
            }
            Ok(Err(err)) => Err(ProjectionError::from(err).into()),
            Err(err) => Err(RebuildError::WriteTask(err)),
        }
    }
}

/// Waits for the write in flight, if any, then returns `outcome`; when `outcome` is a
/// success, a failed write replaces it. Nothing is left writing behind the caller's back.
async fn settle<T>(
    writing: Option<InFlight>,
    progress: &mut Progress,
    outcome: Result<T, RebuildError>,
) -> Result<T, RebuildError> {
    let written = match writing {
        Some(write) => write.finish(progress).await,
        None => Ok(()),
    };
    let value = outcome?;
    written.map(|()| value)
}
