//! A new shelf price; the currency stays the product's.

use chrono::{DateTime, Utc};
use events::event::ProductPriceChanged;
use events::{DomainEvent, Money, Sku};
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use crate::commands::catalog::{ProductState, existing, expect_version, invalidate, price};
use crate::commands::{Command, CommandMeta, Decision, ProductVersion, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `PUT /v1/products/{sku}/price`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePrice {
    /// The new shelf price.
    #[schema(value_type = Object, example = json!({"amount_minor": 2799, "currency": "USD"}))]
    pub price: Money,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for ChangePrice {
    const NAME: &'static str = "ChangePrice";
    const ROUTE: Route = Route::put(
        "/v1/products/{sku}/price",
        "change_price",
        "catalog",
        "Change a product's price.",
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
        Ok(change_price(&on.id.sku, self, on.context, on.state, on.now)?.into())
    }

    async fn recorded(&self, app: &AppState, target: &ProductVersion, meta: &CommandMeta) -> Result<(), ApiError> {
        invalidate(app, meta, &target.sku).await;
        Ok(())
    }
}

/// Checks a price change against the product's state.
pub fn change_price(
    sku: &Sku,
    command: &ChangePrice,
    context: &TenantContext,
    state: &ProductState,
    now: DateTime<Utc>,
) -> Result<ProductPriceChanged, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    let new_price = price("price.amount_minor", command.price)?;
    existing(sku, state)?;
    if let Some(current) = state.price
        && current.currency != new_price.currency
    {
        return Err(ApiError::invalid(
            "price.currency",
            format!("the product is priced in {}", current.currency),
        ));
    }
    Ok(ProductPriceChanged {
        sku: sku.clone(),
        price: new_price,
        previous_price: state.price,
    })
}
