//! API keys for integrations (accounting, stock sync, loyalty): not users, but a tenant's
//! machine credentials with scopes.
//!
//! A key reads `tsk_<id>_<secret>`: `id` (32 hex digits) names the record, `secret` (32
//! random bytes, URL-safe base64) proves it. Only the keyed hash of the secret is stored
//! (HMAC-SHA256 under `JWT_REFRESH_SECRET`, like refresh tokens), in the shared database's
//! `api_keys` collection next to the users; the whole key is shown once, when it is created
//! or rotated. Every request looks its key up (one read by `_id`, no cache), so a revoked or
//! rotated secret is refused from the next request on.

use bson::doc;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::Collection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::identity::secrets;

/// What every key starts with, so a leaked key is recognisable (secret scanners) and the
/// API can tell a key from a JWT.
pub const PREFIX: &str = "tsk_";

/// Length of a key id: a UUIDv7 in 32 hex digits.
const ID_LEN: usize = 32;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiScope {
    /// Read the tenant's event feed (`GET /v1/feed`, `GET /v1/feed/stream`), without
    /// personal data.
    Feed,
    /// With `feed`: the feed shows personal data (users' names and emails).
    FeedPersonalData,
    /// Manage the tenant's webhook endpoints and deliveries.
    Webhooks,
    /// Read the report routes (`auth::ReadReportsScope`).
    ReadReports,
    /// Post the commands a store manager may post (`auth::CommandCaller`), recorded with
    /// the key as the actor; at every store of the tenant, or only at the key's
    /// `locations`.
    PostCommands,
}

impl ApiScope {
    /// The scope as it is written in requests and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::Feed => "feed",
            ApiScope::FeedPersonalData => "feed_personal_data",
            ApiScope::Webhooks => "webhooks",
            ApiScope::ReadReports => "read_reports",
            ApiScope::PostCommands => "post_commands",
        }
    }
}

impl std::fmt::Display for ApiScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An API key as stored: never its secret, only the secret's keyed hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// Key id (the `<id>` of `tsk_<id>_<secret>`).
    #[serde(rename = "_id")]
    pub id: String,
    /// The tenant the key reads and acts for.
    pub organization_id: String,
    /// A label chosen by the admin ("accounting sync").
    pub name: String,
    /// What the key may do.
    pub scopes: Vec<ApiScope>,
    /// The locations its commands may act at; absent: every location of the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<String>>,
    /// HMAC-SHA256 (hex) of the current secret.
    pub secret_hash: String,
    /// The admin who created it.
    pub created_by: String,
    /// When it was created.
    #[serde(with = "bson::serde_helpers::chrono_datetime_as_bson_datetime")]
    pub created_at: DateTime<Utc>,
    /// When its secret was last replaced, if ever.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub rotated_at: Option<DateTime<Utc>>,
    /// When it was revoked, once it was: then it is refused.
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key as presented: its id and secret, not yet checked.
#[derive(Debug, PartialEq, Eq)]
pub struct PresentedKey<'a> {
    /// The record's id.
    pub id: &'a str,
    /// The secret.
    pub secret: &'a str,
}

/// Splits `tsk_<id>_<secret>`; `None` when the text has not that form.
pub fn parse(text: &str) -> Option<PresentedKey<'_>> {
    let rest = text.strip_prefix(PREFIX)?;
    let id = rest.get(..ID_LEN)?;
    let secret = rest.get(ID_LEN..)?.strip_prefix('_')?;
    let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    (id.chars().all(hex) && !secret.is_empty()).then_some(PresentedKey { id, secret })
}

/// The text of a key.
pub fn format(id: &str, secret: &str) -> String {
    format!("{PREFIX}{id}_{secret}")
}

/// The shared database's `api_keys` collection.
#[derive(Clone)]
pub struct ApiKeys {
    collection: Collection<ApiKeyRecord>,
    /// Key of the secrets' keyed hashes.
    hash_key: Vec<u8>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys").finish_non_exhaustive()
    }
}

impl ApiKeys {
    /// The keys of `db` (the shared database), hashed under `hash_key`.
    pub fn new(db: &mongodb::Database, hash_key: Vec<u8>) -> Self {
        Self {
            collection: db.collection("api_keys"),
            hash_key,
        }
    }

    /// Creates the index that lists a tenant's keys.
    pub async fn ensure_indexes(&self) -> mongodb::error::Result<()> {
        self.collection
            .create_index(
                mongodb::IndexModel::builder()
                    .keys(doc! {"organization_id": 1, "created_at": 1})
                    .build(),
            )
            .await?;
        Ok(())
    }

    /// Creates a key for `tenant`; the answer's text is the only time its secret exists
    /// outside the caller.
    pub async fn create(
        &self,
        tenant: &str,
        name: &str,
        scopes: Vec<ApiScope>,
        locations: Option<Vec<String>>,
        created_by: &str,
    ) -> Result<(ApiKeyRecord, String), ApiError> {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let secret = secrets::random_token();
        let record = ApiKeyRecord {
            id: id.clone(),
            organization_id: tenant.to_owned(),
            name: name.to_owned(),
            scopes,
            locations,
            secret_hash: secrets::keyed_hash(&self.hash_key, &secret),
            created_by: created_by.to_owned(),
            created_at: Utc::now(),
            rotated_at: None,
            revoked_at: None,
        };
        self.collection.insert_one(&record).await?;
        Ok((record, format(&id, &secret)))
    }

    /// The keys of `tenant`, oldest first, revoked ones included.
    pub async fn list(&self, tenant: &str) -> Result<Vec<ApiKeyRecord>, ApiError> {
        self.collection
            .find(doc! {"organization_id": tenant})
            .sort(doc! {"created_at": 1})
            .await?
            .try_collect()
            .await
            .map_err(ApiError::from)
    }

    /// Gives a live key of `tenant` a new secret; the old one is refused from now on. 404
    /// for a key of another tenant, an unknown or a revoked one.
    pub async fn rotate(&self, tenant: &str, id: &str) -> Result<(ApiKeyRecord, String), ApiError> {
        let secret = secrets::random_token();
        let record = self
            .collection
            .find_one_and_update(
                doc! {"_id": id, "organization_id": tenant, "revoked_at": null},
                doc! {"$set": {"secret_hash": secrets::keyed_hash(&self.hash_key, &secret),
                "rotated_at": bson::DateTime::now()}},
            )
            .return_document(mongodb::options::ReturnDocument::After)
            .await?
            .ok_or_else(|| not_found(id))?;
        Ok((record, format(id, &secret)))
    }

    /// Revokes a key of `tenant` (again: no change); 404 for a key of another tenant or an
    /// unknown one.
    pub async fn revoke(&self, tenant: &str, id: &str) -> Result<ApiKeyRecord, ApiError> {
        self.collection
            .update_one(
                doc! {"_id": id, "organization_id": tenant, "revoked_at": null},
                doc! {"$set": {"revoked_at": bson::DateTime::now()}},
            )
            .await?;
        self.collection
            .find_one(doc! {"_id": id, "organization_id": tenant})
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// The live key `text` names, if its secret is right; `Ok(None)` for anything else
    /// (malformed, unknown, wrong secret, revoked), which the caller answers with 401.
    pub async fn authenticate(&self, text: &str) -> Result<Option<ApiKeyRecord>, ApiError> {
        let Some(presented) = parse(text) else {
            return Ok(None);
        };
        let Some(record) = self.collection.find_one(doc! {"_id": presented.id}).await? else {
            return Ok(None);
        };
        let hash = secrets::keyed_hash(&self.hash_key, presented.secret);
        let matches = constant_time_eq(hash.as_bytes(), record.secret_hash.as_bytes());
        Ok((matches && record.revoked_at.is_none()).then_some(record))
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound {
        resource: "API key",
        id: id.to_owned(),
    }
}

/// Whether `a == b`, in a time that does not depend on where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formatted_key_parses_back_even_when_its_secret_holds_underscores() {
        let id = uuid::Uuid::now_v7().simple().to_string();
        let text = format(&id, "ab_c-d");
        assert_eq!(
            parse(&text),
            Some(PresentedKey {
                id: &id,
                secret: "ab_c-d"
            })
        );
    }

    #[test]
    fn other_texts_are_not_keys() {
        assert_eq!(parse("eyJhbGciOi.x.y"), None);
        assert_eq!(parse("tsk_short_secret"), None);
        assert_eq!(parse(&format!("tsk_{}_", "a".repeat(32))), None);
        assert_eq!(parse(&format!("tsk_{}x", "a".repeat(32))), None);
        assert_eq!(parse(&format!("tsk_{}_s", "G".repeat(32))), None);
        assert_eq!(parse("tsk_ééééééééééééééééééééééééééééééééééé_s"), None);
    }

    #[test]
    fn scopes_are_written_in_snake_case() {
        assert_eq!(
            serde_json::to_value(ApiScope::FeedPersonalData).expect("serialises"),
            serde_json::json!("feed_personal_data")
        );
        assert_eq!(ApiScope::ReadReports.to_string(), "read_reports");
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
