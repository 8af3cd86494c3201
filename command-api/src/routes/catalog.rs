//! The catalog: register, update, reprice, discontinue (manager and up; the commands live
//! in [`crate::commands::catalog`]); search and read products (every role).

use axum::extract::{Path, State};
use events::Sku;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;

use crate::auth::{Authorized, Cashier};
use crate::commands::catalog::{ChangePrice, DiscontinueProduct, RegisterProduct, UpdateProduct};
use crate::error::ApiError;
use crate::extract::{ApiQuery, MinSequence};
use crate::queries::catalog::{Product, ProductSearch};
use crate::queries::{self, page::Page};
use crate::routes::command::command;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The catalog routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(command::<RegisterProduct>())
        .routes(command::<UpdateProduct>())
        .routes(command::<ChangePrice>())
        .routes(command::<DiscontinueProduct>())
        .routes(routes!(list_products))
        .routes(routes!(get_product))
}

fn sku(raw: String) -> Result<Sku, ApiError> {
    Sku::parse(raw).map_err(|err| ApiError::invalid("sku", err.to_string()))
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
    responses((status = 200, body = Product), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
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
