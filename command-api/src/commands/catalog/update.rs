//! New details for a product (not its price).

use chrono::{DateTime, Utc};
use events::event::ProductUpdated;
use events::{DomainEvent, Sku};
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use std::sync::Arc;

use crate::commands::catalog::{
    ProductDetailsInput, ProductState, details, existing, expect_version, invalidate, load_base, with_base,
};
use crate::commands::{Command, CommandMeta, Decision, ProductVersion, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `PUT /v1/products/{sku}`: replaces the details (not the price).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    /// The complete new details.
    pub details: ProductDetailsInput,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for UpdateProduct {
    const NAME: &'static str = "UpdateProduct";
    const ROUTE: Route = Route::put(
        "/v1/products/{sku}",
        "update_product",
        "catalog",
        "Replace a product's details.",
    )
    .created("Recorded; ETag holds the new version");
    const ETAG: bool = true;
    type Role = Manager;
    type Target = ProductVersion;
    type Id = ProductVersion;
    type State = ProductState;
    /// The base product, when the details name a pack.
    type Loaded = Option<Arc<ProductState>>;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, target: &ProductVersion, _: Option<&str>) -> Result<ProductVersion, ApiError> {
        Ok(target.clone())
    }

    fn expect(&self, target: &ProductVersion, state: &ProductState, _: &[StoredEvent]) -> Result<Expected, ApiError> {
        expect_version(target, state)
    }

    async fn load(
        &self,
        app: &AppState,
        _: &ProductVersion,
        meta: &CommandMeta,
    ) -> Result<Option<Arc<ProductState>>, ApiError> {
        load_base(app, meta, &self.details).await
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        let mut event = update(&on.id.sku, self, on.context, on.state, on.now)?;
        if event.details.pack.as_ref() != on.state.pack() {
            return Err(ApiError::invalid(
                "details.pack",
                "a product's pack is fixed at registration; register a new SKU instead",
            ));
        }
        event.details = with_base(&on.id.sku, event.details, on.loaded.as_deref(), false)?;
        Ok(event.into())
    }

    async fn recorded(&self, app: &AppState, target: &ProductVersion, meta: &CommandMeta) -> Result<(), ApiError> {
        invalidate(app, meta, &target.sku).await;
        Ok(())
    }
}

/// Checks an update against the product's state.
pub fn update(
    sku: &Sku,
    command: &UpdateProduct,
    context: &TenantContext,
    state: &ProductState,
    now: DateTime<Utc>,
) -> Result<ProductUpdated, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    let details = details(&command.details)?;
    existing(sku, state)?;
    Ok(ProductUpdated {
        sku: sku.clone(),
        details,
    })
}
