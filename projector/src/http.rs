//! The admin HTTP server: health, readiness, Prometheus metrics, connection and lag
//! statistics, the tenant list, replays and moves in progress, parked events and their
//! re-drive.
//!
//! `/health` and `/ready` are open (probes); everything else names tenants, their lag and
//! their parked events, and answers only the bearer of `ADMIN_TOKEN` (401 otherwise, and
//! for everyone when no token is configured). Keep the port private all the same
//! (default 127.0.0.1).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bson::doc;
use events::TenantId;
use eventstore::EventStore;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::{Value, json};
use telemetry::OpsToken;

use crate::model::docs::collections::Target;
use crate::parked;
use crate::redrive::{self, RedriveError};
use crate::store::TenantDatabases;
use crate::tenants;

/// What the admin handlers reach.
#[derive(Clone)]
pub struct AdminState {
    /// The event store.
    pub store: EventStore,
    /// Tenant databases.
    pub databases: Arc<TenantDatabases>,
    /// Metrics renderer.
    pub metrics: PrometheusHandle,
    /// Consumer name prefix.
    pub consumer_prefix: String,
    /// Cross-tenant writes made so far.
    pub cross_tenant: Arc<crate::partition::CrossTenantWrites>,
    /// The credential of every route but `/health` and `/ready`.
    pub token: OpsToken,
}

/// The admin routes.
pub fn router(state: AdminState) -> Router {
    let protected = Router::new()
        .route(
            "/metrics",
            get(|State(state): State<AdminState>| async move { state.metrics.render() }),
        )
        .route("/stats", get(stats))
        .route("/v1/tenants", get(tenants))
        .route("/v1/jobs", get(jobs))
        .route("/v1/tenants/{tenant}/lag", get(lag))
        .route("/v1/tenants/{tenant}/parked", get(parked_events))
        .route("/v1/tenants/{tenant}/parked/{sequence}/redrive", post(redrive))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/ready", get(ready))
        .merge(protected)
        .with_state(state)
}

/// 401 unless the request carries `Authorization: Bearer <ADMIN_TOKEN>`.
async fn require_token(State(state): State<AdminState>, request: Request, next: Next) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.as_bytes());
    if state.token.permits(authorization) {
        return next.run(request).await;
    }
    let message = if state.token.is_configured() {
        "missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>)"
    } else {
        "no ADMIN_TOKEN is configured: the admin endpoints are closed"
    };
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {"code": "unauthorized", "message": message}})),
    )
        .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer realm="tillstream-projector""#),
    );
    response
}

fn bad_tenant(err: impl std::fmt::Display) -> (StatusCode, Json<Value>) {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"code": "invalid_field", "field": "tenant", "message": err.to_string()}})),
    )
}

fn unavailable(err: impl std::fmt::Display) -> (StatusCode, Json<Value>) {
    tracing::warn!(error = %err, "admin request failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"error": {"code": "unavailable", "message": "a backing server did not answer"}})),
    )
}

async fn ready(State(state): State<AdminState>) -> (StatusCode, Json<Value>) {
    let nats = state.store.is_connected();
    let admin = state.databases.main_client().database("admin");
    let mongo = matches!(
        tokio::time::timeout(Duration::from_secs(2), admin.run_command(doc! {"ping": 1})).await,
        Ok(Ok(_))
    );
    let status = if nats && mongo {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"status": if nats && mongo {"ok"} else {"unavailable"}, "nats": nats, "mongodb": mongo})),
    )
}

async fn stats(State(state): State<AdminState>) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let mut partitions = Vec::new();
    for partition in 0..state.store.scheme().partitions() {
        let name = crate::partition::consumer_name_with(&state.consumer_prefix, partition);
        match state.store.reader_position(&name).await {
            Ok(position) => partitions.push(json!({
                "partition": partition,
                "consumer": name,
                "pending": position.pending,
                "ack_pending": position.ack_pending,
                "ack_floor": position.ack_floor,
                "delivered": position.delivered,
            })),
            Err(err) => partitions.push(
                json!({"partition": partition, "consumer": name, "error": format!("{:#}", anyhow::Error::new(err))}),
            ),
        }
    }
    Ok(Json(
        json!({"mongodb": state.databases.stats(), "partitions": partitions, "cross_tenant_writes": state.cross_tenant.stats()}),
    ))
}

async fn lag(
    State(state): State<AdminState>,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let tenant = TenantId::parse(tenant).map_err(bad_tenant)?;
    let head = state
        .store
        .tenant_head(&tenant)
        .await
        .map_err(|e| unavailable(format!("{:#}", anyhow::Error::new(e))))?
        .unwrap_or(0);
    let db = state.databases.database(&tenant).await.map_err(unavailable)?;
    let checkpoint = tenantdb::checkpoint::sequence(&db, &Target::live())
        .await
        .map_err(unavailable)?;
    Ok(Json(
        json!({"tenant": tenant, "stream_head": head, "checkpoint": checkpoint, "lag": head.saturating_sub(checkpoint)}),
    ))
}

async fn parked_events(
    State(state): State<AdminState>,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let tenant = TenantId::parse(tenant).map_err(bad_tenant)?;
    let db = state.databases.database(&tenant).await.map_err(unavailable)?;
    let events = parked::list(&db, 1000).await.map_err(unavailable)?;
    Ok(Json(json!({"tenant": tenant, "parked": events})))
}

/// How long a re-drive request waits for the live projector to reach its marker.
const REDRIVE_WAIT: Duration = Duration::from_secs(10);

/// `POST /v1/tenants/{tenant}/parked/{sequence}/redrive`: re-drives one parked event in
/// the tenant's stream order ([`crate::redrive`]). 200 with the outcome (`applied`,
/// `parked` with the new error, `not_parked`; `earlier: true` when an earlier re-drive had
/// applied it), 202 `pending` when the projector has not reached the marker within 10 s
/// (the outcome is recorded when it does), 404 when the tenant has no such parked event,
/// 409 for a parked control marker.
async fn redrive(
    State(state): State<AdminState>,
    Path((tenant, sequence)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), (StatusCode, Json<Value>)> {
    let tenant = TenantId::parse(tenant).map_err(bad_tenant)?;
    let sequence: u64 = sequence.parse().map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": "invalid_field", "field": "sequence", "message": "a stream sequence (a positive integer)"}})),
        )
    })?;
    match redrive::request(&state.store, &state.databases, &tenant, sequence, REDRIVE_WAIT).await {
        Ok(requested) => Ok(match requested.record {
            Some(record) => (
                StatusCode::OK,
                Json(json!({
                    "tenant": tenant,
                    "sequence": sequence,
                    "job_id": requested.job_id,
                    "outcome": record.outcome,
                    "error": record.error,
                    "marker_sequence": record.marker_sequence,
                    "earlier": requested.earlier,
                })),
            ),
            None => (
                StatusCode::ACCEPTED,
                Json(json!({
                    "tenant": tenant,
                    "sequence": sequence,
                    "job_id": requested.job_id,
                    "outcome": "pending",
                    "message": "the projector has not reached the re-drive yet; it is applied in the tenant's order",
                })),
            ),
        }),
        Err(err @ RedriveError::NotParked(_)) => Err((
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": "not_found", "message": err.to_string()}})),
        )),
        Err(err @ RedriveError::Marker(_)) => Err((
            StatusCode::CONFLICT,
            Json(json!({"error": {"code": "not_an_event", "message": err.to_string()}})),
        )),
        Err(err) => Err(unavailable(format!("{:#}", anyhow::Error::new(err)))),
    }
}

/// The query of `GET /v1/tenants`.
#[derive(Debug, serde::Deserialize)]
struct TenantsQuery {
    /// The last tenant id of the previous page.
    after: Option<String>,
    /// Rows per page (1 to 200, default 50).
    limit: Option<usize>,
}

/// `GET /v1/tenants?after=&limit=`: the tenants with their placement, stream head,
/// checkpoint, lag, parked count and a replay in progress ([`crate::tenants`]).
async fn tenants(
    State(state): State<AdminState>,
    Query(query): Query<TenantsQuery>,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let page = tenants::list(
        &state.store,
        &state.databases,
        query.after.as_deref(),
        query.limit.unwrap_or(50),
    )
    .await
    .map_err(|e| unavailable(format!("{:#}", anyhow::Error::new(e))))?;
    Ok(Json(json!(page)))
}

/// `GET /v1/jobs`: the replays and moves in progress, with how far each got
/// ([`crate::replay::running`]).
async fn jobs(State(state): State<AdminState>) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let jobs = crate::replay::running::list(&state.store, &state.databases)
        .await
        .map_err(|e| unavailable(format!("{:#}", anyhow::Error::new(e))))?;
    Ok(Json(json!({"jobs": jobs})))
}
