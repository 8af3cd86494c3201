//! A physical count.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::event::StockCounted;
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

impl Command for CountStock {
    const NAME: &'static str = "CountStock";
    const ROUTE: Route = Route::post(
        "/v1/inventory/counts",
        "count_stock",
        "inventory",
        "Record a physical count.",
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
        let event = count(self, on.id.clone(), on.context, on.now)?;
        on.loaded
            .0
            .usable("location", &self.location, self.occurred_at.unwrap_or(on.now))?;
        inventory::base_units_only(&self.sku, &on.loaded.1)?;
        Ok(event.into())
    }
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
