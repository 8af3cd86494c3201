//! Aggregates as commands and quotes need them, folded from their own events and cached.
//!
//! Sales name a location (is it open? which business day?), a quote needs the location's
//! tax jurisdiction and the products' prices. The truth is each aggregate's history in the
//! stream (not the read model, which may lag), folded on a cache miss and kept for the
//! catalog cache's TTL. A command made through this process forgets the aggregate's entry
//! at once; other processes see a change within the TTL (a time-zone change therefore
//! dates sales by the old zone for at most that long).
//!
//! Nearly every lookup is a hit (a sale asks for its location, its settings and each of
//! its products), so a hit is made cheap: `quick_cache` finds the entry by the borrowed
//! tenant and id (no key is cloned, no read is logged for later bookkeeping) and the
//! entry's age is checked against the TTL there. A miss folds the history once, however
//! many commands ask at the same time (the others wait for that fold).

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use events::TenantId;
use eventstore::{EventStore, ReadError};
use quick_cache::Equivalent;
use quick_cache::sync::Cache;

use crate::commands::{AggregateId, Fold};
use crate::error::ApiError;

/// A folded state and when it stops being trusted.
struct Entry<S> {
    state: Arc<S>,
    expires: Instant,
}

impl<S> Clone for Entry<S> {
    fn clone(&self) -> Self {
        Self {
            state: self.state.clone(),
            expires: self.expires,
        }
    }
}

/// An aggregate's key, borrowed: hashes and compares as the owned `(TenantId, I)`.
struct Borrowed<'a, I>(&'a TenantId, &'a I);

impl<I: Hash> Hash for Borrowed<'_, I> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `(TenantId, I)` hashes: each field in order.
        self.0.hash(state);
        self.1.hash(state);
    }
}

impl<I: Eq> Equivalent<(TenantId, I)> for Borrowed<'_, I> {
    fn equivalent(&self, key: &(TenantId, I)) -> bool {
        *self.0 == key.0 && *self.1 == key.1
    }
}

/// Folded states of aggregates of one kind, cached by (tenant, id).
pub struct Folded<I, S> {
    cache: Arc<Cache<(TenantId, I), Entry<S>>>,
    ttl: Duration,
    store: EventStore,
}

impl<I, S> Clone for Folded<I, S> {
    fn clone(&self) -> Self {
        Self {
            cache: self.cache.clone(),
            ttl: self.ttl,
            store: self.store.clone(),
        }
    }
}

impl<I, S> Folded<I, S>
where
    I: AggregateId + Clone + Hash + Eq + std::fmt::Display + 'static,
    S: Fold + 'static,
{
    /// A cache of at most `capacity` aggregates, each kept for `ttl`.
    pub fn new(store: EventStore, capacity: u64, ttl: Duration) -> Self {
        Self {
            cache: Arc::new(Cache::new(usize::try_from(capacity).unwrap_or(usize::MAX).max(1))),
            ttl,
            store,
        }
    }

    /// The aggregate's state (folded from no events when it has none).
    pub async fn get(&self, tenant: &TenantId, id: &I) -> Result<Arc<S>, ApiError> {
        let now = Instant::now();
        if let Some(entry) = self.cache.get(&Borrowed(tenant, id)) {
            if entry.expires > now {
                return Ok(entry.state);
            }
            self.cache
                .remove_if(&Borrowed(tenant, id), |entry| entry.expires <= now);
        }
        // The loading future is large (kilobytes) and boxed, so callers' futures stay small
        // to move and to pin.
        Box::pin(self.load(tenant, id)).await
    }

    /// Folds the aggregate's history into the cache, or waits for the command already
    /// doing so.
    async fn load(&self, tenant: &TenantId, id: &I) -> Result<Arc<S>, ApiError> {
        let key = (tenant.clone(), id.clone());
        let guard = match self.cache.get_value_or_guard_async(&key).await {
            Ok(entry) => return Ok(entry.state),
            Err(guard) => guard,
        };
        let history = self.store.history(tenant, &id.aggregate()).await.map_err(|err| {
            let unavailable = matches!(err, ReadError::Unavailable(_));
            let err = anyhow::Error::new(err).context(format!("reading {}", id.aggregate()));
            if unavailable {
                ApiError::Unavailable(err)
            } else {
                ApiError::Internal(err)
            }
        })?;
        let state = Arc::new(S::fold(&history));
        // Dropped unfilled on an error above, the guard lets the next caller try.
        let _ = guard.insert(Entry {
            state: state.clone(),
            expires: Instant::now() + self.ttl,
        });
        Ok(state)
    }

    /// Forgets what is cached about `id`, after a command changed it.
    pub fn invalidate(&self, tenant: &TenantId, id: &I) {
        self.cache.remove(&Borrowed(tenant, id));
    }
}
