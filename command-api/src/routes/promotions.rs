//! Promotions: create, update, end (managers; the commands live in
//! [`crate::commands::promotions`]); list and read them (every role: terminals show them);
//! the promotion report (managers) is in [`crate::routes::reports`].

use axum::Json;
use axum::extract::{Path, State};
use events::PromotionId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Authorized, Cashier};
use crate::commands::promotions::{CreatePromotion, EndPromotion, UpdatePromotion};
use crate::error::ApiError;
use crate::extract::MinSequence;
use crate::queries::promotions::Promotion;
use crate::queries::{self, page::Items};
use crate::routes::command::command;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The promotion routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(command::<CreatePromotion>())
        .routes(command::<UpdatePromotion>())
        .routes(command::<EndPromotion>())
        .routes(routes!(list_promotions))
        .routes(routes!(get_promotion))
}

/// Every promotion of the tenant, active or ended (every role).
#[utoipa::path(get, path = "/v1/promotions", tag = "promotions",
    params(("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Items<Promotion>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_promotions(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Cashier>,
    MinSequence(min): MinSequence,
) -> Result<Json<Items<Promotion>>, ApiError> {
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(Items {
        items: queries::promotions::list(&db).await?,
    }))
}

/// One promotion (every role).
#[utoipa::path(get, path = "/v1/promotions/{promotion_id}", tag = "promotions",
    params(("promotion_id" = String, Path), ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Promotion), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_promotion(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Cashier>,
    MinSequence(min): MinSequence,
    Path(raw): Path<String>,
) -> Result<Json<Promotion>, ApiError> {
    let id = PromotionId::parse(raw).map_err(|err| ApiError::invalid("promotion_id", err.to_string()))?;
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(queries::promotions::promotion(&db, id.as_str()).await?))
}
