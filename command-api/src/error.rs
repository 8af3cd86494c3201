//! `ApiError`: every way a request can fail, mapped to HTTP in this one place.
//!
//! Bodies have one shape, with a stable machine-readable `code` and, where one field is at
//! fault, its path:
//!
//! ```json
//! {"error": {"code": "invalid_field", "message": "must be > 0", "field": "lines[2].quantity"}}
//! ```
//!
//! 5xx bodies are opaque; their cause is logged once, with its chain.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use events::Role;
use serde_json::json;

/// Seconds a client is told to wait before retrying after a 503.
pub const RETRY_AFTER_SECS: u64 = 2;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 Bad Request: the body is not well-formed JSON.
    #[error("the body is not valid JSON: {message}")]
    MalformedJson {
        /// What the parser found.
        message: String,
    },
    /// 400 Bad Request: a header is present but invalid.
    #[error("header {header}: {message}")]
    InvalidHeader {
        /// The header's name.
        header: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// 413 Payload Too Large: the body exceeds the configured limit (`BODY_LIMIT_BYTES`).
    #[error("the body exceeds the size limit")]
    PayloadTooLarge,
    /// 415 Unsupported Media Type: the body is not `application/json`.
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// 422 Unprocessable Entity: a required field is missing.
    #[error("{field}: missing")]
    MissingField {
        /// Path of the missing field, e.g. `lines[0].sku`.
        field: String,
    },
    /// 422 Unprocessable Entity: a field is not part of the command.
    #[error("{field}: unknown field")]
    UnknownField {
        /// Path of the unexpected field.
        field: String,
    },
    /// 422 Unprocessable Entity: a field has the wrong type or an unacceptable value.
    #[error("{field}: {message}")]
    InvalidField {
        /// Path of the field, e.g. `lines[2].quantity`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// 401 Unauthorized: no token, or a token that does not verify. The reason is logged,
    /// not returned, so an attacker learns nothing about which check failed.
    #[error("unauthorized: {reason}")]
    Unauthorized {
        /// Which check failed (for the log).
        reason: String,
    },
    /// 403 Forbidden: the user's role is too low for the command.
    #[error("requires role {required} or higher")]
    Forbidden {
        /// The least role that may run the command.
        required: Role,
    },
    /// 403 Forbidden: the request names a tenant other than the token's.
    #[error("the request names a tenant other than the token's")]
    TenantMismatch,
    /// 404 Not Found: the command addresses something that does not exist.
    #[error("{resource} {id} does not exist")]
    NotFound {
        /// What kind of thing (`sale`, `product`).
        resource: &'static str,
        /// Its id.
        id: String,
    },
    /// 409 Conflict: the idempotency key was already used for a different command.
    #[error("this idempotency key was already used for a different command")]
    IdempotencyKeyReused,
    /// 409 Conflict: `If-Match` names a version that is no longer current.
    #[error("version {expected} is not current; the current version is {current}")]
    VersionConflict {
        /// The version the client sent.
        expected: u64,
        /// The current version (also sent as ETag).
        current: u64,
    },
    /// 409 Conflict: the command contradicts the aggregate's state (already exists, already
    /// voided, discontinued, ...).
    #[error("{message}")]
    StateConflict {
        /// Stable code, e.g. `sale_already_voided`.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// 428 Precondition Required: an update without `If-Match`.
    #[error("this command requires an If-Match header with the current version")]
    PreconditionRequired,
    /// 503 Service Unavailable: the event store (or MongoDB, or the mail server) is
    /// unreachable, did not answer in time or is out of capacity (JetStream storage full).
    /// Nothing was acknowledged; retrying with the same idempotency key is safe.
    #[error("a backing service is unavailable: {0}")]
    Unavailable(String),
    /// 503 Service Unavailable: the read model has not reached the `min_sequence` the
    /// query asked for within the wait bound; retry shortly.
    #[error("the read model is at sequence {current}; sequence {wanted} is not projected yet")]
    ProjectionBehind {
        /// The sequence asked for.
        wanted: u64,
        /// Where the tenant's projection is.
        current: u64,
    },
    /// 500 Internal Server Error: a bug or an unexpected server answer.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 422 for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson { .. } | ApiError::InvalidHeader { .. } => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MissingField { .. } | ApiError::UnknownField { .. } | ApiError::InvalidField { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } | ApiError::TenantMismatch => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::IdempotencyKeyReused | ApiError::VersionConflict { .. } | ApiError::StateConflict { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::Unavailable(_) | ApiError::ProjectionBehind { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson { .. } => "malformed_json",
            ApiError::InvalidHeader { .. } => "invalid_header",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::MissingField { .. } => "missing_field",
            ApiError::UnknownField { .. } => "unknown_field",
            ApiError::InvalidField { .. } => "invalid_field",
            ApiError::Unauthorized { .. } => "unauthorized",
            ApiError::Forbidden { .. } => "forbidden",
            ApiError::TenantMismatch => "tenant_mismatch",
            ApiError::NotFound { .. } => "not_found",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::VersionConflict { .. } => "version_conflict",
            ApiError::StateConflict { code, .. } => code,
            ApiError::PreconditionRequired => "precondition_required",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::ProjectionBehind { .. } => "projection_behind",
            ApiError::Internal(_) => "internal",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::MissingField { field }
            | ApiError::UnknownField { field }
            | ApiError::InvalidField { field, .. } => Some(field),
            ApiError::InvalidHeader { header, .. } => Some(header),
            _ => None,
        }
    }

    fn public_message(&self) -> String {
        match self {
            ApiError::Unauthorized { .. } => "missing, malformed, expired or unverifiable bearer token".to_owned(),
            ApiError::Unavailable(_) => "a server this request needs is unreachable, slow or out of capacity; \
                nothing was recorded, retry later with the same idempotency key"
                .to_owned(),
            ApiError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "backing service unavailable"),
            ApiError::Unauthorized { reason } => {
                tracing::info!(%reason, "request not authenticated")
            }
            _ => tracing::debug!(code = self.code(), error = %self, "request refused"),
        }
        let mut error = json!({"code": self.code(), "message": self.public_message()});
        if let Some(field) = self.field() {
            error["field"] = json!(field);
        }
        if let ApiError::VersionConflict { current, .. } = &self {
            error["current_version"] = json!(current);
        }
        if let ApiError::ProjectionBehind { current, wanted } = &self {
            error["current_sequence"] = json!(current);
            error["min_sequence"] = json!(wanted);
        }
        if let ApiError::Forbidden { required } = &self {
            error["required_role"] = json!(required);
        }
        let mut response = (status, Json(json!({"error": error}))).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized { .. } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="tillstream", error="invalid_token""#),
                );
            }
            ApiError::Unavailable(_) | ApiError::ProjectionBehind { .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            }
            ApiError::VersionConflict { current, .. } => {
                if let Ok(etag) = HeaderValue::from_str(&format!("\"{current}\"")) {
                    headers.insert(header::ETAG, etag);
                }
            }
            _ => {}
        }
        response
    }
}
