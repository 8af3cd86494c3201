//! User management (admins): list, invite, change a role, deactivate. Each change is made
//! in the shared `users` (what login checks) and appended to the tenant's stream as a user
//! event (what the tenant's `users` read model shows). Invited users are created, and
//! `UserJoined` appended, when they accept (`routes::auth`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bson::doc;
use chrono::Utc;
use events::event::{UserDeactivated, UserRoleChanged};
use events::{AggregateRef, Role, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Admin, Authorized};
use crate::codes::ErrorCode;
use crate::commands::{CommandMeta, fields};
use crate::error::ApiError;
use crate::execute::{self, after};
use crate::extract::{ApiJson, IdempotencyKey};
use crate::identity::store::UserRecord;
use crate::identity::{email, secrets};
use crate::routes::Accepted;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// The user routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(change_role))
        .routes(routes!(deactivate_user))
}

/// `POST /v1/users`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Display name.
    pub name: String,
    /// Login email.
    pub email: String,
    /// `admin`, `manager` or `cashier`.
    #[schema(value_type = String)]
    pub role: Role,
}

/// `PUT /v1/users/{user_id}/role`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRole {
    /// The new role.
    #[schema(value_type = String)]
    pub role: Role,
}

/// `POST /v1/users/{user_id}/deactivate`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateUser {
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

fn user_json(user: &UserRecord) -> Value {
    json!({"id": user.id, "email": user.email, "name": user.name, "role": user.role, "active": user.active})
}

fn user_id(raw: String) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|e| ApiError::invalid("user_id", e.to_string()))
}

/// The organization's users.
#[utoipa::path(get, path = "/v1/users", tag = "users",
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_users(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Admin>,
) -> Result<Json<Value>, ApiError> {
    let users = state.identity.store.users_of(context.tenant.as_str()).await?;
    Ok(Json(json!({"items": users.iter().map(user_json).collect::<Vec<_>>()})))
}

/// Invite a user with a role. An invitation is mailed to the address; the user exists,
/// and can log in, once someone reading that mailbox accepts it and chooses a password
/// (`POST /v1/auth/accept-invitation`). The answer is the same whatever the address (an
/// address that already has an account is told so by mail, and accepting fails), so no
/// admin learns which addresses have accounts. Inviting the same address again renews the
/// invitation (new link, same user id).
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = Object, description = "Invited: `status` is `invited`, `id` the user id it will have"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "create_user", skip_all)]
async fn create_user(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Admin>,
    ApiJson(request): ApiJson<CreateUser>,
) -> Result<Response, ApiError> {
    fields::text("name", &request.name)?;
    let email = email::normalize("email", &request.email)?;
    let identity = &state.identity;
    let token = secrets::random_token();
    let expires_at = Utc::now() + chrono::Duration::from_std(identity.verification_ttl).unwrap_or_default();
    let name = request.name.trim().to_owned();
    let invitation = identity
        .store
        .invitations()
        .find_one_and_update(
            doc! {"organization_id": context.tenant.as_str(), "email": &email},
            doc! {
                "$set": {"name": &name, "role": request.role.as_str(),
                         "token_hash": secrets::keyed_hash(&identity.token_key, &token),
                         "expires_at": bson::DateTime::from_chrono(expires_at), "accepted_at": null},
                "$setOnInsert": {"_id": uuid::Uuid::now_v7().simple().to_string(),
                                 "user_id": uuid::Uuid::now_v7().simple().to_string()},
            },
        )
        .upsert(true)
        .return_document(mongodb::options::ReturnDocument::After)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("an upserted invitation was not returned")))?;
    let organization = identity
        .store
        .organizations()
        .find_one(doc! {"_id": context.tenant.as_str()})
        .await?
        .and_then(|o| o.get_str("name").ok().map(str::to_owned))
        .unwrap_or_else(|| context.tenant.to_string());
    let body = if identity.store.user_by_email(&email).await?.is_some() {
        format!(
            "Hello {name},\n\nan administrator of {organization} invited this address to tillstream, but it\n\
             already has an account, and an address belongs to one organization. Ask them to\n\
             invite another address.\n"
        )
    } else {
        format!(
            "Hello {name},\n\nyou are invited to {organization} on tillstream as {}. Accept and choose\n\
             your password here:\n{}/accept-invitation?token={token}\n\nInvitation token: {token}\n\n\
             The link expires at {}.\n",
            request.role,
            identity.public_url,
            expires_at.to_rfc3339()
        )
    };
    identity
        .mailer
        .send(&email, &format!("You are invited to {organization}"), &body)
        .await?;
    tracing::info!(organization_id = %context.tenant, user_id = %invitation.user_id, "user invited");
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": invitation.user_id, "email": email, "name": name, "role": request.role,
            "active": false, "status": "invited"}),
        ),
    )
        .into_response())
}

/// Change a user's role.
#[utoipa::path(put, path = "/v1/users/{user_id}/role", tag = "users", request_body = ChangeRole,
    params(("user_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Accepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "change_role", skip_all)]
async fn change_role(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Admin>,
    IdempotencyKey(key): IdempotencyKey,
    Path(raw_id): Path<String>,
    ApiJson(request): ApiJson<ChangeRole>,
) -> Result<Response, ApiError> {
    let user_id = user_id(raw_id)?;
    let store = &state.identity.store;
    let user = store.existing_user(context.tenant.as_str(), user_id.as_str()).await?;
    if user_id == context.user_id && request.role != Role::Admin {
        return Err(ApiError::StateConflict {
            code: ErrorCode::OwnRole,
            message: "admins cannot demote themselves; ask another admin".to_owned(),
        });
    }
    let previous: Option<Role> = serde_json::from_value(json!(user.role)).ok();
    store
        .set_user(
            context.tenant.as_str(),
            user_id.as_str(),
            doc! {"role": request.role.as_str()},
        )
        .await?;
    let meta = CommandMeta::new(
        context,
        "ChangeRole",
        &(&user_id, &request),
        key,
        || format!("role:{user_id}:{}", request.role),
        None,
    );
    let event = UserRoleChanged {
        user_id: user_id.clone(),
        role: request.role,
        previous_role: previous,
    };
    append_user_event(&state, &meta, &user_id, event.into()).await
}

/// Appends a user event on the user's subject and answers 201 (or the original answer of
/// a repeated command).
async fn append_user_event(
    state: &AppState,
    meta: &CommandMeta,
    user_id: &UserId,
    event: events::DomainEvent,
) -> Result<Response, ApiError> {
    let outcome = execute::run(&state.store, meta, AggregateRef::user(user_id), None, |history| {
        Ok((event.clone(), after(history)))
    })
    .await?;
    Ok(Accepted::response(outcome, false))
}

/// Deactivate a user: login and refresh stop at once; access tokens expire on their own.
#[utoipa::path(post, path = "/v1/users/{user_id}/deactivate", tag = "users", request_body = DeactivateUser,
    params(("user_id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Accepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "deactivate_user", skip_all)]
async fn deactivate_user(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Admin>,
    IdempotencyKey(key): IdempotencyKey,
    Path(raw_id): Path<String>,
    ApiJson(request): ApiJson<DeactivateUser>,
) -> Result<Response, ApiError> {
    let user_id = user_id(raw_id)?;
    fields::optional_text("reason", request.reason.as_deref())?;
    if user_id == context.user_id {
        return Err(ApiError::StateConflict {
            code: ErrorCode::OwnAccount,
            message: "admins cannot deactivate themselves".to_owned(),
        });
    }
    let store = &state.identity.store;
    store.existing_user(context.tenant.as_str(), user_id.as_str()).await?;
    store
        .set_user(context.tenant.as_str(), user_id.as_str(), doc! {"active": false})
        .await?;
    store.revoke_user(user_id.as_str()).await?;
    let meta = CommandMeta::new(
        context,
        "DeactivateUser",
        &(&user_id, &request),
        key,
        || format!("deactivate:{user_id}"),
        None,
    );
    let event = UserDeactivated {
        user_id: user_id.clone(),
        reason: request.reason.clone(),
    };
    append_user_event(&state, &meta, &user_id, event.into()).await
}
