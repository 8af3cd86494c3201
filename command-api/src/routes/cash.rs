//! Cash management: drawer-session commands (open, paid in/out, safe drop, close,
//! approve; they live in [`crate::commands::cash`]), the tenant's cash settings, one
//! session as its X or Z report, the sessions of a period, and the period reports
//! (over/short, paid-outs).

use axum::Json;
use axum::extract::{Path, State};
use events::event::VoidWindow;
use events::{AggregateRef, DrawerSessionId, Role};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Authorized, Cashier, Manager, ReadReportsScope, UserOrKey};
use crate::commands::cash::{
    ApproveOverShort, CashSettingsState, CloseDrawerSession, ConfigureCashSettings, OpenDrawerSession, PayIn, PayOut,
    ReturnEmpties, SafeDrop,
};
use crate::commands::{Fold, PathId};
use crate::error::ApiError;
use crate::extract::{ApiQuery, MinSequence};
use crate::queries;
use crate::queries::cash::{CashPeriodQuery, DrawerSession, OverShortReport, PaidOutsByReason, SessionListQuery};
use crate::queries::page::{Items, Page};
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
        .routes(command::<ReturnEmpties>())
        .routes(command::<CloseDrawerSession>())
        .routes(command::<ApproveOverShort>())
        .routes(command::<ConfigureCashSettings>())
        .routes(routes!(get_cash_settings))
        .routes(routes!(get_drawer_session))
        .routes(routes!(list_drawer_sessions))
        .routes(routes!(over_short_report))
        .routes(routes!(paid_outs_report))
}

/// The tenant's cash settings as `GET /v1/settings/cash` answers them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CashSettings {
    /// The version a change names (`version` of `PUT /v1/settings/cash`): the stream
    /// sequence of the last change, 0 when never set.
    pub version: u64,
    /// Whether cashiers close blind (do not see the expected cash).
    pub blind_close: bool,
    /// An over/short whose size exceeds this needs a manager's approval, minor units.
    pub approval_threshold_minor: i64,
    /// `same_session`, `same_business_day`, or null (voids at any time).
    #[schema(value_type = Option<String>, example = "same_business_day")]
    pub void_window: Option<VoidWindow>,
}

/// The tenant's cash settings, from their own events (manager and up).
#[utoipa::path(get, path = "/v1/settings/cash", tag = "cash",
    responses((status = 200, body = CashSettings), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_cash_settings(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Manager>,
) -> Result<Json<CashSettings>, ApiError> {
    let history = state
        .store
        .history(&context.tenant, &AggregateRef::cash_settings())
        .await?;
    let folded = CashSettingsState::fold(&history);
    Ok(Json(CashSettings {
        version: folded.version,
        blind_close: folded.settings.blind_close,
        approval_threshold_minor: folded.settings.approval_threshold_minor,
        void_window: folded.settings.void_window,
    }))
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
    context.readable().check(&doc.location)?;
    let manager = context.role.at_least(Role::Manager);
    if !manager && context.user_id.as_ref().map(|user| user.as_str()) != Some(doc.cashier_id.as_str()) {
        return Err(ApiError::Forbidden {
            required: Role::Manager,
        });
    }
    let hide = doc.blind_close && !manager;
    Ok(Json(DrawerSession::of(doc, hide)))
}

/// The drawer sessions opened on the business days `from..=to` (at most 92), optionally
/// at one location, by business day then id, a page at a time; each with its float,
/// expected and counted cash, over/short, approval and every cash movement (paid-outs
/// with their reasons). Manager and up, or an API key with `read_reports`; blind close
/// hides nothing from them.
#[utoipa::path(get, path = "/v1/drawer-sessions", tag = "cash",
    params(SessionListQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Page<DrawerSession>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["read_reports"])))]
async fn list_drawer_sessions(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, ReadReportsScope>,
    MinSequence(min): MinSequence,
    ApiQuery(mut query): ApiQuery<SessionListQuery>,
) -> Result<Json<Page<DrawerSession>>, ApiError> {
    caller.readable.hold(&mut query.location)?;
    let db = queries::tenant_read_model(&state, &caller.tenant, min).await?;
    Ok(Json(queries::cash::sessions(&db, &query).await?))
}

/// Over/short per cashier and per terminal of the sessions closed in a period of
/// business days (manager and up, or an API key with `read_reports`).
#[utoipa::path(get, path = "/v1/reports/over-short", tag = "reports",
    params(CashPeriodQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = OverShortReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["read_reports"])))]
async fn over_short_report(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, ReadReportsScope>,
    MinSequence(min): MinSequence,
    ApiQuery(mut query): ApiQuery<CashPeriodQuery>,
) -> Result<Json<OverShortReport>, ApiError> {
    caller.readable.hold(&mut query.location)?;
    let db = queries::tenant_read_model(&state, &caller.tenant, min).await?;
    Ok(Json(queries::cash::over_short(&db, &query).await?))
}

/// Paid-outs of a period of business days by reason (manager and up, or an API key with
/// `read_reports`).
#[utoipa::path(get, path = "/v1/reports/paid-outs", tag = "reports",
    params(CashPeriodQuery, ("min_sequence" = Option<u64>, Query, description = "Wait until the read model has this stream sequence")),
    responses((status = 200, body = Items<PaidOutsByReason>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["read_reports"])))]
async fn paid_outs_report(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, ReadReportsScope>,
    MinSequence(min): MinSequence,
    ApiQuery(mut query): ApiQuery<CashPeriodQuery>,
) -> Result<Json<Items<PaidOutsByReason>>, ApiError> {
    caller.readable.hold(&mut query.location)?;
    let db = queries::tenant_read_model(&state, &caller.tenant, min).await?;
    Ok(Json(Items {
        items: queries::cash::paid_outs(&db, &query).await?,
    }))
}
