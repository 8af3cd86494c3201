//! [`ApiQuery`]: query-string parameters that fail the API's way (422 naming the
//! parameter), and [`MinSequence`]: the read-your-writes token a query may carry.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Name of the read-your-writes parameter (also accepted as header `X-Min-Sequence`).
pub const MIN_SEQUENCE: &str = "min_sequence";

/// Deserialized query parameters (`min_sequence` is left to [`MinSequence`]).
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = form_pairs(query).filter(|(key, _)| key != MIN_SEQUENCE).collect();
        let encoded = serde_urlencoded::to_string(&pairs).map_err(|e| ApiError::invalid("query", e.to_string()))?;
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded(&encoded));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.inner().to_string();
                if let Some(name) = message
                    .strip_prefix("unknown field `")
                    .and_then(|r| r.split('`').next())
                {
                    ApiError::UnknownField { field: name.to_owned() }
                } else if let Some(name) = message
                    .strip_prefix("missing field `")
                    .and_then(|r| r.split('`').next())
                {
                    ApiError::MissingField { field: name.to_owned() }
                } else {
                    ApiError::invalid(if path == "." { "query".to_owned() } else { path }, message)
                }
            })
    }
}

fn form_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded(query).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

fn form_urlencoded(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// The stream sequence a client needs the read model to have reached before it reads
/// (`?min_sequence=` or `X-Min-Sequence:`), as returned by a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinSequence(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for MinSequence {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let from_query = form_pairs(parts.uri.query().unwrap_or_default())
            .find(|(k, _)| k == MIN_SEQUENCE)
            .map(|(_, v)| v);
        let from_header = parts
            .headers
            .get("x-min-sequence")
            .map(|v| v.to_str().unwrap_or("invalid").to_owned());
        match from_query.or(from_header) {
            None => Ok(MinSequence(None)),
            Some(text) => text
                .trim()
                .parse::<u64>()
                .map(|n| MinSequence(Some(n)))
                .map_err(|_| ApiError::invalid(MIN_SEQUENCE, "must be a stream sequence (a whole number)")),
        }
    }
}
