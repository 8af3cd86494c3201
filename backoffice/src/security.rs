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
//!
//! And [`reload_same_site`]: a page opened by a link on another site is reloaded from this
//! site, so that the `SameSite=Strict` session cookie comes with it.

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

/// Middleware: a page opened from another site (a link in a webmail, say) arrives without
/// the `SameSite=Strict` cookie, and would look signed out (and a new session's cookie
/// would replace the browser's). Such a GET is answered with a page that reloads the same
/// address from this site, which the browser sends with the cookie. Nothing else changes.
pub async fn reload_same_site(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let cross_site = request.method() == axum::http::Method::GET
        && request.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site")
        && request.headers().get(axum::http::header::COOKIE).is_none();
    if !cross_site {
        return next.run(request).await;
    }
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\"))
        .unwrap_or("/")
        .to_owned();
    let page = maud::html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content=(format!("0;url={target}"));
                title { "tillstream back office" }
            }
            body { p { a href=(target) { "Continue to the back office" } } }
        }
    };
    axum::response::Html(page.into_string()).into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn answer(request: Request<Body>) -> anyhow::Result<(axum::http::StatusCode, String)> {
        let app = axum::Router::new()
            .route("/{*rest}", get(|| async { "page" }))
            .layer(axum::middleware::from_fn(super::reload_same_site));
        let response = app.oneshot(request).await?;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    #[tokio::test]
    async fn a_cross_site_page_without_the_cookie_reloads_itself_from_this_site() -> anyhow::Result<()> {
        let cross = |uri: &str| {
            Request::get(uri)
                .header("sec-fetch-site", "cross-site")
                .body(Body::empty())
        };
        let (_, body) = answer(cross("/verify?token=abc")?).await?;
        assert!(body.contains(r#"content="0;url=/verify?token=abc""#), "{body}");
        let (_, body) = answer(cross("//evil.example/x")?).await?;
        assert!(body.contains(r#"content="0;url=/""#), "{body}");
        let same = Request::get("/dashboard")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())?;
        assert_eq!(answer(same).await?.1, "page");
        let with_cookie = Request::get("/dashboard")
            .header("sec-fetch-site", "cross-site")
            .header("cookie", "bo_session=x")
            .body(Body::empty())?;
        assert_eq!(answer(with_cookie).await?.1, "page");
        Ok(())
    }
}
