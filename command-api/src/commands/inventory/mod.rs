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

pub mod adjust;
pub mod count;
pub mod receive;
pub mod transfer;

pub use adjust::AdjustStock;
pub use count::CountStock;
pub use receive::ReceiveStock;
pub use transfer::TransferStock;

use events::MovementId;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

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
