//! [`ApiJson`]: a JSON body that fails the API's way.
//!
//! - a `Content-Type` other than `application/json`, bare or with `charset=utf-8` → 415
//!   (`+json` suffixes, other charsets and other parameters included: JSON is UTF-8);
//! - larger than the body limit → 413;
//! - not all there by the body deadline → 408;
//! - not JSON (syntax, truncation, invalid UTF-8, nesting deeper than serde_json's
//!   recursion limit) → 400 `malformed_json`;
//! - JSON of the wrong shape → 422 with the path of the field at fault
//!   (`missing_field`, `unknown_field`, `invalid_field`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::server::body::BodyTimeout;

/// A deserialized JSON body.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| match rejection {
                BytesRejection::FailedToBufferBody(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::PayloadTooLarge
                }
                BytesRejection::FailedToBufferBody(_) if BodyTimeout::caused(&rejection) => ApiError::RequestTimeout,
                other => ApiError::MalformedJson {
                    message: other.body_text(),
                },
            })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Whether the media type is `application/json`, with no parameter but `charset=utf-8`.
fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        && parts.all(|parameter| {
            let Some((name, value)) = parameter.split_once('=') else {
                return false;
            };
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            name.trim().eq_ignore_ascii_case("charset") && value.eq_ignore_ascii_case("utf-8")
        })
}

/// Deserializes `bytes` into `T`, mapping errors to the API's shape with field paths.
///
/// Valid bodies (nearly all) are parsed once, without tracking paths; only a body that
/// fails is parsed again with `serde_path_to_error` to name the field. Both parses run
/// the same `Deserialize` impl over the same bytes, so they fail alike.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let value = result.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let not_an_object = bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{');
        if not_an_object && inner.classify() == serde_json::error::Category::Data {
            return ApiError::invalid("body", "must be a JSON object");
        }
        classify(path, inner)
    })?;
    deserializer.end().map_err(|err| ApiError::MalformedJson {
        message: err.to_string(),
    })?;
    Ok(value)
}

fn classify(path: String, err: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::MalformedJson {
            message: err.to_string(),
        },
        Category::Data => {
            let message = strip_position(&err.to_string());
            let at = |name: &str| {
                if path == "." || path.is_empty() {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                }
            };
            if let Some(name) = backticked(&message, "missing field `") {
                ApiError::MissingField { field: at(name) }
            } else if let Some(name) = backticked(&message, "unknown field `") {
                // The path already ends with the unknown key.
                let field = if path == "." || path.is_empty() {
                    name.to_owned()
                } else {
                    path
                };
                ApiError::UnknownField { field }
            } else {
                let field = if path == "." || path.is_empty() {
                    "body".to_owned()
                } else {
                    path
                };
                ApiError::InvalidField { field, message }
            }
        }
    }
}

fn backticked<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next()
}

/// serde_json appends " at line L column C"; the field path says more to an API client.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        sku: String,
        quantity: i64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        lines: Vec<Line>,
    }

    fn field_of(err: ApiError) -> (String, &'static str) {
        let code = err.code().as_str();
        match err {
            ApiError::MissingField { field }
            | ApiError::UnknownField { field }
            | ApiError::InvalidField { field, .. } => (field, code),
            other => (other.to_string(), code),
        }
    }

    #[test]
    fn wrong_types_name_the_nested_field() {
        let err =
            parse::<Body>(br#"{"lines":[{"sku":"a","quantity":1},{"sku":"b","quantity":"x"}]}"#).expect_err("type");
        assert_eq!(field_of(err), ("lines[1].quantity".to_owned(), "invalid_field"));
    }

    #[test]
    fn missing_and_unknown_fields_name_the_field() {
        let err = parse::<Body>(br#"{"lines":[{"sku":"a"}]}"#).expect_err("missing");
        assert_eq!(field_of(err), ("lines[0].quantity".to_owned(), "missing_field"));
        let err = parse::<Body>(br#"{"lines":[],"tenant":"x"}"#).expect_err("unknown");
        assert_eq!(field_of(err), ("tenant".to_owned(), "unknown_field"));
    }

    #[test]
    fn syntax_errors_and_trailing_garbage_are_malformed() {
        for body in [&b"{"[..], b"{\"lines\": [}", b"{\"lines\":[]} x", b"\xff\xfe", b""] {
            assert_eq!(parse::<Body>(body).expect_err("malformed").code(), "malformed_json");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            parse::<serde_json::Value>(deep.as_bytes()).expect_err("deep").code(),
            "malformed_json"
        );
    }

    #[test]
    fn json_media_types_are_recognised() {
        let ok = |v: &'static str| is_json(Some(&header::HeaderValue::from_static(v)));
        assert!(ok("application/json"));
        assert!(ok("application/json; charset=utf-8"));
        assert!(ok("Application/JSON"));
        assert!(ok("application/json;charset=UTF-8"));
        assert!(ok("application/json; charset=\"utf-8\""));
        assert!(!ok("application/problem+json"));
        assert!(!ok("application/evil+json"));
        assert!(!ok("application/json; charset=latin-1"));
        assert!(!ok("application/json; charset=iso-8859-1"));
        assert!(!ok("application/json; charset=utf-16"));
        assert!(!ok("application/json; boundary=x"));
        assert!(!ok("application/json;"));
        assert!(!ok("application/jsonx"));
        assert!(!ok("text/plain"));
        assert!(!ok("application/x-www-form-urlencoded"));
        assert!(!is_json(None));
    }
}
