//! Tillstream's token check, for the peer: HS256 only, the key chosen by `kid`, issuer,
//! audience, expiry, `nbf`, a required `iat` not in the future and a lifetime no longer
//! than the access-token lifetime; then the role (cashier and up may sell). Claims are
//! tillstream's (`userId`, `organizationId`, `role`, `terminalId`).
//!
//! Tillstream also remembers a token it verified, and checks (cached) that the tenant,
//! user and session still exist; the peer verifies the signature on every request and
//! has no user store. Both differences are small next to a command's cost (a
//! verification is ~2.4 µs).

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::config::Config;
use crate::http::ApiError;

/// A user's role, least privileged first (tillstream's `Role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Rings up sales.
    Cashier,
    /// Runs the store.
    Manager,
    /// Owns the organization.
    Admin,
}

/// The claims the peer reads (the rest are checked by [`Validation`] or ignored).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    /// The user.
    pub user_id: String,
    /// The tenant.
    pub organization_id: String,
    /// The user's role.
    pub role: Role,
    /// The till the token was issued to.
    #[serde(default)]
    pub terminal_id: Option<String>,
    /// Expiry.
    pub exp: u64,
    /// Issued at.
    #[serde(default)]
    pub iat: Option<u64>,
}

/// The verification key and rules.
pub struct JwtKeys {
    kid: String,
    key: DecodingKey,
    validation: Validation,
    leeway: u64,
    max_lifetime: u64,
}

impl JwtKeys {
    /// Keys from the configuration; refuses a secret shorter than 32 bytes, as tillstream.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let secret = config.jwt_secret.expose_secret();
        anyhow::ensure!(secret.len() >= 32, "JWT_SECRET is shorter than 32 bytes");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = config.jwt_leeway_secs;
        validation.validate_nbf = true;
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        Ok(Self {
            kid: config.jwt_default_kid.clone(),
            key: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            leeway: config.jwt_leeway_secs,
            max_lifetime: config.access_token_ttl_secs,
        })
    }

    /// Verifies `token`; the error says why (logged, never sent).
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        if header.kid.as_deref().is_some_and(|kid| kid != self.kid) {
            return Err("unknown key id".to_owned());
        }
        if header.alg != Algorithm::HS256 {
            return Err("algorithm is not the key's".to_owned());
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| e.to_string())?
            .claims;
        let now = jsonwebtoken::get_current_timestamp();
        let issued = claims.iat.ok_or("no iat")?;
        if issued > now.saturating_add(self.leeway) {
            return Err("iat in the future".to_owned());
        }
        if claims.exp.saturating_sub(issued) > self.max_lifetime.saturating_add(self.leeway) {
            return Err("exp - iat exceeds the access-token lifetime".to_owned());
        }
        Ok(claims)
    }
}

/// A request's verified identity, cashier or above.
#[derive(Debug, Clone)]
pub struct Seller {
    /// The token's tenant.
    pub tenant: String,
    /// The token's user.
    pub user_id: String,
    /// The token's terminal.
    pub terminal_id: Option<String>,
}

impl<S> FromRequestParts<S> for Seller
where
    Arc<JwtKeys>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let claims = Arc::<JwtKeys>::from_ref(state).verify(token).map_err(|reason| {
            tracing::debug!(%reason, "token refused");
            ApiError::Unauthorized
        })?;
        if claims.role < Role::Cashier {
            return Err(ApiError::Forbidden);
        }
        Ok(Seller {
            tenant: claims.organization_id,
            user_id: claims.user_id,
            terminal_id: claims.terminal_id,
        })
    }
}
