//! User management (admins): list and invite here; change a role and deactivate are
//! commands ([`crate::commands::users`]: the event first, then the login store). Invited
//! users are created, and `UserJoined` appended, when they accept (`routes::auth`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bson::doc;
use chrono::Utc;
use events::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Admin, Authorized};
use crate::commands::fields;
use crate::commands::users::{ChangeLocations, ChangeRole, DeactivateUser};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::identity::store::UserRecord;
use crate::identity::{email, secrets};
use crate::queries::page::Items;
use crate::routes::command::command;
use crate::routes::openapi::{ErrorBody, RoleName};
use crate::state::AppState;

/// The user routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(command::<ChangeRole>())
        .routes(command::<ChangeLocations>())
        .routes(command::<DeactivateUser>())
}

/// `POST /v1/users`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Display name.
    pub name: String,
    /// Login email.
    pub email: String,
    /// The role they will have.
    #[schema(value_type = RoleName)]
    pub role: Role,
}

/// A user of the organization, as `GET /v1/users` lists them.
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    /// User id.
    pub id: String,
    /// Login email (normalized).
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    #[schema(value_type = RoleName)]
    pub role: Role,
    /// Whether they may log in and refresh.
    pub active: bool,
    /// The locations they may act at (`PUT /v1/users/{user_id}/locations`); empty: every
    /// location.
    pub locations: Vec<String>,
}

impl From<&UserRecord> for User {
    fn from(user: &UserRecord) -> Self {
        Self {
            id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role,
            active: user.active,
            locations: user.locations.clone(),
        }
    }
}

/// The answer to an invitation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invited {
    /// The user id the invitee will have once they accept.
    pub id: String,
    /// The invited address (normalized).
    pub email: String,
    /// Display name.
    pub name: String,
    /// The role they will have.
    #[schema(value_type = RoleName)]
    pub role: Role,
    /// Always false: the user exists once they accept.
    pub active: bool,
    /// Always `invited`.
    pub status: &'static str,
}

/// The organization's users.
#[utoipa::path(get, path = "/v1/users", tag = "users",
    responses((status = 200, body = Items<User>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_users(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Admin>,
) -> Result<Json<Items<User>>, ApiError> {
    let users = state.identity.store.users_of(context.tenant.as_str()).await?;
    Ok(Json(Items {
        items: users.iter().map(User::from).collect(),
    }))
}

/// Invite a user with a role. An invitation is mailed to the address; the user exists,
/// and can log in, once someone reading that mailbox accepts it and chooses a password
/// (`POST /v1/auth/accept-invitation`). The answer is the same whatever the address (an
/// address that already has an account is told so by mail, and accepting fails), so no
/// admin learns which addresses have accounts. Inviting the same address again renews the
/// invitation (new link, same user id).
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = Invited, description = "Invited: `id` is the user id they will have"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
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
        Json(Invited {
            id: invitation.user_id,
            email,
            name,
            role: request.role,
            active: false,
            status: "invited",
        }),
    )
        .into_response())
}
