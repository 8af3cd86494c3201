//! [`Subjects`]: is what a token names still there?
//!
//! A signature says who a token was issued to, not whether that still holds. Before a
//! request runs, the token's tenant must exist (`organizations`), its user must exist in
//! that tenant and be active (`users`), and, for a token issued at login, its session (the
//! refresh-token family named by `sid`) must not be logged out or revoked. The role used
//! is the lower of the token's and the user's current one, so a demotion takes effect
//! before the token expires (a promotion waits for the next token). The user's locations
//! (a cashier of one store) come from the same record, so a change of them applies alike.
//!
//! The answer is cached per (tenant, user, session) for `TOKEN_RECHECK_SECS` (default 5 s),
//! so a terminal sending many commands costs one lookup per few seconds, and deactivation,
//! demotion and logout take effect on the first request after that. Concurrent misses for
//! one key share one lookup. Lookups that fail (MongoDB unreachable) are not cached: the
//! request gets 503 and the next one asks again.

use std::sync::Arc;
use std::time::Duration;

use bson::doc;
use chrono::{DateTime, Utc};
use events::{LocationId, Role};
use moka::future::Cache;
use mongodb::Database;
use serde::Deserialize;

use crate::auth::claims::Claims;
use crate::error::ApiError;

/// What the shared database says about a token's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The user is active in an existing tenant, with this role and these locations
    /// (`None`: every location), and the session is live.
    Active(Role, Option<Arc<[LocationId]>>, Option<DateTime<Utc>>),
    /// The token must be refused; why (for the log).
    Refused(&'static str),
}

/// Who a request runs as: the role, and the locations it may act at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The lower of the token's role and the user's current one.
    pub role: Role,
    /// The locations the user may act at; `None`: every location (always for admins).
    pub locations: Option<Arc<[LocationId]>>,
    /// When the user's locations last changed, if ever.
    pub limited_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
struct UserState {
    role: Role,
    active: bool,
    #[serde(default)]
    locations: Vec<String>,
    #[serde(default, with = "bson::serde_helpers::chrono_datetime_as_bson_datetime_optional")]
    locations_since: Option<DateTime<Utc>>,
}

type Key = (String, String, Option<String>);

/// Checks token subjects against the shared database, with a short cache.
pub struct Subjects {
    db: Database,
    cache: Cache<Key, Standing>,
    /// Whether (tenant, user) is a member, active or not.
    members: Cache<(String, String), bool>,
}

impl std::fmt::Debug for Subjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subjects")
            .field("cached", &self.cache.entry_count())
            .finish()
    }
}

impl Subjects {
    /// Checks against `db` (the shared database), remembering answers for `ttl`.
    pub fn new(db: Database, ttl: Duration, capacity: u64) -> Self {
        Self {
            db,
            cache: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            members: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
        }
    }

    /// Whether `user` is (or was: deactivated users count) a user of `tenant`: what a
    /// command naming someone other than its sender (the clerk who checked an ID) must
    /// hold. Cached like token subjects; 503 when the database cannot say.
    pub async fn is_member(&self, tenant: &str, user: &str) -> Result<bool, ApiError> {
        let users = self.db.collection::<bson::Document>("users");
        let lookup = async {
            users
                .find_one(doc! {"_id": user, "organization_id": tenant})
                .projection(doc! {"_id": 1})
                .await
                .map(|found| found.is_some())
                .map_err(ApiError::from)
        };
        self.members
            .try_get_with((tenant.to_owned(), user.to_owned()), lookup)
            .await
            .map_err(|err: std::sync::Arc<ApiError>| match &*err {
                ApiError::Unavailable(cause) => ApiError::Unavailable(anyhow::anyhow!("{cause:#}")),
                other => ApiError::Internal(anyhow::anyhow!("checking a user of the tenant: {other}")),
            })
    }

    /// The role and locations a request with `claims` runs with, or 401 when the token's
    /// tenant, user or session is gone (503 when the database cannot say).
    pub async fn subject(&self, claims: &Claims) -> Result<Subject, ApiError> {
        let key = (
            claims.organization_id.clone(),
            claims.user_id.clone(),
            claims.sid.clone(),
        );
        let standing =
            self.cache
                .try_get_with(key, self.look_up(claims))
                .await
                .map_err(|err: std::sync::Arc<ApiError>| match &*err {
                    ApiError::Unavailable(cause) => ApiError::Unavailable(anyhow::anyhow!("{cause:#}")),
                    other => ApiError::Internal(anyhow::anyhow!("checking a token's subject: {other}")),
                })?;
        match standing {
            Standing::Active(current, locations, limited_since) => {
                let role = current.min(claims.role);
                Ok(Subject {
                    role,
                    locations: locations.filter(|_| role != Role::Admin),
                    limited_since,
                })
            }
            Standing::Refused(reason) => Err(ApiError::Unauthorized {
                reason: reason.to_owned(),
            }),
        }
    }

    async fn look_up(&self, claims: &Claims) -> Result<Standing, ApiError> {
        let organizations = self.db.collection::<bson::Document>("organizations");
        let users = self.db.collection::<UserState>("users");
        let sessions = self.db.collection::<bson::Document>("refresh_tokens");
        let tenant = organizations
            .find_one(doc! {"_id": &claims.organization_id})
            .projection(doc! {"_id": 1});
        let user = users
            .find_one(doc! {"_id": &claims.user_id, "organization_id": &claims.organization_id})
            .projection(doc! {"role": 1, "active": 1, "locations": 1, "locations_since": 1});
        let session = async {
            match &claims.sid {
                Some(sid) => sessions
                    .find_one(doc! {"family_id": sid, "revoked": false})
                    .projection(doc! {"_id": 1})
                    .await
                    .map(|found| found.is_some()),
                None => Ok(true),
            }
        };
        let (tenant, user, session) = tokio::try_join!(tenant.into_future(), user.into_future(), session)?;
        Ok(match (tenant, user) {
            (None, _) => Standing::Refused("the token's tenant does not exist"),
            (_, None) => Standing::Refused("the token's user does not exist in its tenant"),
            (_, Some(user)) if !user.active => Standing::Refused("the token's user is deactivated"),
            _ if !session => Standing::Refused("the token's session was logged out or revoked"),
            (_, Some(user)) => {
                // A stored location that does not parse cannot be acted at: it is left out,
                // so the user is held to the others (never widened to every location).
                let limited = !user.locations.is_empty();
                let locations: Vec<LocationId> = user
                    .locations
                    .into_iter()
                    .filter_map(|location| LocationId::parse(location).ok())
                    .collect();
                Standing::Active(user.role, limited.then(|| locations.into()), user.locations_since)
            }
        })
    }
}
