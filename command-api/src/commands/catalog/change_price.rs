//! A new shelf price, chain-wide or for one store, at once or from a later instant; the
//! currency stays the product's. The rule that picks the price at a store and instant is
//! `pricing::PriceSchedule` (docs/taxes.md).

use chrono::{DateTime, Utc};
use events::event::ProductPriceChanged;
use std::sync::Arc;

use events::{DomainEvent, LocationId, Money, Sku};
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use crate::commands::catalog::{ProductState, existing, expect_version, invalidate, price};
use crate::commands::locations::{self, LocationState};
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
    /// The one store the price is for (it must be open); absent: every store without a
    /// price of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "airport")]
    pub location: Option<LocationId>,
    /// When the price takes effect; absent: at once. A later instant schedules the change
    /// (quotes and the pricing of sales apply it from then on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<DateTime<Utc>>,
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
    /// The store the price is for, when it names one.
    type Loaded = Arc<LocationState>;

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
    ) -> Result<Arc<LocationState>, ApiError> {
        locations::load(app, meta, self.location.as_ref()).await
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        if let Some(location) = &self.location {
            on.loaded
                .usable("location", location, self.occurred_at.unwrap_or(on.now))?;
        }
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
    let at = command.occurred_at.unwrap_or(now);
    Ok(ProductPriceChanged {
        sku: sku.clone(),
        price: new_price,
        previous_price: match &command.location {
            Some(location) => state
                .price_at(location, command.effective_from.unwrap_or(at))
                .map(|amount| Money {
                    amount_minor: amount,
                    currency: new_price.currency,
                }),
            None => state.price,
        },
        location: command.location.clone(),
        effective_from: command.effective_from,
    })
}
