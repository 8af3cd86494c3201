//! Server-side sessions. The browser holds only a random session id in a cookie that is
//! `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends it) and,
//! when served over TLS, `Secure` with the `__Host-` prefix (no subdomain can set it).
//! The API's access and refresh tokens stay here, in memory, and never reach the browser.
//!
//! Every visitor of a form page gets a session first (anonymous until sign-in) so that
//! every form, the sign-in form included, carries the session's synchronizer CSRF token.
//! Signing in replaces the session id (no fixation); signing out revokes the API login
//! and drops the session. Sessions end after `BACKOFFICE_SESSION_IDLE_SECS` unused and
//! `BACKOFFICE_SESSION_MAX_SECS` after sign-in; the store holds at most
//! `BACKOFFICE_MAX_SESSIONS` (least used evicted first). A restart signs everyone out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use tokio::sync::Mutex;

use crate::role::Role;

/// 32 random bytes, base64url: session ids and CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The signed-in user of a session, with the API tokens acting for them.
#[derive(Debug, Clone)]
pub struct User {
    /// The API access token (bearer).
    pub access_token: String,
    /// When the access token stops working (refreshed a minute before).
    pub access_expires: Instant,
    /// The API refresh token (single use; rotated at every refresh).
    pub refresh_token: String,
    /// The user id.
    pub user_id: String,
    /// The tenant.
    pub organization_id: String,
    /// The role the API gave at the last login or refresh.
    pub role: Role,
    /// The stores the user is limited to, as the API gave them at the last login or
    /// refresh; empty: every store.
    pub locations: Vec<String>,
    /// The email the user signed in with.
    pub email: String,
    /// When the user signed in.
    pub signed_in_at: Instant,
}

/// One session.
#[derive(Debug)]
pub struct Session {
    /// The synchronizer token every form of this session carries.
    pub csrf: String,
    /// The user, once signed in.
    pub user: Option<User>,
    /// The projector admin token of an operator signed in to the console (never together
    /// with a user: the console's credential is not a tenant role).
    pub operator: Option<String>,
}

/// A session found or created for a request.
#[derive(Debug, Clone)]
pub struct Handle {
    /// The session id (the cookie's value).
    pub id: String,
    /// The session.
    pub session: Arc<Mutex<Session>>,
    /// Set when the session was created by this request: its cookie must be sent.
    pub fresh: bool,
}

/// Every session of this process.
#[derive(Clone)]
pub struct Sessions {
    cache: moka::future::Cache<String, Arc<Mutex<Session>>>,
    /// The cookie's name.
    pub cookie_name: &'static str,
    secure: bool,
    /// Longest life of a signed-in session.
    pub max_age: Duration,
}

impl Sessions {
    /// A store of at most `capacity` sessions, each ending after `idle` unused.
    pub fn new(capacity: u64, idle: Duration, max_age: Duration, secure: bool) -> Self {
        Self {
            cache: moka::future::Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(idle)
                .build(),
            cookie_name: if secure { "__Host-bo_session" } else { "bo_session" },
            secure,
            max_age,
        }
    }

    /// The session id the request's cookie names, if any.
    pub fn cookie_id(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.cookie_name)
            .map(|(_, value)| value.to_owned())
    }

    /// The request's session, if its cookie names a live one.
    pub async fn find(&self, headers: &HeaderMap) -> Option<Handle> {
        let id = self.cookie_id(headers)?;
        let session = self.cache.get(&id).await?;
        Some(Handle {
            id,
            session,
            fresh: false,
        })
    }

    /// The request's session, or a new anonymous one.
    pub async fn find_or_create(&self, headers: &HeaderMap) -> Handle {
        match self.find(headers).await {
            Some(handle) => handle,
            None => self.create(None).await,
        }
    }

    /// A new session (with a new id and CSRF token) for `user`.
    pub async fn create(&self, user: Option<User>) -> Handle {
        self.create_session(Session {
            csrf: random_token(),
            user,
            operator: None,
        })
        .await
    }

    /// A new session (with a new id and CSRF token) for an operator holding `token`.
    pub async fn create_operator(&self, token: String) -> Handle {
        self.create_session(Session {
            csrf: random_token(),
            user: None,
            operator: Some(token),
        })
        .await
    }

    async fn create_session(&self, session: Session) -> Handle {
        let id = random_token();
        let session = Arc::new(Mutex::new(session));
        self.cache.insert(id.clone(), Arc::clone(&session)).await;
        Handle {
            id,
            session,
            fresh: true,
        }
    }

    /// Ends the session `id`.
    pub async fn remove(&self, id: &str) {
        self.cache.invalidate(id).await;
    }

    /// The `Set-Cookie` value that gives the browser session `id`.
    pub fn cookie(&self, id: &str) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!("{}={id}; Path=/; HttpOnly; SameSite=Strict{secure}", self.cookie_name)
    }

    /// The `Set-Cookie` value that makes the browser forget its session.
    pub fn expired_cookie(&self) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{secure}",
            self.cookie_name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_tls() {
        let plain = Sessions::new(10, Duration::from_secs(60), Duration::from_secs(60), false);
        assert_eq!(plain.cookie("x"), "bo_session=x; Path=/; HttpOnly; SameSite=Strict");
        let tls = Sessions::new(10, Duration::from_secs(60), Duration::from_secs(60), true);
        assert_eq!(
            tls.cookie("x"),
            "__Host-bo_session=x; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let sessions = Sessions::new(10, Duration::from_secs(60), Duration::from_secs(60), false);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            axum::http::HeaderValue::from_static("a=1; bo_session=abc; b=2"),
        );
        assert_eq!(sessions.cookie_id(&headers).as_deref(), Some("abc"));
    }
}
