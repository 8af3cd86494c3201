//! Cash management: drawer-session commands (open, paid in/out, safe drop, close,
//! approve; they live in [`crate::commands::cash`]), the tenant's cash settings, one
//! session as its X or Z report, and the period reports (over/short, paid-outs).

use axum::Json;
use axum::extract::{Path, State};
use events::{DrawerSessionId, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Authorized, Cashier, Manager};
use crate::commands::PathId;
use crate::commands::cash::{
    ApproveOverShort, CloseDrawerSession, ConfigureCashSettings, OpenDrawerSession, PayIn, PayOut, SafeDrop,
};
use crate::error::ApiError;
use crate::extract::{ApiQuery, MinSequence};
use crate::queries::cash::{CashPeriodQuery, DrawerSession, OverShortReport, PaidOutsByReason};
use crate::queries::{self, page::Items};
use crate::routes::command::command;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The cash routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(command::<OpenDrawerSession>())
        .routes(command::<PayIn>())
        .routes(command::<PayOut>())
        .routes(command::<SafeDrop>())
        .routes(command::<CloseDrawerSession>())
        .routes(command::<ApproveOverShort>())
        .routes(command::<ConfigureCashSettings>())
        .routes(routes!(get_drawer_session))
        .routes(routes!(over_short_report))
        .routes(routes!(paid_outs_report))
}

/// One drawer session: the X report while open, the session's Z report once closed.
/// Cashiers read their own sessions; with blind close they do not see the expected cash
/// or the over/short. Managers read every session with every figure.
#[utoipa::path(get, path = "/v1/drawer-sessions/{session_id}", tag = "cash",
    params(("session_id" = String, Path), ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = DrawerSession), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_drawer_session(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Cashier>,
    MinSequence(min): MinSequence,
    Path(raw): Path<String>,
) -> Result<Json<DrawerSession>, ApiError> {
    let id = DrawerSessionId::from_path(raw)?;
    let db = queries::read_model(&state, &context, min).await?;
    let doc = queries::cash::session(&db, id.as_str()).await?;
    let manager = context.role.at_least(Role::Manager);
    if !manager && doc.cashier_id != context.user_id.as_str() {
        return Err(ApiError::Forbidden {
            required: Role::Manager,
        });
    }
    let hide = doc.blind_close && !manager;
    Ok(Json(DrawerSession::of(doc, hide)))
}

/// Over/short per cashier and per terminal of the sessions closed in a period of
/// business days (manager and up).
#[utoipa::path(get, path = "/v1/reports/over-short", tag = "reports",
    params(CashPeriodQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = OverShortReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn over_short_report(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    MinSequence(min): MinSequence,
    ApiQuery(query): ApiQuery<CashPeriodQuery>,
) -> Result<Json<OverShortReport>, ApiError> {
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(queries::cash::over_short(&db, &query).await?))
}

/// Paid-outs of a period of business days by reason (manager and up).
#[utoipa::path(get, path = "/v1/reports/paid-outs", tag = "reports",
    params(CashPeriodQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Items<PaidOutsByReason>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn paid_outs_report(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
    MinSequence(min): MinSequence,
    ApiQuery(query): ApiQuery<CashPeriodQuery>,
) -> Result<Json<Items<PaidOutsByReason>>, ApiError> {
    let db = queries::read_model(&state, &context, min).await?;
    Ok(Json(Items {
        items: queries::cash::paid_outs(&db, &query).await?,
    }))
}
