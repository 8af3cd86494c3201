//! Locations as commands need them, read from the locations' own events and cached.
//!
//! Sales, refunds and stock movements name a location; the command side checks that it
//! was opened and is not closed, and a sale takes its business day from the location's
//! time zone and day start. The truth is the location's history in the stream (not the
//! read model, which may lag), folded on a cache miss and kept for the catalog cache's
//! TTL. A location command made through this process forgets its entry at once; other
//! processes see a change within the TTL (a time-zone change therefore dates sales by the
//! old zone for at most that long).

use std::sync::Arc;
use std::time::Duration;

use events::{AggregateRef, LocationId, TenantId};
use eventstore::{EventStore, ReadError};
use moka::future::Cache;

use crate::commands::locations::LocationState;
use crate::error::ApiError;

/// Cached location states by (tenant, location).
#[derive(Clone)]
pub struct LocationDirectory {
    cache: Cache<(TenantId, LocationId), Arc<LocationState>>,
    store: EventStore,
}

impl LocationDirectory {
    /// A cache of at most `capacity` locations, each kept for `ttl`.
    pub fn new(store: EventStore, capacity: u64, ttl: Duration) -> Self {
        Self {
            cache: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            store,
        }
    }

    /// The location's state (the default, not opened, when it has no events).
    pub async fn get(&self, tenant: &TenantId, location: &LocationId) -> Result<Arc<LocationState>, ApiError> {
        let key = (tenant.clone(), location.clone());
        self.cache
            .try_get_with(key, async {
                let history = self.store.history(tenant, &AggregateRef::location(location)).await?;
                Ok::<_, ReadError>(Arc::new(LocationState::fold(&history)))
            })
            .await
            .map_err(|err: Arc<ReadError>| {
                let unavailable = matches!(err.as_ref(), ReadError::Unavailable(_));
                let err = anyhow::Error::new(err).context(format!("reading location {location}"));
                if unavailable {
                    ApiError::Unavailable(err)
                } else {
                    ApiError::Internal(err)
                }
            })
    }

    /// Forgets what is cached about `location`, after a location command.
    pub async fn invalidate(&self, tenant: &TenantId, location: &LocationId) {
        self.cache.invalidate(&(tenant.clone(), location.clone())).await;
    }
}
