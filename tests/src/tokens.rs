//! Signed test tokens, made the way the identity service makes them.

use command_api::auth::Claims;
use events::{Role, TenantId};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// The access-token lifetime of the API's default configuration, seconds.
pub const ACCESS_TOKEN_TTL_SECS: u64 = 900;

/// The user id tests use for `role` in `tenant`: unique per tenant, since user ids are
/// unique across tenants in the shared `users` collection.
pub fn account_user(tenant: &TenantId, role: Role) -> String {
    format!("{role}-{tenant}")
}

/// Creates `tenant` and its user `user` with `role` in the shared database (default name)
/// unless they exist, the way `command-api token` does.
pub async fn provision(tenant: &TenantId, user: &str, role: Role) -> anyhow::Result<()> {
    // A client per call: a client's background tasks belong to the runtime that made it,
    // and every test has its own runtime.
    let client = crate::servers::mongo_client().await?;
    command_api::identity::IdentityStore::new(client.database("liquor_pos_main"))
        .provision(tenant.as_str(), user, role)
        .await
        .map_err(|e| anyhow::anyhow!("provisioning {user} in {tenant}: {e}"))
}

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
    /// app is configured with), issuer and audience; tokens live as long as the API's
    /// access tokens by default (15 minutes), the longest it accepts.
    pub fn signer(&self) -> command_api::identity::TokenIssuer {
        command_api::identity::TokenIssuer::new(
            self.secret.as_bytes(),
            "default",
            &self.issuer,
            &self.audience,
            ACCESS_TOKEN_TTL_SECS,
        )
    }

    /// A valid token for user `<role>-<tenant>` with `role`, after creating that tenant and
    /// user in the shared database: the API refuses tokens naming tenants or users that do
    /// not exist.
    pub async fn account_token(&self, tenant: &TenantId, role: Role) -> anyhow::Result<String> {
        let user = account_user(tenant, role);
        provision(tenant, &user, role).await?;
        Ok(self.token(tenant, &user, role))
    }

    /// Claims valid for the access-token lifetime, bound to terminal `till-1`.
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
