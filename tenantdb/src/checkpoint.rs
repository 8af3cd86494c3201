//! The projection's checkpoint: the one document (`checkpoints`, `_id: "projection"`) that
//! says how far a tenant's read model has applied the stream. Everything up to
//! `last_sequence` is in the read model.
//!
//! The projector moves it forward after a batch's documents are written ([`advance_statement`]
//! inside its write commands, [`advance`] for a replay's target); everyone else reads it
//! with [`read`] or [`sequence`]: the command API for read-your-writes, the projector's
//! lag endpoint and replays, the tests.
//!
//! The same collection also holds the replay hand-over record (`_id: "handover"`), which
//! is the projector's business.

use bson::serde_helpers::chrono_datetime_as_bson_datetime_optional;
use bson::{Document, doc};
use chrono::{DateTime, Utc};
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

use crate::collections::Target;
use crate::docs::ID;

/// `_id` of the checkpoint document.
pub const PROJECTION_ID: &str = "projection";
/// Field `last_sequence`.
pub const LAST_SEQUENCE: &str = "last_sequence";
/// Field `last_event_at`.
pub const LAST_EVENT_AT: &str = "last_event_at";
/// Field `indexes`.
pub const INDEXES: &str = "indexes";

/// How far a tenant's read model has applied the stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always [`PROJECTION_ID`].
    #[serde(rename = "_id")]
    pub id: String,
    /// The stream sequence up to which every event is applied (or parked).
    #[serde(default)]
    pub last_sequence: i64,
    /// When the last applied event happened; absent when only a replay moved it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "chrono_datetime_as_bson_datetime_optional"
    )]
    pub last_event_at: Option<DateTime<Utc>>,
    /// The highest [`crate::indexes::VERSION`] whose indexes [`crate::indexes::ensure`]
    /// created for this target (0: none recorded).
    #[serde(default)]
    pub indexes: i32,
}

impl Checkpoint {
    /// The sequence as a stream sequence (0 when none or negative).
    pub fn sequence(&self) -> u64 {
        self.last_sequence.max(0) as u64
    }
}

/// The checkpoints collection of `target` in `db`, typed.
pub fn collection(db: &Database, target: &Target) -> Collection<Checkpoint> {
    target.checkpoints(db)
}

/// The checkpoint of `target` in `db`, if the projection has written one.
pub async fn read(db: &Database, target: &Target) -> mongodb::error::Result<Option<Checkpoint>> {
    collection(db, target).find_one(doc! {ID: PROJECTION_ID}).await
}

/// The stream sequence `target` in `db` has applied (0 when it has no checkpoint).
pub async fn sequence(db: &Database, target: &Target) -> mongodb::error::Result<u64> {
    Ok(read(db, target).await?.map_or(0, |checkpoint| checkpoint.sequence()))
}

/// The statement (`{q, u, upsert}`, for an `update` command) that moves the checkpoint
/// forward to `sequence`, never back, recording when its event happened.
pub fn advance_statement(sequence: i64, last_event_at: Option<DateTime<Utc>>) -> Document {
    let mut set = doc! {LAST_SEQUENCE: sequence};
    if let Some(at) = last_event_at {
        set.insert(LAST_EVENT_AT, bson::DateTime::from_chrono(at));
    }
    doc! {"q": {ID: PROJECTION_ID, LAST_SEQUENCE: {"$lt": sequence}}, "u": {"$set": set}, "upsert": true}
}

/// Records in the checkpoint of `target` in `db` that the indexes of `version` exist
/// (never lowering a higher version; a checkpoint created here starts at sequence 0, so
/// the projector's guarded advances find it).
pub async fn record_indexes(db: &Database, target: &Target, version: i32) -> mongodb::error::Result<()> {
    collection(db, target)
        .update_one(
            doc! {ID: PROJECTION_ID},
            doc! {"$max": {INDEXES: version}, "$setOnInsert": {LAST_SEQUENCE: 0_i64}},
        )
        .upsert(true)
        .await?;
    Ok(())
}

/// Moves the checkpoint of `target` in `db` forward to `sequence` (never back; a
/// checkpoint that is already further is left as it is).
pub async fn advance(db: &Database, target: &Target, sequence: u64) -> mongodb::error::Result<()> {
    let sequence = sequence as i64;
    let result = collection(db, target)
        .update_one(
            doc! {ID: PROJECTION_ID, LAST_SEQUENCE: {"$lt": sequence}},
            doc! {"$set": {LAST_SEQUENCE: sequence}},
        )
        .upsert(true)
        .await;
    match result {
        Ok(_) => Ok(()),
        // The upsert collided with a checkpoint that is already further: nothing to do.
        Err(err) if is_duplicate_key(&err) => Ok(()),
        Err(err) => Err(err),
    }
}

fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    matches!(&*err.kind, mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(e)) if e.code == 11000)
}
