//! An adjustment: stock changed for a reason.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::event::{AdjustmentReason, StockAdjusted};
use events::{DomainEvent, LocationId, MovementId, Sku};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use crate::commands::catalog::ProductState;
use crate::commands::inventory::{self, movement_id};
use crate::commands::locations::{self, LocationState};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

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

impl Command for AdjustStock {
    const NAME: &'static str = "AdjustStock";
    const ROUTE: Route = Route::post(
        "/v1/inventory/adjustments",
        "adjust_stock",
        "inventory",
        "Adjust stock with a reason.",
    )
    .key("Required when the body has no movement_id");
    const CREATES: bool = true;
    type Role = Manager;
    type Target = ();
    type Id = MovementId;
    type State = ();
    /// The location it names.
    /// The location it names, and the product.
    type Loaded = (Arc<LocationState>, Arc<ProductState>);

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, (): &(), key: Option<&str>) -> Result<MovementId, ApiError> {
        movement_id(self.movement_id.as_ref(), key)
    }

    async fn load(&self, app: &AppState, _: &MovementId, meta: &CommandMeta) -> Result<Self::Loaded, ApiError> {
        futures::try_join!(
            locations::load(app, meta, Some(&self.location)),
            inventory::product(app, meta, &self.sku),
        )
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        let event = adjust(self, on.id.clone(), on.context, on.now)?;
        on.loaded
            .0
            .usable("location", &self.location, self.occurred_at.unwrap_or(on.now))?;
        inventory::base_units_only(&self.sku, &on.loaded.1)?;
        Ok(event.into())
    }
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
