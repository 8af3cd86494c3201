//! Stock movements: receiving, adjusting, counting and transferring (manager or admin).
//!
//! Each movement is its own aggregate, keyed by a client-generated `movement_id` (or, when
//! the body has none, by the `Idempotency-Key`), so a retried movement is recognised from
//! its subject alone, however much later it comes.

use chrono::{DateTime, Utc};
use events::event::{AdjustmentReason, StockAdjusted, StockCounted, StockReceived, StockTransferred};
use events::{LocationId, Money, MovementId, Sku};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::TenantContext;
use crate::commands::fields;
use crate::error::ApiError;

/// `POST /v1/inventory/receipts`: goods arrived from a supplier.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveStock {
    /// Client-generated id of this movement; required unless `Idempotency-Key` is sent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub movement_id: Option<MovementId>,
    /// The product.
    #[schema(value_type = String)]
    pub sku: Sku,
    /// Where the goods arrived.
    #[schema(value_type = String)]
    pub location: LocationId,
    /// Units received (> 0).
    pub quantity: i64,
    /// Cost of one unit.
    #[schema(value_type = Object, example = json!({"amount_minor": 1850, "currency": "USD"}))]
    pub unit_cost: Money,
    /// Who delivered.
    pub supplier: String,
    /// Delivery note or purchase order.
    pub reference: String,
    /// When, by the terminal's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

/// `POST /v1/inventory/adjustments`: stock changed for a reason.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustStock {
    /// Client-generated id of this movement; required unless `Idempotency-Key` is sent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub movement_id: Option<MovementId>,
    /// The product.
    #[schema(value_type = String)]
    pub sku: Sku,
    /// Where.
    #[schema(value_type = String)]
    pub location: LocationId,
    /// Units added (> 0) or removed (< 0).
    pub quantity_delta: i64,
    /// breakage, theft, spoilage, correction, sample, return_to_vendor or other.
    #[schema(value_type = String, example = "breakage")]
    pub reason: AdjustmentReason,
    /// Free text; required when the reason is `other`.
    #[serde(default)]
    pub note: Option<String>,
    /// When, by the terminal's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

/// `POST /v1/inventory/counts`: a physical count.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountStock {
    /// Client-generated id of this movement; required unless `Idempotency-Key` is sent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub movement_id: Option<MovementId>,
    /// The product.
    #[schema(value_type = String)]
    pub sku: Sku,
    /// Where.
    #[schema(value_type = String)]
    pub location: LocationId,
    /// Units found on the shelf (>= 0).
    pub counted_quantity: i64,
    /// The stocktake this count belongs to.
    #[serde(default)]
    pub count_session: Option<String>,
    /// When, by the terminal's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

/// `POST /v1/inventory/transfers`: units moved between locations.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferStock {
    /// Client-generated id of this movement; required unless `Idempotency-Key` is sent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub movement_id: Option<MovementId>,
    /// The product.
    #[schema(value_type = String)]
    pub sku: Sku,
    /// Where the units leave.
    #[schema(value_type = String)]
    pub from_location: LocationId,
    /// Where they arrive.
    #[schema(value_type = String)]
    pub to_location: LocationId,
    /// Units moved (> 0).
    pub quantity: i64,
    /// Transfer slip.
    #[serde(default)]
    pub reference: Option<String>,
    /// When, by the terminal's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
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

/// Checks a receipt.
pub fn receive(
    command: &ReceiveStock,
    movement_id: MovementId,
    context: &TenantContext,
    now: DateTime<Utc>,
) -> Result<StockReceived, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    fields::positive_quantity("quantity", command.quantity)?;
    fields::amount("unit_cost.amount_minor", command.unit_cost.amount_minor)?;
    fields::text("supplier", &command.supplier)?;
    fields::text("reference", &command.reference)?;
    Ok(StockReceived {
        movement_id,
        sku: command.sku.clone(),
        location: command.location.clone(),
        quantity: command.quantity,
        unit_cost: command.unit_cost,
        supplier: command.supplier.clone(),
        reference: command.reference.clone(),
    })
}

/// Checks an adjustment.
pub fn adjust(
    command: &AdjustStock,
    movement_id: MovementId,
    context: &TenantContext,
    now: DateTime<Utc>,
) -> Result<StockAdjusted, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    if command.quantity_delta == 0 {
        return Err(ApiError::invalid("quantity_delta", "must not be 0"));
    }
    fields::positive_quantity("quantity_delta", command.quantity_delta.saturating_abs())?;
    fields::optional_text("note", command.note.as_deref())?;
    if command.reason == AdjustmentReason::Other && command.note.is_none() {
        return Err(ApiError::MissingField {
            field: "note (required when reason is other)".to_owned(),
        });
    }
    Ok(StockAdjusted {
        movement_id,
        sku: command.sku.clone(),
        location: command.location.clone(),
        quantity_delta: command.quantity_delta,
        reason: command.reason,
        note: command.note.clone(),
    })
}

/// Checks a count.
pub fn count(
    command: &CountStock,
    movement_id: MovementId,
    context: &TenantContext,
    now: DateTime<Utc>,
) -> Result<StockCounted, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    if command.counted_quantity < 0 {
        return Err(ApiError::invalid("counted_quantity", "must be >= 0"));
    }
    if command.counted_quantity > fields::MAX_QUANTITY {
        return Err(ApiError::invalid(
            "counted_quantity",
            format!("must be at most {}", fields::MAX_QUANTITY),
        ));
    }
    fields::optional_text("count_session", command.count_session.as_deref())?;
    Ok(StockCounted {
        movement_id,
        sku: command.sku.clone(),
        location: command.location.clone(),
        counted_quantity: command.counted_quantity,
        count_session: command.count_session.clone(),
    })
}

/// Checks a transfer.
pub fn transfer(
    command: &TransferStock,
    movement_id: MovementId,
    context: &TenantContext,
    now: DateTime<Utc>,
) -> Result<StockTransferred, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    fields::positive_quantity("quantity", command.quantity)?;
    if command.from_location == command.to_location {
        return Err(ApiError::invalid("to_location", "must differ from from_location"));
    }
    fields::optional_text("reference", command.reference.as_deref())?;
    Ok(StockTransferred {
        movement_id,
        sku: command.sku.clone(),
        from_location: command.from_location.clone(),
        to_location: command.to_location.clone(),
        quantity: command.quantity,
        reference: command.reference.clone(),
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
