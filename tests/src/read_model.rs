//! A tenant's read model as plain data, for whole-content comparison: raw BSON documents,
//! so that the comparison covers the stored bytes (field order, the strings of every
//! enum), named through `tenantdb`'s collections.

use std::collections::BTreeMap;

use bson::{Document, doc};
use futures::TryStreamExt;
use mongodb::options::FindOptions;
use tenantdb::collections::{self, Target};
use tenantdb::docs::ID;

/// Every document of every read-model collection, sorted by `_id`.
pub type Dump = BTreeMap<String, Vec<Document>>;

/// Dumps the read-model collections of `db`.
pub async fn dump(db: &mongodb::Database) -> anyhow::Result<Dump> {
    let mut dump = Dump::new();
    for collection in collections::READ_MODEL {
        let options = FindOptions::builder().sort(doc! {ID: 1}).build();
        let docs: Vec<Document> = db
            .collection::<Document>(collection)
            .find(doc! {})
            .with_options(options)
            .await?
            .try_collect()
            .await?;
        dump.insert(collection.to_owned(), docs);
    }
    Ok(dump)
}

/// The read model `events` must produce, computed in memory from scratch (no batching,
/// no loading, no redelivery): the oracle the projector's result is compared with.
pub fn expected(events: &[events::EventEnvelope], first_sequence: u64) -> anyhow::Result<Dump> {
    let sequences: Vec<u64> = (0..events.len() as u64).map(|i| first_sequence + i).collect();
    expected_at(events, &sequences)
}

/// Like [`expected`], with each event at its own stream sequence (a tenant's events
/// interleaved with other tenants' in one stream).
pub fn expected_at(events: &[events::EventEnvelope], sequences: &[u64]) -> anyhow::Result<Dump> {
    use projector::model::fold::{Sequenced, Snapshot, apply_all};
    anyhow::ensure!(events.len() == sequences.len(), "one sequence per event");
    let sequenced: Vec<Sequenced> = events
        .iter()
        .zip(sequences)
        .map(|(envelope, sequence)| Sequenced {
            sequence: *sequence,
            envelope: envelope.clone(),
        })
        .collect();
    let mut snapshot = Snapshot {
        complete: true,
        ..Snapshot::default()
    };
    let changes = apply_all(&mut snapshot, &sequenced)?;
    anyhow::ensure!(
        changes.parked.is_empty(),
        "the events break invariants: {:?}",
        changes.parked
    );
    fn sorted<T: serde::Serialize>(docs: impl Iterator<Item = T>) -> anyhow::Result<Vec<Document>> {
        let mut out = docs.map(|d| bson::to_document(&d)).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.get_str(ID).unwrap_or_default().cmp(b.get_str(ID).unwrap_or_default()));
        Ok(out)
    }
    let mut dump = Dump::new();
    dump.insert(collections::PRODUCTS.into(), sorted(snapshot.products.into_values())?);
    dump.insert(collections::SALES.into(), sorted(snapshot.sales.into_values())?);
    dump.insert(
        collections::INVENTORY_TRANSACTIONS.into(),
        sorted(changes.transactions.into_iter())?,
    );
    dump.insert(collections::USERS.into(), sorted(snapshot.users.into_values())?);
    dump.insert(collections::DAILY_SALES.into(), sorted(snapshot.daily.into_values())?);
    dump.insert(
        collections::DRAWER_SESSIONS.into(),
        sorted(snapshot.drawers.into_values())?,
    );
    dump.insert(collections::SUPPLIERS.into(), sorted(snapshot.suppliers.into_values())?);
    dump.insert(
        collections::PURCHASE_ORDERS.into(),
        sorted(snapshot.purchase_orders.into_values())?,
    );
    Ok(dump)
}

/// The first difference between two dumps, readable, or `None` when equal.
pub fn difference(left: &Dump, right: &Dump) -> Option<String> {
    for (collection, left_docs) in left {
        let right_docs = right.get(collection).map(Vec::as_slice).unwrap_or_default();
        if left_docs.len() != right_docs.len() {
            return Some(format!(
                "{collection}: {} documents vs {}",
                left_docs.len(),
                right_docs.len()
            ));
        }
        for (l, r) in left_docs.iter().zip(right_docs) {
            if l != r {
                return Some(format!("{collection}: {l}\n  vs\n{r}"));
            }
        }
    }
    None
}

/// How many events are parked in `db` (a tenant database).
pub async fn parked(db: &mongodb::Database) -> anyhow::Result<u64> {
    Ok(db
        .collection::<Document>(collections::PARKED)
        .count_documents(doc! {})
        .await?)
}

/// Rebuilds `tenant` from the whole stream into the live collections of `scratch` (which
/// should be empty) with the projector's own replay, and dumps the result.
pub async fn fresh_rebuild(
    store: &eventstore::EventStore,
    scratch: &mongodb::Database,
    tenant: &events::TenantId,
) -> anyhow::Result<Dump> {
    let mut progress = projector::rebuild::progress::Progress::new("fresh rebuild", false);
    let live = Target::live();
    projector::rebuild::rebuild(store, scratch, &live, tenant, None, &mut progress).await?;
    dump(scratch).await
}

/// The live read model of `tenant` (as `app`'s projector left it) and the one a fresh
/// replay of its whole stream builds, for [`difference`]. The replay goes into a scratch
/// database (`tenant_<id>r`) that is dropped afterwards. Call it once the projector has
/// reached the last event (`wait_for_checkpoint`).
pub async fn live_and_replayed(app: &crate::CommandApp, tenant: &events::TenantId) -> anyhow::Result<(Dump, Dump)> {
    let live = dump(&app.servers.mongo.database(&tenant.database_name())).await?;
    let scratch = events::TenantId::parse(format!("{}r", tenant.as_str()))?;
    let scratch = app.servers.mongo.database(&scratch.database_name());
    let store = projector::startup::event_store(&crate::ProjectorApp::config(&app.stream)).await?;
    let rebuilt = fresh_rebuild(&store, &scratch, tenant).await?;
    scratch.drop().await?;
    Ok((live, rebuilt))
}
