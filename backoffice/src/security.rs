//! The security headers of every answer. Pages load only what the back office serves:
//!
//! - `Content-Security-Policy`: scripts, styles and images only from this origin (no
//!   inline script or style, no `eval`), no fetches, forms post only here, no framing,
//!   no `<base>`; the charts are inline SVG, which needs nothing more;
//! - `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`,
//!   `X-Frame-Options: DENY` (older browsers), `Cross-Origin-Opener-Policy: same-origin`;
//! - `Cache-Control: no-store` on pages (tenant data stays out of every cache; the
//!   assets set their own);
//! - `Strict-Transport-Security` when served over TLS.

use axum::Router;
use axum::http::{HeaderName, HeaderValue};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy of every answer.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// `router` with the security headers on every answer (kept where a handler set one).
pub fn secure(mut router: Router, tls: bool) -> Router {
    let mut headers = vec![
        ("content-security-policy", CSP),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cache-control", "no-store"),
    ];
    if tls {
        headers.push(("strict-transport-security", "max-age=31536000"));
    }
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router
}
