//! Extractors: who is asking ([`SignedIn`], [`Visitor`], [`ClientIp`]) and forms whose
//! CSRF token and origin are checked before a handler sees them ([`CheckedForm`]).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use reqwest::Method as ApiMethod;
use serde::de::DeserializeOwned;

use crate::api::views::{Location, TokenPair};
use crate::error::PageError;
use crate::role::Role;
use crate::session::{Handle, User, same_secret};
use crate::state::AppState;

/// How long before its expiry an access token is refreshed.
const REFRESH_AHEAD: Duration = Duration::from_secs(60);
/// The largest form the back office reads.
const FORM_LIMIT: usize = 64 * 1024;

/// A signed-in user, with an access token good for at least a minute. A handler taking
/// it cannot run without a signed-in session (the browser is sent to `/login`).
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The user and their tokens.
    pub user: User,
    /// The session's CSRF token, for the page's forms.
    pub csrf: String,
    /// The session id.
    pub session_id: String,
}

impl SignedIn {
    /// The access token to call the API with.
    pub fn token(&self) -> &str {
        &self.user.access_token
    }

    /// Whether the user is limited to some stores (docs/identity.md): the API then holds
    /// their reads to those stores, so the pages offer only them.
    pub fn limited(&self) -> bool {
        !self.user.locations.is_empty()
    }

    /// The store a list shows when none is chosen: the first of a limited user's stores
    /// (the API refuses them "every store"); `None` for a user of every store.
    pub fn default_store(&self) -> Option<&str> {
        self.user.locations.first().map(String::as_str)
    }

    /// Of `locations`, the ones the user may read: every one, or their stores.
    pub fn readable(&self, mut locations: Vec<Location>) -> Vec<Location> {
        if self.limited() {
            locations.retain(|location| self.user.locations.contains(&location.id));
        }
        locations
    }

    /// Refuses (403) unless the user's role is at least `needed`. The API checks the
    /// same again.
    pub fn require(&self, needed: Role) -> Result<(), PageError> {
        if self.user.role >= needed {
            Ok(())
        } else {
            Err(PageError::Forbidden { needed })
        }
    }

    /// Whether the user's role is at least `role`.
    pub fn is(&self, role: Role) -> bool {
        self.user.role >= role
    }

    /// The signed-in user of `handle`'s session, refreshing the access token when it is
    /// about to expire; ends the session when the API no longer accepts its login.
    pub async fn of(state: &AppState, handle: &Handle) -> Result<Self, PageError> {
        let mut session = handle.session.lock().await;
        let Some(user) = session.user.as_mut() else {
            return Err(PageError::SignInRequired);
        };
        if user.signed_in_at.elapsed() > state.sessions.max_age {
            return Err(PageError::SessionEnded);
        }
        if user.access_expires.saturating_duration_since(Instant::now()) < REFRESH_AHEAD {
            let refreshed: Result<TokenPair, _> = state
                .api
                .send_for(
                    ApiMethod::POST,
                    "/v1/auth/refresh",
                    None,
                    &serde_json::json!({"refresh_token": user.refresh_token}),
                    None,
                )
                .await;
            match refreshed {
                Ok(pair) => {
                    user.access_token = pair.access_token;
                    user.access_expires = Instant::now() + Duration::from_secs(pair.expires_in);
                    user.refresh_token = pair.refresh_token;
                    user.role = Role::parse(&pair.role);
                    user.locations = pair.locations;
                }
                Err(err) if err.is_unauthorized() => return Err(PageError::SessionEnded),
                Err(err) => return Err(err.into()),
            }
        }
        Ok(Self {
            user: user.clone(),
            csrf: session.csrf.clone(),
            session_id: handle.id.clone(),
        })
    }
}

impl<S> FromRequestParts<S> for SignedIn
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let handle = state
            .sessions
            .find(&parts.headers)
            .await
            .ok_or(PageError::SignInRequired)?;
        Self::of(&state, &handle).await
    }
}

/// Anyone, with a session (created if the request had none: the answer must then set
/// [`Visitor::set_cookie`]).
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The session.
    pub handle: Handle,
    /// Its CSRF token.
    pub csrf: String,
    /// The `Set-Cookie` value to send, when the session is new.
    pub set_cookie: Option<String>,
}

impl<S> FromRequestParts<S> for Visitor
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let handle = state.sessions.find_or_create(&parts.headers).await;
        let csrf = handle.session.lock().await.csrf.clone();
        let set_cookie = handle.fresh.then(|| state.sessions.cookie(&handle.id));
        Ok(Self {
            handle,
            csrf,
            set_cookie,
        })
    }
}

/// The browser's address: the TCP peer, or, behind a trusted proxy, the right-most
/// `X-Forwarded-For` entry that is not one.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientIp
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(ClientIp(peer.map(|peer| {
            client_address(peer, &parts.headers, &state.trusted_proxies)
        })))
    }
}

fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

/// A form posted from one of this back office's own pages: the request came from this
/// origin (`Origin` / `Sec-Fetch-Site`), and its `csrf` field is its session's token.
/// Anything else is refused with 403 before the handler runs.
#[derive(Debug)]
pub struct CheckedForm<T> {
    /// The session the form was posted in.
    pub handle: Handle,
    /// The form's fields (the `csrf` field is not part of `T`).
    pub form: T,
}

/// Whether the request names another origin than the one it was sent to: `public` when
/// configured, else the `Host` header's.
fn cross_origin(headers: &HeaderMap, public: Option<&str>) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        if let Some(public) = public {
            return origin != public;
        }
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        return origin_host.is_none() || origin_host != host;
    }
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site != "same-origin" && site != "none")
}

impl<S, T> FromRequest<S> for CheckedForm<T>
where
    AppState: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        if request.method() != Method::POST {
            return Err(PageError::BadRequest("forms are posted".to_owned()));
        }
        if cross_origin(request.headers(), state.public_origin.as_deref()) {
            return Err(PageError::Csrf("This form was sent from another site"));
        }
        let handle = state
            .sessions
            .find(request.headers())
            .await
            .ok_or(PageError::Csrf("Your session has ended"))?;
        let body = axum::body::to_bytes(request.into_body(), FORM_LIMIT)
            .await
            .map_err(|_| PageError::BadRequest("the form is too large".to_owned()))?;
        let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|_| PageError::BadRequest("the form cannot be read".to_owned()))?;
        let sent = fields.iter().find(|(name, _)| name == "csrf").map(|(_, v)| v.as_str());
        let expected = handle.session.lock().await.csrf.clone();
        if !sent.is_some_and(|sent| same_secret(sent, &expected)) {
            tracing::warn!("form refused: missing or wrong CSRF token");
            return Err(PageError::Csrf(
                "This form is missing its security token or has expired",
            ));
        }
        let form = serde_urlencoded::from_bytes(&body)
            .map_err(|e| PageError::BadRequest(format!("the form cannot be read: {e}")))?;
        Ok(Self { handle, form })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn a_form_from_another_origin_is_recognised() {
        let cross = |pairs: &[(&'static str, &'static str)]| cross_origin(&headers(pairs), None);
        assert!(!cross(&[("host", "bo:8081"), ("origin", "http://bo:8081")]));
        assert!(cross(&[("host", "bo:8081"), ("origin", "https://evil.example")]));
        assert!(cross(&[("host", "bo:8081"), ("origin", "null")]));
        assert!(cross(&[("host", "bo:8081"), ("sec-fetch-site", "cross-site")]));
        assert!(!cross(&[("host", "bo:8081"), ("sec-fetch-site", "same-origin")]));
        assert!(!cross(&[("host", "bo:8081")]));
        // Behind a proxy that rewrites Host: the configured public origin decides.
        let public = Some("https://office.example");
        let with_origin = |origin: &'static str| headers(&[("host", "bo:8081"), ("origin", origin)]);
        assert!(!cross_origin(&with_origin("https://office.example"), public));
        assert!(cross_origin(&with_origin("http://bo:8081"), public));
    }

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let proxy: IpAddr = [10, 0, 0, 1].into();
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.1")]);
        assert_eq!(
            client_address(proxy, &forwarded, &[proxy]),
            IpAddr::from([203, 0, 113, 7])
        );
        let stranger: IpAddr = [198, 51, 100, 1].into();
        assert_eq!(client_address(stranger, &forwarded, &[proxy]), stranger);
    }
}
