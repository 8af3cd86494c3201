//! Re-driving one parked event: applying it again, after its cause was fixed, through the
//! same fold and guarded writes as the live projector.
//!
//! # Protocol
//! 1. The operator asks the admin server (`POST /v1/tenants/{tenant}/parked/{seq}/redrive`).
//!    [`request`] checks that the tenant's `parked` collection holds `seq` (the tenant's
//!    own database: another tenant's sequence is simply not there) and places a control
//!    marker `Redrive { sequence: seq }` on the tenant's subjects, at stream sequence `M`.
//! 2. The live projector reaches the marker in the tenant's stream order, after every
//!    earlier event of the tenant and before every later one, in whichever process holds
//!    the partition, and runs [`perform`]: it decodes the parked message again (a projector
//!    that now knows the event's schema version reads it), folds it onto the read model as
//!    it stands at `M`, and
//!    - if it applies: writes what it changed, each document guarded by `M`, records the
//!      outcome in `redrives` and deletes the parked document;
//!    - if it breaks an invariant or cannot be decoded again: leaves it parked with the new
//!      error (and a count of re-drives) and records that outcome.
//!
//!    Either way the checkpoint moves to `M`.
//! 3. [`request`] waits for the outcome record (a few seconds) and answers it; a projector
//!    that is behind or stopped answers later: the outcome is then read from the record.
//!
//! # Why at the marker, and exactly once
//! Every read-model document carries the sequence of the last event applied to it
//! (`last_seq`) and is written only over an older version of itself: that is how a
//! redelivered batch changes nothing. A parked event at `seq` is older than the
//! checkpoint, and later events may have moved the documents it touches past `seq`;
//! applied *at `seq`*, it would be taken as already applied there and silently lost, and
//! applied from the admin server while the live loop writes the same documents, one of the
//! two writes could overwrite the other. Applying it at the marker avoids both: the live
//! loop is the only writer of the tenant's documents, every document is older than `M`, so
//! the event lands on all of them, and each then holds `M`. A marker delivered again after
//! a crash folds the event again onto documents that already hold `M`: nothing changes,
//! and the parked document (deleted after the writes) is deleted again. A second re-drive
//! of the same event finds it no longer parked and changes nothing.
//!
//! The price of this: the event takes effect at the point of the re-drive, on top of what
//! happened since. Counters and stock movements add up the same in any order; a value
//! that later events replaced (a price changed twice) ends with the re-driven one. Re-drive
//! an event only where that is right; otherwise `projector replay` rebuilds the tenant from
//! the stream in order (a replay ignores re-drive markers and folds each event at its own
//! place).

use std::time::Duration;

use bson::{Document, doc};
use chrono::{DateTime, Utc};
use events::control::{ControlMarker, Operation};
use events::{AggregateKind, SubjectScheme, TenantId};
use eventstore::EventStore;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use tenantdb::collections::{self, Target};

use crate::model::fold::{self, Sequenced, Snapshot};
use crate::projection::{self, ProjectionError, Undecodable};
use crate::store::TenantDatabases;
use crate::store::writer::{self, Prepared};

/// What a re-drive did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The event applied: it left the parked list and the read model includes it.
    Applied,
    /// It failed again: still parked, with the new error.
    Parked,
    /// It was no longer parked when the marker was reached (re-driven already, or a
    /// replay swapped in a read model without it): nothing changed.
    NotParked,
}

/// The record of one re-drive, in the tenant's `redrives` collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// The job id (the marker's subject token).
    #[serde(rename = "_id")]
    pub job_id: String,
    /// The parked event's stream sequence.
    pub sequence: i64,
    /// The marker's stream sequence: where in the tenant's order the event was applied.
    pub marker_sequence: i64,
    /// What happened.
    pub outcome: Outcome,
    /// The error when still parked.
    pub error: Option<String>,
    /// When the projector acted on the marker.
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    pub at: DateTime<Utc>,
}

/// Why a re-drive could not be asked for or performed.
#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    /// The tenant has no parked event at this sequence (nor a re-drive that applied it).
    #[error("no parked event at sequence {0}")]
    NotParked(u64),
    /// The parked message is a control marker, which is acted on, not applied.
    #[error("sequence {0} is a control marker, not an event: it cannot be re-driven")]
    Marker(u64),
    /// Placing the marker failed.
    #[error("placing the re-drive marker failed")]
    Append(#[from] eventstore::AppendError),
    /// MongoDB failed.
    #[error(transparent)]
    Store(#[from] ProjectionError),
}

impl From<mongodb::error::Error> for RedriveError {
    fn from(err: mongodb::error::Error) -> Self {
        RedriveError::Store(err.into())
    }
}

/// What [`request`] answers.
#[derive(Debug, Clone, Serialize)]
pub struct Requested {
    /// The re-drive's record, once the projector acted on the marker.
    pub record: Option<Record>,
    /// The job id (to find the record later).
    pub job_id: String,
    /// True when an earlier re-drive had already applied the event and nothing new was
    /// asked for.
    pub earlier: bool,
}

/// The re-drive records of `db`.
pub fn records(db: &Database) -> Collection<Record> {
    db.collection(collections::REDRIVES)
}

/// Asks the live projector to re-drive `tenant`'s parked event at `sequence` and waits up
/// to `wait` for the outcome. Re-driving an event an earlier re-drive applied answers that
/// re-drive's record and places nothing.
pub async fn request(
    store: &EventStore,
    databases: &TenantDatabases,
    tenant: &TenantId,
    sequence: u64,
    wait: Duration,
) -> Result<Requested, RedriveError> {
    let db = databases.database(tenant).await?;
    let parked = db
        .collection::<Document>(collections::PARKED)
        .find_one(doc! {"_id": sequence as i64})
        .await?;
    let Some(parked) = parked else {
        let earlier = records(&db)
            .find_one(doc! {"sequence": sequence as i64, "outcome": "applied"})
            .await?;
        return match earlier {
            Some(record) => Ok(Requested {
                job_id: record.job_id.clone(),
                record: Some(record),
                earlier: true,
            }),
            None => Err(RedriveError::NotParked(sequence)),
        };
    };
    let is_marker = store
        .scheme()
        .parse(parked.get_str("subject").unwrap_or_default())
        .is_ok_and(|(_, aggregate)| aggregate.kind == AggregateKind::Control);
    if is_marker {
        return Err(RedriveError::Marker(sequence));
    }
    let marker = ControlMarker {
        job_id: format!("redrive-{}", uuid::Uuid::now_v7().simple()),
        operation: Operation::Redrive { sequence },
    };
    let marker_sequence = store.place_marker(tenant, &marker).await?;
    tracing::info!(tenant = %tenant, sequence, marker_sequence, job = %marker.job_id, "re-drive requested");
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(record) = records(&db).find_one(doc! {"_id": &marker.job_id}).await? {
            return Ok(Requested {
                job_id: marker.job_id,
                record: Some(record),
                earlier: false,
            });
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Requested {
                job_id: marker.job_id,
                record: None,
                earlier: false,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Performs the re-drive of `marker` (job `job_id`, parked event `sequence`) reached at
/// stream sequence `marker_sequence` of `tenant`. Safe to repeat (see the module docs).
pub async fn perform(
    scheme: &SubjectScheme,
    databases: &TenantDatabases,
    tenant: &TenantId,
    marker_sequence: u64,
    job_id: &str,
    sequence: u64,
) -> Result<(), ProjectionError> {
    let timeout = databases.operation_timeout();
    match tokio::time::timeout(
        timeout,
        perform_unbounded(scheme, databases, tenant, marker_sequence, job_id, sequence),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(ProjectionError::TimedOut(timeout)),
    }
}

async fn perform_unbounded(
    scheme: &SubjectScheme,
    databases: &TenantDatabases,
    tenant: &TenantId,
    marker_sequence: u64,
    job_id: &str,
    sequence: u64,
) -> Result<(), ProjectionError> {
    let db = databases.database(tenant).await?;
    let live = Target::live();
    let parked_collection = db.collection::<Document>(collections::PARKED);
    if let Some(done) = records(&db).find_one(doc! {"_id": job_id}).await? {
        // Delivered again after it was recorded: finish what may be left.
        if done.outcome == Outcome::Applied {
            parked_collection.delete_one(doc! {"_id": sequence as i64}).await?;
        }
        tenantdb::checkpoint::advance(&db, &live, marker_sequence).await?;
        return Ok(());
    }
    let record = |outcome: Outcome, error: Option<String>| Record {
        job_id: job_id.to_owned(),
        sequence: sequence as i64,
        marker_sequence: marker_sequence as i64,
        outcome,
        error,
        at: Utc::now(),
    };
    let Some(parked) = parked_collection.find_one(doc! {"_id": sequence as i64}).await? else {
        tracing::info!(tenant = %tenant, sequence, job = %job_id, "re-drive: the event is no longer parked");
        tenantdb::checkpoint::advance(&db, &live, marker_sequence).await?;
        records(&db).insert_one(record(Outcome::NotParked, None)).await?;
        return Ok(());
    };
    let subject = parked.get_str("subject").unwrap_or_default();
    let payload = parked.get_str("payload").unwrap_or_default();
    let decoded = match scheme.parse(subject) {
        Err(err) => Err(err.to_string()),
        Ok((owner, _)) if owner != *tenant => Err(format!("the subject names tenant {owner}")),
        Ok((_, aggregate)) if aggregate.kind == AggregateKind::Control => {
            Err("a control marker is not an event: it cannot be re-driven".to_owned())
        }
        Ok((owner, aggregate)) => {
            projection::decode_event(&owner, &aggregate, payload.as_bytes()).map_err(|Undecodable { error, .. }| error)
        }
    };
    let failure = match decoded {
        Err(error) => Some(error),
        Ok(envelope) => {
            // Folded at the marker's sequence: every document is older than it (module docs).
            let events = vec![Sequenced {
                sequence: marker_sequence,
                envelope,
            }];
            let mut snapshot = Snapshot::default();
            writer::load(&db, &live, &fold::direct_needs(&events), &mut snapshot).await?;
            let derived = fold::derived_needs(&events, &snapshot);
            writer::load(&db, &live, &derived, &mut snapshot).await?;
            let mut changes = fold::apply_all(&mut snapshot, &events)?;
            match changes.parked.pop() {
                Some((_, error)) => Some(error),
                None => {
                    // The checkpoint keeps the time of the newest event, not this older one.
                    changes.last_occurred_at = None;
                    Prepared::new(&live, &snapshot, &changes, &[])?.execute(&db).await?;
                    None
                }
            }
        }
    };
    // The checkpoint passes the marker before the record says it is done, so whoever sees
    // the record sees no lag for it.
    tenantdb::checkpoint::advance(&db, &live, marker_sequence).await?;
    match failure {
        None => {
            records(&db).insert_one(record(Outcome::Applied, None)).await?;
            parked_collection.delete_one(doc! {"_id": sequence as i64}).await?;
            tracing::info!(tenant = %tenant, sequence, marker_sequence, job = %job_id, "parked event re-driven and applied");
        }
        Some(error) => {
            parked_collection
                .update_one(
                    doc! {"_id": sequence as i64},
                    doc! {"$set": {"error": &error, "redriven_at": bson::DateTime::now()}, "$inc": {"redrives": 1}},
                )
                .await?;
            records(&db)
                .insert_one(record(Outcome::Parked, Some(error.clone())))
                .await?;
            tracing::warn!(tenant = %tenant, sequence, job = %job_id, %error, "re-driven event failed again; still parked");
        }
    }
    Ok(())
}
