//! Aggregates as commands and quotes need them, folded from their own events and cached.
//!
//! Sales name a location (is it open? which business day?), a quote needs the location's
//! tax jurisdiction and the products' prices. The truth is each aggregate's history in the
//! stream (not the read model, which may lag), folded on a cache miss and kept for the
//! catalog cache's TTL. A command made through this process forgets the aggregate's entry
//! at once; other processes see a change within the TTL (a time-zone change therefore
//! dates sales by the old zone for at most that long).

use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use events::TenantId;
use eventstore::{EventStore, ReadError};
use moka::future::Cache;

use crate::commands::{AggregateId, Fold};
use crate::error::ApiError;

/// Folded states of aggregates of one kind, cached by (tenant, id).
pub struct Folded<I, S> {
    cache: Cache<(TenantId, I), Arc<S>>,
    store: EventStore,
}

impl<I, S> Clone for Folded<I, S> {
    fn clone(&self) -> Self {
        Self {
            cache: self.cache.clone(),
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
            cache: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            store,
        }
    }

    /// The aggregate's state (folded from no events when it has none).
    pub async fn get(&self, tenant: &TenantId, id: &I) -> Result<Arc<S>, ApiError> {
        let key = (tenant.clone(), id.clone());
        // A hit (nearly every call) takes the small `get` future; the loading one is large
        // (kilobytes) and is boxed, so callers' futures stay small to move and to pin.
        if let Some(state) = self.cache.get(&key).await {
            return Ok(state);
        }
        Box::pin(self.cache.try_get_with(key, async {
            let history = self.store.history(tenant, &id.aggregate()).await?;
            Ok::<_, ReadError>(Arc::new(S::fold(&history)))
        }))
        .await
        .map_err(|err: Arc<ReadError>| {
            let unavailable = matches!(err.as_ref(), ReadError::Unavailable(_));
            let err = anyhow::Error::new(err).context(format!("reading {}", id.aggregate()));
            if unavailable {
                ApiError::Unavailable(err)
            } else {
                ApiError::Internal(err)
            }
        })
    }

    /// Forgets what is cached about `id`, after a command changed it.
    pub async fn invalidate(&self, tenant: &TenantId, id: &I) {
        self.cache.invalidate(&(tenant.clone(), id.clone())).await;
    }
}
