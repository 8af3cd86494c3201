//! A transfer: units moved between locations.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::event::StockTransferred;
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

impl Command for TransferStock {
    const NAME: &'static str = "TransferStock";
    const ROUTE: Route = Route::post(
        "/v1/inventory/transfers",
        "transfer_stock",
        "inventory",
        "Transfer stock between locations.",
    )
    .key("Required when the body has no movement_id");
    const CREATES: bool = true;
    type Role = Manager;
    type Target = ();
    type Id = MovementId;
    type State = ();
    /// The locations it names: from, to.
    /// The two locations, and the product.
    type Loaded = (Arc<LocationState>, Arc<LocationState>, Arc<ProductState>);

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, (): &(), key: Option<&str>) -> Result<MovementId, ApiError> {
        movement_id(self.movement_id.as_ref(), key)
    }

    async fn load(&self, app: &AppState, _: &MovementId, meta: &CommandMeta) -> Result<Self::Loaded, ApiError> {
        futures::try_join!(
            locations::load(app, meta, Some(&self.from_location)),
            locations::load(app, meta, Some(&self.to_location)),
            inventory::product(app, meta, &self.sku),
        )
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        let event = transfer(self, on.id.clone(), on.context, on.now)?;
        let at = self.occurred_at.unwrap_or(on.now);
        on.loaded.0.usable("from_location", &self.from_location, at)?;
        on.loaded.1.usable("to_location", &self.to_location, at)?;
        inventory::base_units_only(&self.sku, &on.loaded.2)?;
        Ok(event.into())
    }
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
