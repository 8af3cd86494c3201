//! Minimum ages of products, read from the catalog's own events and cached.
//!
//! The sale check needs to know which SKUs are age-restricted. The truth is the product's
//! history in the stream (not the read model, which may lag), folded on a cache miss and
//! kept for `CATALOG_CACHE_TTL_SECS`. A catalog change made through this process
//! invalidates its entry at once; other processes see it within the TTL. The terminal's
//! own `minimum_age` on a line is honoured as well, so a lagging cache can only make the
//! check stricter, never weaker, as long as terminals send what they know.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use events::{AggregateRef, Sku, TenantId};
use eventstore::{EventStore, ReadError};
use moka::future::Cache;

use crate::commands::catalog::ProductState;
use crate::error::ApiError;

/// Cached minimum ages by (tenant, SKU).
#[derive(Clone)]
pub struct CatalogAges {
    cache: Cache<(TenantId, Sku), Option<u8>>,
    store: EventStore,
}

impl CatalogAges {
    /// A cache of at most `capacity` products, each kept for `ttl`.
    pub fn new(store: EventStore, capacity: u64, ttl: Duration) -> Self {
        Self {
            cache: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            store,
        }
    }

    /// The restricted SKUs among `skus`, with their minimum ages.
    pub async fn minimum_ages<'a>(
        &self,
        tenant: &TenantId,
        skus: impl IntoIterator<Item = &'a Sku>,
    ) -> Result<HashMap<Sku, u8>, ApiError> {
        let mut unique: Vec<&Sku> = skus.into_iter().collect();
        unique.sort();
        unique.dedup();
        let lookups = unique.into_iter().map(|sku| async move {
            let key = (tenant.clone(), sku.clone());
            let age = self
                .cache
                .try_get_with(key, async {
                    let history = self.store.history(tenant, &AggregateRef::product(sku)).await?;
                    Ok::<_, ReadError>(ProductState::fold(&history).minimum_age())
                })
                .await
                .map_err(|err: Arc<ReadError>| {
                    let unavailable = matches!(err.as_ref(), ReadError::Unavailable(_));
                    let err = anyhow::Error::new(err).context(format!("reading product {sku}"));
                    if unavailable {
                        ApiError::Unavailable(err)
                    } else {
                        ApiError::Internal(err)
                    }
                })?;
            Ok::<_, ApiError>(age.map(|age| (sku.clone(), age)))
        });
        let found = futures::future::try_join_all(lookups).await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// Forgets what is cached about `sku`, after a catalog change.
    pub async fn invalidate(&self, tenant: &TenantId, sku: &Sku) {
        self.cache.invalidate(&(tenant.clone(), sku.clone())).await;
    }
}
