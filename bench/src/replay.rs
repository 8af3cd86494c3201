//! Replay speed: one tenant's events read back from the stream and folded into a scratch
//! database by the projector's own rebuild, beside the raw speeds it is judged against in
//! the same run: reading the same events with no work done on them, and bulk-upserting as
//! many documents as the rebuild wrote.

use std::time::{Duration, Instant};

use events::TenantId;
use serde::Serialize;

use crate::baselines;
use crate::stats::Rate;
use crate::system::{Setup, projector_config};

/// What a replay measurement found.
#[derive(Debug, Serialize)]
pub struct ReplayReport {
    /// The tenant's events read back with nothing done to them.
    pub raw_read: Rate,
    /// The rebuild (events applied).
    pub replay: Rate,
    /// Documents the rebuild left in the scratch database.
    pub documents: u64,
    /// As many documents bulk-upserted with the driver alone.
    pub raw_write: Rate,
    /// Raw read + raw write of the same amounts, as events per second.
    pub raw_combined_per_second: f64,
    /// `replay / raw_combined`.
    pub ratio: f64,
}

/// Reads every event of `tenant` with an ordered consumer, counting them.
async fn raw_read(store: &eventstore::EventStore, tenant: &TenantId) -> anyhow::Result<Rate> {
    let started = Instant::now();
    let mut reader = store.tenant_reader(tenant, 1).await?;
    let mut read = 0u64;
    if reader.pending() > 0 {
        while let Some(message) = tokio::time::timeout(Duration::from_secs(30), reader.next()).await? {
            let message = message?;
            read += 1;
            if message.pending() == 0 {
                break;
            }
        }
    }
    Ok(Rate::new("raw read of the tenant's events", read, started.elapsed()))
}

/// Measures a full rebuild of `tenant` (whose events are in `setup`'s stream) into a
/// scratch database, then the raw baselines; drops what it wrote.
pub async fn measure(setup: &Setup, mongo: &mongodb::Client, tenant: &TenantId) -> anyhow::Result<ReplayReport> {
    let store = projector::startup::event_store(&projector_config(setup)).await?;
    let raw_read = raw_read(&store, tenant).await?;
    tracing::info!(
        events = raw_read.operations,
        per_second = raw_read.per_second.round(),
        "raw read done"
    );

    let scratch = mongo.database(&format!("{}_replay", setup.prefix));
    scratch.drop().await?;
    let mut progress = projector::rebuild::progress::Progress::new(format!("replay {tenant}"), true);
    let started = Instant::now();
    projector::rebuild::rebuild(
        &store,
        &scratch,
        &projector::model::docs::collections::Target::live(),
        tenant,
        None,
        &mut progress,
    )
    .await?;
    progress.finish();
    let replay = Rate::new(
        "replay (rebuild into a scratch database)",
        progress.done(),
        started.elapsed(),
    );
    let mut documents = 0;
    for collection in scratch.list_collection_names().await? {
        documents += scratch
            .collection::<bson::Document>(&collection)
            .estimated_document_count()
            .await?;
    }
    scratch.drop().await?;

    let raw_db = mongo.database(&format!("{}_rawreplay", setup.prefix));
    let raw_write = baselines::mongo_bulk_upserts(&raw_db, "docs", documents, 500, 8).await?;
    raw_db.drop().await?;
    let raw_seconds = raw_read.seconds + raw_write.seconds;
    let raw_combined_per_second = replay.operations as f64 / raw_seconds.max(f64::EPSILON);
    let ratio = replay.per_second / raw_combined_per_second.max(f64::EPSILON);
    Ok(ReplayReport {
        raw_read,
        replay,
        documents,
        raw_write,
        raw_combined_per_second,
        ratio,
    })
}
