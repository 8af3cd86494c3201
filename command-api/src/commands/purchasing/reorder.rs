//! Setting a product's reorder point and par level at one store.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::event::ReorderLevelsChanged;
use events::{DomainEvent, LocationId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Manager;
use crate::commands::locations::{self, LocationState};
use crate::commands::purchasing::Replenishment;
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `PUT /v1/products/{sku}/reorder-levels`: when to reorder at one store and up to what.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetReorderLevels {
    /// The store.
    #[schema(value_type = String)]
    pub location: LocationId,
    /// At or below this many units (on hand plus on order) it is time to reorder (>= 0).
    pub reorder_point: i64,
    /// The level an order brings it back up to (>= `reorder_point`).
    pub par_level: i64,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for SetReorderLevels {
    const NAME: &'static str = "SetReorderLevels";
    const ROUTE: Route = Route::put(
        "/v1/products/{sku}/reorder-levels",
        "set_reorder_levels",
        "purchasing",
        "Set a product's reorder point and par level at one store.",
    );
    const RETRY_ONLY_AS_LATEST: bool = true;
    type Role = Manager;
    type Target = Replenishment;
    type Id = Replenishment;
    type State = ();
    /// The store named.
    type Loaded = Arc<LocationState>;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, target: &Replenishment, _: Option<&str>) -> Result<Replenishment, ApiError> {
        Ok(target.clone())
    }

    fn natural_key(&self, target: &Replenishment) -> String {
        format!("reorder:{}:{}", target.0, self.location)
    }

    async fn load(
        &self,
        app: &AppState,
        _: &Replenishment,
        meta: &CommandMeta,
    ) -> Result<Arc<LocationState>, ApiError> {
        locations::load(app, meta, Some(&self.location)).await
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        on.context.check_tenant(self.tenant_id.as_deref())?;
        fields::occurred_at(self.occurred_at, on.now)?;
        if !(0..=fields::MAX_QUANTITY).contains(&self.reorder_point) {
            return Err(ApiError::invalid(
                "reorder_point",
                format!("must be between 0 and {}", fields::MAX_QUANTITY),
            ));
        }
        if !(self.reorder_point..=fields::MAX_QUANTITY).contains(&self.par_level) {
            return Err(ApiError::invalid(
                "par_level",
                "must be at least reorder_point (and at most 1000000)",
            ));
        }
        on.loaded
            .usable("location", &self.location, self.occurred_at.unwrap_or(on.now))?;
        Ok(ReorderLevelsChanged {
            sku: on.id.0.clone(),
            location: self.location.clone(),
            reorder_point: self.reorder_point,
            par_level: self.par_level,
        }
        .into())
    }
}
