//! Minimum ages of products, read from the catalog's own events.
//!
//! The sale check needs to know which SKUs are age-restricted. The truth is the product's
//! history in the stream (not the read model, which may lag), folded and cached by the
//! same [`Folded`] cache quotes use (`AppState::products`, kept for
//! `CATALOG_CACHE_TTL_SECS`). A catalog change made through this process forgets its entry
//! at once; other processes see it within the TTL. The terminal's own `minimum_age` on a
//! line is honoured as well, so a lagging cache can only make the check stricter, never
//! weaker, as long as terminals send what they know.

use std::collections::HashMap;
use std::sync::Arc;

use events::event::Pack;
use events::{Sku, TenantId};

use crate::commands::catalog::ProductState;
use crate::error::ApiError;
use crate::folded::Folded;

/// The folded state of each of `skus` (once per SKU; unknown products fold to an empty
/// state).
pub async fn products<'a>(
    products: &Folded<Sku, ProductState>,
    tenant: &TenantId,
    skus: impl IntoIterator<Item = &'a Sku>,
) -> Result<HashMap<Sku, Arc<ProductState>>, ApiError> {
    let mut unique: Vec<&Sku> = skus.into_iter().collect();
    unique.sort();
    unique.dedup();
    let lookups = unique.into_iter().map(|sku| async move {
        let product = products.get(tenant, sku).await?;
        Ok::<_, ApiError>((sku.clone(), product))
    });
    Ok(futures::future::try_join_all(lookups).await?.into_iter().collect())
}

/// The packs among `products`, with what they hold.
pub fn packs(products: &HashMap<Sku, Arc<ProductState>>) -> HashMap<Sku, Pack> {
    products
        .iter()
        .filter_map(|(sku, product)| product.pack().map(|pack| (sku.clone(), pack.clone())))
        .collect()
}

/// The restricted SKUs among `products`, with their minimum ages.
pub fn minimum_ages(products: &HashMap<Sku, Arc<ProductState>>) -> HashMap<Sku, u8> {
    products
        .iter()
        .filter_map(|(sku, product)| product.minimum_age().map(|age| (sku.clone(), age)))
        .collect()
}
