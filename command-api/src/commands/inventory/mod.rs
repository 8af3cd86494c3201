//! Stock movements: receiving, adjusting, counting and transferring (manager or admin).
//!
//! Each movement is its own aggregate, keyed by a client-generated `movement_id` (or, when
//! the body has none, by the `Idempotency-Key`), so a retried movement is recognised from
//! its subject alone, however much later it comes.
//!
//! # Layout
//! - [`receive`]: [`ReceiveStock`], goods from a supplier.
//! - [`adjust`]: [`AdjustStock`], a change with a reason.
//! - [`count`]: [`CountStock`], a physical count.
//! - [`transfer`]: [`TransferStock`], units moved between locations.
//!
//! Stock is kept in base units: a receipt of a pack (a case of 24) lands as units of its
//! base product; adjustments, counts and transfers name the base product
//! ([`base_units_only`]).

pub mod adjust;
pub mod count;
pub mod receive;
pub mod transfer;

pub use adjust::AdjustStock;
pub use count::CountStock;
pub use receive::ReceiveStock;
pub use transfer::TransferStock;

use std::sync::Arc;

use events::{MovementId, Sku};
use sha2::{Digest, Sha256};

use crate::codes::ErrorCode;
use crate::commands::CommandMeta;
use crate::commands::catalog::ProductState;
use crate::error::ApiError;
use crate::state::AppState;

/// The product a movement names, folded from the catalog's events (an empty state for a
/// SKU the catalog does not know: stock of unregistered products is still recorded).
pub async fn product(app: &AppState, meta: &CommandMeta, sku: &Sku) -> Result<Arc<ProductState>, ApiError> {
    app.products.get(&meta.context.tenant, sku).await
}

/// Refuses an adjustment, count or transfer of a pack: stock is kept in the base
/// product's units only (docs/catalog.md); receipts alone take packs.
pub fn base_units_only(sku: &Sku, product: &ProductState) -> Result<(), ApiError> {
    match product.pack() {
        Some(pack) => Err(ApiError::Unusable {
            code: ErrorCode::StockInBaseUnits,
            field: "sku".to_owned(),
            message: format!(
                "{sku} is a pack of {} × {}; stock is kept in units of {}",
                pack.units, pack.base_sku, pack.base_sku
            ),
        }),
        None => Ok(()),
    }
}

/// The movement id: the body's, else one derived from the idempotency key (the key itself
/// when it is a valid id, else the first 32 hex digits of its SHA-256).
pub fn movement_id(body: Option<&MovementId>, idempotency_key: Option<&str>) -> Result<MovementId, ApiError> {
    if let Some(id) = body {
        return Ok(id.clone());
    }
    let key = idempotency_key.ok_or_else(|| ApiError::MissingField {
        field: "movement_id (or an Idempotency-Key header)".to_owned(),
    })?;
    MovementId::parse(key).or_else(|_| {
        let digest = hex::encode(Sha256::digest(key.as_bytes()));
        MovementId::parse(&digest[..32])
            .map_err(|err| ApiError::Internal(anyhow::anyhow!("derived movement id: {err}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_movement_id_comes_from_the_body_else_from_the_key() {
        let body = MovementId::parse("m-1").expect("id");
        assert_eq!(movement_id(Some(&body), Some("k")).expect("body"), body);
        assert_eq!(movement_id(None, Some("key-1")).expect("key").as_str(), "key-1");
        let hashed = movement_id(None, Some("order:42/line 3")).expect("hashed");
        assert_eq!(hashed.as_str().len(), 32);
        assert_eq!(hashed, movement_id(None, Some("order:42/line 3")).expect("stable"));
        assert_eq!(movement_id(None, None).expect_err("none").code(), "missing_field");
    }
}
