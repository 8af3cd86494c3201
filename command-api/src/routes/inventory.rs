//! Stock movements (manager and up): receipts, adjustments, counts, transfers.

use axum::extract::State;
use axum::response::Response;
use events::{AggregateRef, DomainEvent, MovementId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;

use crate::auth::{Authorized, Cashier, Manager};
use crate::commands::CommandMeta;
use crate::commands::inventory::{self, AdjustStock, CountStock, ReceiveStock, TransferStock};
use crate::error::ApiError;
use crate::execute;
use crate::extract::{ApiJson, ApiQuery, IdempotencyKey, MinSequence};
use crate::queries::catalog::{StockLevel, StockQuery};
use crate::queries::transactions::{InventoryTransaction, TransactionsQuery};
use crate::queries::{self, page::Page};
use crate::routes::Accepted;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The inventory routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(receive_stock))
        .routes(routes!(adjust_stock))
        .routes(routes!(count_stock))
        .routes(routes!(transfer_stock))
        .routes(routes!(stock_levels))
        .routes(routes!(inventory_transactions))
}

/// Appends a movement on its own subject, expecting it to be new.
async fn record(
    state: &AppState,
    meta: &CommandMeta,
    movement_id: &MovementId,
    event: DomainEvent,
) -> Result<Response, ApiError> {
    let outcome = execute::run(
        &state.store,
        meta,
        AggregateRef::movement(movement_id),
        Some(event),
        |_| {
            Err(ApiError::StateConflict {
                code: "movement_exists",
                message: format!("movement {movement_id} was already recorded with different contents"),
            })
        },
    )
    .await?;
    Ok(Accepted::response(outcome, false))
}

/// Receive stock from a supplier.
#[utoipa::path(post, path = "/v1/inventory/receipts", tag = "inventory", request_body = ReceiveStock,
    params(("Idempotency-Key" = Option<String>, Header, description = "Required when the body has no movement_id")),
    responses((status = 201, body = Accepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "receive_stock", skip_all)]
async fn receive_stock(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(command): ApiJson<ReceiveStock>,
) -> Result<Response, ApiError> {
    let movement_id = inventory::movement_id(command.movement_id.as_ref(), key.as_deref())?;
    let meta = CommandMeta::new(
        context,
        "ReceiveStock",
        &command,
        key,
        || format!("movement:{movement_id}"),
        command.occurred_at,
    );
    let event = inventory::receive(&command, movement_id.clone(), &meta.context, meta.recorded_at)?;
    record(&state, &meta, &movement_id, event.into()).await
}

/// Adjust stock with a reason.
#[utoipa::path(post, path = "/v1/inventory/adjustments", tag = "inventory", request_body = AdjustStock,
    params(("Idempotency-Key" = Option<String>, Header, description = "Required when the body has no movement_id")),
    responses((status = 201, body = Accepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "adjust_stock", skip_all)]
async fn adjust_stock(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(command): ApiJson<AdjustStock>,
) -> Result<Response, ApiError> {
    let movement_id = inventory::movement_id(command.movement_id.as_ref(), key.as_deref())?;
    let meta = CommandMeta::new(
        context,
        "AdjustStock",
        &command,
        key,
        || format!("movement:{movement_id}"),
        command.occurred_at,
    );
    let event = inventory::adjust(&command, movement_id.clone(), &meta.context, meta.recorded_at)?;
    record(&state, &meta, &movement_id, event.into()).await
}

/// Record a physical count.
#[utoipa::path(post, path = "/v1/inventory/counts", tag = "inventory", request_body = CountStock,
    params(("Idempotency-Key" = Option<String>, Header, description = "Required when the body has no movement_id")),
    responses((status = 201, body = Accepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "count_stock", skip_all)]
async fn count_stock(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(command): ApiJson<CountStock>,
) -> Result<Response, ApiError> {
    let movement_id = inventory::movement_id(command.movement_id.as_ref(), key.as_deref())?;
    let meta = CommandMeta::new(
        context,
        "CountStock",
        &command,
        key,
        || format!("movement:{movement_id}"),
        command.occurred_at,
    );
    let event = inventory::count(&command, movement_id.clone(), &meta.context, meta.recorded_at)?;
    record(&state, &meta, &movement_id, event.into()).await
}

/// Transfer stock between locations.
#[utoipa::path(post, path = "/v1/inventory/transfers", tag = "inventory", request_body = TransferStock,
    params(("Idempotency-Key" = Option<String>, Header, description = "Required when the body has no movement_id")),
    responses((status = 201, body = Accepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "transfer_stock", skip_all)]
async fn transfer_stock(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(command): ApiJson<TransferStock>,
) -> Result<Response, ApiError> {
    let movement_id = inventory::movement_id(command.movement_id.as_ref(), key.as_deref())?;
    let meta = CommandMeta::new(
        context,
        "TransferStock",
        &command,
        key,
        || format!("movement:{movement_id}"),
        command.occurred_at,
    );
    let event = inventory::transfer(&command, movement_id.clone(), &meta.context, meta.recorded_at)?;
    record(&state, &meta, &movement_id, event.into()).await
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
    ApiQuery(query): ApiQuery<TransactionsQuery>,
) -> Result<Json<Page<InventoryTransaction>>, ApiError> {
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(queries::transactions::search(&db, &query).await?))
}
