//! The integrators' event feed of the token's tenant (manager and up): a long-poll JSON
//! page after a cursor, and the same events as Server-Sent Events. How a page is read is in [`crate::feed`]; the shape of an event
//! in [`events::feed`].

use std::collections::BTreeSet;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use events::EventType;
use futures::StreamExt;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{FeedScope, Manager, Readable, UserOrKey};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::feed::{self, FeedPage, FeedRequest};
use crate::identity::ApiScope;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// Most events in one page.
pub const MAX_LIMIT: u64 = 1000;
/// Events in a page when `limit` is not given.
pub const DEFAULT_LIMIT: u64 = 100;
/// Longest wait a client may ask for, in milliseconds (the server may wait less:
/// `FEED_MAX_WAIT_MS`, and never past the query timeout).
pub const MAX_WAIT_MS: u64 = 25_000;

/// The feed routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_feed))
        .routes(routes!(get_feed_stream))
}

/// Parameters of `GET /v1/feed`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// Events after this stream sequence: the previous page's `next_after` (default 0,
    /// from the tenant's first event).
    #[param(minimum = 0)]
    pub after: Option<u64>,
    /// Comma-separated event types, e.g. `SaleCompleted,SaleRefunded` (default: every
    /// type).
    pub types: Option<String>,
    /// Most events in the page (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u64>,
    /// When nothing is newer than `after`, how long to wait for a new event before
    /// answering an empty page, in milliseconds (0 to 25000, default 0: answer at once).
    #[param(minimum = 0, maximum = 25000)]
    pub wait_ms: Option<u64>,
}

impl FeedQuery {
    /// The validated request; the wait bounded by `max_wait`.
    fn request(self, max_wait: Duration) -> Result<FeedRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid("limit", format!("must be 1 to {MAX_LIMIT}")));
        }
        let wait_ms = self.wait_ms.unwrap_or(0);
        if wait_ms > MAX_WAIT_MS {
            return Err(ApiError::invalid("wait_ms", format!("must be 0 to {MAX_WAIT_MS}")));
        }
        Ok(FeedRequest {
            after: self.after.unwrap_or(0),
            types: self.types.as_deref().map(event_types).transpose()?,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            wait: Duration::from_millis(wait_ms).min(max_wait),
            personal_data: false,
            readable: Readable::Everywhere,
        })
    }
}

/// Parses a comma-separated list of event type names.
fn event_types(list: &str) -> Result<BTreeSet<EventType>, ApiError> {
    let names: Vec<&str> = list.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
    if names.is_empty() {
        return Err(ApiError::invalid(
            "types",
            "name at least one event type, e.g. SaleCompleted",
        ));
    }
    names
        .into_iter()
        .map(|name| {
            EventType::from_name(name).ok_or_else(|| ApiError::invalid("types", format!("unknown event type {name:?}")))
        })
        .collect()
}

/// The tenant's events after a cursor, oldest first, in the public feed shape (manager
/// and up; the token's tenant only). A caller limited to locations gets the events that
/// act on the whole chain or at its locations; the others are passed over and
/// `next_after` moves past them. With `wait_ms`, waits for a new event when nothing is
/// newer and answers an empty page if none comes. Continue with `after=next_after`.
#[utoipa::path(get, path = "/v1/feed", tag = "feed",
    params(FeedQuery),
    responses((status = 200, body = FeedPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["feed"])))]
async fn get_feed(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, FeedScope>,
    ApiQuery(query): ApiQuery<FeedQuery>,
) -> Result<Json<FeedPage>, ApiError> {
    let mut request = query.request(state.feed_max_wait)?;
    request.personal_data = caller.key_allows(ApiScope::FeedPersonalData);
    request.readable = caller.readable.clone();
    Ok(Json(feed::page(&state.store, &caller.tenant, &request).await?))
}

/// Parameters of `GET /v1/feed/stream`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedStreamQuery {
    /// Events after this stream sequence (default 0); a `Last-Event-ID` header, which an
    /// `EventSource` sends when it reconnects, takes precedence.
    #[param(minimum = 0)]
    pub after: Option<u64>,
    /// Comma-separated event types, e.g. `SaleCompleted,SaleRefunded` (default: every
    /// type).
    pub types: Option<String>,
}

/// One Server-Sent Event of `GET /v1/feed/stream`, as its fields are named on the wire
/// (the OpenAPI schema of each event of the stream; the server writes them as `id:`,
/// `event:` and `data:` lines).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct FeedStreamEvent {
    /// The event's stream sequence, in decimal: what `Last-Event-ID` sends back.
    pub id: String,
    /// The event type, e.g. `SaleCompleted`.
    pub event: String,
    /// The event in the public feed shape (a `FeedEvent`), as one line of JSON.
    pub data: String,
}

/// Name of the header a reconnecting SSE client sends with the last `id` it received.
const LAST_EVENT_ID: &str = "Last-Event-ID";

/// The resume point: `Last-Event-ID` if present, else `after`, else 0.
fn resume_after(headers: &HeaderMap, after: Option<u64>) -> Result<u64, ApiError> {
    match headers.get(LAST_EVENT_ID) {
        None => Ok(after.unwrap_or(0)),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .ok_or_else(|| ApiError::invalid(LAST_EVENT_ID, "must be a stream sequence (a whole number)")),
    }
}

/// The tenant's events after a cursor, then each new one as it is stored, as Server-Sent
/// Events (manager and up; the token's tenant only; a caller limited to locations gets
/// the events that act on the whole chain or at its locations): `id:` is the stream sequence,
/// `event:` the type, `data:` the event in the public feed shape (`FeedEvent`). A comment
/// line keeps an idle connection alive every 15 s. The server closes the stream after
/// `FEED_STREAM_MAX_MS` (default 5 minutes); an `EventSource` reconnects by itself with
/// `Last-Event-ID` and misses nothing.
#[utoipa::path(get, path = "/v1/feed/stream", tag = "feed",
    params(FeedStreamQuery, ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this stream sequence (takes precedence over `after`)")),
    responses((status = 200, content_type = "text/event-stream", body = FeedStreamEvent, description = "Server-Sent Events, each a `FeedStreamEvent` whose `data` is a `FeedEvent`"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["feed"])))]
async fn get_feed_stream(
    State(state): State<AppState>,
    caller: UserOrKey<Manager, FeedScope>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<FeedStreamQuery>,
) -> Result<Sse<impl futures::Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError> {
    let after = resume_after(&headers, query.after)?;
    let types = query.types.as_deref().map(event_types).transpose()?;
    let personal_data = caller.key_allows(ApiScope::FeedPersonalData);
    let readable = caller.readable.clone();
    let events = feed::live(
        state.store.clone(),
        caller.tenant,
        after,
        types,
        personal_data,
        readable,
    )
    .await?;
    let until = tokio::time::sleep(state.feed_stream_max);
    let stream = events.take_until(until).filter_map(|event| async move {
        match Event::default()
            .id(event.sequence.to_string())
            .event(event.event_type.clone())
            .json_data(&event)
        {
            Ok(sse) => Some(Ok(sse)),
            Err(err) => {
                tracing::warn!(sequence = event.sequence, error = %err, "feed stream: an event that cannot be sent passed over");
                None
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: Option<u64>, wait_ms: Option<u64>, types: Option<&str>) -> FeedQuery {
        FeedQuery {
            after: None,
            types: types.map(str::to_owned),
            limit,
            wait_ms,
        }
    }

    fn field(result: Result<FeedRequest, ApiError>) -> String {
        match result {
            Err(ApiError::InvalidField { field, .. }) => field,
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_from_the_start_every_type_a_hundred_events_and_no_wait() {
        let request = query(None, None, None).request(Duration::from_secs(9)).expect("valid");
        assert_eq!(request.after, 0);
        assert!(request.types.is_none());
        assert_eq!(request.limit, 100);
        assert_eq!(request.wait, Duration::ZERO);
    }

    #[test]
    fn out_of_range_limits_and_waits_name_their_parameter() {
        let max = Duration::from_secs(9);
        assert_eq!(field(query(Some(0), None, None).request(max)), "limit");
        assert_eq!(field(query(Some(1001), None, None).request(max)), "limit");
        assert_eq!(field(query(None, Some(25_001), None).request(max)), "wait_ms");
        assert_eq!(field(query(None, None, Some("SaleDone")).request(max)), "types");
        assert_eq!(field(query(None, None, Some(" , ")).request(max)), "types");
    }

    #[test]
    fn last_event_id_takes_precedence_and_must_be_a_sequence() {
        let mut headers = HeaderMap::new();
        assert_eq!(resume_after(&headers, Some(5)).expect("valid"), 5);
        headers.insert(LAST_EVENT_ID, "42".parse().expect("valid header"));
        assert_eq!(resume_after(&headers, Some(5)).expect("valid"), 42);
        headers.insert(LAST_EVENT_ID, "x".parse().expect("valid header"));
        match resume_after(&headers, None) {
            Err(ApiError::InvalidField { field, .. }) => assert_eq!(field, "Last-Event-ID"),
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn the_wait_is_bounded_by_the_server_and_types_are_parsed() {
        let request = query(Some(1000), Some(25_000), Some("SaleCompleted, SaleRefunded,"))
            .request(Duration::from_millis(200))
            .expect("valid");
        assert_eq!(request.wait, Duration::from_millis(200));
        assert_eq!(
            request.types,
            Some(BTreeSet::from([EventType::SaleCompleted, EventType::SaleRefunded]))
        );
    }
}
