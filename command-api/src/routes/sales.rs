//! Sales: complete (cashier and up), void and refund (manager and up).

use axum::extract::{Path, State};
use axum::response::Response;
use events::{AggregateRef, SaleId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;

use crate::auth::{Authorized, Cashier, Manager};
use crate::commands::sale::{self, CompleteSale};
use crate::commands::sale_state::SaleState;
use crate::commands::{CommandMeta, refund, void};
use crate::error::ApiError;
use crate::execute::{self, after};
use crate::extract::{ApiJson, ApiQuery, IdempotencyKey, MinSequence};
use crate::queries::sales::{Sale, SalesQuery};
use crate::queries::{self, page::Page};
use crate::routes::Accepted;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The sales routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(complete_sale, list_sales))
        .routes(routes!(get_sale))
        .routes(routes!(void_sale))
        .routes(routes!(refund_sale))
}

fn sale_id(raw: String) -> Result<SaleId, ApiError> {
    SaleId::parse(raw).map_err(|err| ApiError::invalid("sale_id", err.to_string()))
}

/// Complete a sale.
#[utoipa::path(post, path = "/v1/sales", tag = "sales", request_body = CompleteSale,
    params(("Idempotency-Key" = Option<String>, Header, description = "Optional; the sale id serves as key otherwise")),
    responses(
        (status = 201, description = "Recorded (or recorded earlier: Idempotent-Replayed)", body = Accepted),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "complete_sale", skip_all, fields(sale_id = %command.sale_id))]
async fn complete_sale(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Cashier>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(command): ApiJson<CompleteSale>,
) -> Result<Response, ApiError> {
    let meta = CommandMeta::new(
        context,
        "CompleteSale",
        &command,
        key,
        || format!("sale:{}", command.sale_id),
        command.occurred_at,
    );
    let ages = state
        .catalog
        .minimum_ages(&meta.context.tenant, command.lines.iter().map(|l| &l.sku))
        .await?;
    let event = sale::decide(&command, &meta.context, &ages, meta.recorded_at)?;
    let sale_id = command.sale_id.clone();
    let outcome = execute::run(
        &state.store,
        &meta,
        AggregateRef::sale(&sale_id),
        Some(event.into()),
        |_| {
            Err(ApiError::StateConflict {
                code: "sale_exists",
                message: format!("sale {sale_id} was already recorded with different contents"),
            })
        },
    )
    .await?;
    Ok(Accepted::response(outcome, false))
}

/// Void a completed sale.
#[utoipa::path(post, path = "/v1/sales/{sale_id}/void", tag = "sales", request_body = void::VoidSale,
    params(("sale_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = Accepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "void_sale", skip_all, fields(sale_id = %raw_id))]
async fn void_sale(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    IdempotencyKey(key): IdempotencyKey,
    Path(raw_id): Path<String>,
    ApiJson(command): ApiJson<void::VoidSale>,
) -> Result<Response, ApiError> {
    let sale_id = sale_id(raw_id)?;
    let meta = CommandMeta::new(
        context,
        "VoidSale",
        &(&sale_id, &command),
        key,
        || format!("void:{sale_id}"),
        command.occurred_at,
    );
    let outcome = execute::run(&state.store, &meta, AggregateRef::sale(&sale_id), None, |history| {
        let event = void::decide(
            &sale_id,
            &command,
            &meta.context,
            &SaleState::fold(history),
            meta.recorded_at,
        )?;
        Ok((event.into(), after(history)))
    })
    .await?;
    Ok(Accepted::response(outcome, false))
}

/// Refund some or all lines of a sale.
#[utoipa::path(post, path = "/v1/sales/{sale_id}/refunds", tag = "sales", request_body = refund::RefundSale,
    params(("sale_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = Accepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "refund_sale", skip_all, fields(sale_id = %raw_id))]
async fn refund_sale(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    IdempotencyKey(key): IdempotencyKey,
    Path(raw_id): Path<String>,
    ApiJson(command): ApiJson<refund::RefundSale>,
) -> Result<Response, ApiError> {
    let sale_id = sale_id(raw_id)?;
    let meta = CommandMeta::new(
        context,
        "RefundSale",
        &(&sale_id, &command),
        key,
        || format!("refund:{}", command.refund_id),
        command.occurred_at,
    );
    let outcome = execute::run(&state.store, &meta, AggregateRef::sale(&sale_id), None, |history| {
        let event = refund::decide(
            &sale_id,
            &command,
            &meta.context,
            &SaleState::fold(history),
            meta.recorded_at,
        )?;
        Ok((event.into(), after(history)))
    })
    .await?;
    Ok(Accepted::response(outcome, false))
}

/// Sales by period, location, terminal, cashier and status, newest recorded first
/// (manager and up).
#[utoipa::path(get, path = "/v1/sales", tag = "sales",
    params(SalesQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Page<Sale>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_sales(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    MinSequence(min): MinSequence,
    ApiQuery(query): ApiQuery<SalesQuery>,
) -> Result<Json<Page<Sale>>, ApiError> {
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(queries::sales::search(&db, &query).await?))
}

/// One sale with its void and refunds (manager and up).
#[utoipa::path(get, path = "/v1/sales/{sale_id}", tag = "sales",
    params(("sale_id" = String, Path), ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Sale), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_sale(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    MinSequence(min): MinSequence,
    Path(raw_id): Path<String>,
) -> Result<Json<Sale>, ApiError> {
    let sale_id = sale_id(raw_id)?;
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(queries::sales::sale(&db, sale_id.as_str()).await?))
}
