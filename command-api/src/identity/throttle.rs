//! [`Throttle`]: attempt counters and backoff shared by every API replica.
//!
//! State lives in the shared database (`liquor_pos_main.rate_limits`), not in the process,
//! so N replicas behind a load balancer enforce one budget, not N, and a restart forgets
//! nothing. One document per key:
//!
//! ```text
//! {_id: "<kind>:<keyed hash of the email or address>", count, window_ends, blocked_until, expires_at}
//! ```
//!
//! - [`Throttle::count`] adds one to the key's fixed window (starting a new window when the
//!   old one has ended) and returns the count and when the window ends: one atomic
//!   `findOneAndUpdate` with `$inc`, upserting.
//! - [`Throttle::block_for`] pushes `blocked_until` forward (`$max`: concurrent failures
//!   never shorten a block); [`Throttle::blocked`] reads it for several keys in one query.
//! - [`Throttle::clear`] forgets a key (a successful login).
//!
//! Emails and addresses are stored only as keyed hashes (the refresh-token key), so the
//! collection is no list of who tried what. A TTL index on `expires_at` removes old keys.

use std::time::Duration;

use bson::{DateTime, doc};
use chrono::Utc;
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Collection, Database, IndexModel};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::identity::secrets;
use crate::identity::store::is_duplicate;

/// What a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Signups (each sends a mail) per normalized email.
    SignupEmail,
    /// Signups per client address.
    SignupAddress,
    /// Failed logins per (email, client address): the backoff.
    LoginPair,
    /// Failed logins per client address, whatever the email.
    LoginAddress,
    /// Password-reset requests (each may send a mail) per normalized email.
    ResetEmail,
    /// Password-reset requests per client address.
    ResetAddress,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::SignupEmail => "signup-email",
            Kind::SignupAddress => "signup-address",
            Kind::LoginPair => "login",
            Kind::LoginAddress => "login-address",
            Kind::ResetEmail => "reset-email",
            Kind::ResetAddress => "reset-address",
        }
    }
}

/// A counter's key: its kind and the keyed hash of what it counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

/// One counter.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Counter {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    count: u32,
    window_ends: DateTime,
    #[serde(default)]
    blocked_until: Option<DateTime>,
    expires_at: DateTime,
}

/// A fixed-window count: how many, and when the window ends.
#[derive(Debug, Clone, Copy)]
pub struct Count {
    /// Attempts in the window, this one included.
    pub count: u32,
    /// Time left in the window.
    pub remaining: Duration,
}

/// Attempt counters in the shared database.
#[derive(Clone)]
pub struct Throttle {
    counters: Collection<Counter>,
    key: Vec<u8>,
}

fn until(instant: DateTime) -> Duration {
    let millis = instant.timestamp_millis() - Utc::now().timestamp_millis();
    Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

fn after(duration: Duration) -> DateTime {
    DateTime::from_millis(Utc::now().timestamp_millis() + i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 2))
}

impl Throttle {
    /// Counters in `db.rate_limits`, keys hashed with `key`.
    pub fn new(db: &Database, key: &[u8]) -> Self {
        Self {
            counters: db.collection("rate_limits"),
            key: key.to_vec(),
        }
    }

    /// Creates the TTL index that removes counters past their `expires_at`.
    pub async fn ensure_indexes(&self) -> mongodb::error::Result<()> {
        self.counters
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"expires_at": 1})
                    .options(
                        IndexOptions::builder()
                            .name("expiry".to_owned())
                            .expire_after(Duration::ZERO)
                            .build(),
                    )
                    .build(),
            )
            .await?;
        Ok(())
    }

    /// The key of `kind` for `parts` (an email, an address, or both).
    pub fn key(&self, kind: Kind, parts: &[&str]) -> Key {
        Key(format!(
            "{}:{}",
            kind.prefix(),
            secrets::keyed_hash(&self.key, &parts.join("\u{0}"))
        ))
    }

    /// Adds one to `key`'s window of length `window` and returns the count.
    pub async fn count(&self, key: &Key, window: Duration) -> Result<Count, ApiError> {
        for _ in 0..3 {
            let now = DateTime::now();
            let ends = after(window);
            let counted = self
                .counters
                .find_one_and_update(
                    doc! {"_id": &key.0},
                    doc! {"$inc": {"count": 1}, "$setOnInsert": {"window_ends": ends, "expires_at": ends}},
                )
                .upsert(true)
                .return_document(ReturnDocument::After)
                .await;
            let counter = match counted {
                Ok(Some(counter)) => counter,
                Ok(None) => continue,
                // Two first attempts at once: one inserted, the other increments next round.
                Err(err) if is_duplicate(&err) => continue,
                Err(err) => return Err(err.into()),
            };
            if counter.window_ends > now {
                return Ok(Count {
                    count: counter.count,
                    remaining: until(counter.window_ends),
                });
            }
            // The window ended: start a new one, unless another request just did.
            let restarted = self
                .counters
                .update_one(
                    doc! {"_id": &key.0, "window_ends": counter.window_ends},
                    doc! {"$set": {"count": 1, "window_ends": ends},
                    "$max": {"expires_at": ends}},
                )
                .await?;
            if restarted.modified_count == 1 {
                return Ok(Count {
                    count: 1,
                    remaining: window,
                });
            }
        }
        Err(ApiError::Internal(anyhow::anyhow!(
            "rate-limit counter {} kept changing",
            key.0
        )))
    }

    /// Blocks `key` for `duration` from now (never shortening a longer block); the counter
    /// is kept at least `keep` after the block ends, so failures are remembered that long.
    pub async fn block_for(&self, key: &Key, duration: Duration, keep: Duration) -> Result<(), ApiError> {
        let until = after(duration);
        let expires = after(duration + keep);
        match self
            .counters
            .update_one(
                doc! {"_id": &key.0},
                doc! {"$max": {"blocked_until": until, "expires_at": expires},
                "$setOnInsert": {"count": 0, "window_ends": expires}},
            )
            .upsert(true)
            .await
        {
            // A concurrent first failure inserted it; its block is as long as this one.
            Err(err) if is_duplicate(&err) => Ok(()),
            Err(err) => Err(err.into()),
            Ok(_) => Ok(()),
        }
    }

    /// The longest block among `keys` still in force, if any.
    pub async fn blocked(&self, keys: &[&Key]) -> Result<Option<Duration>, ApiError> {
        use futures::TryStreamExt;
        let ids: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
        let now = DateTime::now();
        let counters: Vec<Counter> = self
            .counters
            .find(doc! {"_id": {"$in": ids}, "blocked_until": {"$gt": now}})
            .await?
            .try_collect()
            .await?;
        Ok(counters
            .iter()
            .filter_map(|c| c.blocked_until)
            .max()
            .map(until)
            .filter(|left| !left.is_zero()))
    }

    /// Forgets `key`.
    pub async fn clear(&self, key: &Key) -> Result<(), ApiError> {
        self.counters.delete_one(doc! {"_id": &key.0}).await?;
        Ok(())
    }
}

/// How failed logins are slowed down.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    /// Failures of one (email, address) pair before it must wait.
    pub free_attempts: u32,
    /// Longest wait between two attempts of one pair.
    pub max_backoff: Duration,
    /// Failures from one address (any email) per window before it must wait for the
    /// window's end.
    pub per_address: u32,
    /// How long failures are remembered.
    pub window: Duration,
}

impl LoginPolicy {
    /// The wait after the `failures`-th failure of a pair: none for the free attempts, then
    /// 1 s, 2 s, 4 s, ... up to `max_backoff`.
    pub fn backoff(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.free_attempts)?;
        let seconds = 1u64.checked_shl(over.min(40)).unwrap_or(u64::MAX);
        Some(Duration::from_secs(seconds).min(self.max_backoff))
    }
}

/// A limit: at most `attempts` per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Attempts allowed per window.
    pub attempts: u32,
    /// The window.
    pub window: Duration,
}

impl Throttle {
    /// Counts one attempt against each `(key, limit)`; 429 `too_many_attempts` with the time
    /// left in the fullest window when any is over its limit.
    pub async fn spend(&self, budgets: &[(Key, Limit)]) -> Result<(), ApiError> {
        let counts = futures::future::try_join_all(
            budgets
                .iter()
                .map(|(key, limit)| async move { Ok::<_, ApiError>((self.count(key, limit.window).await?, *limit)) }),
        )
        .await?;
        let over = counts
            .iter()
            .filter(|(count, limit)| count.count > limit.attempts)
            .map(|(count, _)| count.remaining)
            .max();
        match over {
            Some(wait) => Err(ApiError::too_many(wait)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_after_the_free_attempts_up_to_the_cap() {
        let policy = LoginPolicy {
            free_attempts: 5,
            max_backoff: Duration::from_secs(900),
            per_address: 100,
            window: Duration::from_secs(900),
        };
        let waits: Vec<u64> = (1..=16).map(|n| policy.backoff(n).map_or(0, |d| d.as_secs())).collect();
        assert_eq!(waits, [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
        assert_eq!(policy.backoff(u32::MAX), Some(Duration::from_secs(900)));
    }
}
