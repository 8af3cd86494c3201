//! The hand-over protocol: what the live projector does when it reaches a control marker
//! of a tenant (a re-drive marker is handed to [`crate::redrive`]). All of the tenant's earlier events are applied to the live read model and
//! none of its later ones, so this is the one place where the read model can change hands
//! without a pause. Operator jobs ([`crate::replay`]) place the markers and wait for the
//! hand-over record this writes; with `--offline` they run [`perform`] themselves.
//!
//! Every step is safe to repeat (the marker may be delivered again after a crash): a
//! finished swap leaves no shadow behind, and the plan recorded before renaming tells a
//! second run which collections were already moved.

use bson::doc;
use events::TenantId;
use events::control::{ControlMarker, Operation};
use eventstore::EventStore;
use futures::TryStreamExt;
use mongodb::Database;

use crate::model::docs::collections::{self, Target};
use crate::rebuild::progress::Progress;
use crate::rebuild::{self, RebuildError};
use crate::store::TenantDatabases;

/// Id of the document in `checkpoints` recording the last replay or move.
pub const RECORD_ID: &str = "handover";

/// Acts on `marker`, found at stream sequence `sequence` of `tenant`.
pub async fn perform(
    store: &EventStore,
    databases: &TenantDatabases,
    tenant: &TenantId,
    sequence: u64,
    marker: &ControlMarker,
) -> Result<(), RebuildError> {
    match &marker.operation {
        Operation::SwapShadow { prefix } => swap_shadow(store, databases, tenant, sequence, marker, prefix).await,
        Operation::MoveTo { uri } => move_to(store, databases, tenant, sequence, marker, uri).await,
        Operation::Redrive { sequence: parked } => {
            Ok(crate::redrive::perform(store.scheme(), databases, tenant, sequence, &marker.job_id, *parked).await?)
        }
    }
}

async fn collection_names(db: &Database) -> Result<Vec<String>, RebuildError> {
    Ok(db.list_collection_names().await?)
}

/// Renames `db.from` to `db.to`, replacing `to`.
pub async fn rename(db: &Database, from: &str, to: &str) -> Result<(), RebuildError> {
    let name = db.name();
    db.client()
        .database("admin")
        .run_command(
            doc! {"renameCollection": format!("{name}.{from}"), "to": format!("{name}.{to}"), "dropTarget": true},
        )
        .await?;
    Ok(())
}

async fn swap_shadow(
    store: &EventStore,
    databases: &TenantDatabases,
    tenant: &TenantId,
    sequence: u64,
    marker: &ControlMarker,
    prefix: &str,
) -> Result<(), RebuildError> {
    let db = databases.database(tenant).await?;
    let shadow = Target::shadow(prefix);
    let shadow_checkpoints = shadow.name(collections::CHECKPOINTS);
    if !collection_names(&db).await?.contains(&shadow_checkpoints) {
        tracing::info!(tenant = %tenant, job = %marker.job_id, "no shadow read model at this marker; nothing to swap");
        return Ok(());
    }
    let plan = db
        .collection::<bson::Document>(&shadow_checkpoints)
        .find_one(doc! {"_id": RECORD_ID, "job_id": &marker.job_id})
        .await?;
    let present: Vec<String> = match plan {
        Some(plan) => plan
            .get_array("collections")
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        None => {
            let mut progress = Progress::new(format!("catching up {tenant}"), false);
            rebuild::rebuild(store, &db, &shadow, tenant, Some(sequence - 1), &mut progress).await?;
            rebuild::advance_checkpoint(&db, &shadow, sequence).await?;
            let names = collection_names(&db).await?;
            let present: Vec<String> = collections::REBUILT
                .iter()
                .filter(|c| names.contains(&shadow.name(c)))
                .map(|c| (*c).to_owned())
                .collect();
            db.collection::<bson::Document>(&shadow_checkpoints)
                .update_one(
                    doc! {"_id": RECORD_ID},
                    doc! {"$set": {"job_id": &marker.job_id, "operation": "replay", "sequence": sequence as i64, "collections": &present}},
                )
                .upsert(true)
                .await?;
            present
        }
    };
    let names = collection_names(&db).await?;
    for collection in collections::REBUILT.iter().filter(|c| **c != collections::CHECKPOINTS) {
        let from = shadow.name(collection);
        if names.contains(&from) {
            rename(&db, &from, collection).await?;
        } else if !present.iter().any(|p| p == collection) {
            // The rebuild produced no such collection: the live one must not survive it.
            db.collection::<bson::Document>(collection).drop().await?;
        }
    }
    rename(&db, &shadow_checkpoints, collections::CHECKPOINTS).await?;
    tracing::info!(tenant = %tenant, job = %marker.job_id, sequence, "rebuilt read model swapped in");
    Ok(())
}

async fn move_to(
    store: &EventStore,
    databases: &TenantDatabases,
    tenant: &TenantId,
    sequence: u64,
    marker: &ControlMarker,
    uri: &str,
) -> Result<(), RebuildError> {
    let current = databases.uri_of(tenant);
    if current == uri {
        tracing::info!(tenant = %tenant, job = %marker.job_id, "tenant already on the target deployment");
        return Ok(());
    }
    let target_db = databases.client_for(uri).await?.database(&tenant.database_name());
    let mut progress = Progress::new(format!("catching up {tenant} on its new deployment"), false);
    rebuild::rebuild(
        store,
        &target_db,
        &Target::live(),
        tenant,
        Some(sequence - 1),
        &mut progress,
    )
    .await?;
    rebuild::advance_checkpoint(&target_db, &Target::live(), sequence).await?;
    target_db
        .collection::<bson::Document>(collections::CHECKPOINTS)
        .update_one(doc! {"_id": RECORD_ID}, doc! {"$set": {"job_id": &marker.job_id, "operation": "move", "sequence": sequence as i64, "from": &current}})
        .upsert(true)
        .await?;
    databases.place(tenant, uri).await?;
    let old = databases.client_for(&current).await?.database(&tenant.database_name());
    old.drop().await?;
    tracing::info!(tenant = %tenant, job = %marker.job_id, from = %current, to = %uri, "tenant moved");
    Ok(())
}

/// The handover record of `db` (`checkpoints.handover`), if a replay or move finished.
pub async fn record(db: &Database) -> Result<Option<bson::Document>, RebuildError> {
    let found: Vec<bson::Document> = db
        .collection::<bson::Document>(collections::CHECKPOINTS)
        .find(doc! {"_id": RECORD_ID})
        .await?
        .try_collect()
        .await?;
    Ok(found.into_iter().next())
}
