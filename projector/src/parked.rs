//! Reading parked events (for the admin endpoint and the CLI).

use bson::{Document, doc};
use futures::TryStreamExt;
use mongodb::Database;
use mongodb::options::FindOptions;
use serde::Serialize;

use tenantdb::collections;

/// A parked event as listed.
#[derive(Debug, Clone, Serialize)]
pub struct ParkedEvent {
    /// Stream sequence.
    pub sequence: i64,
    /// Subject.
    pub subject: String,
    /// Event type, if known.
    pub event_type: Option<String>,
    /// Why it was parked.
    pub error: String,
    /// Deliveries when parked.
    pub deliveries: i64,
    /// When it was parked (RFC 3339).
    pub parked_at: String,
}

/// The parked events of a database, oldest first, at most `limit`.
pub async fn list(db: &Database, limit: i64) -> mongodb::error::Result<Vec<ParkedEvent>> {
    let options = FindOptions::builder().sort(doc! {"_id": 1}).limit(limit).build();
    let docs: Vec<Document> = db
        .collection::<Document>(collections::PARKED)
        .find(doc! {})
        .with_options(options)
        .await?
        .try_collect()
        .await?;
    Ok(docs
        .into_iter()
        .map(|d| ParkedEvent {
            sequence: d.get_i64("_id").unwrap_or_default(),
            subject: d.get_str("subject").unwrap_or_default().to_owned(),
            event_type: d.get_str("event_type").ok().map(str::to_owned),
            error: d.get_str("error").unwrap_or_default().to_owned(),
            deliveries: d.get_i64("deliveries").unwrap_or_default(),
            parked_at: d
                .get_datetime("parked_at")
                .map(|t| t.to_chrono().to_rfc3339())
                .unwrap_or_default(),
        })
        .collect())
}
