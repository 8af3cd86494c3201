//! Registering a product.

use chrono::{DateTime, Utc};
use events::event::ProductRegistered;
use events::{DomainEvent, Money, Sku};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use std::sync::Arc;

use crate::commands::catalog::{ProductDetailsInput, ProductState, details, invalidate, load_base, price, with_base};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /v1/products`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterProduct {
    /// The new product's SKU.
    #[schema(value_type = String)]
    pub sku: Sku,
    /// Name, category, ...
    pub details: ProductDetailsInput,
    /// Shelf price.
    #[schema(value_type = Object, example = json!({"amount_minor": 2999, "currency": "USD"}))]
    pub price: Money,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for RegisterProduct {
    const NAME: &'static str = "RegisterProduct";
    const ROUTE: Route = Route::post("/v1/products", "register_product", "catalog", "Register a product.")
        .created("Registered; ETag holds the version");
    const CREATES: bool = true;
    const ETAG: bool = true;
    type Role = Manager;
    type Target = ();
    type Id = Sku;
    type State = ();
    /// The base product, when the details name a pack.
    type Loaded = Option<Arc<ProductState>>;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, (): &(), _: Option<&str>) -> Result<Sku, ApiError> {
        Ok(self.sku.clone())
    }

    async fn load(&self, app: &AppState, _: &Sku, meta: &CommandMeta) -> Result<Option<Arc<ProductState>>, ApiError> {
        load_base(app, meta, &self.details).await
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        let mut event = register(self, on.context, on.now)?;
        event.details = with_base(&self.sku, event.details, on.loaded.as_deref(), true)?;
        Ok(event.into())
    }

    async fn recorded(&self, app: &AppState, sku: &Sku, meta: &CommandMeta) -> Result<(), ApiError> {
        invalidate(app, meta, sku).await;
        Ok(())
    }
}

/// Checks a registration.
pub fn register(
    command: &RegisterProduct,
    context: &TenantContext,
    now: DateTime<Utc>,
) -> Result<ProductRegistered, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    Ok(ProductRegistered {
        sku: command.sku.clone(),
        details: details(&command.details)?,
        price: price("price.amount_minor", command.price)?,
    })
}
