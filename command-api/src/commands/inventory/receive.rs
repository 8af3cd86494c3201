//! A receipt: goods arrived from a supplier.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::event::StockReceived;
use events::{DomainEvent, LocationId, Money, MovementId, Sku};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use crate::commands::catalog::ProductState;
use crate::commands::inventory::{self, movement_id};
use crate::commands::locations::{self, LocationState};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

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
    /// Units received (> 0); packs (cases) when `sku` is a pack: they land as
    /// `quantity × units` of its base product.
    pub quantity: i64,
    /// Cost of one unit (of one pack when `sku` is a pack).
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

impl Command for ReceiveStock {
    const NAME: &'static str = "ReceiveStock";
    const ROUTE: Route = Route::post(
        "/v1/inventory/receipts",
        "receive_stock",
        "inventory",
        "Receive stock from a supplier.",
    )
    .key("Required when the body has no movement_id");
    const CREATES: bool = true;
    type Role = Manager;
    type Target = ();
    type Id = MovementId;
    type State = ();
    /// The location it names, and the product (a pack lands as its base's units).
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
        let mut event = receive(self, on.id.clone(), on.context, on.now)?;
        event.pack = on.loaded.1.pack().cloned();
        on.loaded
            .0
            .usable("location", &self.location, self.occurred_at.unwrap_or(on.now))?;
        Ok(event.into())
    }
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
        pack: None,
    })
}
