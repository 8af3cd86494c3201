//! Locations: open, update, close (admins), close a business day (managers; the commands live in
//! [`crate::commands::locations`]); list and read them (every role).

use axum::Json;
use axum::extract::{Path, State};
use events::LocationId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Authorized, Cashier};
use crate::commands::locations::{CloseBusinessDay, CloseLocation, OpenLocation, UpdateLocation};
use crate::error::ApiError;
use crate::extract::MinSequence;
use crate::queries::locations::Location;
use crate::queries::{self, page::Items};
use crate::routes::command::command;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The location routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(command::<OpenLocation>())
        .routes(command::<UpdateLocation>())
        .routes(command::<CloseLocation>())
        .routes(command::<CloseBusinessDay>())
        .routes(routes!(list_locations))
        .routes(routes!(get_location))
}

/// Every location of the tenant (every role).
#[utoipa::path(get, path = "/v1/locations", tag = "locations",
    params(("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Items<Location>), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_locations(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Cashier>,
    MinSequence(min): MinSequence,
) -> Result<Json<Items<Location>>, ApiError> {
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(Items {
        items: queries::locations::list(&db).await?,
    }))
}

/// One location (every role).
#[utoipa::path(get, path = "/v1/locations/{location_id}", tag = "locations",
    params(("location_id" = String, Path), ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Location), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_location(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Cashier>,
    MinSequence(min): MinSequence,
    Path(raw): Path<String>,
) -> Result<Json<Location>, ApiError> {
    let id = LocationId::parse(raw).map_err(|err| ApiError::invalid("location_id", err.to_string()))?;
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(queries::locations::location(&db, id.as_str()).await?))
}
