//! The answer to a recorded command.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::execute::Outcome;

/// Header set on the original answer returned for a retried command.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// A command was recorded (or had been, for a retry).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Accepted {
    /// Ids of the events appended (one per command today).
    pub event_ids: Vec<Uuid>,
    /// Stream sequence of the (last) event: pass it as `min_sequence` to a query to read
    /// your own write.
    pub stream_sequence: u64,
    /// Kind of aggregate the command addressed (`sale`, `movement`, `product`).
    pub aggregate_kind: String,
    /// Its id.
    pub aggregate_id: String,
    /// New version of the aggregate (for products: the value of `ETag`).
    pub version: u64,
    /// True when this is the original answer to an earlier identical command.
    pub replayed: bool,
}

impl From<Outcome> for Accepted {
    fn from(outcome: Outcome) -> Self {
        Accepted {
            event_ids: vec![outcome.event_id],
            stream_sequence: outcome.sequence,
            aggregate_kind: outcome.aggregate.kind.to_string(),
            aggregate_id: outcome.aggregate.id,
            version: outcome.sequence,
            replayed: outcome.replayed,
        }
    }
}

impl Accepted {
    /// The response for `outcome`: 201 with the body, `Idempotent-Replayed: true` for
    /// retries and, when `etag` is set, the aggregate's version as ETag.
    pub fn response(outcome: Outcome, etag: bool) -> Response {
        let replayed = outcome.replayed;
        let sequence = outcome.sequence;
        let body = Accepted::from(outcome);
        let mut response = (StatusCode::CREATED, Json(body)).into_response();
        if replayed {
            response
                .headers_mut()
                .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
        }
        if etag && let Ok(value) = HeaderValue::from_str(&format!("\"{sequence}\"")) {
            response.headers_mut().insert(header::ETAG, value);
        }
        response
    }
}
