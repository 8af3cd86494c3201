//! Liveness and readiness.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The health routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health)).routes(routes!(ready))
}

/// Liveness and readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// NATS connection state (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nats: Option<&'static str>,
    /// MongoDB reachability (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mongodb: Option<&'static str>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        nats: None,
        mongodb: None,
    })
}

/// Readiness: NATS connected and MongoDB answering a ping.
#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let nats_up = state.store.is_connected();
    let admin = state.databases.main_client().database("admin");
    let ping = admin.run_command(bson::doc! {"ping": 1});
    let mongo_up = matches!(tokio::time::timeout(Duration::from_secs(2), ping).await, Ok(Ok(_)));
    let up = |ok: bool| if ok { "ok" } else { "unavailable" };
    let status = if nats_up && mongo_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            status: up(nats_up && mongo_up),
            nats: Some(up(nats_up)),
            mongodb: Some(up(mongo_up)),
        }),
    )
}
