//! The `If-Match` header of catalog updates: the product version (stream sequence of its
//! last event) the client saw, as returned in the `ETag`.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::error::ApiError;

/// The version the client expects to replace; absent → 428.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub u64);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::IF_MATCH)
            .ok_or(ApiError::PreconditionRequired)?;
        let invalid = || ApiError::InvalidHeader {
            header: "If-Match",
            message: "must be one version as returned in the ETag, e.g. \"42\"".to_owned(),
        };
        let text = value.to_str().map_err(|_| invalid())?.trim();
        let text = text.strip_prefix("W/").unwrap_or(text);
        let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
        let version = text.parse::<u64>().map_err(|_| invalid())?;
        if version == 0 {
            return Err(invalid());
        }
        Ok(IfMatch(version))
    }
}
