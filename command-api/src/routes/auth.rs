//! Signup, email verification, invitations, login, refresh, logout and password reset.
//! These routes take no token.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bson::doc;
use chrono::Utc;
use events::event::UserJoined;
use events::{AggregateRef, Role, TenantId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::TenantContext;
use crate::codes::ErrorCode;
use crate::commands::{CommandMeta, fields};
use crate::error::ApiError;
use crate::execute;
use crate::extract::ApiJson;
use crate::identity::client::ClientAddress;
use crate::identity::store::{PasswordReset, PendingOrganization, RefreshRecord, UserRecord, is_duplicate};
use crate::identity::throttle::Kind;
use crate::identity::{Identity, email, password, secrets};
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The identity routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(verify))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(accept_invitation))
        .routes(routes!(request_password_reset))
        .routes(routes!(confirm_password_reset))
}

/// `POST /v1/auth/password-reset`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The account's email.
    pub email: String,
}

/// The answer to every accepted reset request, whatever the address.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetAccepted {
    /// Always `reset_sent`: if the address has an account, a link is on its way.
    pub status: &'static str,
}

/// `POST /v1/auth/signup`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// The organization (store or chain) name.
    pub organization_name: String,
    /// The admin's name.
    pub admin_name: String,
    /// The admin's email: the login name. The password is chosen when the address is
    /// verified, by whoever reads the mail.
    pub email: String,
}

/// `POST /v1/auth/verify`, `/v1/auth/accept-invitation`, `/v1/auth/password-reset/confirm`:
/// a token from a mail and the password its reader chooses.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenAndPassword {
    /// The token from the mail.
    pub token: String,
    /// The new password: at least 15 characters, not a common password (see
    /// docs/identity.md).
    pub password: String,
}

/// `POST /v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// `POST /v1/auth/refresh` and `/v1/auth/logout`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from login or the last refresh.
    pub refresh_token: String,
}

/// Tokens for a logged-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Bearer token for the API (short-lived).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// Exchange it at `/v1/auth/refresh` for a new pair; usable once.
    pub refresh_token: String,
    /// Seconds the refresh token lives.
    pub refresh_expires_in: u64,
    /// The user.
    pub user_id: String,
    /// The organization (tenant).
    pub organization_id: String,
    /// The user's role.
    #[schema(value_type = String, example = "manager")]
    pub role: Role,
    /// The stores the user is limited to (docs/identity.md, "Users limited to
    /// locations"): they act and read only there. Empty: every store (always for an
    /// admin).
    pub locations: Vec<String>,
}

fn token_error(code: crate::codes::ErrorCode, message: &str) -> ApiError {
    ApiError::StateConflict {
        code,
        message: message.to_owned(),
    }
}

/// Register an organization. The answer is the same whatever the email, and comes before
/// anything depends on the address: a mail then goes to the address, with a verification
/// link (where the admin's password is chosen) for a new one, or saying that it has an
/// account.
#[utoipa::path(post, path = "/v1/auth/signup", tag = "identity", request_body = SignupRequest,
    responses((status = 202, body = SignupAccepted, description = "A mail is on its way to the address"), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody, description = "Too many signups for this email or from this address; see Retry-After"), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "signup", skip_all)]
async fn signup(
    State(state): State<AppState>,
    client: ClientAddress,
    ApiJson(request): ApiJson<SignupRequest>,
) -> Result<Response, ApiError> {
    let identity = &state.identity;
    fields::text("organization_name", &request.organization_name)?;
    fields::text("admin_name", &request.admin_name)?;
    let email = email::normalize("email", &request.email)?;
    let throttle = &identity.throttle;
    throttle
        .spend(&[
            (throttle.key(Kind::SignupEmail, &[&email]), identity.signup_per_email),
            (
                throttle.key(Kind::SignupAddress, &[&client.bucket()]),
                identity.signup_per_address,
            ),
        ])
        .await
        .inspect_err(|_| tracing::warn!(client = %client.bucket(), "signup rate limit reached"))?;
    // What happens next depends on whether the address has an account; it happens after
    // the answer, so neither the answer nor its timing says which.
    let identity = Arc::clone(&state.identity);
    let (organization_name, admin_name) = (
        request.organization_name.trim().to_owned(),
        request.admin_name.trim().to_owned(),
    );
    tokio::spawn(async move {
        if let Err(err) = signup_mail(&identity, email, organization_name, admin_name).await {
            tracing::warn!(error = %err, "could not complete a signup");
        }
    });
    Ok(SignupAccepted::response())
}

/// Mails the address: a verification link (storing the pending signup, replacing an older
/// one), or, when it has an account, that it has one.
async fn signup_mail(
    identity: &Identity,
    email: String,
    organization_name: String,
    admin_name: String,
) -> Result<(), ApiError> {
    if identity.store.user_by_email(&email).await?.is_some() {
        let body = format!(
            "Someone, perhaps you, asked to open a tillstream organization with this address.\n\n\
             This address already has an account. Log in, or reset your password at\n\
             {}/reset-password if you have forgotten it.\n\n\
             If it was not you, ignore this mail: nothing has changed.\n",
            identity.public_url
        );
        identity.mailer.send(&email, "Your tillstream account", &body).await?;
        tracing::info!("signup for an address that has an account: told the address");
        return Ok(());
    }
    let token = secrets::random_token();
    let now = Utc::now();
    let pending = PendingOrganization {
        id: uuid::Uuid::now_v7().simple().to_string(),
        organization_id: uuid::Uuid::now_v7().simple().to_string(),
        admin_user_id: uuid::Uuid::now_v7().simple().to_string(),
        organization_name,
        admin_name,
        email: email.clone(),
        password_hash: None,
        token_hash: secrets::keyed_hash(&identity.token_key, &token),
        expires_at: now + chrono::Duration::from_std(identity.verification_ttl).unwrap_or_default(),
        verified_at: None,
    };
    // A newer signup replaces an older one for the same address (its link stops working).
    for attempt in 0..2 {
        identity.store.pending().delete_many(doc! {"email": &email}).await?;
        match identity.store.pending().insert_one(&pending).await {
            Ok(_) => break,
            Err(err) if is_duplicate(&err) && attempt == 0 => continue,
            Err(err) => return Err(ApiError::from(err)),
        }
    }
    let link = format!("{}/verify?token={token}", identity.public_url);
    let body = format!(
        "Welcome to tillstream, {}.\n\nConfirm your email and choose your password to open {}:\n{link}\n\nVerification token: {token}\n\nThe link expires at {}.\n",
        pending.admin_name,
        pending.organization_name,
        pending.expires_at.to_rfc3339()
    );
    identity
        .mailer
        .send(&email, "Confirm your tillstream account", &body)
        .await?;
    tracing::info!(organization_id = %pending.organization_id, "signup awaiting verification");
    Ok(())
}

/// The answer to every accepted signup, whatever the address.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignupAccepted {
    /// Always `verification_sent`: a mail is on its way to the address.
    pub status: &'static str,
}

impl SignupAccepted {
    fn response() -> Response {
        (
            StatusCode::ACCEPTED,
            Json(SignupAccepted {
                status: "verification_sent",
            }),
        )
            .into_response()
    }
}

/// Confirm the email and choose the admin's password: creates the admin, the
/// organization and its tenant database. The password is set here, by whoever proves they
/// read the mail, never at signup. If the address was taken meanwhile (it joined another
/// organization), the answer is 409 `email_taken` and nothing is created.
#[utoipa::path(post, path = "/v1/auth/verify", tag = "identity", request_body = TokenAndPassword,
    responses((status = 201, description = "Organization created"), (status = 409, body = ErrorBody, description = "token_used, token_expired or email_taken"), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "verify", skip_all)]
async fn verify(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<TokenAndPassword>,
) -> Result<Response, ApiError> {
    let identity = &state.identity;
    let hash = secrets::keyed_hash(&identity.token_key, request.token.trim());
    let pending = identity
        .store
        .pending()
        .find_one(doc! {"token_hash": &hash})
        .await?
        .ok_or_else(|| ApiError::invalid("token", "unknown verification token"))?;
    if pending.verified_at.is_some() {
        return Err(token_error(
            ErrorCode::TokenUsed,
            "this verification link was used already; log in",
        ));
    }
    if pending.expires_at < Utc::now() {
        return Err(token_error(
            ErrorCode::TokenExpired,
            "this verification link expired; sign up again",
        ));
    }
    password::check("password", &request.password, &pending.email)?;
    let password_hash = identity.hashing.hash(request.password.clone()).await?;
    let tenant = TenantId::parse(&pending.organization_id)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored organization id: {e}")))?;
    let user_id = UserId::parse(&pending.admin_user_id)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored user id: {e}")))?;
    // Every step below can be repeated (ids were fixed at signup), and the first one is the
    // only one that can conflict: the address is claimed by inserting the admin, inactive,
    // before anything else exists. A conflict leaves nothing behind; a crash later leaves
    // an inactive admin that a retried verification finishes.
    let now = Utc::now();
    let admin = UserRecord {
        id: user_id.to_string(),
        organization_id: tenant.to_string(),
        email: pending.email.clone(),
        name: pending.admin_name.clone(),
        role: Role::Admin,
        password_hash,
        active: false,
        locations: Vec::new(),
        created_at: now,
    };
    claim_address(identity, &admin).await?;
    let organization = doc! {"_id": tenant.as_str(), "name": &pending.organization_name, "created_at": bson::DateTime::from_chrono(now)};
    match identity.store.organizations().insert_one(organization).await {
        Ok(_) => {}
        Err(err) if is_duplicate(&err) => {}
        Err(err) => return Err(ApiError::from(err)),
    }
    let db = state.databases.database(&tenant).await?;
    tenantdb::indexes::ensure(&db, &tenantdb::collections::Target::live()).await?;
    let context = TenantContext {
        tenant: tenant.clone(),
        user_id: Some(user_id.clone()),
        api_key_id: None,
        role: Role::Admin,
        terminal_id: None,
        locations: None,
        limited_since: None,
    };
    append_user_joined(&state, context, &admin).await?;
    identity
        .store
        .set_user(tenant.as_str(), user_id.as_str(), doc! {"active": true})
        .await?;
    identity
        .store
        .pending()
        .update_one(
            doc! {"_id": &pending.id, "verified_at": null},
            doc! {"$set": {"verified_at": bson::DateTime::from_chrono(now)}},
        )
        .await?;
    tracing::info!(organization_id = %tenant, "organization verified");
    Ok((
        StatusCode::CREATED,
        Json(json!({"organization_id": tenant, "user_id": user_id, "role": "admin"})),
    )
        .into_response())
}

/// Inserts `user`, claiming its address; a retry (same id, same address) sets the newly
/// chosen password instead. 409 `email_taken` when another account has the address.
pub async fn claim_address(identity: &Identity, user: &UserRecord) -> Result<(), ApiError> {
    if !identity.store.insert_user(user).await? {
        identity
            .store
            .set_user(
                &user.organization_id,
                &user.id,
                doc! {"password_hash": &user.password_hash},
            )
            .await?;
    }
    Ok(())
}

/// Appends `UserJoined` for `user`, once: a retry finds the event already there.
pub async fn append_user_joined(state: &AppState, context: TenantContext, user: &UserRecord) -> Result<(), ApiError> {
    let user_id = UserId::parse(&user.id).map_err(|e| ApiError::Internal(anyhow::anyhow!("user id: {e}")))?;
    let role = user.role;
    let event = UserJoined {
        user_id: user_id.clone(),
        name: user.name.clone(),
        email: user.email.clone(),
        role,
    };
    let body = json!({"user_id": user.id, "email": user.email, "name": user.name, "role": user.role});
    let meta = CommandMeta::new(context, "AddUser", &body, None, || format!("user:{}", user.id), None);
    let result = execute::run(
        &state.store,
        &meta,
        AggregateRef::user(&user_id),
        Some(event.into()),
        |history| {
            if history
                .iter()
                .any(|e| e.envelope.event_type() == events::EventType::UserJoined)
            {
                Err(ApiError::StateConflict {
                    code: ErrorCode::UserExists,
                    message: format!("user {} exists", user.id),
                })
            } else {
                Err(ApiError::Internal(anyhow::anyhow!(
                    "user subject has events but no UserJoined"
                )))
            }
        },
    )
    .await;
    match result {
        // The user joined earlier (a verification retried after a crash): nothing to add.
        Ok(_)
        | Err(ApiError::StateConflict {
            code: ErrorCode::UserExists,
            ..
        }) => Ok(()),
        Err(other) => Err(other),
    }
}

async fn issue_pair(identity: &Identity, user: &UserRecord, family_id: String) -> Result<TokenPair, ApiError> {
    let tenant = TenantId::parse(&user.organization_id)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("organization id: {e}")))?;
    let user_id = UserId::parse(&user.id).map_err(|e| ApiError::Internal(anyhow::anyhow!("user id: {e}")))?;
    let role = user.role;
    let access_token = identity.issuer.issue(&tenant, &user_id, role, &family_id)?;
    let refresh_token = secrets::random_token();
    let record = RefreshRecord {
        hash: secrets::keyed_hash(&identity.token_key, &refresh_token),
        family_id,
        user_id: user.id.clone(),
        organization_id: user.organization_id.clone(),
        expires_at: Utc::now() + chrono::Duration::from_std(identity.refresh_ttl).unwrap_or_default(),
        rotated_at: None,
        revoked: false,
    };
    identity.store.refresh().insert_one(&record).await?;
    Ok(TokenPair {
        access_token,
        token_type: "Bearer",
        expires_in: identity.issuer.ttl_secs,
        refresh_token,
        refresh_expires_in: identity.refresh_ttl.as_secs(),
        user_id: user.id.clone(),
        organization_id: user.organization_id.clone(),
        role: user.role,
        locations: if user.role == Role::Admin {
            Vec::new()
        } else {
            user.locations.clone()
        },
    })
}

/// Log in with email and password.
///
/// Failures are counted per (email, client address) and per client address, by every
/// replica together: after `LOGIN_FREE_ATTEMPTS` failures of one pair, that pair waits
/// 1, 2, 4, ... seconds (up to `LOGIN_BACKOFF_MAX_SECS`) between attempts, while the same
/// email from any other address is unaffected. An address with `LOGIN_ATTEMPTS_PER_ADDRESS`
/// failures in `LOGIN_WINDOW_SECS` waits for the window to end.
#[utoipa::path(post, path = "/v1/auth/login", tag = "identity", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody, description = "invalid_credentials"), (status = 429, body = ErrorBody, description = "Too many failures from this address (for this email); see Retry-After"), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "login", skip_all)]
async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let identity = &state.identity;
    let email = request.email.trim().to_lowercase();
    let throttle = &identity.throttle;
    let address = client.bucket();
    let pair = throttle.key(Kind::LoginPair, &[&email, &address]);
    let from_address = throttle.key(Kind::LoginAddress, &[&address]);
    if let Some(wait) = throttle.blocked(&[&pair, &from_address]).await? {
        tracing::warn!(client = %address, "login refused: backing off");
        return Err(ApiError::too_many(wait));
    }
    let user = identity.store.user_by_email(&email).await?;
    let matches = identity
        .hashing
        .verify(request.password.clone(), user.as_ref().map(|u| u.password_hash.clone()))
        .await?;
    let Some(user) = user.filter(|u| matches && u.active) else {
        let policy = &identity.login;
        let failures = throttle.count(&pair, policy.window).await?;
        if let Some(delay) = policy.backoff(failures.count) {
            throttle.block_for(&pair, delay, policy.window).await?;
        }
        let from_address_failures = throttle.count(&from_address, policy.window).await?;
        if from_address_failures.count >= policy.per_address {
            throttle
                .block_for(
                    &from_address,
                    from_address_failures.remaining,
                    std::time::Duration::ZERO,
                )
                .await?;
        }
        return Err(ApiError::InvalidCredentials {
            reason: if matches {
                "user deactivated"
            } else {
                "wrong email or password"
            },
        });
    };
    throttle.clear(&pair).await?;
    let pair = issue_pair(identity, &user, uuid::Uuid::now_v7().simple().to_string()).await?;
    tracing::info!(user_id = %user.id, organization_id = %user.organization_id, "logged in");
    Ok(Json(pair).into_response())
}

/// Exchange a refresh token for a new pair. Each refresh token works once, except that
/// for `REFRESH_REUSE_GRACE_SECS` after its first use it may be exchanged again (concurrent
/// refreshes all succeed); presenting it later revokes every token of the same login.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "identity", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "refresh", skip_all)]
async fn refresh(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    let identity = &state.identity;
    let hash = secrets::keyed_hash(&identity.token_key, request.refresh_token.trim());
    let unauthorized = |reason: &'static str| ApiError::InvalidRefreshToken { reason };
    let record = identity
        .store
        .refresh()
        .find_one(doc! {"_id": &hash})
        .await?
        .ok_or_else(|| unauthorized("unknown refresh token"))?;
    if record.revoked || record.expires_at < Utc::now() {
        return Err(unauthorized("revoked or expired refresh token"));
    }
    let claimed = identity
        .store
        .refresh()
        .find_one_and_update(
            doc! {"_id": &hash, "rotated_at": null, "revoked": false},
            doc! {"$set": {"rotated_at": bson::DateTime::from_chrono(Utc::now())}},
        )
        .await?;
    if claimed.is_none() {
        // Used already. Within the grace period after its first use (a client refreshing
        // from several tabs or retrying a lost answer) it is exchanged again, for a sibling
        // pair of the same login; later, reuse means a copy is loose: end the login.
        let current = identity.store.refresh().find_one(doc! {"_id": &hash}).await?;
        let grace = chrono::Duration::from_std(identity.refresh_grace).unwrap_or_default();
        let in_grace = current
            .as_ref()
            .and_then(|r| r.rotated_at.filter(|_| !r.revoked))
            .is_some_and(|rotated| Utc::now() - rotated <= grace);
        if !in_grace {
            identity.store.revoke_family(&record.family_id).await?;
            tracing::warn!(user_id = %record.user_id, "refresh token reused: its family is revoked");
            return Err(unauthorized("refresh token reused"));
        }
        tracing::info!(user_id = %record.user_id, "refresh token presented again within the grace period");
    }
    let user = identity.store.user(&record.organization_id, &record.user_id).await?;
    let Some(user) = user.filter(|u| u.active) else {
        identity.store.revoke_family(&record.family_id).await?;
        return Err(unauthorized("user deactivated"));
    };
    Ok(Json(issue_pair(identity, &user, record.family_id).await?).into_response())
}

/// Log out: revokes the refresh token and every token of its login.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "identity", request_body = RefreshRequest,
    responses((status = 204, description = "Logged out"), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "logout", skip_all)]
async fn logout(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    let identity = &state.identity;
    let hash = secrets::keyed_hash(&identity.token_key, request.refresh_token.trim());
    if let Some(record) = identity.store.refresh().find_one(doc! {"_id": &hash}).await? {
        identity.store.revoke_family(&record.family_id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Accept an invitation: creates the user with the password its reader chooses, and
/// appends `UserJoined`. 409 `email_taken` (nothing created) when the address has an
/// account by then.
#[utoipa::path(post, path = "/v1/auth/accept-invitation", tag = "identity", request_body = TokenAndPassword,
    responses((status = 201, description = "User created"), (status = 409, body = ErrorBody, description = "token_used, token_expired or email_taken"), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "accept_invitation", skip_all)]
async fn accept_invitation(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<TokenAndPassword>,
) -> Result<Response, ApiError> {
    let identity = &state.identity;
    let hash = secrets::keyed_hash(&identity.token_key, request.token.trim());
    let invitation = identity
        .store
        .invitations()
        .find_one(doc! {"token_hash": &hash})
        .await?
        .ok_or_else(|| ApiError::invalid("token", "unknown invitation token"))?;
    if invitation.accepted_at.is_some() {
        return Err(token_error(
            ErrorCode::TokenUsed,
            "this invitation was accepted already; log in",
        ));
    }
    if invitation.expires_at < Utc::now() {
        return Err(token_error(
            ErrorCode::TokenExpired,
            "this invitation expired; ask for a new one",
        ));
    }
    password::check("password", &request.password, &invitation.email)?;
    let password_hash = identity.hashing.hash(request.password.clone()).await?;
    let tenant = TenantId::parse(&invitation.organization_id)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored organization id: {e}")))?;
    let user_id =
        UserId::parse(&invitation.user_id).map_err(|e| ApiError::Internal(anyhow::anyhow!("stored user id: {e}")))?;
    let user = UserRecord {
        id: user_id.to_string(),
        organization_id: tenant.to_string(),
        email: invitation.email.clone(),
        name: invitation.name.clone(),
        role: invitation.role,
        password_hash,
        active: true,
        locations: Vec::new(),
        created_at: Utc::now(),
    };
    // The address is claimed first: a conflict leaves nothing behind, and a retry after a
    // crash finds its own user and goes on.
    claim_address(identity, &user).await?;
    let context = TenantContext {
        tenant: tenant.clone(),
        user_id: Some(user_id.clone()),
        api_key_id: None,
        role: Role::Admin,
        terminal_id: None,
        locations: None,
        limited_since: None,
    };
    append_user_joined(&state, context, &user).await?;
    identity
        .store
        .invitations()
        .update_one(
            doc! {"_id": &invitation.id, "accepted_at": null},
            doc! {"$set": {"accepted_at": bson::DateTime::now()}},
        )
        .await?;
    tracing::info!(organization_id = %tenant, user_id = %user_id, "invitation accepted");
    Ok((
        StatusCode::CREATED,
        Json(json!({"organization_id": tenant, "user_id": user_id, "role": invitation.role})),
    )
        .into_response())
}

/// Ask for a password reset. The answer is the same whatever the address; if it has an
/// active account, a single-use link valid for `PASSWORD_RESET_TTL_SECS` is mailed to it.
#[utoipa::path(post, path = "/v1/auth/password-reset", tag = "identity", request_body = PasswordResetRequest,
    responses((status = 202, body = ResetAccepted), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody, description = "Too many requests for this email or from this address; see Retry-After"), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "request_password_reset", skip_all)]
async fn request_password_reset(
    State(state): State<AppState>,
    client: ClientAddress,
    ApiJson(request): ApiJson<PasswordResetRequest>,
) -> Result<Response, ApiError> {
    let identity = &state.identity;
    let email = email::normalize("email", &request.email)?;
    let throttle = &identity.throttle;
    throttle
        .spend(&[
            (throttle.key(Kind::ResetEmail, &[&email]), identity.reset_per_email),
            (
                throttle.key(Kind::ResetAddress, &[&client.bucket()]),
                identity.reset_per_address,
            ),
        ])
        .await?;
    let user = identity.store.user_by_email(&email).await?;
    if let Some(user) = user.filter(|u| u.active) {
        // Stored and mailed after the answer, so an address with an account does not
        // answer slower than one without.
        let identity = Arc::clone(&state.identity);
        tokio::spawn(async move {
            if let Err(err) = send_reset(&identity, &user).await {
                tracing::warn!(error = %err, "could not send a password-reset mail");
            }
        });
    }
    Ok((StatusCode::ACCEPTED, Json(ResetAccepted { status: "reset_sent" })).into_response())
}

async fn send_reset(identity: &Identity, user: &UserRecord) -> Result<(), ApiError> {
    let token = secrets::random_token();
    let expires_at = Utc::now() + chrono::Duration::from_std(identity.reset_ttl).unwrap_or_default();
    identity
        .store
        .resets()
        .insert_one(PasswordReset {
            hash: secrets::keyed_hash(&identity.token_key, &token),
            user_id: user.id.clone(),
            organization_id: user.organization_id.clone(),
            expires_at,
            used_at: None,
        })
        .await?;
    let body = format!(
        "Hello {},\n\nsomeone, perhaps you, asked to reset the password of this tillstream account.\n\
         Choose a new one here (the link works once):\n{}/reset-password?token={token}\n\n\
         Reset token: {token}\n\nThe link expires at {}. If it was not you, ignore this mail.\n",
        user.name,
        identity.public_url,
        expires_at.to_rfc3339()
    );
    identity
        .mailer
        .send(&user.email, "Reset your tillstream password", &body)
        .await
}

/// Set a new password with a reset token. The token works once; every login of the account
/// ends (refresh tokens revoked, access tokens refused within `TOKEN_RECHECK_SECS`).
#[utoipa::path(post, path = "/v1/auth/password-reset/confirm", tag = "identity", request_body = TokenAndPassword,
    responses((status = 204, description = "Password changed"), (status = 409, body = ErrorBody, description = "token_used or token_expired"), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[tracing::instrument(name = "confirm_password_reset", skip_all)]
async fn confirm_password_reset(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<TokenAndPassword>,
) -> Result<StatusCode, ApiError> {
    let identity = &state.identity;
    let hash = secrets::keyed_hash(&identity.token_key, request.token.trim());
    let reset = identity
        .store
        .resets()
        .find_one(doc! {"_id": &hash})
        .await?
        .ok_or_else(|| ApiError::invalid("token", "unknown reset token"))?;
    if reset.used_at.is_some() {
        return Err(token_error(ErrorCode::TokenUsed, "this reset link was used already"));
    }
    if reset.expires_at < Utc::now() {
        return Err(token_error(
            ErrorCode::TokenExpired,
            "this reset link expired; ask for a new one",
        ));
    }
    let user = identity
        .store
        .user(&reset.organization_id, &reset.user_id)
        .await?
        .ok_or_else(|| ApiError::invalid("token", "unknown reset token"))?;
    password::check("password", &request.password, &user.email)?;
    let password_hash = identity.hashing.hash(request.password.clone()).await?;
    let now = bson::DateTime::now();
    let claimed = identity
        .store
        .resets()
        .find_one_and_update(
            doc! {"_id": &hash, "used_at": null, "expires_at": {"$gt": now}},
            doc! {"$set": {"used_at": now}},
        )
        .await?;
    if claimed.is_none() {
        return Err(token_error(ErrorCode::TokenUsed, "this reset link was used already"));
    }
    identity
        .store
        .set_user(&user.organization_id, &user.id, doc! {"password_hash": password_hash})
        .await?;
    identity.store.revoke_user(&user.id).await?;
    tracing::info!(user_id = %user.id, "password reset");
    Ok(StatusCode::NO_CONTENT)
}
