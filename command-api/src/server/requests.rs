//! The middleware in front of every route: the request cap, the announced length, the
//! body deadline and the query timeout (see the [module doc](super)).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::Limited;
use hyper::body::Body as HttpBody;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::config::HttpLimits;
use crate::error::ApiError;
use crate::server::body::DeadlineBody;

/// The batch route, whose body may be larger (`BATCH_BODY_LIMIT_BYTES`).
pub const BATCH_PATH: &str = "/v1/batches";

/// What [`limit`] enforces; cheap to clone (one semaphore, shared).
#[derive(Debug, Clone)]
pub struct RequestLimits {
    in_flight: Arc<Semaphore>,
    cap: usize,
    body_limit: u64,
    batch_body_limit: u64,
    body_timeout: Duration,
    query_timeout: Duration,
}

impl RequestLimits {
    /// From the configuration and the body limits (`BODY_LIMIT_BYTES`, and
    /// `BATCH_BODY_LIMIT_BYTES` for [`BATCH_PATH`]).
    pub fn new(limits: &HttpLimits, body_limit: usize, batch_body_limit: usize) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(limits.max_concurrent_requests)),
            cap: limits.max_concurrent_requests,
            body_limit: u64::try_from(body_limit).unwrap_or(u64::MAX),
            batch_body_limit: u64::try_from(batch_body_limit).unwrap_or(u64::MAX),
            body_timeout: limits.body_timeout(),
            query_timeout: limits.query_timeout(),
        }
    }
}

/// Refuses a request over the cap (503) or announcing a body over the limit (413), gives
/// its body a deadline and a query its timeout.
pub async fn limit(State(limits): State<RequestLimits>, request: Request, next: Next) -> Response {
    let Ok(_permit) = limits.in_flight.try_acquire() else {
        metrics::counter!("http_requests_refused_total").increment(1);
        return ApiError::Unavailable(anyhow::anyhow!("{} requests in flight: the cap is reached", limits.cap))
            .into_response();
    };
    let body_limit = if request.uri().path() == BATCH_PATH {
        limits.batch_body_limit
    } else {
        limits.body_limit
    };
    if announced_length(&request).is_some_and(|length| length > body_limit) {
        // Before the body is touched: hyper sends `100 Continue` only once it is read.
        return ApiError::PayloadTooLarge.into_response();
    }
    let request = if request.body().is_end_stream() {
        request
    } else {
        let deadline = Instant::now() + limits.body_timeout;
        // A body sent without a length (chunked) is cut at the route's limit; reading past
        // it fails as too large (413), like a body over the router's `DefaultBodyLimit`.
        let most = usize::try_from(body_limit).unwrap_or(usize::MAX);
        request.map(|body| Body::new(Limited::new(DeadlineBody::new(body, deadline), most)))
    };
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        match tokio::time::timeout(limits.query_timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => ApiError::Unavailable(anyhow::anyhow!(
                "the query did not finish within {:?}",
                limits.query_timeout
            ))
            .into_response(),
        }
    } else {
        next.run(request).await
    }
}

/// The body length the client announced, if it did.
fn announced_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok())
}
