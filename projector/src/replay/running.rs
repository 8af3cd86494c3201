//! Replays and moves in progress, for the admin server (`GET /v1/jobs`).
//!
//! The jobs run in the `projector` command-line process, not in the server, so each one
//! records itself in the main database (`liquor_pos_main.operator_jobs`, one document per
//! tenant and kind of job, so running a job again after a crash replaces its record) when
//! it starts and removes the record when it ends, successfully or not. How far it got is
//! read from the read model it builds: a replay's shadow checkpoint in the tenant's
//! database, a move's checkpoint in the tenant's database on the target deployment. Both
//! are written as the rebuild goes, so the admin server needs nothing from the job's
//! process but the record. A job whose process was killed leaves its record until the same
//! job runs again for the tenant (its `started_at` tells).

use bson::doc;
use chrono::{DateTime, Utc};
use events::TenantId;
use eventstore::EventStore;
use futures::{StreamExt, TryStreamExt};
use mongodb::Collection;
use serde::{Deserialize, Serialize};
use tenantdb::collections::Target;

use crate::replay::SHADOW_PREFIX;
use crate::store::TenantDatabases;
use crate::tenants::placement_label;

/// The collection of the main database holding the records.
pub const COLLECTION: &str = "operator_jobs";
/// Most jobs listed.
pub const MAX_LISTED: i64 = 200;

/// What kind of job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `projector replay`: a rebuild into shadow collections, swapped in at a marker.
    Replay,
    /// `projector move`: a rebuild on another deployment, switched to at a marker.
    Move,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Replay => "replay",
            Kind::Move => "move",
        }
    }
}

/// A job's record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// `<kind>:<tenant>`.
    #[serde(rename = "_id")]
    pub id: String,
    /// The tenant.
    pub tenant: String,
    /// What kind of job.
    pub kind: Kind,
    /// A move's target deployment (the URI the job was given; shown without credentials).
    pub to: Option<String>,
    /// When it started.
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    pub started_at: DateTime<Utc>,
}

/// A job in progress as the admin server shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Running {
    /// The tenant.
    pub tenant: String,
    /// `replay` or `move`.
    pub kind: Kind,
    /// A move's target deployment, without credentials.
    pub to: Option<String>,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// The sequence the read model being built has applied.
    pub checkpoint: u64,
    /// The tenant's stream head.
    pub stream_head: u64,
    /// `checkpoint / stream_head` in percent, rounded down.
    pub percent: u64,
}

fn records(databases: &TenantDatabases) -> Collection<Record> {
    databases.main_database().collection(COLLECTION)
}

/// Records that a job of `kind` started for `tenant` (`to`: a move's target).
pub async fn start(
    databases: &TenantDatabases,
    tenant: &TenantId,
    kind: Kind,
    to: Option<&str>,
) -> mongodb::error::Result<()> {
    let record = Record {
        id: format!("{}:{tenant}", kind.as_str()),
        tenant: tenant.to_string(),
        kind,
        to: to.map(str::to_owned),
        started_at: Utc::now(),
    };
    records(databases)
        .replace_one(doc! {"_id": &record.id}, &record)
        .upsert(true)
        .await?;
    Ok(())
}

/// Removes the record of `tenant`'s job of `kind` (it ended). A failure is only logged:
/// the job's own outcome matters more than its record.
pub async fn finish(databases: &TenantDatabases, tenant: &TenantId, kind: Kind) {
    let id = format!("{}:{tenant}", kind.as_str());
    if let Err(err) = records(databases).delete_one(doc! {"_id": &id}).await {
        tracing::warn!(tenant = %tenant, job = %id, error = %err, "removing the job's record failed");
    }
}

/// The jobs in progress (at most [`MAX_LISTED`], oldest first) with how far each got.
pub async fn list(store: &EventStore, databases: &TenantDatabases) -> Result<Vec<Running>, crate::tenants::ListError> {
    let found: Vec<Record> = records(databases)
        .find(doc! {})
        .sort(doc! {"started_at": 1})
        .limit(MAX_LISTED)
        .await?
        .try_collect()
        .await?;
    let rows: Vec<Result<Option<Running>, crate::tenants::ListError>> = futures::stream::iter(found)
        .map(|record| async move { progress(store, databases, record).await })
        .buffered(8)
        .collect()
        .await;
    Ok(rows
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect())
}

async fn progress(
    store: &EventStore,
    databases: &TenantDatabases,
    record: Record,
) -> Result<Option<Running>, crate::tenants::ListError> {
    let Ok(tenant) = TenantId::parse(record.tenant.clone()) else {
        return Ok(None);
    };
    let (db, target) = match (record.kind, record.to.as_deref()) {
        (Kind::Replay, _) => (
            databases
                .client_for(&databases.uri_of(&tenant))
                .await?
                .database(&tenant.database_name()),
            Target::shadow(SHADOW_PREFIX),
        ),
        (Kind::Move, Some(to)) => (
            databases.client_for(to).await?.database(&tenant.database_name()),
            Target::live(),
        ),
        (Kind::Move, None) => return Ok(None),
    };
    let stream_head = store.tenant_head(&tenant).await?.unwrap_or(0);
    let checkpoint = tenantdb::checkpoint::sequence(&db, &target).await?;
    Ok(Some(Running {
        tenant: record.tenant,
        kind: record.kind,
        to: record.to.as_deref().map(|to| placement_label(to, databases.main_uri())),
        started_at: record.started_at.to_rfc3339(),
        checkpoint,
        stream_head,
        percent: (checkpoint.min(stream_head) * 100)
            .checked_div(stream_head)
            .unwrap_or(100),
    }))
}
