//! The security headers of every answer. The API answers JSON (and CSV) to programs, never
//! pages to browsers, so each header says the most restrictive thing:
//!
//! - `X-Content-Type-Options: nosniff`: a browser never runs an answer as something its
//!   `Content-Type` does not say;
//! - `Cache-Control: no-store`: tokens and tenant data are kept by no cache, shared or
//!   private (a handler may still set its own);
//! - `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`: an answer
//!   opened as a page loads nothing and cannot be framed;
//! - `Referrer-Policy: no-referrer`.

use axum::Router;
use axum::http::{HeaderName, HeaderValue};
use tower_http::set_header::SetResponseHeaderLayer;

/// Each header with its value (also written by [`super::refusal`]).
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
    ("referrer-policy", "no-referrer"),
];

/// `router` with the security headers on every answer (kept where a handler set one).
pub fn secure(mut router: Router) -> Router {
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router
}
