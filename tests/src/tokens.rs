//! Signed test tokens, made the way the identity service makes them.

use command_api::auth::Claims;
use events::{Role, TenantId};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// Issuer of test tokens, holding the secret the test app verifies with.
#[derive(Clone)]
pub struct TokenIssuer {
    /// HMAC secret (also given to the app as `JWT_SECRET`).
    pub secret: String,
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
}

impl Default for TokenIssuer {
    fn default() -> Self {
        Self {
            secret: "test-secret-that-is-long-enough-for-hs256-0123456789".to_owned(),
            issuer: "tillstream".to_owned(),
            audience: "tillstream-pos".to_owned(),
        }
    }
}

impl TokenIssuer {
    /// The API's own signer, with this issuer's secret (under the default key id the test
    /// app is configured with), issuer and audience; tokens live an hour.
    pub fn signer(&self) -> command_api::identity::TokenIssuer {
        command_api::identity::TokenIssuer::new(self.secret.as_bytes(), "default", &self.issuer, &self.audience, 3600)
    }

    /// Claims valid for an hour, bound to terminal `till-1`.
    pub fn claims(&self, tenant: &TenantId, user: &str, role: Role) -> Claims {
        self.signer().claims(tenant, user, role, Some("till-1"))
    }

    /// Signs `claims` with `secret` under `header`.
    pub fn sign_with(&self, header: &Header, claims: &Claims, secret: &str) -> String {
        jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(secret.as_bytes()))
            .expect("HMAC signing of plain claims cannot fail")
    }

    /// Signs `claims` with the app's secret (HS256, no kid).
    pub fn sign(&self, claims: &Claims) -> String {
        self.sign_with(&Header::new(Algorithm::HS256), claims, &self.secret)
    }

    /// A valid token for `user` with `role` in `tenant`, signed by the API's own signer.
    pub fn token(&self, tenant: &TenantId, user: &str, role: Role) -> String {
        self.signer()
            .token(tenant, user, role, Some("till-1"))
            .expect("HMAC signing of plain claims cannot fail")
    }
}
