//! `ApiError`: every way a request can fail, mapped to HTTP in this one place.
//!
//! Bodies have one shape, with a stable machine-readable `code` and, where one field is at
//! fault, its path:
//!
//! ```json
//! {"error": {"code": "invalid_field", "message": "must be > 0", "field": "lines[2].quantity"}}
//! ```
//!
//! The codes, with their statuses, are listed once in [`crate::codes`]; the body is
//! serialised from [`ErrorBody`], the same type the OpenAPI document shows.
//!
//! 5xx bodies are opaque; their cause is logged once, with its chain.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use events::Role;
use serde::Serialize;
use utoipa::ToSchema;

use crate::codes::ErrorCode;

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
    /// 422 Unprocessable Entity: the command names something of the tenant that it cannot
    /// be applied to (an unknown or closed location), with its own code.
    #[error("{field}: {message}")]
    Unusable {
        /// Stable code, e.g. [`ErrorCode::UnknownLocation`].
        code: ErrorCode,
        /// Path of the field that names it.
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
    /// 401 Unauthorized: login with a wrong email or password. Which of the two is not
    /// said; the reason is logged.
    #[error("the email or the password is wrong")]
    InvalidCredentials {
        /// What failed (for the log).
        reason: &'static str,
    },
    /// 401 Unauthorized: a refresh token that is unknown, expired, revoked or used. The
    /// reason is logged.
    #[error("the refresh token is not valid; log in again")]
    InvalidRefreshToken {
        /// What failed (for the log).
        reason: &'static str,
    },
    /// 403 Forbidden: the user's role is too low for the command.
    #[error("requires role {required} or higher")]
    Forbidden {
        /// The least role that may run the command.
        required: Role,
    },
    /// 403 Forbidden: the API key lacks the scope the route needs.
    #[error("requires an API key with scope {required}")]
    MissingScope {
        /// The scope the route needs.
        required: crate::identity::ApiScope,
    },
    /// 403 Forbidden: an API key sent a command that a user must send (it records who
    /// acted in a way only a user can be, e.g. the cashier of a drawer session).
    #[error("{action} needs a user's token; an API key cannot do it")]
    UserRequired {
        /// What the command would do.
        action: &'static str,
    },
    /// 403 Forbidden: the caller is limited to some locations and the command acts, or the
    /// read looks, at another one (`Some`), or on the whole chain (`None`).
    #[error("{}", match location {
        Some(location) => format!("the caller is limited to its locations, not {location}"),
        None => "the caller is limited to its locations; this reaches the whole chain".to_owned(),
    })]
    LocationForbidden {
        /// The location it may not act at; `None`: a chain-wide change.
        location: Option<String>,
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
    /// 408 Request Timeout: the body did not arrive within `BODY_TIMEOUT_MS` (a client
    /// too slow, or one holding the connection on purpose). The connection is closed.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
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
        /// Stable code, e.g. [`ErrorCode::SaleAlreadyVoided`].
        code: ErrorCode,
        /// Human-readable explanation.
        message: String,
    },
    /// 428 Precondition Required: an update without `If-Match`.
    #[error("this command requires an If-Match header with the current version")]
    PreconditionRequired,
    /// 429 Too Many Requests: a rate limit was reached; `Retry-After` says when to try again.
    #[error("too many attempts; wait and try again")]
    TooManyAttempts {
        /// Seconds until the next attempt may succeed.
        retry_after_secs: u64,
    },
    /// 503 Service Unavailable: the event store (or MongoDB, or the mail server) is
    /// unreachable, did not answer in time or is out of capacity (JetStream storage full),
    /// or the API itself is at its request cap or past its query timeout. Nothing was
    /// acknowledged; retrying with the same idempotency key is safe.
    #[error("a backing service is unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    /// 503 Service Unavailable: the read model has not reached the `min_sequence` the
    /// query asked for within the wait bound; retry shortly.
    #[error("the read model is at sequence {current}; sequence {wanted} is not projected yet")]
    ProjectionBehind {
        /// The sequence asked for.
        wanted: u64,
        /// Where the tenant's projection is.
        current: u64,
    },
    /// 503 Service Unavailable: every password-hashing slot and its short queue are taken
    /// (`PASSWORD_HASH_WORKERS`, `PASSWORD_HASH_QUEUE`); nothing was done, retry after
    /// `Retry-After`.
    #[error("too many password checks in progress; retry shortly")]
    Overloaded,
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

    /// This error with its field placed under `parent` (`quantity` → `lines[2].quantity`):
    /// lets a check run with a static field name and pay for the full path only when it
    /// refuses.
    pub fn under(self, parent: impl FnOnce() -> String) -> Self {
        match self {
            ApiError::InvalidField { field, message } => ApiError::InvalidField {
                field: format!("{}.{field}", parent()),
                message,
            },
            other => other,
        }
    }

    /// A 429 telling the client to wait `wait` (rounded up to whole seconds, at least 1).
    pub fn too_many(wait: std::time::Duration) -> Self {
        ApiError::TooManyAttempts {
            retry_after_secs: wait.as_millis().div_ceil(1000).max(1).try_into().unwrap_or(u64::MAX),
        }
    }

    /// The HTTP status (the catalogue's, for this error's code).
    pub fn status(&self) -> StatusCode {
        self.code().status()
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::MalformedJson { .. } => ErrorCode::MalformedJson,
            ApiError::InvalidHeader { .. } => ErrorCode::InvalidHeader,
            ApiError::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            ApiError::MissingField { .. } => ErrorCode::MissingField,
            ApiError::UnknownField { .. } => ErrorCode::UnknownField,
            ApiError::InvalidField { .. } => ErrorCode::InvalidField,
            ApiError::Unusable { code, .. } => *code,
            ApiError::Unauthorized { .. } => ErrorCode::Unauthorized,
            ApiError::InvalidCredentials { .. } => ErrorCode::InvalidCredentials,
            ApiError::InvalidRefreshToken { .. } => ErrorCode::InvalidRefreshToken,
            ApiError::Forbidden { .. } => ErrorCode::Forbidden,
            ApiError::MissingScope { .. } => ErrorCode::MissingScope,
            ApiError::UserRequired { .. } => ErrorCode::UserRequired,
            ApiError::LocationForbidden { .. } => ErrorCode::LocationForbidden,
            ApiError::TenantMismatch => ErrorCode::TenantMismatch,
            ApiError::NotFound { .. } => ErrorCode::NotFound,
            ApiError::RequestTimeout => ErrorCode::RequestTimeout,
            ApiError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            ApiError::VersionConflict { .. } => ErrorCode::VersionConflict,
            ApiError::StateConflict { code, .. } => *code,
            ApiError::PreconditionRequired => ErrorCode::PreconditionRequired,
            ApiError::TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            ApiError::Unavailable(_) => ErrorCode::Unavailable,
            ApiError::ProjectionBehind { .. } => ErrorCode::ProjectionBehind,
            ApiError::Overloaded => ErrorCode::Overloaded,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The field (or header) the error names, if it names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::MissingField { field }
            | ApiError::UnknownField { field }
            | ApiError::InvalidField { field, .. }
            | ApiError::Unusable { field, .. } => Some(field),
            ApiError::InvalidHeader { header, .. } => Some(header),
            _ => None,
        }
    }

    /// The body this error is answered with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.public_message(),
                field: self.field().map(str::to_owned),
                current_version: match self {
                    ApiError::VersionConflict { current, .. } => Some(*current),
                    _ => None,
                },
                current_sequence: match self {
                    ApiError::ProjectionBehind { current, .. } => Some(*current),
                    _ => None,
                },
                min_sequence: match self {
                    ApiError::ProjectionBehind { wanted, .. } => Some(*wanted),
                    _ => None,
                },
                required_role: match self {
                    ApiError::Forbidden { required } => Some(*required),
                    _ => None,
                },
                required_scope: match self {
                    ApiError::MissingScope { required } => Some(*required),
                    _ => None,
                },
            },
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
            ApiError::Unavailable(cause) => {
                tracing::warn!(cause = %format_args!("{cause:#}"), "backing service unavailable")
            }
            ApiError::Unauthorized { reason } => {
                tracing::info!(%reason, "request not authenticated")
            }
            ApiError::InvalidCredentials { reason } | ApiError::InvalidRefreshToken { reason } => {
                tracing::info!(%reason, "credentials refused")
            }
            _ => tracing::debug!(code = self.code().as_str(), error = %self, "request refused"),
        }
        let body = self.body();
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized { .. } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="tillstream", error="invalid_token""#),
                );
            }
            ApiError::Unavailable(_) | ApiError::ProjectionBehind { .. } | ApiError::Overloaded => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            }
            ApiError::RequestTimeout => {
                // What is left of the body is not read: the connection cannot carry another
                // request.
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            ApiError::TooManyAttempts { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
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

/// The error body every 4xx/5xx answer carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// One error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code; the catalogue in docs/errors.md says what each means.
    pub code: ErrorCode,
    /// Human-readable explanation (not stable: do not parse it).
    pub message: String,
    /// Path of the field or name of the header at fault, e.g. `lines[2].quantity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// With `version_conflict`: the current version (also sent as `ETag`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<u64>,
    /// With `projection_behind`: the sequence the read model has reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_sequence: Option<u64>,
    /// With `projection_behind`: the sequence the query asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_sequence: Option<u64>,
    /// With `forbidden`: the least role that may do this (`cashier`, `manager`, `admin`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub required_role: Option<Role>,
    /// With `missing_scope`: the API-key scope this route needs (`feed`, `webhooks`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub required_scope: Option<crate::identity::ApiScope>,
}

/// MongoDB failures: unreachable or timed out is 503 (retry), anything else is a 500.
impl From<mongodb::error::Error> for ApiError {
    fn from(err: mongodb::error::Error) -> Self {
        use mongodb::error::ErrorKind;
        match *err.kind {
            ErrorKind::ServerSelection { .. } | ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. } => {
                ApiError::Unavailable(anyhow::Error::new(err).context("MongoDB"))
            }
            _ => ApiError::Internal(anyhow::Error::new(err).context("a MongoDB request")),
        }
    }
}

/// Reading an aggregate's history: JetStream unreachable or slow is 503, else 500.
impl From<eventstore::ReadError> for ApiError {
    fn from(err: eventstore::ReadError) -> Self {
        let unavailable = matches!(err, eventstore::ReadError::Unavailable(_));
        let err = anyhow::Error::new(err).context("reading an aggregate's history");
        if unavailable {
            ApiError::Unavailable(err)
        } else {
            ApiError::Internal(err)
        }
    }
}

/// Claiming an idempotency key: JetStream unreachable or slow is 503, else 500.
impl From<eventstore::AppendError> for ApiError {
    fn from(err: eventstore::AppendError) -> Self {
        let unavailable = matches!(err, eventstore::AppendError::Unavailable(_));
        let err = anyhow::Error::new(err).context("claiming the idempotency key");
        if unavailable {
            ApiError::Unavailable(err)
        } else {
            ApiError::Internal(err)
        }
    }
}
