//! The request span and its place in a trace: the client's W3C `traceparent` (or a new
//! trace when it sent none or a malformed one, which is never refused) becomes the parent
//! of the request span, whose `trace_id` field every log line of the request carries, and
//! whose own position is [`telemetry::trace::current`] for the commands that append
//! events (they write it into the events' `traceparent` header). See `telemetry::trace`.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use telemetry::trace::{TRACEPARENT, TraceContext};
use tracing::Instrument;

/// Opens the request span under the client's trace and serves the request inside it.
pub async fn propagate(request: Request, next: Next) -> Response {
    let parent = request
        .headers()
        .get(TRACEPARENT)
        .and_then(|value| value.to_str().ok())
        .and_then(TraceContext::parse);
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        uri = %request.uri().path(),
        tenant = tracing::field::Empty,
        trace_id = tracing::field::Empty,
    );
    let own = telemetry::trace::link(&span, parent.as_ref());
    telemetry::trace::scope(own, next.run(request)).instrument(span).await
}
