//! The catalog (manager and up): register, update, reprice, discontinue. Responses carry
//! the product's version as `ETag`; changes require it in `If-Match`.

use axum::extract::{Path, State};
use axum::response::Response;
use events::{AggregateRef, DomainEvent, Sku};
use eventstore::{Expected, StoredEvent};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;

use crate::auth::{Authorized, Cashier, Manager};
use crate::commands::CommandMeta;
use crate::commands::catalog::{self, ChangePrice, DiscontinueProduct, RegisterProduct, UpdateProduct};
use crate::commands::product_state::ProductState;
use crate::error::ApiError;
use crate::execute;
use crate::extract::{ApiJson, ApiQuery, IdempotencyKey, IfMatch, MinSequence};
use crate::queries::catalog::{Product, ProductSearch};
use crate::queries::{self, page::Page};
use crate::routes::Accepted;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The catalog routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_product, list_products))
        .routes(routes!(get_product))
        .routes(routes!(update_product))
        .routes(routes!(change_price))
        .routes(routes!(discontinue_product))
}

fn sku(raw: String) -> Result<Sku, ApiError> {
    Sku::parse(raw).map_err(|err| ApiError::invalid("sku", err.to_string()))
}

/// The expectation for a change made against version `if_match`: it must still be the
/// product's last event.
fn expect_version(sku: &Sku, history: &[StoredEvent], if_match: u64) -> Result<(ProductState, Expected), ApiError> {
    let state = ProductState::fold(history);
    if !state.exists() {
        return Err(ApiError::NotFound {
            resource: "product",
            id: sku.to_string(),
        });
    }
    if state.version != if_match {
        return Err(ApiError::VersionConflict {
            expected: if_match,
            current: state.version,
        });
    }
    Ok((state, Expected::LastSequence(if_match)))
}

/// Runs a change of an existing product and invalidates its cached age restriction.
async fn change<F>(
    state: &AppState,
    meta: &CommandMeta,
    sku: &Sku,
    if_match: u64,
    decide: F,
) -> Result<Response, ApiError>
where
    F: Fn(&ProductState) -> Result<DomainEvent, ApiError>,
{
    let outcome = execute::run(&state.store, meta, AggregateRef::product(sku), None, |history| {
        let (product, expected) = expect_version(sku, history, if_match)?;
        Ok((decide(&product)?, expected))
    })
    .await?;
    state.catalog.invalidate(&meta.context.tenant, sku).await;
    Ok(Accepted::response(outcome, true))
}

/// Register a product.
#[utoipa::path(post, path = "/v1/products", tag = "catalog", request_body = RegisterProduct,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "Registered; ETag holds the version", body = Accepted),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "register_product", skip_all, fields(sku = %command.sku))]
async fn register_product(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(command): ApiJson<RegisterProduct>,
) -> Result<Response, ApiError> {
    let meta = CommandMeta::new(
        context,
        "RegisterProduct",
        &command,
        key,
        || format!("product:{}", command.sku),
        command.occurred_at,
    );
    let event = catalog::register(&command, &meta.context, meta.recorded_at)?;
    let sku = command.sku.clone();
    let outcome = execute::run(
        &state.store,
        &meta,
        AggregateRef::product(&sku),
        Some(event.into()),
        |history| {
            Err(ApiError::StateConflict {
                code: "product_exists",
                message: format!(
                    "product {sku} already exists at version {}",
                    history.last().map_or(0, |e| e.sequence)
                ),
            })
        },
    )
    .await?;
    state.catalog.invalidate(&meta.context.tenant, &sku).await;
    Ok(Accepted::response(outcome, true))
}

/// Replace a product's details.
#[utoipa::path(put, path = "/v1/products/{sku}", tag = "catalog", request_body = UpdateProduct,
    params(("sku" = String, Path), ("If-Match" = String, Header, description = "The version from the ETag"), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Accepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "update_product", skip_all, fields(sku = %raw_sku))]
async fn update_product(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    IdempotencyKey(key): IdempotencyKey,
    IfMatch(version): IfMatch,
    Path(raw_sku): Path<String>,
    ApiJson(command): ApiJson<UpdateProduct>,
) -> Result<Response, ApiError> {
    let sku = sku(raw_sku)?;
    let meta = CommandMeta::new(
        context,
        "UpdateProduct",
        &(&sku, version, &command),
        key,
        || format!("product:{sku}:{version}"),
        command.occurred_at,
    );
    change(&state, &meta, &sku, version, |product| {
        Ok(catalog::update(&sku, &command, &meta.context, product, meta.recorded_at)?.into())
    })
    .await
}

/// Change a product's price.
#[utoipa::path(put, path = "/v1/products/{sku}/price", tag = "catalog", request_body = ChangePrice,
    params(("sku" = String, Path), ("If-Match" = String, Header, description = "The version from the ETag"), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Accepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "change_price", skip_all, fields(sku = %raw_sku))]
async fn change_price(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    IdempotencyKey(key): IdempotencyKey,
    IfMatch(version): IfMatch,
    Path(raw_sku): Path<String>,
    ApiJson(command): ApiJson<ChangePrice>,
) -> Result<Response, ApiError> {
    let sku = sku(raw_sku)?;
    let meta = CommandMeta::new(
        context,
        "ChangePrice",
        &(&sku, version, &command),
        key,
        || format!("product:{sku}:{version}"),
        command.occurred_at,
    );
    change(&state, &meta, &sku, version, |product| {
        Ok(catalog::change_price(&sku, &command, &meta.context, product, meta.recorded_at)?.into())
    })
    .await
}

/// Discontinue a product.
#[utoipa::path(post, path = "/v1/products/{sku}/discontinue", tag = "catalog", request_body = DiscontinueProduct,
    params(("sku" = String, Path), ("If-Match" = String, Header, description = "The version from the ETag"), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Accepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 428, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "discontinue_product", skip_all, fields(sku = %raw_sku))]
async fn discontinue_product(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    IdempotencyKey(key): IdempotencyKey,
    IfMatch(version): IfMatch,
    Path(raw_sku): Path<String>,
    ApiJson(command): ApiJson<DiscontinueProduct>,
) -> Result<Response, ApiError> {
    let sku = sku(raw_sku)?;
    let meta = CommandMeta::new(
        context,
        "DiscontinueProduct",
        &(&sku, version, &command),
        key,
        || format!("product:{sku}:{version}"),
        command.occurred_at,
    );
    change(&state, &meta, &sku, version, |product| {
        Ok(catalog::discontinue(&sku, &command, &meta.context, product, meta.recorded_at)?.into())
    })
    .await
}

/// Search the catalog (every role).
#[utoipa::path(get, path = "/v1/products", tag = "catalog",
    params(ProductSearch, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Page<Product>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_products(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Cashier>,
    MinSequence(min): MinSequence,
    ApiQuery(query): ApiQuery<ProductSearch>,
) -> Result<Json<Page<Product>>, ApiError> {
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(queries::catalog::search(&db, &query).await?))
}

/// One product with its stock per location (every role).
#[utoipa::path(get, path = "/v1/products/{sku}", tag = "catalog",
    params(("sku" = String, Path), ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Product), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_product(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Cashier>,
    MinSequence(min): MinSequence,
    Path(raw_sku): Path<String>,
) -> Result<Json<Product>, ApiError> {
    let sku = sku(raw_sku)?;
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(queries::catalog::product(&db, sku.as_str()).await?))
}
