//! Discontinuing a product: it can no longer be changed.

use chrono::{DateTime, Utc};
use events::event::ProductDiscontinued;
use events::{DomainEvent, Sku};
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use crate::commands::catalog::{ProductState, existing, expect_version, invalidate};
use crate::commands::{Command, CommandMeta, Decision, ProductVersion, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /v1/products/{sku}/discontinue`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscontinueProduct {
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for DiscontinueProduct {
    const NAME: &'static str = "DiscontinueProduct";
    const ROUTE: Route = Route::post(
        "/v1/products/{sku}/discontinue",
        "discontinue_product",
        "catalog",
        "Discontinue a product.",
    )
    .created("Recorded; ETag holds the new version");
    const ETAG: bool = true;
    type Role = Manager;
    type Target = ProductVersion;
    type Id = ProductVersion;
    type State = ProductState;
    type Loaded = ();

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, target: &ProductVersion, _: Option<&str>) -> Result<ProductVersion, ApiError> {
        Ok(target.clone())
    }

    fn expect(&self, target: &ProductVersion, state: &ProductState, _: &[StoredEvent]) -> Result<Expected, ApiError> {
        expect_version(target, state)
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(discontinue(&on.id.sku, self, on.context, on.state, on.now)?.into())
    }

    async fn recorded(&self, app: &AppState, target: &ProductVersion, meta: &CommandMeta) -> Result<(), ApiError> {
        invalidate(app, meta, &target.sku).await;
        Ok(())
    }
}

/// Checks a discontinuation against the product's state.
pub fn discontinue(
    sku: &Sku,
    command: &DiscontinueProduct,
    context: &TenantContext,
    state: &ProductState,
    now: DateTime<Utc>,
) -> Result<ProductDiscontinued, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    fields::optional_text("reason", command.reason.as_deref())?;
    existing(sku, state)?;
    Ok(ProductDiscontinued {
        sku: sku.clone(),
        reason: command.reason.clone(),
    })
}
