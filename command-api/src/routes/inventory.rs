//! Stock movements (manager and up): receipts, adjustments, counts, transfers; stock
//! levels and transactions. The commands live in [`crate::commands::inventory`].

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;

use crate::auth::{Authorized, Cashier, Manager};
use crate::commands::inventory::{AdjustStock, CountStock, ReceiveStock, TransferStock};
use crate::error::ApiError;
use crate::extract::{ApiQuery, MinSequence};
use crate::queries::catalog::{StockLevel, StockQuery};
use crate::queries::transactions::{InventoryTransaction, TransactionsQuery};
use crate::queries::{self, page::Page};
use crate::routes::command::command;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The inventory routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(command::<ReceiveStock>())
        .routes(command::<AdjustStock>())
        .routes(command::<CountStock>())
        .routes(command::<TransferStock>())
        .routes(routes!(stock_levels))
        .routes(routes!(inventory_transactions))
}

/// Stock levels per product, optionally at one location or only low / negative ones
/// (every role).
#[utoipa::path(get, path = "/v1/stock", tag = "inventory",
    params(StockQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Page<StockLevel>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn stock_levels(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Cashier>,
    MinSequence(min): MinSequence,
    ApiQuery(query): ApiQuery<StockQuery>,
) -> Result<Json<Page<StockLevel>>, ApiError> {
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(queries::catalog::stock(&db, &query).await?))
}

/// Stock movements of one SKU over a period (manager and up).
#[utoipa::path(get, path = "/v1/inventory/transactions", tag = "inventory",
    params(TransactionsQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Page<InventoryTransaction>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn inventory_transactions(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    MinSequence(min): MinSequence,
    ApiQuery(mut query): ApiQuery<TransactionsQuery>,
) -> Result<Json<Page<InventoryTransaction>>, ApiError> {
    context.readable().hold(&mut query.location)?;
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(queries::transactions::search(&db, &query).await?))
}
