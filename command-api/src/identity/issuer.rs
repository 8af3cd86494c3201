//! Signing access tokens with the default key, with the claims the API verifies.

use events::{Role, TenantId, UserId};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::auth::Claims;
use crate::error::ApiError;

/// Signs access tokens.
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

    /// A signed access token for `user` of `tenant` with `role`.
    pub fn issue(&self, tenant: &TenantId, user: &UserId, role: Role) -> Result<String, ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            user_id: user.to_string(),
            organization_id: tenant.to_string(),
            role,
            terminal_id: None,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + self.ttl_secs,
            nbf: None,
            iat: Some(now),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing a token: {e}")))
    }
}
