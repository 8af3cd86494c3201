//! Reading a tenant's events back from the stream, in order, and folding them into a
//! target (shadow collections, a scratch database, another deployment).

use std::time::Duration;

use bson::doc;
use events::TenantId;
use eventstore::EventStore;
use futures::StreamExt;
use mongodb::Database;

use crate::model::docs::collections::{self, Target};
use crate::projection::{self, Item};
use crate::replay::ReplayError;
use crate::replay::progress::Progress;
use tenantdb::indexes;

/// Events applied per write round.
const BATCH: usize = 1000;

/// The sequence the target's checkpoint says is applied (0 when it has none).
pub async fn checkpoint(db: &Database, target: &Target) -> Result<u64, ReplayError> {
    let found = db
        .collection::<bson::Document>(&target.name(collections::CHECKPOINTS))
        .find_one(doc! {"_id": "projection"})
        .await?;
    Ok(found.and_then(|d| d.get_i64("last_sequence").ok()).unwrap_or(0).max(0) as u64)
}

/// Moves the target's checkpoint forward to `sequence` (never back).
pub async fn advance_checkpoint(db: &Database, target: &Target, sequence: u64) -> Result<(), ReplayError> {
    let sequence = sequence as i64;
    let result = db
        .collection::<bson::Document>(&target.name(collections::CHECKPOINTS))
        .update_one(
            doc! {"_id": "projection", "last_sequence": {"$lt": sequence}},
            doc! {"$set": {"last_sequence": sequence}},
        )
        .upsert(true)
        .await;
    match result {
        Ok(_) => Ok(()),
        // The upsert collided with a checkpoint that is already further: nothing to do.
        Err(err) if is_duplicate_key(&err) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    matches!(&*err.kind, mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(e)) if e.code == 11000)
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
) -> Result<u64, ReplayError> {
    indexes::ensure(db, target).await?;
    let from = checkpoint(db, target).await? + 1;
    if until.is_some_and(|until| until < from) {
        return Ok(from - 1);
    }
    let consumer = store
        .tenant_reader(tenant, from)
        .await
        .map_err(|e| ReplayError::Stream(e.to_string()))?;
    if consumer.cached_info().num_pending == 0 {
        return Ok(from - 1);
    }
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| ReplayError::Stream(e.to_string()))?;
    let mut last = from - 1;
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
            let message = match tokio::time::timeout(wait, messages.next()).await {
                Ok(Some(Ok(message))) => message,
                Ok(Some(Err(err))) => return Err(ReplayError::Stream(err.to_string())),
                Ok(None) => return Err(ReplayError::Stream("the reader stopped".to_owned())),
                Err(_) if items.is_empty() => {
                    return Err(ReplayError::Stream("no event arrived within 30 s".to_owned()));
                }
                Err(_) => break,
            };
            let info = message.info().map_err(|e| ReplayError::Stream(e.to_string()))?;
            let (sequence, left) = (info.stream_sequence, info.pending);
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
        let applied = items.len() as u64;
        if !items.is_empty() {
            projection::apply_to(db, target, tenant, &items).await?;
        }
        advance_checkpoint(db, target, last).await?;
        progress.advance(applied, pending);
        if reached_end {
            return Ok(last);
        }
    }
}
