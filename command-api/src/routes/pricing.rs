//! Pricing: quote a basket at a store (every role; nothing is recorded). The pricing
//! lives in [`crate::quote`].

use axum::Json;
use axum::extract::State;
use pricing::PricedBasket;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Authorized, Cashier};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::quote::{self, QuoteRequest};
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The pricing routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(quote_basket))
}

/// Price a basket at a store: each line's price, discount, taxes (which tax, which rate,
/// how much) and deposit, and the receipt's totals, as the server would record them.
#[utoipa::path(post, path = "/v1/pricing/quotes", tag = "pricing", operation_id = "quote_basket",
    request_body = QuoteRequest,
    responses((status = 200, body = PricedBasket), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn quote_basket(
    State(app): State<AppState>,
    Authorized(context, _): Authorized<Cashier>,
    ApiJson(request): ApiJson<QuoteRequest>,
) -> Result<Json<PricedBasket>, ApiError> {
    Ok(Json(quote::quote(&app, &context, &request).await?))
}
