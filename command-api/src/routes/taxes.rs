//! Tax jurisdictions: define and replace them (admins; the commands live in
//! [`crate::commands::taxes`]); read one (every role: terminals price offline with it).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use events::tax::{Jurisdiction, JurisdictionId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Authorized, Cashier};
use crate::commands::PathId;
use crate::commands::taxes::{DefineJurisdiction, ReplaceJurisdiction};
use crate::error::ApiError;
use crate::routes::command::command;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The tax routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(command::<DefineJurisdiction>())
        .routes(command::<ReplaceJurisdiction>())
        .routes(routes!(get_jurisdiction))
}

/// A tax jurisdiction's configuration as it stands, with its version as `ETag` (every
/// role). Read from its events, so it is current the moment a change is acknowledged.
#[utoipa::path(get, path = "/v1/tax-jurisdictions/{jurisdiction_id}", tag = "taxes",
    params(("jurisdiction_id" = String, Path)),
    responses((status = 200, body = Jurisdiction, headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_jurisdiction(
    State(app): State<AppState>,
    Authorized(context, _): Authorized<Cashier>,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = JurisdictionId::from_path(raw)?;
    app.jurisdictions.invalidate(&context.tenant, &id);
    let state = app.jurisdictions.get(&context.tenant, &id).await?;
    let Some(jurisdiction) = &state.jurisdiction else {
        return Err(ApiError::NotFound {
            resource: "tax jurisdiction",
            id: id.to_string(),
        });
    };
    Ok((
        [(header::ETAG, format!("\"{}\"", state.version))],
        Json(jurisdiction.clone()),
    )
        .into_response())
}
