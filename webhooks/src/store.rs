//! The webhook collections of the shared database (`liquor_pos_main`), typed: the only code
//! that names them. The command API manages endpoints and reads deliveries through it; the
//! worker records and updates deliveries through it.
//!
//! - `webhook_endpoints`: a tenant's endpoints (URL, event-type filter, signing secret,
//!   status, how long it has been failing).
//! - `webhook_deliveries`: one document per (endpoint, event): the body to send, its
//!   status (`pending`, `delivered`, `dead`), attempts, the next attempt's time, the last
//!   error. Its id is `<endpoint id>-<event id>`, so recording an event twice (a
//!   redelivered message) creates nothing new.

use std::collections::{HashMap, HashSet};

use bson::{Document, doc};
use chrono::{DateTime, Utc};
use events::event::reach::Reach;
use futures::TryStreamExt;
use mongodb::options::IndexOptions;
use mongodb::{Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};

use crate::sealing::{self, Keyring, OpenError};
use crate::signature;

/// A MongoDB failure of the webhook store.
pub type StoreResult<T> = Result<T, mongodb::error::Error>;

/// Whether an endpoint receives deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointStatus {
    /// Events are delivered to it.
    Active,
    /// Nothing is delivered: disabled by an admin, or by the worker after failing for
    /// longer than `WEBHOOK_DISABLE_AFTER_SECS`.
    Disabled,
}

/// A tenant's webhook endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoint {
    /// Endpoint id (32 hex digits).
    #[serde(rename = "_id")]
    pub id: String,
    /// The tenant whose events it receives.
    pub organization_id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// A label for people.
    #[serde(default)]
    pub description: Option<String>,
    /// The event types it receives; `None`: every type.
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    /// The locations whose events it receives, with the whole chain's (a store's
    /// endpoint); `None`: every location's. See [`Endpoint::sees`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<String>>,
    /// The signing secret (`whsec_...`) as stored: sealed (`enc:v1:...`, see
    /// [`crate::sealing`]) when `WEBHOOK_SECRET_KEY` is set, else plain. The worker opens
    /// it to sign ([`WebhookStore::signing_secrets`]); the API shows it once.
    pub secret: String,
    /// The secret before the last rotation, as stored (sealed or plain), while deliveries
    /// are still signed with it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<String>,
    /// Until when `previous_secret` signs deliveries alongside `secret`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional"
    )]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Active or disabled.
    pub status: EndpointStatus,
    /// When it was created.
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    pub created_at: DateTime<Utc>,
    /// Since when every attempt has failed (cleared by a success).
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub failing_since: Option<DateTime<Utc>>,
    /// When it was disabled, while it is.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why it was disabled, while it is.
    #[serde(default)]
    pub disabled_reason: Option<String>,
}

impl Endpoint {
    /// Whether it receives events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.status == EndpointStatus::Active
            && self
                .event_types
                .as_ref()
                .is_none_or(|types| types.iter().any(|t| t == event_type))
    }

    /// Whether it receives an event that acts at `reach` (placed, never
    /// [`Reach::OfAggregate`]: `eventstore::Places`): every event without `locations`;
    /// else one that acts on the whole chain or at one of its locations, as a caller
    /// limited to those locations sees the feed.
    pub fn sees(&self, reach: &Reach<'_>) -> bool {
        match &self.locations {
            None => true,
            Some(allowed) => reach.seen_by(|place| allowed.iter().any(|location| location == place.as_str())),
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered yet: waiting for its (next) attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up (attempts exhausted, or the endpoint was disabled): dead-lettered, visible
    /// and re-sendable through the API.
    Dead,
}

impl DeliveryStatus {
    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }
}

/// One event for one endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    /// `<endpoint id>-<event id>`.
    #[serde(rename = "_id")]
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The tenant.
    pub organization_id: String,
    /// The event's id.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The event's stream sequence: deliveries of one endpoint and aggregate go in this order.
    pub sequence: i64,
    /// `<kind>/<id>` of the event's aggregate.
    pub aggregate: String,
    /// The request body: the event in the public feed shape, as JSON text.
    pub body: String,
    /// Pending, delivered or dead.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt may be made (pending only).
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    pub next_attempt_at: DateTime<Utc>,
    /// A worker holds it for an attempt until then.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub leased_until: Option<DateTime<Utc>>,
    /// The round of the worker that last took it (a random token): only that round records
    /// its outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<String>,
    /// When it was recorded.
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    pub created_at: DateTime<Utc>,
    /// When the receiver accepted it.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub delivered_at: Option<DateTime<Utc>>,
    /// The last attempt's HTTP status, if it got one.
    #[serde(default)]
    pub last_status: Option<u16>,
    /// The last attempt's error (status or transport error), if it failed.
    #[serde(default)]
    pub last_error: Option<String>,
    /// The `traceparent` the event was appended under: each attempt's span continues
    /// that trace (absent on deliveries recorded before traces were propagated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// The webhook collections.
#[derive(Debug, Clone)]
pub struct WebhookStore {
    db: Database,
    /// Seals and opens signing secrets; `None`: they are stored plain.
    key: Option<Keyring>,
}

/// Why an endpoint's secret could not be rotated.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// MongoDB failed.
    #[error("the webhook store failed")]
    Store(#[from] mongodb::error::Error),
    /// The current secret could not be opened to keep it as the previous one.
    #[error("the current secret cannot be kept for the overlap")]
    Secret(#[from] OpenError),
    /// The endpoint kept changing under concurrent rotations.
    #[error("the endpoint changed during the rotation; try again")]
    Contended,
}

fn bson_time(at: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_chrono(at)
}

/// Whether a MongoDB error is only duplicate keys.
fn only_duplicates(err: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match &*err.kind {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == 11000,
        ErrorKind::InsertMany(e) => {
            e.write_concern_error.is_none()
                && e.write_errors
                    .as_ref()
                    .is_some_and(|errors| errors.iter().all(|e| e.code == 11000))
        }
        _ => false,
    }
}

impl WebhookStore {
    /// The webhook collections of `db` (the shared database).
    pub fn new(db: Database) -> Self {
        Self { db, key: None }
    }

    /// The same collections, sealing signing secrets with `key`'s current key and opening
    /// them with any of its keys (plain when `None`).
    pub fn with_secret_key(mut self, key: Option<Keyring>) -> Self {
        self.key = key;
        self
    }

    /// `webhook_endpoints`.
    pub fn endpoints(&self) -> Collection<Endpoint> {
        self.db.collection("webhook_endpoints")
    }

    /// The keys secrets are sealed and opened with, if any.
    pub fn keyring(&self) -> Option<&Keyring> {
        self.key.as_ref()
    }

    /// `webhook_deliveries`.
    pub fn deliveries(&self) -> Collection<Delivery> {
        self.db.collection("webhook_deliveries")
    }

    /// Creates the indexes the API and the worker query by.
    pub async fn ensure_indexes(&self) -> StoreResult<()> {
        let index = |keys: Document| IndexModel::builder().keys(keys).build();
        self.endpoints()
            .create_index(index(doc! {"organization_id": 1, "created_at": 1}))
            .await?;
        self.deliveries()
            .create_indexes([
                index(doc! {"status": 1, "next_attempt_at": 1}),
                index(doc! {"status": 1, "sequence": 1}),
                index(doc! {"endpoint_id": 1, "aggregate": 1, "status": 1, "sequence": 1}),
                IndexModel::builder()
                    .keys(doc! {"endpoint_id": 1, "sequence": -1})
                    .options(IndexOptions::builder().name("by_endpoint".to_owned()).build())
                    .build(),
            ])
            .await?;
        Ok(())
    }

    /// Adds an endpoint.
    pub async fn create_endpoint(&self, endpoint: &Endpoint) -> StoreResult<()> {
        self.endpoints().insert_one(endpoint).await?;
        Ok(())
    }

    /// A tenant's endpoints, oldest first.
    pub async fn endpoints_of(&self, tenant: &str) -> StoreResult<Vec<Endpoint>> {
        self.endpoints()
            .find(doc! {"organization_id": tenant})
            .sort(doc! {"created_at": 1})
            .await?
            .try_collect()
            .await
    }

    /// One endpoint of a tenant.
    pub async fn endpoint(&self, tenant: &str, id: &str) -> StoreResult<Option<Endpoint>> {
        self.endpoints()
            .find_one(doc! {"_id": id, "organization_id": tenant})
            .await
    }

    /// Enables an endpoint of a tenant (clearing its failure record); `None` if it is not
    /// the tenant's or does not match `filter` (the caller's view of it).
    pub async fn enable(&self, tenant: &str, id: &str, filter: Document) -> StoreResult<Option<Endpoint>> {
        let mut query = doc! {"_id": id, "organization_id": tenant};
        query.extend(filter);
        self.endpoints()
            .find_one_and_update(
                query,
                doc! {"$set": {"status": "active", "failing_since": null, "disabled_at": null, "disabled_reason": null}},
            )
            .return_document(mongodb::options::ReturnDocument::After)
            .await
    }

    /// Disables an active endpoint and dead-letters its pending deliveries; `reason` is
    /// shown through the API. `Ok(false)` when it was not active.
    pub async fn disable(&self, id: &str, reason: &str, filter: Document) -> StoreResult<bool> {
        let mut query = doc! {"_id": id, "status": "active"};
        query.extend(filter);
        let now = bson::DateTime::now();
        let changed = self
            .endpoints()
            .update_one(
                query,
                doc! {"$set": {"status": "disabled", "disabled_at": now, "disabled_reason": reason}},
            )
            .await?
            .modified_count
            == 1;
        if changed {
            self.deliveries()
                .update_many(
                    doc! {"endpoint_id": id, "status": "pending"},
                    doc! {"$set": {"status": "dead", "last_error": format!("endpoint disabled: {reason}")}},
                )
                .await?;
        }
        Ok(changed)
    }

    /// Records deliveries; those recorded before (same id) are left as they are.
    pub async fn record(&self, deliveries: &[Delivery]) -> StoreResult<()> {
        if deliveries.is_empty() {
            return Ok(());
        }
        match self.deliveries().insert_many(deliveries).ordered(false).await {
            Ok(_) => Ok(()),
            Err(err) if only_duplicates(&err) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Pending deliveries whose next attempt is due at `now`, oldest event first.
    pub async fn due(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Delivery>> {
        self.deliveries()
            .find(doc! {"status": "pending", "next_attempt_at": {"$lte": bson_time(now)}})
            .sort(doc! {"sequence": 1})
            .limit(limit)
            .batch_size(u32::try_from(limit).unwrap_or(u32::MAX))
            .await?
            .try_collect()
            .await
    }

    /// For each (endpoint, aggregate) of `groups`, the oldest sequence still pending but
    /// not due at `now` (waiting for its retry): a due delivery of that group with a later
    /// sequence must wait for it. One query for a whole round; groups with nothing waiting
    /// are absent.
    pub async fn waiting(
        &self,
        groups: &HashSet<(String, String)>,
        now: DateTime<Utc>,
    ) -> StoreResult<HashMap<(String, String), i64>> {
        if groups.is_empty() {
            return Ok(HashMap::new());
        }
        let endpoints: HashSet<&str> = groups.iter().map(|(e, _)| e.as_str()).collect();
        let aggregates: HashSet<&str> = groups.iter().map(|(_, a)| a.as_str()).collect();
        let mut cursor = self
            .db
            .collection::<Document>("webhook_deliveries")
            .find(doc! {"endpoint_id": {"$in": endpoints.into_iter().collect::<Vec<_>>()},
            "aggregate": {"$in": aggregates.into_iter().collect::<Vec<_>>()},
            "status": "pending", "next_attempt_at": {"$gt": bson_time(now)}})
            .projection(doc! {"_id": 0, "endpoint_id": 1, "aggregate": 1, "sequence": 1})
            .await?;
        let mut oldest: HashMap<(String, String), i64> = HashMap::new();
        while let Some(found) = cursor.try_next().await? {
            let (Ok(endpoint), Ok(aggregate), Ok(sequence)) = (
                found.get_str("endpoint_id"),
                found.get_str("aggregate"),
                found.get_i64("sequence"),
            ) else {
                continue;
            };
            let key = (endpoint.to_owned(), aggregate.to_owned());
            if !groups.contains(&key) {
                continue;
            }
            oldest
                .entry(key)
                .and_modify(|s| *s = (*s).min(sequence))
                .or_insert(sequence);
        }
        Ok(oldest)
    }

    /// Takes the pending deliveries `ids` that no worker holds for attempts until `until`,
    /// marking them with `token`; answers the ones taken, as they are now (another worker
    /// may have attempted one since it was read).
    pub async fn lease(
        &self,
        ids: &[&str],
        token: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<Delivery>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.deliveries()
            .update_many(
                doc! {"_id": {"$in": ids}, "status": "pending",
                "$or": [{"leased_until": null}, {"leased_until": {"$lte": bson_time(now)}}]},
                doc! {"$set": {"leased_until": bson_time(until), "lease": token}},
            )
            .await?;
        self.deliveries()
            .find(doc! {"_id": {"$in": ids}, "lease": token, "status": "pending"})
            .batch_size(u32::try_from(ids.len()).unwrap_or(u32::MAX))
            .await?
            .try_collect()
            .await
    }

    /// Gives back the deliveries `ids` taken with `token` and not attempted (a delivery
    /// before them in their aggregate failed): another round may take them at once.
    pub async fn release(&self, ids: &[&str], token: &str) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.deliveries()
            .update_many(
                doc! {"_id": {"$in": ids}, "lease": token},
                doc! {"$set": {"leased_until": null}},
            )
            .await?;
        Ok(())
    }

    /// The receivers accepted `deliveries` (with their HTTP status), taken with `token`;
    /// their endpoints are no longer failing. One write per distinct status, one for the
    /// endpoints.
    pub async fn delivered(&self, deliveries: &[(&Delivery, u16)], token: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let mut by_status: HashMap<u16, Vec<&str>> = HashMap::new();
        for (delivery, status) in deliveries {
            by_status.entry(*status).or_default().push(delivery.id.as_str());
        }
        for (status, ids) in by_status {
            self.deliveries()
                .update_many(
                    doc! {"_id": {"$in": ids}, "lease": token, "status": "pending"},
                    doc! {"$set": {"status": "delivered", "delivered_at": bson_time(at), "last_status": i32::from(status),
                             "last_error": null, "leased_until": null},
                    "$inc": {"attempts": 1}},
                )
                .await?;
        }
        let endpoints: HashSet<&str> = deliveries.iter().map(|(d, _)| d.endpoint_id.as_str()).collect();
        if !endpoints.is_empty() {
            self.endpoints()
                .update_many(
                    doc! {"_id": {"$in": endpoints.into_iter().collect::<Vec<_>>()}, "failing_since": {"$ne": null}},
                    doc! {"$set": {"failing_since": null}},
                )
                .await?;
        }
        Ok(())
    }

    /// An attempt of `delivery` failed: it is retried at `retry_at`, or dead when `None`.
    /// The endpoint is marked failing (since now, unless it already was).
    pub async fn failed(
        &self,
        delivery: &Delivery,
        status: Option<u16>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut set = doc! {"last_error": error, "last_status": status.map(i32::from), "leased_until": null};
        match retry_at {
            Some(at) => set.insert("next_attempt_at", bson_time(at)),
            None => set.insert("status", "dead"),
        };
        self.deliveries()
            .update_one(doc! {"_id": &delivery.id}, doc! {"$set": set, "$inc": {"attempts": 1}})
            .await?;
        self.endpoints()
            .update_one(
                doc! {"_id": &delivery.endpoint_id, "failing_since": null},
                doc! {"$set": {"failing_since": bson_time(now)}},
            )
            .await?;
        Ok(())
    }

    /// A tenant's deliveries to one endpoint, newest event first, optionally of one status.
    pub async fn deliveries_of(
        &self,
        tenant: &str,
        endpoint: &str,
        status: Option<DeliveryStatus>,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>> {
        let mut filter = doc! {"organization_id": tenant, "endpoint_id": endpoint};
        if let Some(status) = status {
            filter.insert("status", status.as_str());
        }
        self.deliveries()
            .find(filter)
            .sort(doc! {"sequence": -1})
            .limit(limit)
            .await?
            .try_collect()
            .await
    }

    /// Sends a delivery of a tenant's endpoint again (dead or delivered): pending, due now,
    /// its attempts counted afresh. `None` when it does not exist for that tenant and
    /// endpoint, or is pending already.
    pub async fn resend(&self, tenant: &str, endpoint: &str, id: &str) -> StoreResult<Option<Delivery>> {
        self.deliveries()
            .find_one_and_update(
                doc! {"_id": id, "organization_id": tenant, "endpoint_id": endpoint, "status": {"$ne": "pending"}},
                doc! {"$set": {"status": "pending", "attempts": 0, "next_attempt_at": bson::DateTime::now(),
                "leased_until": null, "delivered_at": null}},
            )
            .return_document(mongodb::options::ReturnDocument::After)
            .await
    }

    /// The value to store for `secret` of endpoint `endpoint_id`: sealed when the store has
    /// a key, plain otherwise.
    pub fn seal_secret(&self, endpoint_id: &str, secret: &str) -> String {
        sealing::seal(self.key.as_ref(), endpoint_id, secret)
    }

    /// The secrets `endpoint` signs with at `timestamp` (unix seconds), opened: its
    /// current one, then the previous one while the rotation's overlap lasts.
    pub fn signing_secrets(&self, endpoint: &Endpoint, timestamp: i64) -> Result<Vec<String>, OpenError> {
        let key = self.key.as_ref();
        let mut secrets = vec![sealing::open(key, &endpoint.id, &endpoint.secret)?];
        if let (Some(previous), Some(until)) = (&endpoint.previous_secret, endpoint.previous_secret_expires_at)
            && timestamp < until.timestamp()
        {
            secrets.push(sealing::open(key, &endpoint.id, previous)?);
        }
        Ok(secrets)
    }

    /// The `Tillstream-Signature` value for `body` sent to `endpoint` at `timestamp`: one
    /// `v1=` per secret of [`WebhookStore::signing_secrets`].
    pub fn signature_header(&self, endpoint: &Endpoint, timestamp: i64, body: &[u8]) -> Result<String, OpenError> {
        let secrets = self.signing_secrets(endpoint, timestamp)?;
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        Ok(signature::header_value_all(&secrets, timestamp, body))
    }

    /// Gives a tenant's endpoint the secret `new_secret` (stored sealed when the store has a
    /// key). Until `overlap_until` the current secret signs deliveries too, re-sealed
    /// (so a plain legacy secret is encrypted by its rotation); `None`, or a time already
    /// past, ends it at once. `Ok(None)` when the endpoint is not the tenant's or does not
    /// match `filter` (the caller's view of it).
    pub async fn rotate_secret(
        &self,
        tenant: &str,
        id: &str,
        new_secret: &str,
        overlap_until: Option<DateTime<Utc>>,
        filter: Document,
    ) -> Result<Option<Endpoint>, RotateError> {
        let overlap_until = overlap_until.filter(|until| *until > Utc::now());
        // Compare-and-set on the stored secret: a concurrent rotation makes this one read
        // the endpoint again and keep the secret that rotation set as the previous one.
        let mut matching = doc! {"_id": id, "organization_id": tenant};
        matching.extend(filter);
        for _ in 0..5 {
            let Some(current) = self.endpoints().find_one(matching.clone()).await? else {
                return Ok(None);
            };
            let previous = match overlap_until {
                Some(_) => Some(self.seal_secret(id, &sealing::open(self.key.as_ref(), id, &current.secret)?)),
                None => None,
            };
            let mut query = matching.clone();
            query.insert("secret", &current.secret);
            let updated = self
                .endpoints()
                .find_one_and_update(
                    query,
                    doc! {"$set": {
                        "secret": self.seal_secret(id, new_secret),
                        "previous_secret": previous,
                        "previous_secret_expires_at": overlap_until.map(bson_time),
                    }},
                )
                .return_document(mongodb::options::ReturnDocument::After)
                .await?;
            if updated.is_some() {
                return Ok(updated);
            }
        }
        Err(RotateError::Contended)
    }

    /// Changes a tenant's endpoint: `set` these fields, `unset` those, if it also matches
    /// `filter` (the caller's view of it). The endpoint as it is now; `None` when the
    /// tenant has no such endpoint or it no longer matches. Workers use the change for
    /// events they record after re-reading the tenant's endpoints
    /// (`WEBHOOK_ENDPOINT_CACHE_MS`); a delivery already recorded goes to the URL of the
    /// endpoint when it is attempted.
    pub async fn update_endpoint(
        &self,
        tenant: &str,
        id: &str,
        set: Document,
        unset: Document,
        filter: Document,
    ) -> StoreResult<Option<Endpoint>> {
        let mut query = doc! {"_id": id, "organization_id": tenant};
        query.extend(filter);
        let mut update = Document::new();
        if !set.is_empty() {
            update.insert("$set", set);
        }
        if !unset.is_empty() {
            update.insert("$unset", unset);
        }
        if update.is_empty() {
            return self.endpoints().find_one(query).await;
        }
        self.endpoints()
            .find_one_and_update(query, update)
            .return_document(mongodb::options::ReturnDocument::After)
            .await
    }

    /// Deletes a tenant's endpoint with its deliveries, pending and past: nothing more is
    /// sent to it and its history goes with it. `false` when the tenant has no such
    /// endpoint (another tenant's, or deleted already).
    /// `filter`: what else the endpoint must match (the caller's view of it).
    pub async fn delete_endpoint(&self, tenant: &str, id: &str, filter: Document) -> StoreResult<bool> {
        let mut query = doc! {"_id": id, "organization_id": tenant};
        query.extend(filter);
        let deleted = self.endpoints().delete_one(query).await?.deleted_count == 1;
        if deleted {
            self.deliveries()
                .delete_many(doc! {"endpoint_id": id, "organization_id": tenant})
                .await?;
        }
        Ok(deleted)
    }
}
