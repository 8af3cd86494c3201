//! The claims of an access token. Names follow the seed (`userId`, `organizationId`,
//! `role`), plus an optional `terminalId` for tokens issued to a till.

use events::Role;
use serde::{Deserialize, Serialize};

/// Claims of a tillstream access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    /// The user.
    pub user_id: String,
    /// The tenant.
    pub organization_id: String,
    /// The user's role.
    pub role: Role,
    /// The terminal the token was issued to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<String>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
    /// Not before (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issued at (seconds since the epoch). Required: without it a token's lifetime
    /// cannot be bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// The login session (refresh-token family) the token was issued in; logging out of it
    /// ends the token too. Tokens minted with the key directly (`command-api token`, test
    /// and benchmark tools) have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}
