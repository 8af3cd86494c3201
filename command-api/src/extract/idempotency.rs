//! The optional `Idempotency-Key` header.
//!
//! Terminals send one per command so a retry (minutes or weeks later) gets the original
//! answer. Commands that carry their own client-generated id (sale id, movement id, refund
//! id) may omit it; the id then serves as the key.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;

/// Header name.
pub const HEADER: &str = "idempotency-key";
/// Longest accepted key.
pub const MAX_LEN: usize = 255;

/// The client's idempotency key, if it sent one: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(HEADER) else {
            return Ok(IdempotencyKey(None));
        };
        let invalid = |message: &str| ApiError::InvalidHeader {
            header: "Idempotency-Key",
            message: message.to_owned(),
        };
        let text = value.to_str().map_err(|_| invalid("must be visible ASCII"))?;
        if text.is_empty() || text.len() > MAX_LEN {
            return Err(invalid("must be 1 to 255 characters"));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("must be visible ASCII without spaces"));
        }
        Ok(IdempotencyKey(Some(text.to_owned())))
    }
}
