//! The operator commands: replay, verify, move, export, import and delete a tenant.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use bson::doc;
use events::control::{ControlMarker, Operation};
use events::{AggregateKind, EventEnvelope, TenantId};
use eventstore::EventStore;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use crate::model::docs::collections::{self, Target};
use crate::partition::handover;
use crate::rebuild::{self, progress::Progress};
use crate::replay::{ReplayError, SHADOW_PREFIX, running};
use crate::store::TenantDatabases;

/// How long to wait for the live projector to act on a marker.
pub const HANDOVER_TIMEOUT: Duration = Duration::from_secs(120);

fn new_job_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// Waits until the handover record of `db` names `job_id`.
async fn wait_for_handover(db: &mongodb::Database, job_id: &str, timeout: Duration) -> Result<(), ReplayError> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(record) = handover::record(db).await?
            && record.get_str("job_id").ok() == Some(job_id)
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(ReplayError::Refused(format!(
                "no projector acted on the handover marker within {timeout:?}: is one running? \
                 If none is, run again with --offline"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Rebuilds `tenant`'s read model from its first event, online: the live projection keeps
/// serving while shadow collections are built and caught up; the live projector swaps them
/// in when it reaches the marker this job appends. With `offline`, this process swaps them
/// itself (no projector may be running). Resumable: run it again after a crash. Returns
/// the sequence the read model was swapped at.
pub async fn replay(
    store: &EventStore,
    databases: &TenantDatabases,
    tenant: &TenantId,
    offline: bool,
    interactive: bool,
) -> Result<u64, ReplayError> {
    running::start(databases, tenant, running::Kind::Replay, None).await?;
    let result = replay_recorded(store, databases, tenant, offline, interactive).await;
    running::finish(databases, tenant, running::Kind::Replay).await;
    result
}

/// [`replay`], between the records of its start and end ([`running`]).
async fn replay_recorded(
    store: &EventStore,
    databases: &TenantDatabases,
    tenant: &TenantId,
    offline: bool,
    interactive: bool,
) -> Result<u64, ReplayError> {
    databases.refresh_placements().await?;
    let db = databases.database(tenant).await?;
    let shadow = Target::shadow(SHADOW_PREFIX);
    let mut progress = Progress::new(format!("replay {tenant}"), interactive);
    rebuild::rebuild(store, &db, &shadow, tenant, None, &mut progress).await?;
    let marker = ControlMarker {
        job_id: new_job_id(),
        operation: Operation::SwapShadow {
            prefix: SHADOW_PREFIX.to_owned(),
        },
    };
    let sequence = store.place_marker(tenant, &marker).await?;
    if offline {
        handover::perform(store, databases, tenant, sequence, &marker).await?;
    } else {
        wait_for_handover(&db, &marker.job_id, HANDOVER_TIMEOUT).await?;
    }
    progress.finish();
    Ok(sequence)
}

/// Every tenant with a database on the main deployment or an entry in the placement map.
pub async fn tenants(databases: &TenantDatabases) -> Result<Vec<TenantId>, ReplayError> {
    let mut found: Vec<TenantId> = databases
        .main_client()
        .list_database_names()
        .await?
        .into_iter()
        .filter_map(|name| {
            name.strip_prefix(TenantId::DATABASE_PREFIX)
                .and_then(|id| TenantId::parse(id).ok())
        })
        .collect();
    databases.refresh_placements().await?;
    for tenant in databases.placed_tenants() {
        if let Ok(tenant) = TenantId::parse(tenant) {
            found.push(tenant);
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// Replays every tenant, at most `concurrency` at a time. Returns the tenants that failed.
pub async fn replay_all(
    store: &EventStore,
    databases: &TenantDatabases,
    concurrency: usize,
    offline: bool,
) -> Result<Vec<(TenantId, String)>, ReplayError> {
    let all = tenants(databases).await?;
    tracing::info!(tenants = all.len(), concurrency, "replaying every tenant");
    let results: Vec<(TenantId, Result<u64, ReplayError>)> = futures::stream::iter(all)
        .map(|tenant| async move {
            let result = replay(store, databases, &tenant, offline, false).await;
            (tenant, result)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    Ok(results
        .into_iter()
        .filter_map(|(tenant, result)| result.err().map(|e| (tenant, format!("{:#}", anyhow::Error::new(e)))))
        .collect())
}

/// A tenant's read model as plain data (every read-model collection, sorted by `_id`).
pub type Dump = std::collections::BTreeMap<String, Vec<bson::Document>>;

/// Dumps the read-model collections `target` of `db`.
pub async fn dump(db: &mongodb::Database, target: &Target) -> Result<Dump, ReplayError> {
    let mut out = Dump::new();
    for collection in collections::READ_MODEL {
        let docs: Vec<bson::Document> = futures::TryStreamExt::try_collect(
            db.collection::<bson::Document>(&target.name(collection))
                .find(doc! {})
                .sort(doc! {"_id": 1})
                .await?,
        )
        .await?;
        out.insert(collection.to_owned(), docs);
    }
    Ok(out)
}

/// Readable differences between two dumps (at most `limit` lines); empty when equal.
pub fn differences(live: &Dump, rebuilt: &Dump, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (collection, live_docs) in live {
        let rebuilt_docs = rebuilt.get(collection).map(Vec::as_slice).unwrap_or_default();
        let index = |docs: &[bson::Document]| -> std::collections::BTreeMap<String, bson::Document> {
            docs.iter()
                .map(|d| (d.get("_id").map(|v| v.to_string()).unwrap_or_default(), d.clone()))
                .collect()
        };
        let (l, r) = (index(live_docs), index(rebuilt_docs));
        for (id, doc) in &l {
            match r.get(id) {
                None => out.push(format!("{collection} {id}: only in the live read model")),
                Some(other) if other != doc => {
                    let fields: Vec<String> = doc
                        .iter()
                        .filter(|(k, v)| other.get(k.as_str()) != Some(v))
                        .map(|(k, v)| {
                            format!(
                                "{k}: live {v} / rebuilt {}",
                                other.get(k.as_str()).map_or("(absent)".to_owned(), |o| o.to_string())
                            )
                        })
                        .collect();
                    out.push(format!("{collection} {id}: {}", fields.join("; ")));
                }
                Some(_) => {}
            }
        }
        for id in r.keys().filter(|id| !l.contains_key(*id)) {
            out.push(format!("{collection} {id}: missing from the live read model"));
        }
    }
    out.truncate(limit);
    out
}

/// Rebuilds `tenant` into a scratch database and compares it with the live read model at
/// the same stream position. Returns the differences (empty when equal).
pub async fn verify(
    store: &EventStore,
    databases: &TenantDatabases,
    tenant: &TenantId,
    interactive: bool,
) -> Result<Vec<String>, ReplayError> {
    databases.refresh_placements().await?;
    let live_db = databases.database(tenant).await?;
    let scratch = databases
        .client_for(&databases.uri_of(tenant))
        .await?
        .database(&format!("verify_{tenant}"));
    scratch.drop().await?;
    let mut progress = Progress::new(format!("verify {tenant}"), interactive);
    let result = async {
        for _ in 0..10 {
            let position = tenantdb::checkpoint::sequence(&live_db, &Target::live()).await?;
            rebuild::rebuild(store, &scratch, &Target::live(), tenant, Some(position), &mut progress).await?;
            let live = dump(&live_db, &Target::live()).await?;
            if tenantdb::checkpoint::sequence(&live_db, &Target::live()).await? != position {
                continue; // the live model moved while it was read: compare again further on
            }
            let rebuilt = dump(&scratch, &Target::live()).await?;
            return Ok(differences(&live, &rebuilt, 50));
        }
        Err(ReplayError::Refused(
            "the live read model kept moving; try again when traffic is lower".to_owned(),
        ))
    }
    .await;
    scratch.drop().await?;
    progress.finish();
    result
}

/// Moves `tenant`'s database to the deployment `uri`: rebuilds it there, then the live
/// projector catches it up at a marker, switches the placement map and drops the old
/// database. Commands and projection keep working throughout.
pub async fn move_tenant(
    store: &EventStore,
    databases: &TenantDatabases,
    tenant: &TenantId,
    uri: &str,
    offline: bool,
    interactive: bool,
) -> Result<u64, ReplayError> {
    running::start(databases, tenant, running::Kind::Move, Some(uri)).await?;
    let result = move_recorded(store, databases, tenant, uri, offline, interactive).await;
    running::finish(databases, tenant, running::Kind::Move).await;
    result
}

/// [`move_tenant`], between the records of its start and end ([`running`]).
async fn move_recorded(
    store: &EventStore,
    databases: &TenantDatabases,
    tenant: &TenantId,
    uri: &str,
    offline: bool,
    interactive: bool,
) -> Result<u64, ReplayError> {
    databases.refresh_placements().await?;
    let current = databases.uri_of(tenant);
    if current == uri || same_server(databases, &current, uri).await? {
        return Err(ReplayError::Refused(format!(
            "{tenant} already lives on that deployment"
        )));
    }
    let target_db = databases.client_for(uri).await?.database(&tenant.database_name());
    let mut progress = Progress::new(format!("move {tenant}"), interactive);
    rebuild::rebuild(store, &target_db, &Target::live(), tenant, None, &mut progress).await?;
    let marker = ControlMarker {
        job_id: new_job_id(),
        operation: Operation::MoveTo { uri: uri.to_owned() },
    };
    let sequence = store.place_marker(tenant, &marker).await?;
    if offline {
        handover::perform(store, databases, tenant, sequence, &marker).await?;
    } else {
        wait_for_handover(&target_db, &marker.job_id, HANDOVER_TIMEOUT).await?;
    }
    progress.finish();
    Ok(sequence)
}

/// Whether two URIs reach the same server: a probe written through one is read through
/// the other. Moving a tenant "to" its own server would drop its only database.
async fn same_server(databases: &TenantDatabases, a: &str, b: &str) -> Result<bool, ReplayError> {
    let token = uuid::Uuid::now_v7().to_string();
    let probe = |client: mongodb::Client| {
        client
            .database("tillstream_projector")
            .collection::<bson::Document>("probes")
    };
    let written = probe(databases.client_for(a).await?);
    written.insert_one(doc! {"_id": &token}).await?;
    let seen = probe(databases.client_for(b).await?)
        .find_one(doc! {"_id": &token})
        .await?
        .is_some();
    written.delete_one(doc! {"_id": &token}).await?;
    Ok(seen)
}

/// First line of an export file.
#[derive(Debug, Serialize, Deserialize)]
struct ExportHeader {
    format: String,
    version: u32,
    tenant: TenantId,
    exported_at: String,
}

/// One event in an export file.
#[derive(Debug, Serialize, Deserialize)]
struct ExportedEvent {
    sequence: u64,
    event: Value,
}

/// Last line of an export file: lets an import tell a complete file from a cut one.
#[derive(Debug, Serialize, Deserialize)]
struct ExportTrailer {
    end: bool,
    events: u64,
}

const EXPORT_FORMAT: &str = "tillstream-export";

/// Writes every event of `tenant` to `path` as JSON lines (zstd-compressed when the path
/// ends in `.zst`). Control markers are left out. Returns the number of events.
pub async fn export(store: &EventStore, tenant: &TenantId, path: &Path, interactive: bool) -> Result<u64, ReplayError> {
    let file =
        std::fs::File::create(path).map_err(|e| ReplayError::File(format!("creating {}: {e}", path.display())))?;
    let mut out: Box<dyn Write> = if path.extension().is_some_and(|e| e == "zst") {
        Box::new(
            zstd::Encoder::new(file, 3)
                .map_err(|e| ReplayError::File(e.to_string()))?
                .auto_finish(),
        )
    } else {
        Box::new(BufWriter::new(file))
    };
    let io = |e: std::io::Error| ReplayError::File(format!("writing {}: {e}", path.display()));
    let header = ExportHeader {
        format: EXPORT_FORMAT.to_owned(),
        version: 1,
        tenant: tenant.clone(),
        exported_at: chrono::Utc::now().to_rfc3339(),
    };
    writeln!(
        out,
        "{}",
        serde_json::to_string(&header).map_err(|e| ReplayError::File(e.to_string()))?
    )
    .map_err(io)?;
    let mut progress = Progress::new(format!("export {tenant}"), interactive);
    let mut reader = store.tenant_reader(tenant, 1).await?;
    let mut count = 0;
    if reader.pending() > 0 {
        while let Some(message) = tokio::time::timeout(Duration::from_secs(30), reader.next())
            .await
            .map_err(|_| ReplayError::Stalled("the stream stopped answering"))?
        {
            let message = message?;
            let (sequence, pending) = (message.sequence(), message.pending());
            let control = store
                .scheme()
                .parse(message.subject())
                .is_ok_and(|(_, a)| a.kind == AggregateKind::Control);
            if !control {
                let event: Value = serde_json::from_slice(message.payload()).map_err(|e| {
                    ReplayError::Refused(format!(
                        "event {sequence} is not JSON ({e}); fix or delete it before exporting"
                    ))
                })?;
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string(&ExportedEvent { sequence, event })
                        .map_err(|e| ReplayError::File(e.to_string()))?
                )
                .map_err(io)?;
                count += 1;
                progress.advance(1, pending);
            }
            if pending == 0 {
                break;
            }
        }
    }
    writeln!(
        out,
        "{}",
        serde_json::to_string(&ExportTrailer {
            end: true,
            events: count
        })
        .map_err(|e| ReplayError::File(e.to_string()))?
    )
    .map_err(io)?;
    out.flush().map_err(io)?;
    progress.finish();
    Ok(count)
}

/// Appends the events of an export file to this installation's stream: same event ids,
/// same envelopes, this installation's subjects. Refuses a tenant that already has events
/// here, and a file without its trailer. Returns the number of events.
pub async fn import(
    store: &EventStore,
    path: &Path,
    rename: Option<&TenantId>,
    interactive: bool,
) -> Result<(TenantId, u64), ReplayError> {
    let file = std::fs::File::open(path).map_err(|e| ReplayError::File(format!("opening {}: {e}", path.display())))?;
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "zst") {
        Box::new(BufReader::new(
            zstd::Decoder::new(file).map_err(|e| ReplayError::File(e.to_string()))?,
        ))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut lines = reader.lines();
    let bad = |line: usize, what: String| ReplayError::Refused(format!("{}: line {line}: {what}", path.display()));
    let first = lines
        .next()
        .ok_or_else(|| bad(1, "empty file".into()))?
        .map_err(|e| bad(1, e.to_string()))?;
    let header: ExportHeader =
        serde_json::from_str(&first).map_err(|e| bad(1, format!("not an export header: {e}")))?;
    if header.format != EXPORT_FORMAT || header.version != 1 {
        return Err(bad(
            1,
            format!("unsupported format {} v{}", header.format, header.version),
        ));
    }
    let exported_tenant = header.tenant;
    let tenant = rename.cloned().unwrap_or_else(|| exported_tenant.clone());
    if store.tenant_head(&tenant).await?.is_some() {
        return Err(ReplayError::Refused(format!(
            "{tenant} already has events in this installation; delete it first or import elsewhere"
        )));
    }
    // Read and check everything before publishing anything.
    let mut envelopes: Vec<EventEnvelope> = Vec::new();
    let mut trailer: Option<ExportTrailer> = None;
    for (index, line) in lines.enumerate() {
        let number = index + 2;
        let line = line.map_err(|e| bad(number, e.to_string()))?;
        if trailer.is_some() {
            return Err(bad(number, "content after the trailer".into()));
        }
        if let Ok(end) = serde_json::from_str::<ExportTrailer>(&line) {
            trailer = Some(end);
            continue;
        }
        let exported: ExportedEvent = serde_json::from_str(&line).map_err(|e| bad(number, e.to_string()))?;
        let bytes = serde_json::to_vec(&exported.event).map_err(|e| bad(number, e.to_string()))?;
        let envelope = events::decode(&bytes).map_err(|e| bad(number, format!("event {}: {e}", exported.sequence)))?;
        if envelope.tenant_id != exported_tenant {
            return Err(bad(
                number,
                format!(
                    "event of tenant {} in an export of {exported_tenant}",
                    envelope.tenant_id
                ),
            ));
        }
        envelopes.push(match rename {
            // A copy is another tenant's history: new event ids (JetStream would drop
            // ids it has seen within its de-duplication window), the same facts.
            Some(renamed) => EventEnvelope {
                tenant_id: renamed.clone(),
                event_id: uuid::Uuid::now_v7(),
                ..envelope
            },
            None => envelope,
        });
    }
    match trailer {
        Some(end) if end.events == envelopes.len() as u64 => {}
        Some(end) => {
            return Err(bad(
                0,
                format!("trailer says {} events, file has {}", end.events, envelopes.len()),
            ));
        }
        None => return Err(bad(0, "no trailer: the file is incomplete".into())),
    }
    let mut progress = Progress::new(format!("import {tenant}"), interactive);
    let total = envelopes.len() as u64;
    for chunk in envelopes.chunks(256) {
        store.append_many(chunk).await?;
        progress.advance(chunk.len() as u64, total - progress.done() - chunk.len() as u64);
    }
    progress.finish();
    Ok((tenant, total))
}

/// Erases `tenant`: purges its subjects from the stream, waits until the projector has
/// nothing of it in flight, drops its database and its placement. `confirm` must repeat
/// the tenant id.
pub async fn delete(
    store: &EventStore,
    databases: &TenantDatabases,
    tenant: &TenantId,
    confirm: &str,
    consumer_prefix: &str,
) -> Result<u64, ReplayError> {
    if confirm != tenant.as_str() {
        return Err(ReplayError::Refused(format!(
            "refusing to delete {tenant}: --confirm must repeat the tenant id"
        )));
    }
    let head = store.state().await?.last_sequence;
    let purged = store.purge_tenant(tenant).await?;
    // A batch of this tenant may still be in flight in a projector; let it land, then drop.
    let consumer = crate::partition::consumer_name_with(consumer_prefix, store.scheme().partition_of(tenant));
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match store.reader_position(&consumer).await {
            Ok(position) if position.ack_floor >= head || position.ack_pending == 0 => break,
            Ok(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(_) => break,
        }
    }
    databases.refresh_placements().await?;
    let db = databases.database(tenant).await?;
    db.drop().await?;
    databases.place(tenant, databases.main_uri()).await?;
    databases.forget(tenant);
    tracing::info!(tenant = %tenant, events = purged, "tenant erased");
    Ok(purged)
}
