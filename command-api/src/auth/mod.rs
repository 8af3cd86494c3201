//! Authentication and tenant context.
//!
//! A bearer JWT names the user, their organization (the tenant) and their role. The
//! [`TenantContext`] extractor verifies it, so a handler that takes a `TenantContext`
//! cannot run unauthenticated, and the tenant comes from the token only.
//!
//! # Layout
//! - [`claims`]: the token's claims as the seed defined them.
//! - [`keys`]: [`JwtKeys`], the verification keys by `kid` with one algorithm each.
//! - [`verified`]: tokens verified recently, so a terminal's token is verified once.
//! - [`subjects`]: [`Subjects`], whether a token's tenant, user and session still exist.
//! - [`context`]: [`TenantContext`], the extractor, and role checks.
//! - [`readable`]: [`Readable`], the locations a caller limited to some may read.
//! - [`integration`]: [`ApiKeyContext`] (an integration's API key with its scopes) and
//!   [`UserOrKey`], a route open to a user of a role or to a key with a scope, and
//!   [`CommandCaller`], a command's caller (a user, or a key with `post_commands`).

pub mod claims;
pub mod context;
pub mod integration;
pub mod keys;
pub mod readable;
pub mod subjects;
pub mod verified;

pub use claims::Claims;
pub use context::{Admin, Authorized, Cashier, Manager, MinimumRole, TenantContext};
pub use integration::{ApiKeyContext, CommandCaller, FeedScope, ReadReportsScope, UserOrKey, WebhooksScope};
pub use keys::{JwtKeys, KeyError};
pub use readable::Readable;
pub use subjects::Subjects;
