//! [`TokenIssuer`]: the one place access tokens are signed, with the claims the API
//! verifies. The identity routes issue with it, and so do the `token` subcommand, the
//! test harness and the load generator, so no second copy of the claims can drift.

use events::{Role, TenantId, UserId};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::auth::Claims;
use crate::config::Config;
use crate::error::ApiError;

/// Signs access tokens (HS256) with one key.
#[derive(Clone)]
pub struct TokenIssuer {
    key: EncodingKey,
    kid: String,
    issuer: String,
    audience: String,
    /// Lifetime of an access token, in seconds.
    pub ttl_secs: u64,
}

impl TokenIssuer {
    /// An issuer signing with `secret` (HS256) under `kid`.
    pub fn new(secret: &[u8], kid: &str, issuer: &str, audience: &str, ttl_secs: u64) -> Self {
        Self {
            key: EncodingKey::from_secret(secret),
            kid: kid.to_owned(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_secs,
        }
    }

    /// The issuer of the API configured by `config`: its default key (`JWT_SECRET`,
    /// `JWT_DEFAULT_KID`), issuer, audience and access-token lifetime.
    pub fn from_config(config: &Config) -> Self {
        use secrecy::ExposeSecret;
        Self::new(
            config.jwt_secret.expose_secret().as_bytes(),
            &config.jwt_default_kid,
            &config.jwt_issuer,
            &config.jwt_audience,
            config.access_token_ttl_secs,
        )
    }

    /// The same issuer with another token lifetime.
    pub fn with_ttl(mut self, ttl_secs: u64) -> Self {
        self.ttl_secs = ttl_secs;
        self
    }

    /// Claims for `user` of `tenant` with `role`, valid from now for the lifetime, bound to
    /// `terminal` when given.
    pub fn claims(&self, tenant: &TenantId, user: &str, role: Role, terminal: Option<&str>) -> Claims {
        let now = jsonwebtoken::get_current_timestamp();
        Claims {
            user_id: user.to_owned(),
            organization_id: tenant.to_string(),
            role,
            terminal_id: terminal.map(str::to_owned),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + self.ttl_secs,
            nbf: None,
            iat: Some(now),
            sid: None,
        }
    }

    /// Signs `claims` under this issuer's key id.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key)
    }

    /// A signed token for `user` of `tenant` with `role`, optionally bound to `terminal`.
    pub fn token(
        &self,
        tenant: &TenantId,
        user: &str,
        role: Role,
        terminal: Option<&str>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        self.sign(&self.claims(tenant, user, role, terminal))
    }

    /// A signed access token for `user` of `tenant` with `role`, in the login session
    /// `session` (the identity routes).
    pub fn issue(&self, tenant: &TenantId, user: &UserId, role: Role, session: &str) -> Result<String, ApiError> {
        let mut claims = self.claims(tenant, user.as_str(), role, None);
        claims.sid = Some(session.to_owned());
        self.sign(&claims)
            .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("signing an access token")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_carry_the_claims_and_the_key_id() {
        let issuer = TokenIssuer::new(b"0123456789abcdef0123456789abcdef", "k1", "tillstream", "pos", 60);
        let tenant = TenantId::parse("t1").expect("valid tenant");
        let token = issuer
            .token(&tenant, "u1", Role::Manager, Some("till-9"))
            .expect("signs");
        let header = jsonwebtoken::decode_header(&token).expect("a header");
        assert_eq!(header.kid.as_deref(), Some("k1"));
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.set_audience(&["pos"]);
        validation.set_issuer(&["tillstream"]);
        let claims = jsonwebtoken::decode::<Claims>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
            &validation,
        )
        .expect("verifies")
        .claims;
        assert_eq!(claims.organization_id, "t1");
        assert_eq!(claims.user_id, "u1");
        assert_eq!(claims.role, Role::Manager);
        assert_eq!(claims.terminal_id.as_deref(), Some("till-9"));
        assert!(claims.exp > jsonwebtoken::get_current_timestamp());
    }
}
