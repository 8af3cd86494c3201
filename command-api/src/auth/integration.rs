//! Integrations' credentials: [`ApiKeyContext`], an API key (`Authorization: Bearer
//! tsk_...`) with its tenant and scopes, [`UserOrKey`], a route open to a user of a
//! least role or to a key with a scope, and [`CommandCaller`], the caller of a command
//! route: a user of a least role, or a key with `post_commands` acting as a manager.
//!
//! A key is looked up on every request (one read by id in the shared database, no cache):
//! revoking or rotating one takes effect on the next request. A malformed, unknown,
//! revoked or wrong key is 401 `unauthorized`, whichever it was; a live key without the
//! scope a route needs is 403 `missing_scope`.

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use events::{LocationId, Role, TenantId};

use crate::auth::context::{Authorized, MinimumRole, TenantContext, bearer, check_tenant_headers};
use crate::auth::keys::JwtKeys;
use crate::auth::readable::Readable;
use crate::auth::subjects::Subjects;
use crate::error::ApiError;
use crate::identity::Identity;
use crate::identity::api_keys::{self, ApiScope};

/// An authenticated API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyContext {
    /// The key's tenant: the only tenant it reads or acts for.
    pub tenant: TenantId,
    /// The key's id.
    pub key_id: String,
    /// What it may do.
    pub scopes: BTreeSet<ApiScope>,
    /// The locations it may act and read at; `None`: every location.
    pub locations: Option<Vec<LocationId>>,
}

impl ApiKeyContext {
    /// Whether the key has `scope`.
    pub fn allows(&self, scope: ApiScope) -> bool {
        self.scopes.contains(&scope)
    }

    /// 403 `missing_scope` unless the key has `scope`.
    pub fn require(&self, scope: ApiScope) -> Result<(), ApiError> {
        if self.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::MissingScope { required: scope })
        }
    }
}

/// Whether the request's bearer credential is an API key rather than a JWT.
pub fn presents_key(parts: &Parts) -> bool {
    bearer(parts).is_ok_and(|credential| credential.starts_with(api_keys::PREFIX))
}

impl<S> FromRequestParts<S> for ApiKeyContext
where
    Arc<Identity>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let credential = bearer(parts)?;
        let identity = Arc::<Identity>::from_ref(state);
        let record = identity
            .api_keys
            .authenticate(credential)
            .await?
            .ok_or_else(|| ApiError::Unauthorized {
                reason: "unknown, revoked or malformed API key".to_owned(),
            })?;
        let tenant = TenantId::parse(&record.organization_id).map_err(|err| ApiError::Unauthorized {
            reason: format!("the API key's tenant: {err}"),
        })?;
        tracing::Span::current().record("tenant", tenant.as_str());
        let locations = record
            .locations
            .map(|locations| {
                locations
                    .into_iter()
                    .map(LocationId::parse)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
            .map_err(|err| ApiError::Internal(anyhow::anyhow!("a stored API key's location: {err}")))?;
        Ok(ApiKeyContext {
            tenant,
            key_id: record.id,
            scopes: record.scopes.into_iter().collect(),
            locations,
        })
    }
}

/// A scope, as a type, for [`UserOrKey`].
pub trait RequiredScope: Send + Sync + 'static {
    /// The scope a key needs.
    const SCOPE: ApiScope;
}

/// The `feed` scope.
#[derive(Debug)]
pub struct FeedScope;
impl RequiredScope for FeedScope {
    const SCOPE: ApiScope = ApiScope::Feed;
}

/// The `read_reports` scope: the report routes (`/v1/reports/daily`, top products,
/// pricing exceptions, packs, promotions, margin, valuation, reorder, low stock).
#[derive(Debug)]
pub struct ReadReportsScope;
impl RequiredScope for ReadReportsScope {
    const SCOPE: ApiScope = ApiScope::ReadReports;
}

/// The `webhooks` scope.
#[derive(Debug)]
pub struct WebhooksScope;
impl RequiredScope for WebhooksScope {
    const SCOPE: ApiScope = ApiScope::Webhooks;
}

/// A caller that is either a user with at least role `R` (a JWT) or an API key with scope
/// `S`: 401 without valid credentials, 403 `forbidden` for a user of a lower role, 403
/// `missing_scope` for a key without the scope.
#[derive(Debug)]
pub struct UserOrKey<R, S> {
    /// The tenant (the token's or the key's).
    pub tenant: TenantId,
    /// The key, when the caller is one.
    pub key: Option<ApiKeyContext>,
    /// Where the caller may read (the user's or the key's locations).
    pub readable: Readable,
    marker: PhantomData<(R, S)>,
}

impl<R, S> UserOrKey<R, S> {
    /// Whether the caller is a key with `scope` (a user never is).
    pub fn key_allows(&self, scope: ApiScope) -> bool {
        self.key.as_ref().is_some_and(|key| key.allows(scope))
    }
}

impl<St, R, S> FromRequestParts<St> for UserOrKey<R, S>
where
    Arc<JwtKeys>: FromRef<St>,
    Arc<Subjects>: FromRef<St>,
    Arc<Identity>: FromRef<St>,
    St: Send + Sync,
    R: MinimumRole,
    S: RequiredScope,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        if presents_key(parts) {
            let key = ApiKeyContext::from_request_parts(parts, state).await?;
            key.require(S::SCOPE)?;
            Ok(UserOrKey {
                tenant: key.tenant.clone(),
                readable: Readable::of(key.locations.clone().map(Arc::from)),
                key: Some(key),
                marker: PhantomData,
            })
        } else {
            let Authorized(context, _) = Authorized::<R>::from_request_parts(parts, state).await?;
            Ok(UserOrKey {
                readable: context.readable(),
                tenant: context.tenant,
                key: None,
                marker: PhantomData,
            })
        }
    }
}

/// The role an API key with the `post_commands` scope acts with: a store manager's, at
/// every location of its tenant. Commands that need an admin (users, locations, the
/// tenant's settings) stay closed to keys.
pub const KEY_COMMAND_ROLE: Role = Role::Manager;

/// The caller of a command route: a user with at least role `R` (a JWT), or an API key
/// with the `post_commands` scope, which acts as [`KEY_COMMAND_ROLE`] and is recorded as
/// the events' actor by its key id (never as a user). 401 without valid credentials (a
/// revoked key at once), 403 `missing_scope` for a key without `post_commands`, 403
/// `forbidden` for a user of a lower role or a key on a command above a manager's.
#[derive(Debug)]
pub struct CommandCaller<R>(pub TenantContext, pub PhantomData<R>);

impl<St, R> FromRequestParts<St> for CommandCaller<R>
where
    Arc<JwtKeys>: FromRef<St>,
    Arc<Subjects>: FromRef<St>,
    Arc<Identity>: FromRef<St>,
    St: Send + Sync,
    R: MinimumRole,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        if !presents_key(parts) {
            let Authorized(context, _) = Authorized::<R>::from_request_parts(parts, state).await?;
            return Ok(CommandCaller(context, PhantomData));
        }
        let key = ApiKeyContext::from_request_parts(parts, state).await?;
        key.require(ApiScope::PostCommands)?;
        check_tenant_headers(parts, &key.tenant)?;
        let context = TenantContext {
            tenant: key.tenant,
            user_id: None,
            api_key_id: Some(key.key_id),
            role: KEY_COMMAND_ROLE,
            terminal_id: None,
            locations: key.locations.map(Into::into),
            limited_since: None,
        };
        context.require(R::ROLE)?;
        Ok(CommandCaller(context, PhantomData))
    }
}
