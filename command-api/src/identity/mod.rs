//! Identity: organizations sign up, verify their email, log in; users get short-lived
//! access tokens and rotating refresh tokens; admins manage users and roles.
//!
//! Credentials and organizations live in the shared database (`liquor_pos_main`:
//! `pendingorganizations`, `organizations`, `users`, `refresh_tokens`, `outbox`). Every
//! change to a user is also appended to the tenant's stream as a user event, which the
//! projector writes into the tenant's `users` read model.
//!
//! # Layout
//! - [`email`]: email normalization and checks.
//! - [`password`]: the password policy and argon2 hashing.
//! - [`hashing`]: [`PasswordHashing`], argon2 work on the blocking pool, bounded.
//! - [`secrets`]: random tokens and their keyed hashes (only hashes are stored).
//! - [`mailer`]: sending mail through SMTP, or into the development outbox.
//! - [`store`]: the shared database's identity collections.
//! - [`throttle`]: [`Throttle`], attempt counters and backoff in the shared database.
//! - [`client`]: [`client::ClientAddress`], the client's address behind trusted proxies.
//! - [`issuer`]: signing access tokens.
//! - [`api_keys`]: [`ApiKeys`], integrations' API keys with scopes, stored hashed.

pub mod api_keys;
pub mod client;
pub mod email;
pub mod hashing;
pub mod issuer;
pub mod mailer;
pub mod password;
pub mod secrets;
pub mod store;
pub mod throttle;

pub use api_keys::{ApiKeys, ApiScope};
pub use hashing::PasswordHashing;
pub use issuer::TokenIssuer;
pub use mailer::Mailer;
pub use store::IdentityStore;
pub use throttle::{Limit, LoginPolicy, Throttle};

use std::time::Duration;

/// Everything the identity routes need, built once from the configuration.
pub struct Identity {
    /// The shared database's identity collections.
    pub store: IdentityStore,
    /// Integrations' API keys (`api_keys`).
    pub api_keys: ApiKeys,
    /// Where verification mail goes.
    pub mailer: Mailer,
    /// Signs access tokens.
    pub issuer: TokenIssuer,
    /// Hashes and checks passwords off the async runtime, bounded.
    pub hashing: PasswordHashing,
    /// How failed logins are slowed down.
    pub login: LoginPolicy,
    /// Attempt counters and backoff shared by every replica.
    pub throttle: Throttle,
    /// Signups per normalized email.
    pub signup_per_email: Limit,
    /// Signups per client address.
    pub signup_per_address: Limit,
    /// Password-reset requests per normalized email.
    pub reset_per_email: Limit,
    /// Password-reset requests per client address.
    pub reset_per_address: Limit,
    /// Lifetime of a password-reset token.
    pub reset_ttl: Duration,
    /// Load balancers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Key of the keyed hashes of verification and refresh tokens (`JWT_REFRESH_SECRET`).
    pub token_key: Vec<u8>,
    /// Base URL put in verification links.
    pub public_url: String,
    /// Lifetime of a refresh token.
    pub refresh_ttl: Duration,
    /// How long after its first use a refresh token may be exchanged again.
    pub refresh_grace: Duration,
    /// Lifetime of a verification or invitation token.
    pub verification_ttl: Duration,
}
