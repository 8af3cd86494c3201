//! API keys for integrations (admins): create one with scopes (its text is shown once),
//! list them, rotate one's secret, revoke one. How keys are stored and checked is in
//! [`crate::identity::api_keys`]; how a route accepts them in [`crate::auth::integration`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Admin, Authorized};
use crate::commands::fields;
use crate::commands::locations::limits;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::identity::ApiScope;
use crate::identity::api_keys::ApiKeyRecord;
use crate::queries::page::Items;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// Most keys a tenant may hold, revoked ones included (a bound on the listing).
pub const MAX_KEYS: usize = 100;

/// The API-key routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(rotate_api_key))
        .routes(routes!(revoke_api_key))
}

/// `POST /v1/api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// A label for people ("accounting sync"), 1 to 200 characters.
    pub name: String,
    /// What the key may do: at least one scope; `feed_personal_data` only with `feed`.
    pub scopes: Vec<ApiScope>,
    /// Limits the key to these locations (1 to 100 opened locations of the tenant): its
    /// commands may act only there, and a command acting elsewhere or on the whole chain
    /// (the catalog, chain-wide prices, promotions for every store) is refused 403
    /// `location_forbidden`; its reports and lists are held to them (docs/identity.md,
    /// "Reading limited to locations"); its feed shows the events that act on the whole
    /// chain or at them, and it manages only webhook endpoints of those stores. Not with
    /// `feed_personal_data` (the whole chain's staff). Absent: every location.
    #[serde(default)]
    pub locations: Option<Vec<String>>,
}

/// Whether a key can still be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyStatus {
    /// It authenticates requests.
    Active,
    /// It was revoked: refused.
    Revoked,
}

/// An API key as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    /// The key's id (the part after `tsk_` and before the second `_`).
    pub id: String,
    /// Its label.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<ApiScope>,
    /// The locations it is limited to; absent: every location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<String>>,
    /// `active` or `revoked`.
    pub status: ApiKeyStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its secret was last replaced, if ever.
    pub rotated_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiKeyRecord> for ApiKey {
    fn from(record: &ApiKeyRecord) -> Self {
        Self {
            id: record.id.clone(),
            name: record.name.clone(),
            scopes: record.scopes.clone(),
            locations: record.locations.clone(),
            status: if record.revoked_at.is_some() {
                ApiKeyStatus::Revoked
            } else {
                ApiKeyStatus::Active
            },
            created_at: record.created_at,
            rotated_at: record.rotated_at,
            revoked_at: record.revoked_at,
        }
    }
}

/// A key with its secret: the answer to creating or rotating one, the only time the
/// secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedApiKey {
    /// The key as stored.
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The key to send as `Authorization: Bearer <key>`: `tsk_<id>_<secret>`. Shown once;
    /// only a hash of it is kept.
    pub key: String,
}

/// Create an API key for an integration (admins). The answer carries the key itself, once.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", request_body = CreateApiKey,
    responses((status = 201, body = IssuedApiKey, description = "Created: `key` is shown this once"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "create_api_key", skip_all)]
async fn create_api_key(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Admin>,
    ApiJson(request): ApiJson<CreateApiKey>,
) -> Result<(StatusCode, Json<IssuedApiKey>), ApiError> {
    fields::text("name", &request.name)?;
    let mut scopes = request.scopes;
    scopes.sort_unstable();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(ApiError::invalid("scopes", "name at least one scope"));
    }
    if scopes.contains(&ApiScope::FeedPersonalData) && !scopes.contains(&ApiScope::Feed) {
        return Err(ApiError::invalid("scopes", "feed_personal_data needs feed"));
    }
    let locations = match request.locations {
        Some(locations) => Some(key_locations(&state, &context.tenant, locations, &scopes).await?),
        None => None,
    };
    let keys = &state.identity.api_keys;
    if keys.list(context.tenant.as_str()).await?.len() >= MAX_KEYS {
        return Err(ApiError::StateConflict {
            code: crate::codes::ErrorCode::TooManyApiKeys,
            message: format!("a tenant holds at most {MAX_KEYS} API keys"),
        });
    }
    let (record, key) = keys
        .create(
            context.tenant.as_str(),
            request.name.trim(),
            scopes,
            locations,
            context.user("creating an API key")?.as_str(),
        )
        .await?;
    tracing::info!(key_id = %record.id, "API key created");
    Ok((
        StatusCode::CREATED,
        Json(IssuedApiKey {
            api_key: ApiKey::from(&record),
            key,
        }),
    ))
}

/// The locations a key is limited to, checked ([`limits::named`]), for a key without
/// `feed_personal_data`.
async fn key_locations(
    state: &AppState,
    tenant: &events::TenantId,
    locations: Vec<String>,
    scopes: &[ApiScope],
) -> Result<Vec<String>, ApiError> {
    if scopes.contains(&ApiScope::FeedPersonalData) {
        return Err(ApiError::invalid(
            "locations",
            "a key limited to locations cannot have feed_personal_data: it shows the whole chain's staff",
        ));
    }
    limits::named(state, tenant, locations).await
}

/// The tenant's API keys, oldest first, revoked ones included (admins); never a secret.
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys",
    responses((status = 200, body = Items<ApiKey>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list_api_keys(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Admin>,
) -> Result<Json<Items<ApiKey>>, ApiError> {
    let keys = state.identity.api_keys.list(context.tenant.as_str()).await?;
    Ok(Json(Items {
        items: keys.iter().map(ApiKey::from).collect(),
    }))
}

/// Give a live key a new secret (admins): the answer carries the new key, once; the old
/// one is refused from the next request on. 404 for a revoked key or one of another tenant.
#[utoipa::path(post, path = "/v1/api-keys/{key_id}/rotate", tag = "api-keys",
    params(("key_id" = String, Path, description = "The key's id")),
    responses((status = 200, body = IssuedApiKey, description = "Rotated: `key` is shown this once"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "rotate_api_key", skip_all)]
async fn rotate_api_key(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Admin>,
    Path(key_id): Path<String>,
) -> Result<Json<IssuedApiKey>, ApiError> {
    let (record, key) = state.identity.api_keys.rotate(context.tenant.as_str(), &key_id).await?;
    tracing::info!(key_id = %record.id, "API key rotated");
    Ok(Json(IssuedApiKey {
        api_key: ApiKey::from(&record),
        key,
    }))
}

/// Revoke a key (admins): refused from the next request on. Revoking again changes
/// nothing. 404 for a key of another tenant.
#[utoipa::path(post, path = "/v1/api-keys/{key_id}/revoke", tag = "api-keys",
    params(("key_id" = String, Path, description = "The key's id")),
    responses((status = 200, body = ApiKey),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "revoke_api_key", skip_all)]
async fn revoke_api_key(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Admin>,
    Path(key_id): Path<String>,
) -> Result<Json<ApiKey>, ApiError> {
    let record = state.identity.api_keys.revoke(context.tenant.as_str(), &key_id).await?;
    tracing::info!(key_id = %record.id, "API key revoked");
    Ok(Json(ApiKey::from(&record)))
}
