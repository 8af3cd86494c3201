//! Purchasing (manager and up): suppliers, purchase orders and their deliveries, reorder
//! levels (the commands live in [`crate::commands::purchasing`]); the suppliers and purchase
//! orders of the read model (lists and one of each); the margin, valuation, reorder and
//! low-stock reports (JSON or CSV; managers or API keys with `read_reports`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use events::{PurchaseOrderId, SupplierId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Authorized, Manager, ReadReportsScope, UserOrKey};
use crate::commands::purchasing::{
    CancelPurchaseOrder, ClosePurchaseOrder, DraftPurchaseOrder, ReceivePurchaseOrder, RegisterSupplier,
    SetReorderLevels, SubmitPurchaseOrder, UpdateSupplier,
};
use crate::error::ApiError;
use crate::extract::{ApiQuery, MinSequence};
use crate::queries;
use crate::queries::page::{Items, Page};
use crate::queries::purchase_orders::{self, PurchaseOrder, PurchaseOrderListQuery, Supplier, SupplierListQuery};
use crate::queries::purchasing::{self, LowStockRow, MarginRow, ReorderSuggestion, ValuationRow};
use crate::routes::command::command;
use crate::routes::openapi::ErrorBody;
use crate::routes::reports::answer;
use crate::state::AppState;

/// The purchasing routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(command::<RegisterSupplier>())
        .routes(command::<UpdateSupplier>())
        .routes(command::<DraftPurchaseOrder>())
        .routes(command::<SubmitPurchaseOrder>())
        .routes(command::<ReceivePurchaseOrder>())
        .routes(command::<ClosePurchaseOrder>())
        .routes(command::<CancelPurchaseOrder>())
        .routes(command::<SetReorderLevels>())
        .routes(routes!(list_suppliers))
        .routes(routes!(get_supplier))
        .routes(routes!(list_purchase_orders))
        .routes(routes!(get_purchase_order))
        .routes(routes!(margin_report))
        .routes(routes!(valuation_report))
        .routes(routes!(reorder_report))
        .routes(routes!(low_stock_report))
}

/// The suppliers, by id (manager and up).
#[utoipa::path(get, path = "/v1/suppliers", tag = "purchasing",
    params(SupplierListQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Page<Supplier>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_suppliers(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    MinSequence(min): MinSequence,
    ApiQuery(query): ApiQuery<SupplierListQuery>,
) -> Result<Json<Page<Supplier>>, ApiError> {
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(purchase_orders::suppliers(&db, &query).await?))
}

/// One supplier with what it sells (manager and up).
#[utoipa::path(get, path = "/v1/suppliers/{supplier_id}", tag = "purchasing",
    params(("supplier_id" = String, Path), ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Supplier), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_supplier(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    MinSequence(min): MinSequence,
    Path(raw): Path<String>,
) -> Result<Json<Supplier>, ApiError> {
    let id = SupplierId::parse(raw).map_err(|err| ApiError::invalid("supplier_id", err.to_string()))?;
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(purchase_orders::supplier(&db, id.as_str()).await?))
}

/// The purchase orders, by id, filtered by location, status and supplier (manager and up).
#[utoipa::path(get, path = "/v1/purchase-orders", tag = "purchasing",
    params(PurchaseOrderListQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Page<PurchaseOrder>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_purchase_orders(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    MinSequence(min): MinSequence,
    ApiQuery(mut query): ApiQuery<PurchaseOrderListQuery>,
) -> Result<Json<Page<PurchaseOrder>>, ApiError> {
    context.readable().hold(&mut query.location)?;
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(purchase_orders::purchase_orders(&db, &query).await?))
}

/// A purchase order with what arrived of each line and its deliveries (manager and up),
/// from the read model (pass `min_sequence` to see a command's effect).
#[utoipa::path(get, path = "/v1/purchase-orders/{po_id}", tag = "purchasing",
    params(("po_id" = String, Path), ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = PurchaseOrder), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_purchase_order(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    MinSequence(min): MinSequence,
    Path(raw): Path<String>,
) -> Result<Json<PurchaseOrder>, ApiError> {
    let po = PurchaseOrderId::parse(raw).map_err(|err| ApiError::invalid("po_id", err.to_string()))?;
    let db = queries::read_model(&state, &context, min).await?;
    let order = purchase_orders::purchase_order(&db, po.as_str()).await?;
    context.readable().check(&order.location)?;
    Ok(Json(order))
}

/// Gross margin of a period of business days per product, category, location or day.
#[utoipa::path(get, path = "/v1/reports/margin", tag = "reports",
    params(purchasing::MarginQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, description = "JSON, or CSV with Accept: text/csv", content(
        (Items<MarginRow> = "application/json"), (String = "text/csv"))), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["read_reports"])))]
async fn margin_report(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, ReadReportsScope>,
    MinSequence(min): MinSequence,
    headers: HeaderMap,
    ApiQuery(mut query): ApiQuery<purchasing::MarginQuery>,
) -> Result<Response, ApiError> {
    caller.readable.hold(&mut query.location)?;
    let db = queries::tenant_read_model(&state, &caller.tenant, min).await?;
    Ok(answer(
        &headers,
        purchasing::margin(&db, &query).await?,
        purchasing::margin_csv,
    ))
}

/// The inventory's units and value at moving average cost at an instant, per location
/// (or per location and product).
#[utoipa::path(get, path = "/v1/reports/valuation", tag = "reports",
    params(purchasing::ValuationQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, description = "JSON, or CSV with Accept: text/csv", content(
        (Items<ValuationRow> = "application/json"), (String = "text/csv"))), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["read_reports"])))]
async fn valuation_report(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, ReadReportsScope>,
    MinSequence(min): MinSequence,
    headers: HeaderMap,
    ApiQuery(mut query): ApiQuery<purchasing::ValuationQuery>,
) -> Result<Response, ApiError> {
    caller.readable.hold(&mut query.location)?;
    let db = queries::tenant_read_model(&state, &caller.tenant, min).await?;
    Ok(answer(
        &headers,
        purchasing::valuation(&db, &query).await?,
        purchasing::valuation_csv,
    ))
}

/// What to order per location: products at or below their reorder point counting what is
/// on order, with cases up to par level plus lead-time demand.
#[utoipa::path(get, path = "/v1/reports/reorder", tag = "reports",
    params(purchasing::ReorderQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, description = "JSON, or CSV with Accept: text/csv", content(
        (Items<ReorderSuggestion> = "application/json"), (String = "text/csv"))), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["read_reports"])))]
async fn reorder_report(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, ReadReportsScope>,
    MinSequence(min): MinSequence,
    headers: HeaderMap,
    ApiQuery(mut query): ApiQuery<purchasing::ReorderQuery>,
) -> Result<Response, ApiError> {
    caller.readable.hold(&mut query.location)?;
    let db = queries::tenant_read_model(&state, &caller.tenant, min).await?;
    Ok(answer(
        &headers,
        purchasing::reorder(&db, &query, Utc::now()).await?,
        purchasing::reorder_csv,
    ))
}

/// Products at or below their reorder point per location (units on hand).
#[utoipa::path(get, path = "/v1/reports/low-stock", tag = "reports",
    params(purchasing::LowStockQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, description = "JSON, or CSV with Accept: text/csv", content(
        (Items<LowStockRow> = "application/json"), (String = "text/csv"))), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["read_reports"])))]
async fn low_stock_report(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, ReadReportsScope>,
    MinSequence(min): MinSequence,
    headers: HeaderMap,
    ApiQuery(mut query): ApiQuery<purchasing::LowStockQuery>,
) -> Result<Response, ApiError> {
    caller.readable.hold(&mut query.location)?;
    let db = queries::tenant_read_model(&state, &caller.tenant, min).await?;
    Ok(answer(
        &headers,
        purchasing::low_stock(&db, &query).await?,
        purchasing::low_stock_csv,
    ))
}
