//! [`TenantContext`]: who is asking, for which tenant, with which role.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use events::event::reach::Reach;
use events::{LocationId, Role, TenantId, TerminalId, UserId};

use crate::auth::keys::JwtKeys;
use crate::auth::readable::Readable;
use crate::auth::subjects::Subjects;
use crate::error::ApiError;

/// Headers through which older clients named a tenant. They never choose the tenant; one
/// that disagrees with the token is refused so a misrouted terminal notices.
const TENANT_HEADERS: [&str; 2] = ["x-tenant-id", "x-organization-id"];

/// The verified identity behind a request. Only the token can produce one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantContext {
    /// The tenant (the token's `organizationId`).
    pub tenant: TenantId,
    /// The user (the token's `userId`); `None` when an integration's API key with the
    /// `post_commands` scope sends a command (then `api_key_id` is set).
    pub user_id: Option<UserId>,
    /// The API key that sends the command, when no user does
    /// ([`crate::auth::integration::CommandCaller`]).
    pub api_key_id: Option<String>,
    /// The user's role (a key acts as [`Role::Manager`]).
    pub role: Role,
    /// The terminal the token was issued to, if any.
    pub terminal_id: Option<TerminalId>,
    /// The locations the caller may act and read at; `None`: every location (admins, and users and
    /// API keys without `locations`).
    pub locations: Option<Arc<[LocationId]>>,
    /// Since when a user is held to `locations` (when the limit last changed): a command
    /// that happened before it, by the terminal's clock (a sale queued at an offline till),
    /// is not held to it. `None` for API keys: held always.
    pub limited_since: Option<DateTime<Utc>>,
}

impl TenantContext {
    /// Refuses with 403 unless the user's role is at least `required`.
    pub fn require(&self, required: Role) -> Result<(), ApiError> {
        if self.role.at_least(required) {
            Ok(())
        } else {
            Err(ApiError::Forbidden { required })
        }
    }

    /// The user who acts: 403 `user_required` when an API key sends a command that
    /// must name a user (opening a cash drawer). `action` says what for.
    pub fn user(&self, action: &'static str) -> Result<&UserId, ApiError> {
        self.user_id.as_ref().ok_or(ApiError::UserRequired { action })
    }

    /// Whether the caller is the user `user`.
    pub fn is_user(&self, user: &UserId) -> bool {
        self.user_id.as_ref() == Some(user)
    }

    /// 403 `location_forbidden` unless the caller may act where `reach` says: at every
    /// location named, and on the whole chain only when not limited. `aggregate` is where
    /// the event's aggregate was until now (its earlier events), checked alike, so that a
    /// limited caller can neither act on another store's sale nor move a chain-wide
    /// promotion to its own store.
    pub fn may_reach(&self, reach: &Reach<'_>, aggregate: Option<&Reach<'_>>) -> Result<(), ApiError> {
        let Some(allowed) = &self.locations else {
            return Ok(());
        };
        for reach in std::iter::once(reach).chain(aggregate) {
            match reach {
                Reach::Chain => return Err(ApiError::LocationForbidden { location: None }),
                Reach::At(locations) => {
                    if let Some(outside) = locations.iter().find(|location| !allowed.contains(location)) {
                        return Err(ApiError::LocationForbidden {
                            location: Some(outside.to_string()),
                        });
                    }
                }
                Reach::OfAggregate => {}
            }
        }
        Ok(())
    }

    /// Where the caller may read ([`Readable`]).
    pub fn readable(&self) -> Readable {
        Readable::of(self.locations.clone())
    }

    /// Who acts, for the envelope: the user, or the API key.
    pub fn actor(&self) -> events::Actor {
        events::Actor {
            user_id: self.user_id.clone(),
            api_key_id: self.api_key_id.clone(),
            role: self.role,
            terminal_id: self.terminal_id.clone(),
        }
    }

    /// Refuses with 403 if a body names another tenant.
    pub fn check_tenant(&self, named: Option<&str>) -> Result<(), ApiError> {
        match named {
            Some(named) if named != self.tenant.as_str() => Err(ApiError::TenantMismatch),
            _ => Ok(()),
        }
    }
}

/// The bearer credential of the request's `Authorization` header (a JWT or an API key);
/// 401 without one.
pub fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let unauthorized = |reason: &str| ApiError::Unauthorized {
        reason: reason.to_owned(),
    };
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| unauthorized("no Authorization header"))?;
    header
        .to_str()
        .ok()
        .and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
        })
        .filter(|token| !token.is_empty())
        .ok_or_else(|| unauthorized("Authorization is not a bearer token"))
}

/// 403 `tenant_mismatch` when an older client's tenant header names another tenant than
/// the credential's.
pub fn check_tenant_headers(parts: &Parts, tenant: &TenantId) -> Result<(), ApiError> {
    for name in TENANT_HEADERS {
        if let Some(value) = parts.headers.get(name)
            && value.as_bytes() != tenant.as_str().as_bytes()
        {
            return Err(ApiError::TenantMismatch);
        }
    }
    Ok(())
}

impl<S> FromRequestParts<S> for TenantContext
where
    Arc<JwtKeys>: FromRef<S>,
    Arc<Subjects>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let unauthorized = |reason: String| ApiError::Unauthorized { reason };
        let token = bearer(parts)?;
        let keys = Arc::<JwtKeys>::from_ref(state);
        let claims = keys.verify(token).map_err(|err| unauthorized(err.to_string()))?;
        let tenant = TenantId::parse(&claims.organization_id)
            .map_err(|err| unauthorized(format!("organizationId claim: {err}")))?;
        let user_id = UserId::parse(&claims.user_id).map_err(|err| unauthorized(format!("userId claim: {err}")))?;
        let terminal_id = claims
            .terminal_id
            .as_deref()
            .map(TerminalId::parse)
            .transpose()
            .map_err(|err| unauthorized(format!("terminalId claim: {err}")))?;
        check_tenant_headers(parts, &tenant)?;
        // The tenant, the user and the session must still exist; the role may have dropped.
        let subject = Arc::<Subjects>::from_ref(state).subject(&claims).await?;
        let context = TenantContext {
            tenant,
            user_id: Some(user_id),
            api_key_id: None,
            role: subject.role,
            terminal_id,
            locations: subject.locations,
            limited_since: subject.limited_since,
        };
        tracing::Span::current().record("tenant", context.tenant.as_str());
        Ok(context)
    }
}

/// A least role, as a type, so that role checks happen in the extractor (before the body
/// is read) and are visible in a handler's signature.
pub trait MinimumRole: Send + Sync + 'static {
    /// The least role admitted.
    const ROLE: Role;
}

/// Cashiers and up: selling.
#[derive(Debug)]
pub struct Cashier;
impl MinimumRole for Cashier {
    const ROLE: Role = Role::Cashier;
}

/// Managers and admins: voids, refunds, stock and catalog.
#[derive(Debug)]
pub struct Manager;
impl MinimumRole for Manager {
    const ROLE: Role = Role::Manager;
}

/// Admins only: users and the organization.
#[derive(Debug)]
pub struct Admin;
impl MinimumRole for Admin {
    const ROLE: Role = Role::Admin;
}

/// A [`TenantContext`] whose role is at least `R::ROLE`; 401 without a valid token, 403
/// with too low a role.
#[derive(Debug)]
pub struct Authorized<R: MinimumRole>(pub TenantContext, pub std::marker::PhantomData<R>);

impl<S, R> FromRequestParts<S> for Authorized<R>
where
    Arc<JwtKeys>: FromRef<S>,
    Arc<Subjects>: FromRef<S>,
    S: Send + Sync,
    R: MinimumRole,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context = TenantContext::from_request_parts(parts, state).await?;
        context.require(R::ROLE)?;
        Ok(Authorized(context, std::marker::PhantomData))
    }
}
