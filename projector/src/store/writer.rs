//! Loading the documents a batch needs and writing back what changed, so that a write
//! repeated after a crash or a redelivery changes nothing.
//!
//! Every changed document is written whole, as an upsert guarded by its sequence:
//!
//! ```text
//! update {q: {_id: X, last_seq: {$lt: S}}, u: <document at S>, upsert: true}
//! ```
//!
//! If the stored document is older it is replaced; if it is absent it is inserted; if it
//! already holds S or later the filter misses, the upsert's insert collides on `_id`
//! (E11000) and that error is the expected "already applied". Inventory transactions have
//! deterministic ids and are inserted with duplicates ignored. Writes go in this order:
//! parked events, transactions, documents, checkpoint, so a document at sequence S implies
//! its transactions are stored, and a checkpoint at S implies everything up to S is.
//! Within a step nothing depends on order (statements are unordered and idempotent), so
//! the document collections are written concurrently and a step's chunks run a few at a
//! time, which lets the server use more than one core for one tenant's batch.
//!
//! Only documented MongoDB commands are used (`find`, `insert`, `update` with
//! `ordered: false`), so the same code runs on a standalone server, a replica set or the
//! surrogate, without multi-document transactions.

use bson::{Bson, Document, doc};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::Database;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::docs::collections::{self, Target};
use crate::model::docs::{DailySalesDoc, ProductDoc, SaleDoc, UserDoc};
use crate::model::fold::{Changes, Needs, Snapshot};

/// Most operations per write command.
const CHUNK: usize = 500;
/// Write commands of one collection in flight at once.
const WRITES_IN_FLIGHT: usize = 4;

/// Duplicate key: the write was already applied.
const DUPLICATE_KEY: i32 = 11000;

/// A failed write or read.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The driver failed (network, timeout, server selection, ...).
    #[error(transparent)]
    Mongo(#[from] mongodb::error::Error),
    /// The server refused some operations for a reason other than a duplicate key.
    #[error("{collection}: {message}")]
    Refused {
        /// Collection.
        collection: String,
        /// First error message.
        message: String,
    },
    /// A document could not be (de)serialized.
    #[error("document encoding: {0}")]
    Encoding(String),
}

/// An event that could not be applied, as stored in `parked`.
#[derive(Debug, Clone, Serialize)]
pub struct ParkedDoc {
    /// Stream sequence.
    #[serde(rename = "_id")]
    pub sequence: i64,
    /// Subject it was stored under.
    pub subject: String,
    /// Event type, if the envelope could be read that far.
    pub event_type: Option<String>,
    /// Why it was parked.
    pub error: String,
    /// The message body as text (lossy for non-UTF-8 bytes).
    pub payload: String,
    /// Deliveries so far.
    pub deliveries: i64,
    /// When it was parked.
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    pub parked_at: DateTime<Utc>,
}

/// Loads the documents named in `needs` that `snapshot` does not hold yet.
pub async fn load(db: &Database, target: &Target, needs: &Needs, snapshot: &mut Snapshot) -> Result<(), WriteError> {
    load_into::<ProductDoc>(db, target, collections::PRODUCTS, &needs.products, snapshot, |s, d| {
        s.products.insert(d.sku.clone(), d);
    })
    .await?;
    load_into::<SaleDoc>(db, target, collections::SALES, &needs.sales, snapshot, |s, d| {
        s.sales.insert(d.sale_id.clone(), d);
    })
    .await?;
    load_into::<DailySalesDoc>(db, target, collections::DAILY_SALES, &needs.daily, snapshot, |s, d| {
        s.daily.insert(d.id.clone(), d);
    })
    .await?;
    load_into::<UserDoc>(db, target, collections::USERS, &needs.users, snapshot, |s, d| {
        s.users.insert(d.user_id.clone(), d);
    })
    .await?;
    Ok(())
}

async fn load_into<T>(
    db: &Database,
    target: &Target,
    collection: &'static str,
    ids: &std::collections::BTreeSet<String>,
    snapshot: &mut Snapshot,
    mut put: impl FnMut(&mut Snapshot, T),
) -> Result<(), WriteError>
where
    T: DeserializeOwned + Send + Sync,
{
    let missing: Vec<&String> = ids
        .iter()
        .filter(|id| !snapshot.loaded.contains(&(collection, (*id).clone())))
        .collect();
    for chunk in missing.chunks(CHUNK) {
        let found: Vec<T> = db
            .collection::<T>(&target.name(collection))
            .find(doc! {"_id": {"$in": chunk.iter().map(|id| id.as_str()).collect::<Vec<_>>()}})
            .await?
            .try_collect()
            .await?;
        for doc in found {
            put(snapshot, doc);
        }
        for id in chunk {
            snapshot.loaded.insert((collection, (*id).clone()));
        }
    }
    Ok(())
}

/// Writes what a batch changed, then moves the checkpoint.
pub async fn write(
    db: &Database,
    target: &Target,
    snapshot: &Snapshot,
    changes: &Changes,
    parked: &[ParkedDoc],
) -> Result<(), WriteError> {
    if !parked.is_empty() {
        let docs = parked.iter().map(encode).collect::<Result<Vec<_>, _>>()?;
        insert_ignoring_duplicates(db, &target.name(collections::PARKED), docs).await?;
    }
    if !changes.transactions.is_empty() {
        let docs = changes.transactions.iter().map(encode).collect::<Result<Vec<_>, _>>()?;
        insert_ignoring_duplicates(db, &target.name(collections::INVENTORY_TRANSACTIONS), docs).await?;
    }
    // The four document collections do not depend on one another: written concurrently.
    let (products, sales, daily, users) = (
        target.name(collections::PRODUCTS),
        target.name(collections::SALES),
        target.name(collections::DAILY_SALES),
        target.name(collections::USERS),
    );
    futures::try_join!(
        replace_guarded(
            db,
            &products,
            changes.products.iter().filter_map(|id| snapshot.products.get(id))
        ),
        replace_guarded(db, &sales, changes.sales.iter().filter_map(|id| snapshot.sales.get(id))),
        replace_guarded(db, &daily, changes.daily.iter().filter_map(|id| snapshot.daily.get(id))),
        replace_guarded(db, &users, changes.users.iter().filter_map(|id| snapshot.users.get(id))),
    )?;
    if changes.last_sequence > 0 {
        let sequence = changes.last_sequence as i64;
        let mut set = doc! {"last_sequence": sequence};
        if let Some(at) = changes.last_occurred_at {
            set.insert("last_event_at", bson::DateTime::from_chrono(at));
        }
        let update =
            doc! {"q": {"_id": "projection", "last_sequence": {"$lt": sequence}}, "u": {"$set": set}, "upsert": true};
        run_writes(
            db,
            &target.name(collections::CHECKPOINTS),
            doc! {"update": target.name(collections::CHECKPOINTS), "updates": [update], "ordered": false},
        )
        .await?;
    }
    Ok(())
}

fn encode<T: Serialize>(value: &T) -> Result<Document, WriteError> {
    bson::to_document(value).map_err(|e| WriteError::Encoding(e.to_string()))
}

/// Upserts whole documents, each only over an older version of itself.
async fn replace_guarded<'a, T>(
    db: &Database,
    collection: &str,
    docs: impl Iterator<Item = &'a T>,
) -> Result<(), WriteError>
where
    T: Serialize + 'a,
{
    let mut updates = Vec::new();
    for doc in docs {
        let document = encode(doc)?;
        let id = document.get("_id").cloned().unwrap_or(Bson::Null);
        let last_seq = document
            .get_i64("last_seq")
            .map_err(|e| WriteError::Encoding(e.to_string()))?;
        updates.push(Bson::Document(
            doc! {"q": {"_id": id, "last_seq": {"$lt": last_seq}}, "u": document, "upsert": true},
        ));
    }
    let commands: Vec<Document> = updates
        .chunks(CHUNK)
        .map(|chunk| doc! {"update": collection, "updates": chunk.to_vec(), "ordered": false})
        .collect();
    concurrently(db, collection, commands).await
}

async fn insert_ignoring_duplicates(db: &Database, collection: &str, docs: Vec<Document>) -> Result<(), WriteError> {
    let commands: Vec<Document> = docs
        .chunks(CHUNK)
        .map(|chunk| doc! {"insert": collection, "documents": chunk.to_vec(), "ordered": false})
        .collect();
    concurrently(db, collection, commands).await
}

/// Runs independent write commands (unordered statements, each idempotent)
/// [`WRITES_IN_FLIGHT`] at a time; the first failure fails the whole (the batch is retried).
async fn concurrently(db: &Database, collection: &str, commands: Vec<Document>) -> Result<(), WriteError> {
    for group in commands.chunks(WRITES_IN_FLIGHT) {
        futures::future::try_join_all(group.iter().map(|command| run_writes(db, collection, command.clone()))).await?;
    }
    Ok(())
}

/// Runs a write command; duplicate-key errors mean "already applied", any other write or
/// write-concern error fails the batch (which is then retried).
async fn run_writes(db: &Database, collection: &str, command: Document) -> Result<(), WriteError> {
    let reply = db.run_command(command).await?;
    if let Ok(errors) = reply.get_array("writeErrors") {
        let other = errors
            .iter()
            .filter_map(Bson::as_document)
            .find(|e| e.get_i32("code").ok() != Some(DUPLICATE_KEY));
        if let Some(error) = other {
            return Err(WriteError::Refused {
                collection: collection.to_owned(),
                message: error.to_string(),
            });
        }
    }
    if let Ok(concern) = reply.get_document("writeConcernError") {
        return Err(WriteError::Refused {
            collection: collection.to_owned(),
            message: format!("write concern: {concern}"),
        });
    }
    Ok(())
}
