//! The read side: queries over a tenant's projections in `tenant_<id>`, written by the
//! projector. Every query is addressed to the database of the token's tenant and nothing
//! else, so no filter can reach another tenant's data.
//!
//! Queries read the typed documents of [`tenantdb::docs`] through the collection handles
//! of [`tenantdb::collections`], filter with their field-name constants and answer with
//! typed views ([`catalog::Product`], [`sales::Sale`], ...), each a `utoipa::ToSchema`, so
//! the OpenAPI document shows every field a client gets.
//!
//! # Layout
//! - [`date`]: strict date and instant parameters.
//! - [`document`]: how documents are rendered (`_id` → `id`, dates as RFC 3339).
//! - [`freshness`]: read-your-writes: waiting for the tenant's checkpoint.
//! - [`page`]: limits, cursors, and the [`page::Page`] and [`page::Items`] bodies.
//! - [`cash`]: drawer sessions (X and Z reports), their day, over/short, paid-outs.
//! - [`catalog`]: products and stock levels.
//! - [`locations`]: stores and warehouses.
//! - [`packs`]: stock in full packs, and units and revenue per pack and base product.
//! - [`sales`]: sales and one sale.
//! - [`transactions`]: inventory transactions of a SKU.
//! - [`purchasing`]: gross margin, inventory valuation, reorder suggestions and low stock
//!   per location (JSON or CSV).
//! - [`purchase_orders`]: suppliers and purchase orders (lists and one of each).
//! - [`promotions`]: the promotions and the promotion report (cost and units per
//!   promotion and period).
//! - [`reports`]: the daily Z report and top products, as JSON or CSV.

pub mod cash;
pub mod catalog;
pub mod date;
pub mod document;
pub mod exceptions;
pub mod freshness;
pub mod locations;
pub mod packs;
pub mod page;
pub mod promotions;
pub mod purchase_orders;
pub mod purchasing;
pub mod reports;
pub mod sales;
pub mod transactions;

use mongodb::Database;

use crate::auth::TenantContext;
use crate::error::ApiError;
use crate::state::AppState;

/// The read model of the caller's tenant.
pub async fn tenant_database(state: &AppState, context: &TenantContext) -> Result<Database, ApiError> {
    state.databases.database(&context.tenant).await.map_err(ApiError::from)
}

/// The read model of the caller's tenant, once it has reached `min_sequence` (if given).
pub async fn read_model(
    state: &AppState,
    context: &TenantContext,
    min_sequence: Option<u64>,
) -> Result<Database, ApiError> {
    tenant_read_model(state, &context.tenant, min_sequence).await
}

/// The read model of `tenant` (a user's or an API key's), once it has reached
/// `min_sequence` (if given).
pub async fn tenant_read_model(
    state: &AppState,
    tenant: &events::TenantId,
    min_sequence: Option<u64>,
) -> Result<Database, ApiError> {
    let db = state.databases.database(tenant).await.map_err(ApiError::from)?;
    match freshness::wait_for(&db, min_sequence, state.read_your_writes_timeout).await {
        Err(ApiError::ProjectionBehind { wanted, current }) => {
            // A sequence past the tenant's newest event (a typo, another tenant's number)
            // would time out as a 503 the client retries forever: it is the request that is
            // wrong. Checked only after the wait, so a stream replica that lags a moment
            // behind the append a client just made cannot turn a good token into a 422.
            let head = state.store.tenant_head(tenant).await?.unwrap_or(0);
            if wanted > head {
                return Err(ApiError::invalid(
                    "min_sequence",
                    format!("no event of this tenant has sequence {wanted} (its newest is {head})"),
                ));
            }
            Err(ApiError::ProjectionBehind { wanted, current })
        }
        other => other.map(|()| db),
    }
}
