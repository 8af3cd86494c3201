//! Sales: complete (cashier and up), void and refund (manager and up); list and read
//! them. The commands live in [`crate::commands::sales`].

use axum::extract::{Path, State};
use events::SaleId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;

use crate::auth::{Authorized, Manager};
use crate::commands::sales::{CompleteSale, ConfigureSalesSettings, RefundSale, VoidSale};
use crate::error::ApiError;
use crate::extract::{ApiQuery, MinSequence};
use crate::queries::sales::{Sale, SalesQuery};
use crate::queries::{self, page::Page};
use crate::routes::command::command;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The sales routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(command::<CompleteSale>())
        .routes(command::<VoidSale>())
        .routes(command::<RefundSale>())
        .routes(command::<ConfigureSalesSettings>())
        .routes(routes!(list_sales))
        .routes(routes!(get_sale))
}

fn sale_id(raw: String) -> Result<SaleId, ApiError> {
    SaleId::parse(raw).map_err(|err| ApiError::invalid("sale_id", err.to_string()))
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
    ApiQuery(mut query): ApiQuery<SalesQuery>,
) -> Result<Json<Page<Sale>>, ApiError> {
    context.readable().hold(&mut query.location)?;
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(queries::sales::search(&db, &query).await?))
}

/// One sale with its void and refunds (manager and up).
#[utoipa::path(get, path = "/v1/sales/{sale_id}", tag = "sales",
    params(("sale_id" = String, Path), ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Sale), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_sale(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    MinSequence(min): MinSequence,
    Path(raw_id): Path<String>,
) -> Result<Json<Sale>, ApiError> {
    let sale_id = sale_id(raw_id)?;
    let db = queries::read_model(&state, &context, min).await?;
    let sale = queries::sales::sale(&db, sale_id.as_str()).await?;
    context.readable().check(&sale.location)?;
    Ok(Json(sale))
}
