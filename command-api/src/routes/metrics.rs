//! Prometheus metrics: `/metrics`, and the middleware that counts requests by route and
//! status with a latency histogram.
//!
//! `/metrics` answers only the bearer of `METRICS_TOKEN` (401 for anyone else, and for
//! everyone when no token is configured). No metric has a tenant label: the public port
//! would otherwise list every tenant with its counts, and one series per tenant does not
//! scale to thousands of them.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use telemetry::OpsToken;

use crate::error::ApiError;
use crate::state::AppState;

/// `GET /metrics` in Prometheus text format, for the bearer of `token`.
pub fn route(token: OpsToken) -> MethodRouter<AppState> {
    get(move |State(state): State<AppState>, headers: HeaderMap| {
        let permitted = token.permits(headers.get(header::AUTHORIZATION).map(|value| value.as_bytes()));
        let configured = token.is_configured();
        async move {
            if !permitted {
                let reason = if configured {
                    "missing or wrong metrics token"
                } else {
                    "no METRICS_TOKEN is configured: /metrics is closed"
                };
                return Err(ApiError::Unauthorized {
                    reason: reason.to_owned(),
                });
            }
            Ok(state.metrics.render())
        }
    })
}

/// Records `http_requests_total` and `http_request_duration_seconds` by route and status.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}
