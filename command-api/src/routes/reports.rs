//! Reports (manager and up): the daily Z report, top products, the pricing exceptions
//! of a day and the promotion report of a period, as JSON or CSV.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Manager, ReadReportsScope, UserOrKey};
use crate::error::ApiError;
use crate::extract::{ApiQuery, MinSequence};
use crate::queries::exceptions::{self, PricingException};
use crate::queries::packs::{self, PackSalesReport};
use crate::queries::page::Items;
use crate::queries::promotions::{self, PromotionReportQuery, PromotionReportRow};
use crate::queries::reports::{DailyReport, TopProduct};
use crate::queries::{self, reports};
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The report routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(daily_report))
        .routes(routes!(top_products))
        .routes(routes!(pricing_exceptions))
        .routes(routes!(pack_sales))
        .routes(routes!(promotion_report))
}

/// Units and revenue per SKU sold (packs and single products) and per base product of a
/// period of business days, net of voids and refunds (docs/catalog.md).
#[utoipa::path(get, path = "/v1/reports/packs", tag = "reports",
    params(packs::PackSalesQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = PackSalesReport), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["read_reports"])))]
async fn pack_sales(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, ReadReportsScope>,
    MinSequence(min): MinSequence,
    ApiQuery(mut query): ApiQuery<packs::PackSalesQuery>,
) -> Result<Json<PackSalesReport>, ApiError> {
    caller.readable.hold(&mut query.location)?;
    let db = queries::tenant_read_model(&state, &caller.tenant, min).await?;
    Ok(Json(packs::pack_sales(&db, &query).await?))
}

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"))
}

/// Rows as `{"items": [...]}`, or as CSV when the client accepts `text/csv`.
pub(crate) fn answer<T: Serialize>(headers: &HeaderMap, rows: Vec<T>, csv: fn(&[T]) -> String) -> Response {
    if wants_csv(headers) {
        ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv(&rows)).into_response()
    } else {
        Json(Items { items: rows }).into_response()
    }
}

/// The Z report of one business day, one row per location.
#[utoipa::path(get, path = "/v1/reports/daily", tag = "reports",
    params(reports::DailyQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, description = "JSON, or CSV with Accept: text/csv", content(
        (Items<DailyReport> = "application/json"), (String = "text/csv"))), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["read_reports"])))]
async fn daily_report(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, ReadReportsScope>,
    MinSequence(min): MinSequence,
    headers: HeaderMap,
    ApiQuery(mut query): ApiQuery<reports::DailyQuery>,
) -> Result<Response, ApiError> {
    caller.readable.hold(&mut query.location)?;
    let db = queries::tenant_read_model(&state, &caller.tenant, min).await?;
    Ok(answer(&headers, reports::daily(&db, &query).await?, reports::daily_csv))
}

/// The best-selling products of a period by revenue or units, net of refunds.
#[utoipa::path(get, path = "/v1/reports/top-products", tag = "reports",
    params(reports::TopProductsQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, description = "JSON, or CSV with Accept: text/csv", content(
        (Items<TopProduct> = "application/json"), (String = "text/csv"))), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["read_reports"])))]
async fn top_products(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, ReadReportsScope>,
    MinSequence(min): MinSequence,
    headers: HeaderMap,
    ApiQuery(mut query): ApiQuery<reports::TopProductsQuery>,
) -> Result<Response, ApiError> {
    caller.readable.hold(&mut query.location)?;
    let db = queries::tenant_read_model(&state, &caller.tenant, min).await?;
    Ok(answer(
        &headers,
        reports::top_products(&db, &query).await?,
        reports::top_products_csv,
    ))
}

/// The pricing exceptions of one business day: every line of its sales where the
/// terminal's price, tax or deposit differed from the server's pricing at the time (the
/// sales were recorded as sold). One row per line and difference.
#[utoipa::path(get, path = "/v1/reports/pricing-exceptions", tag = "reports",
    params(exceptions::ExceptionsQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, description = "JSON, or CSV with Accept: text/csv", content(
        (Items<PricingException> = "application/json"), (String = "text/csv"))), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["read_reports"])))]
async fn pricing_exceptions(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, ReadReportsScope>,
    MinSequence(min): MinSequence,
    headers: HeaderMap,
    ApiQuery(mut query): ApiQuery<exceptions::ExceptionsQuery>,
) -> Result<Response, ApiError> {
    caller.readable.hold(&mut query.location)?;
    let db = queries::tenant_read_model(&state, &caller.tenant, min).await?;
    Ok(answer(
        &headers,
        exceptions::exceptions(&db, &query).await?,
        exceptions::exceptions_csv,
    ))
}

/// What each promotion cost over a period of business days: the discounts allocated to
/// it on the period's sales, the units on those lines, net of refunds (voided sales left
/// out). One row per promotion and currency.
#[utoipa::path(get, path = "/v1/reports/promotions", tag = "reports",
    params(PromotionReportQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, description = "JSON, or CSV with Accept: text/csv", content(
        (Items<PromotionReportRow> = "application/json"), (String = "text/csv"))), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["read_reports"])))]
async fn promotion_report(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, ReadReportsScope>,
    MinSequence(min): MinSequence,
    headers: HeaderMap,
    ApiQuery(mut query): ApiQuery<PromotionReportQuery>,
) -> Result<Response, ApiError> {
    caller.readable.hold(&mut query.location)?;
    let db = queries::tenant_read_model(&state, &caller.tenant, min).await?;
    Ok(answer(
        &headers,
        promotions::report(&db, &query).await?,
        promotions::report_csv,
    ))
}
