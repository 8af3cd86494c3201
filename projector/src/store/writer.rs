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
//!
//! Many small tenants: [`execute_many`] writes the batches of many tenant databases of one
//! deployment with MongoDB 8's cross-namespace `bulkWrite` command (the driver's
//! `Client::bulk_write`), one command per phase for all of them, keeping the phase order
//! per database. On a server without it the partition falls back to [`Prepared::execute`]
//! per tenant.

use bson::{Bson, Document, doc};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use mongodb::error::ErrorKind;
use mongodb::options::{InsertOneModel, ReplaceOneModel, UpdateOneModel, WriteModel};
use mongodb::{Client, Database, Namespace};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::fold::{Changes, Needs, Snapshot};
use tenantdb::checkpoint;
use tenantdb::collections::{self, Target};
use tenantdb::docs::{
    DailySalesDoc, DrawerSessionDoc, ID, InventoryTransactionDoc, LAST_SEQ, LocationDoc, ProductDoc, PromotionDoc,
    PurchaseOrderDoc, SaleDoc, SupplierDoc, UserDoc,
};

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

impl WriteError {
    /// Whether the server does not know the command (a MongoDB before 8.0 asked for
    /// `bulkWrite`): code 59 `CommandNotFound`, or the driver's own refusal to send it to
    /// a server whose wire version is too old.
    pub fn is_unsupported_command(&self) -> bool {
        match self {
            WriteError::Mongo(err) => match err.kind.as_ref() {
                ErrorKind::Command(command) => command.code == COMMAND_NOT_FOUND,
                ErrorKind::IncompatibleServer { .. } => true,
                _ => false,
            },
            WriteError::Refused { .. } | WriteError::Encoding(_) => false,
        }
    }
}

/// The server does not know the command.
const COMMAND_NOT_FOUND: i32 = 59;

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
///
/// When they are in several collections and not too many, they are read with **one**
/// aggregate over the tenant's database (`$unionWith`, MongoDB 4.4+): a sparse tenant's
/// sale needs its products, its day and itself, and one round trip instead of three
/// costs the server one command instead of three (measured in docs/performance.md,
/// "Sparse tenants"). Otherwise each collection is read with its own finds, concurrently.
/// The checkpoint comes along when the snapshot asks for it ([`Snapshot::wants_checkpoint`]).
pub async fn load(db: &Database, target: &Target, needs: &Needs, snapshot: &mut Snapshot) -> Result<(), WriteError> {
    let wanted: Vec<(&'static str, Vec<String>)> = [
        (collections::PRODUCTS, &needs.products),
        (collections::SALES, &needs.sales),
        (collections::DAILY_SALES, &needs.daily),
        (collections::USERS, &needs.users),
        (collections::LOCATIONS, &needs.locations),
        (collections::DRAWER_SESSIONS, &needs.drawers),
        (collections::PROMOTIONS, &needs.promotions),
        (collections::SUPPLIERS, &needs.suppliers),
        (collections::PURCHASE_ORDERS, &needs.purchase_orders),
        (collections::INVENTORY_TRANSACTIONS, &needs.transactions),
    ]
    .into_iter()
    .filter_map(|(collection, ids)| {
        let ids: Vec<String> = ids
            .iter()
            .filter(|id| !snapshot.loaded.contains(&(collection, (*id).clone())))
            .cloned()
            .collect();
        (!ids.is_empty()).then_some((collection, ids))
    })
    .chain(
        (snapshot.wants_checkpoint
            && !snapshot
                .loaded
                .contains(&(collections::CHECKPOINTS, checkpoint::PROJECTION_ID.to_owned())))
        .then(|| (collections::CHECKPOINTS, vec![checkpoint::PROJECTION_ID.to_owned()])),
    )
    .collect();
    let total: usize = wanted.iter().map(|(_, ids)| ids.len()).sum();
    let found = if wanted.len() > 1 && total <= UNION_IDS {
        find_together(db, target, &wanted).await?
    } else {
        let each = wanted.iter().map(|(collection, ids)| find(db, target, collection, ids));
        futures::future::try_join_all(each)
            .await?
            .into_iter()
            .flatten()
            .collect()
    };
    for (collection, document) in found {
        put(snapshot, collection, document)?;
    }
    for (collection, ids) in wanted {
        for id in ids {
            snapshot.loaded.insert((collection, id));
        }
    }
    Ok(())
}

/// Most ids read with one `$unionWith` aggregate; more are read collection by collection
/// in chunks of [`CHUNK`] (a dense batch after a long outage can name thousands).
const UNION_IDS: usize = 1_000;

/// The documents of `ids` in `collection`, in finds of at most [`CHUNK`] ids.
async fn find(
    db: &Database,
    target: &Target,
    collection: &'static str,
    ids: &[String],
) -> Result<Vec<(&'static str, Document)>, WriteError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let mut cursor = db
            .collection::<Document>(&target.name(collection))
            .find(doc! {ID: {"$in": chunk}})
            // Every match in the first answer (the server's default is 101 documents).
            .batch_size(CHUNK as u32)
            .await?;
        while let Some(document) = cursor.try_next().await? {
            found.push((collection, document));
        }
    }
    Ok(found)
}

/// The documents of every `(collection, ids)` of `wanted` (at least one), with one
/// aggregate: each collection's `$match` on `_id`, tagged with its name, the first as the
/// pipeline's start and the others through `$unionWith`.
async fn find_together(
    db: &Database,
    target: &Target,
    wanted: &[(&'static str, Vec<String>)],
) -> Result<Vec<(&'static str, Document)>, WriteError> {
    let branch = |collection: &str, ids: &[String]| {
        vec![
            doc! {"$match": {ID: {"$in": ids}}},
            doc! {"$project": {ID: 0, "c": {"$literal": collection}, "d": "$$ROOT"}},
        ]
    };
    let Some(((first, first_ids), rest)) = wanted.split_first() else {
        return Ok(Vec::new());
    };
    let mut pipeline = branch(first, first_ids);
    for (collection, ids) in rest {
        pipeline.push(doc! {"$unionWith": {"coll": target.name(collection), "pipeline": branch(collection, ids)}});
    }
    let mut cursor = db
        .collection::<Document>(&target.name(first))
        .aggregate(pipeline)
        // Every row in the first answer (the server's default is 101 documents).
        .batch_size(UNION_IDS as u32)
        .await?;
    let mut found = Vec::new();
    while let Some(mut row) = cursor.try_next().await? {
        let tag = row.get_str("c").map_err(|e| WriteError::Encoding(e.to_string()))?;
        let collection = wanted
            .iter()
            .map(|(c, _)| *c)
            .find(|c| *c == tag)
            .ok_or_else(|| WriteError::Encoding(format!("a document tagged with an unknown collection `{tag}`")))?;
        match row.remove("d") {
            Some(Bson::Document(document)) => found.push((collection, document)),
            _ => return Err(WriteError::Encoding(format!("a {collection} row without its document"))),
        }
    }
    Ok(found)
}

/// Decodes `document` of `collection` into the snapshot.
fn put(snapshot: &mut Snapshot, collection: &str, document: Document) -> Result<(), WriteError> {
    fn decode<T: DeserializeOwned>(document: Document) -> Result<T, WriteError> {
        bson::from_document(document).map_err(|e| WriteError::Encoding(e.to_string()))
    }
    match collection {
        collections::PRODUCTS => {
            let d: ProductDoc = decode(document)?;
            snapshot.products.insert(d.sku.clone(), d);
        }
        collections::SALES => {
            let d: SaleDoc = decode(document)?;
            snapshot.sales.insert(d.sale_id.clone(), d);
        }
        collections::DAILY_SALES => {
            let d: DailySalesDoc = decode(document)?;
            snapshot.daily.insert(d.id.clone(), d);
        }
        collections::USERS => {
            let d: UserDoc = decode(document)?;
            snapshot.users.insert(d.user_id.clone(), d);
        }
        collections::LOCATIONS => {
            let d: LocationDoc = decode(document)?;
            snapshot.locations.insert(d.location_id.clone(), d);
        }
        collections::DRAWER_SESSIONS => {
            let d: DrawerSessionDoc = decode(document)?;
            snapshot.drawers.insert(d.session_id.clone(), d);
        }
        collections::PROMOTIONS => {
            let d: PromotionDoc = decode(document)?;
            snapshot.promotions.insert(d.promotion_id.clone(), d);
        }
        collections::SUPPLIERS => {
            let d: SupplierDoc = decode(document)?;
            snapshot.suppliers.insert(d.supplier_id.clone(), d);
        }
        collections::PURCHASE_ORDERS => {
            let d: PurchaseOrderDoc = decode(document)?;
            snapshot.purchase_orders.insert(d.po_id.clone(), d);
        }
        collections::INVENTORY_TRANSACTIONS => {
            let d: InventoryTransactionDoc = decode(document)?;
            snapshot.transactions.insert(d.id.clone(), d);
        }
        collections::CHECKPOINTS => {
            snapshot.checkpoint = Some(decode(document)?);
        }
        other => return Err(WriteError::Encoding(format!("no snapshot for collection `{other}`"))),
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
    Prepared::new(target, snapshot, changes, parked)?.execute(db).await
}

/// The steps of a batch's writes, in the order they must become durable: a document at
/// sequence S implies its transactions are stored, and a checkpoint at S implies
/// everything up to S is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Events that could not be applied, into `parked`.
    Parked,
    /// Inventory transactions (deterministic ids, duplicates ignored).
    Transactions,
    /// The read-model documents, whole, each guarded by its sequence.
    Documents,
    /// The checkpoint.
    Checkpoint,
}

impl Phase {
    /// Every phase, in write order.
    pub const ALL: [Phase; 4] = [Phase::Parked, Phase::Transactions, Phase::Documents, Phase::Checkpoint];
}

/// A batch's writes, encoded and owned, so that they can run while the next batch is read
/// and folded. Steps run in order (parked events, transactions, documents, checkpoint);
/// the collections of a step run concurrently.
#[derive(Debug, Default)]
pub struct Prepared {
    steps: Vec<(Phase, Vec<Statements>)>,
}

/// Whether a collection's statements are inserts or updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Documents to insert; duplicates are "already applied".
    Insert,
    /// `{q, u, upsert}` statements; a duplicate key from the upsert is "already applied".
    Update,
}

/// The write statements of one collection.
#[derive(Debug)]
struct Statements {
    collection: String,
    kind: Kind,
    statements: Vec<Document>,
}

impl Statements {
    /// The statements as write commands of at most [`CHUNK`] statements.
    fn into_commands(self) -> Vec<Document> {
        let Statements {
            collection,
            kind,
            statements,
        } = self;
        let items: Vec<Bson> = statements.into_iter().map(Bson::Document).collect();
        match kind {
            Kind::Insert => chunked(
                items,
                |chunk| doc! {"insert": collection.as_str(), "documents": chunk, "ordered": false},
            ),
            Kind::Update => chunked(
                items,
                |chunk| doc! {"update": collection.as_str(), "updates": chunk, "ordered": false},
            ),
        }
    }

    /// The statements as models of a cross-database `bulkWrite` on database `db`.
    fn into_models(self, db: &str) -> Result<Vec<WriteModel>, WriteError> {
        let namespace = Namespace::new(db, &self.collection);
        self.statements
            .into_iter()
            .map(|statement| match self.kind {
                Kind::Insert => Ok(WriteModel::InsertOne(
                    InsertOneModel::builder()
                        .namespace(namespace.clone())
                        .document(statement)
                        .build(),
                )),
                Kind::Update => update_model(&namespace, statement),
            })
            .collect()
    }
}

/// `{q, u, upsert}` as a replace (a whole document) or an update (operators).
fn update_model(namespace: &Namespace, mut statement: Document) -> Result<WriteModel, WriteError> {
    let missing = |field: &str| WriteError::Encoding(format!("an update statement without `{field}`"));
    let filter = match statement.remove("q") {
        Some(Bson::Document(q)) => q,
        _ => return Err(missing("q")),
    };
    let update = match statement.remove("u") {
        Some(Bson::Document(u)) => u,
        _ => return Err(missing("u")),
    };
    let upsert = statement.get_bool("upsert").unwrap_or(false);
    let operators = update.keys().next().is_some_and(|key| key.starts_with('$'));
    Ok(if operators {
        WriteModel::UpdateOne(
            UpdateOneModel::builder()
                .namespace(namespace.clone())
                .filter(filter)
                .update(update)
                .upsert(upsert)
                .build(),
        )
    } else {
        WriteModel::ReplaceOne(
            ReplaceOneModel::builder()
                .namespace(namespace.clone())
                .filter(filter)
                .replacement(update)
                .upsert(upsert)
                .build(),
        )
    })
}

impl Prepared {
    /// Encodes what `changes` changed in `snapshot`, the parked events and the checkpoint
    /// (`changes.last_sequence`).
    pub fn new(
        target: &Target,
        snapshot: &Snapshot,
        changes: &Changes,
        parked: &[ParkedDoc],
    ) -> Result<Self, WriteError> {
        let mut steps = Vec::with_capacity(4);
        if !parked.is_empty() {
            steps.push((
                Phase::Parked,
                vec![inserts(target.name(collections::PARKED), parked.iter())?],
            ));
        }
        if !changes.transactions.is_empty() {
            let collection = target.name(collections::INVENTORY_TRANSACTIONS);
            steps.push((
                Phase::Transactions,
                vec![inserts(collection, changes.transactions.iter())?],
            ));
        }
        // The document collections do not depend on one another: written concurrently.
        let documents: Vec<Statements> = vec![
            guarded(
                target.name(collections::PRODUCTS),
                changed(&changes.products, &snapshot.products),
            )?,
            guarded(
                target.name(collections::SALES),
                changed(&changes.sales, &snapshot.sales),
            )?,
            guarded(
                target.name(collections::DAILY_SALES),
                changed(&changes.daily, &snapshot.daily),
            )?,
            guarded(
                target.name(collections::USERS),
                changed(&changes.users, &snapshot.users),
            )?,
            guarded(
                target.name(collections::LOCATIONS),
                changed(&changes.locations, &snapshot.locations),
            )?,
            guarded(
                target.name(collections::DRAWER_SESSIONS),
                changed(&changes.drawers, &snapshot.drawers),
            )?,
            guarded(
                target.name(collections::PROMOTIONS),
                changed(&changes.promotions, &snapshot.promotions),
            )?,
            guarded(
                target.name(collections::SUPPLIERS),
                changed(&changes.suppliers, &snapshot.suppliers),
            )?,
            guarded(
                target.name(collections::PURCHASE_ORDERS),
                changed(&changes.purchase_orders, &snapshot.purchase_orders),
            )?,
        ]
        .into_iter()
        .filter(|c| !c.statements.is_empty())
        .collect();
        if !documents.is_empty() {
            steps.push((Phase::Documents, documents));
        }
        if changes.last_sequence > 0 {
            let update = checkpoint::advance_statement(changes.last_sequence as i64, changes.last_occurred_at);
            steps.push((
                Phase::Checkpoint,
                vec![Statements {
                    collection: target.name(collections::CHECKPOINTS),
                    kind: Kind::Update,
                    statements: vec![update],
                }],
            ));
        }
        Ok(Self { steps })
    }

    /// Runs the writes; the first failure fails the whole (the batch is then retried,
    /// and what was already written is found already applied).
    pub async fn execute(self, db: &Database) -> Result<(), WriteError> {
        for (_, step) in self.steps {
            futures::future::try_join_all(step.into_iter().map(|c| concurrently(db, c))).await?;
        }
        Ok(())
    }

    /// The statements of `phase`, as models of a cross-database `bulkWrite` on `db`.
    fn take_models(&mut self, phase: Phase, db: &str) -> Result<Vec<WriteModel>, WriteError> {
        let mut models = Vec::new();
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.steps)
            .into_iter()
            .partition(|(p, _)| *p == phase);
        self.steps = later;
        for (_, step) in now {
            for statements in step {
                models.extend(statements.into_models(db)?);
            }
        }
        Ok(models)
    }
}

/// Writes the batches of many databases of one deployment together: one `bulkWrite`
/// command (MongoDB 8.0+) per phase for all of them, phase after phase, so that a batch
/// of many small tenants costs a few round trips instead of a few per tenant. The order
/// guarantee of [`Prepared::execute`] holds per database, since each phase is durable for
/// every database before the next one starts. Statements are unordered and idempotent;
/// duplicate keys mean "already applied". The first other failure fails the whole (every
/// batch is then retried, and what was written is found already applied).
pub async fn execute_many(client: &Client, batches: Vec<(String, Prepared)>) -> Result<(), WriteError> {
    let mut batches = batches;
    for phase in Phase::ALL {
        let mut models = Vec::new();
        for (db, prepared) in &mut batches {
            models.extend(prepared.take_models(phase, db)?);
        }
        if models.is_empty() {
            continue;
        }
        if let Err(err) = client.bulk_write(models).ordered(false).await {
            match err.kind.as_ref() {
                ErrorKind::BulkWrite(failed) => {
                    if let Some(error) = failed.write_errors.values().find(|e| e.code != DUPLICATE_KEY) {
                        return Err(WriteError::Refused {
                            collection: format!("bulkWrite ({phase:?})"),
                            message: error.message.clone(),
                        });
                    }
                    if let Some(concern) = failed.write_concern_errors.first() {
                        return Err(WriteError::Refused {
                            collection: format!("bulkWrite ({phase:?})"),
                            message: format!("write concern: {}", concern.message),
                        });
                    }
                }
                _ => return Err(WriteError::Mongo(err)),
            }
        }
    }
    Ok(())
}

/// The documents of `docs` whose ids a batch changed.
fn changed<'a, T>(
    ids: &'a std::collections::BTreeSet<String>,
    docs: &'a std::collections::HashMap<String, T>,
) -> impl Iterator<Item = &'a T> {
    ids.iter().filter_map(|id| docs.get(id))
}

fn encode<T: Serialize>(value: &T) -> Result<Document, WriteError> {
    bson::to_document(value).map_err(|e| WriteError::Encoding(e.to_string()))
}

/// Upserts of whole documents, each only over an older version of itself.
fn guarded<'a, T>(collection: String, docs: impl Iterator<Item = &'a T>) -> Result<Statements, WriteError>
where
    T: Serialize + 'a,
{
    let mut statements = Vec::new();
    for doc in docs {
        let document = encode(doc)?;
        let id = document.get(ID).cloned().unwrap_or(Bson::Null);
        let last_seq = document
            .get_i64(LAST_SEQ)
            .map_err(|e| WriteError::Encoding(e.to_string()))?;
        statements.push(doc! {"q": {ID: id, LAST_SEQ: {"$lt": last_seq}}, "u": document, "upsert": true});
    }
    Ok(Statements {
        collection,
        kind: Kind::Update,
        statements,
    })
}

/// Inserts whose duplicates (already applied) are ignored.
fn inserts<'a, T>(collection: String, docs: impl Iterator<Item = &'a T>) -> Result<Statements, WriteError>
where
    T: Serialize + 'a,
{
    let statements = docs.map(encode).collect::<Result<Vec<_>, _>>()?;
    Ok(Statements {
        collection,
        kind: Kind::Insert,
        statements,
    })
}

/// Cuts `items` into commands of at most [`CHUNK`] statements, without copying them.
fn chunked(mut items: Vec<Bson>, command: impl Fn(Vec<Bson>) -> Document) -> Vec<Document> {
    let mut commands = Vec::with_capacity(items.len().div_ceil(CHUNK));
    while !items.is_empty() {
        let rest = items.split_off(items.len().min(CHUNK));
        commands.push(command(std::mem::replace(&mut items, rest)));
    }
    commands
}

/// Runs independent write commands of one collection (unordered statements, each
/// idempotent), [`WRITES_IN_FLIGHT`] at a time; the first failure fails the whole.
async fn concurrently(db: &Database, statements: Statements) -> Result<(), WriteError> {
    let collection = statements.collection.clone();
    futures::stream::iter(
        statements
            .into_commands()
            .into_iter()
            .map(|command| run_writes(db, &collection, command)),
    )
    .buffer_unordered(WRITES_IN_FLIGHT)
    .try_collect::<()>()
    .await
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
