//! Webhook endpoints and their deliveries (admins, or an API key with the `webhooks`
//! scope): create an endpoint (its signing secret is shown once), list and read them,
//! change one, disable and enable one, rotate its secret (the old one signing too for an overlap),
//! delete it with its delivery history, list its deliveries (dead letters included) and
//! send one again.
//! The worker that delivers is the `webhooks` crate; this is its management side, through
//! the same store.
//!
//! A key limited to locations manages only the endpoints of its own stores (`manages`):
//! what it creates is a store's endpoint of its locations, and every other endpoint is
//! `404` to it, as if absent, and missing from its list.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use events::EventType;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use webhooks::store::{Delivery, DeliveryStatus, Endpoint, EndpointStatus, RotateError};

use crate::auth::{Admin, Readable, UserOrKey, WebhooksScope};
use crate::codes::ErrorCode;
use crate::commands::fields;
use crate::commands::locations::limits;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::identity::secrets;
use crate::queries::page::Items;
use crate::routes::openapi::ErrorBody;
use crate::state::AppState;

/// Most endpoints a tenant may have.
pub const MAX_ENDPOINTS: usize = 20;
/// Most deliveries one listing answers (newest first).
pub const MAX_DELIVERIES: i64 = 100;
/// How long a rotated-out secret still signs deliveries, unless the request says otherwise.
pub const DEFAULT_SECRET_OVERLAP_SECS: u64 = 24 * 3600;
/// The longest overlap a rotation may ask for (7 days).
pub const MAX_SECRET_OVERLAP_SECS: u64 = 7 * 24 * 3600;

type Caller = UserOrKey<Admin, WebhooksScope>;

/// The webhook routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(disable_webhook))
        .routes(routes!(enable_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(resend_delivery))
}

/// `POST /v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where events are POSTed: `https` on a public host (unless the server allows private
    /// hosts), at most 2048 characters.
    pub url: String,
    /// The event types it receives, e.g. `["SaleCompleted"]`; absent: every type.
    pub event_types: Option<Vec<String>>,
    /// A label for people.
    pub description: Option<String>,
    /// A store's endpoint: it receives the events that act at these locations (1 to 100
    /// opened locations of the tenant) and those that act on the whole chain (the catalog,
    /// chain-wide prices and promotions, users, settings), as a manager limited to them
    /// sees the feed. Absent: every location's events, or, for a key limited to
    /// locations, its locations' (it may name only some of its own: another is 403
    /// `location_forbidden`).
    #[serde(default)]
    pub locations: Option<Vec<String>>,
}

/// Whether an endpoint receives deliveries.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Events are delivered.
    Active,
    /// Nothing is delivered (see `disabled_reason`); enable it again with `POST .../enable`.
    Disabled,
}

/// A webhook endpoint as the API shows it: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpoint {
    /// Endpoint id.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The event types it receives; absent: every type.
    pub event_types: Option<Vec<String>>,
    /// The locations whose events it receives, with the chain's; absent: every location's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<String>>,
    /// Its label.
    pub description: Option<String>,
    /// `active` or `disabled`.
    pub status: WebhookStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Since when every attempt to deliver to it has failed (absent when the last one
    /// succeeded): past `WEBHOOK_DISABLE_AFTER_SECS` of this, the worker disables it.
    pub failing_since: Option<DateTime<Utc>>,
    /// When it was disabled, while it is.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why it was disabled (by an admin, or failing for too long, with the last error).
    pub disabled_reason: Option<String>,
    /// After a secret rotation: until when the previous secret still signs deliveries
    /// (a second `v1=` in `Tillstream-Signature`); absent when only the current one does.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

impl From<&Endpoint> for WebhookEndpoint {
    fn from(endpoint: &Endpoint) -> Self {
        Self {
            id: endpoint.id.clone(),
            url: endpoint.url.clone(),
            event_types: endpoint.event_types.clone(),
            locations: endpoint.locations.clone(),
            description: endpoint.description.clone(),
            status: match endpoint.status {
                EndpointStatus::Active => WebhookStatus::Active,
                EndpointStatus::Disabled => WebhookStatus::Disabled,
            },
            created_at: endpoint.created_at,
            failing_since: endpoint.failing_since,
            disabled_at: endpoint.disabled_at,
            disabled_reason: endpoint.disabled_reason.clone(),
            previous_secret_expires_at: endpoint
                .previous_secret_expires_at
                .filter(|until| *until > Utc::now() && endpoint.previous_secret.is_some()),
        }
    }
}

/// A new endpoint with its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// The HMAC-SHA256 key of the `Tillstream-Signature` header (`whsec_...`). Shown once.
    pub secret: String,
}

/// `POST /v1/webhooks/{endpoint_id}/rotate-secret` (send `{}` for the default overlap).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateWebhookSecret {
    /// How long the current secret keeps signing deliveries next to the new one, in
    /// seconds: 0 ends it at once; absent: 86400 (24 h); at most 604800 (7 days).
    #[schema(maximum = 604800)]
    pub expires_in_secs: Option<u64>,
}

/// An endpoint after a rotation, with its new signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedWebhookSecret {
    /// The endpoint (`previous_secret_expires_at` says until when the old secret signs too).
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// The new HMAC-SHA256 key of the `Tillstream-Signature` header (`whsec_...`). Shown once.
    pub secret: String,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookDeliveryStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Dead-lettered: attempts exhausted, or the endpoint was disabled. Re-send it with
    /// `POST .../resend`.
    Dead,
}

impl From<DeliveryStatus> for WebhookDeliveryStatus {
    fn from(status: DeliveryStatus) -> Self {
        match status {
            DeliveryStatus::Pending => Self::Pending,
            DeliveryStatus::Delivered => Self::Delivered,
            DeliveryStatus::Dead => Self::Dead,
        }
    }
}

/// One event for one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    /// Delivery id (also sent as `Tillstream-Delivery-Id`).
    pub id: String,
    /// The event's id (sent as `Tillstream-Event-Id`).
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The event's stream sequence.
    pub sequence: i64,
    /// `pending`, `delivered` or `dead`.
    pub status: WebhookDeliveryStatus,
    /// Attempts made (counted afresh when re-sent).
    pub attempts: u32,
    /// When the next attempt may be made (pending only).
    pub next_attempt_at: DateTime<Utc>,
    /// When the receiver accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The last attempt's HTTP status, if it got one.
    pub last_status: Option<u16>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

impl From<&Delivery> for WebhookDelivery {
    fn from(delivery: &Delivery) -> Self {
        Self {
            id: delivery.id.clone(),
            event_id: delivery.event_id.clone(),
            event_type: delivery.event_type.clone(),
            sequence: delivery.sequence,
            status: delivery.status.into(),
            attempts: delivery.attempts,
            next_attempt_at: delivery.next_attempt_at,
            delivered_at: delivery.delivered_at,
            last_status: delivery.last_status,
            last_error: delivery.last_error.clone(),
            created_at: delivery.created_at,
        }
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound {
        resource: "webhook endpoint",
        id: id.to_owned(),
    }
}

async fn endpoint_of(state: &AppState, caller: &Caller, id: &str) -> Result<Endpoint, ApiError> {
    state
        .webhooks
        .endpoint(caller.tenant.as_str(), id)
        .await?
        .filter(|endpoint| manages(caller, endpoint))
        .ok_or_else(|| not_found(id))
}

/// Whether `caller` manages `endpoint`: any endpoint of its tenant when not limited to
/// locations; else only a store's endpoint whose locations are all the caller's.
fn manages(caller: &Caller, endpoint: &Endpoint) -> bool {
    match &caller.readable {
        Readable::Everywhere => true,
        Readable::Only(allowed) => endpoint.locations.as_ref().is_some_and(|locations| {
            !locations.is_empty()
                && locations
                    .iter()
                    .all(|location| allowed.iter().any(|own| own.as_str() == location))
        }),
    }
}

/// What `endpoint`, as `caller` read and checked it, must still match when `caller`
/// changes it: nothing more for a caller not limited to locations; for one limited to
/// some, the stores it was checked with, so an endpoint moved to another store meanwhile
/// is left alone (404).
fn as_checked(caller: &Caller, endpoint: &Endpoint) -> bson::Document {
    match caller.readable {
        Readable::Everywhere => bson::Document::new(),
        Readable::Only(_) => bson::doc! {"locations": endpoint.locations.clone()},
    }
}

/// The filter of [`as_checked`] for endpoint `id`, reading it only for a caller limited
/// to locations (404 unless it manages it, [`manages`]); the store operations of the
/// others are held to the tenant already.
async fn held_to_own(state: &AppState, caller: &Caller, id: &str) -> Result<bson::Document, ApiError> {
    if caller.readable == Readable::Everywhere {
        return Ok(bson::Document::new());
    }
    Ok(as_checked(caller, &endpoint_of(state, caller, id).await?))
}

/// Add an endpoint (admins, or a key with the `webhooks` scope). The answer carries its
/// signing secret, once. Events recorded from now on (within a few seconds) are delivered.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses((status = 201, body = CreatedWebhook, description = "Created: `secret` is shown this once"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["webhooks"])))]
#[tracing::instrument(name = "create_webhook", skip_all)]
async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    let url = checked_url(&state, &request.url)?;
    fields::optional_text("description", request.description.as_deref())?;
    let event_types = request.event_types.map(checked_event_types).transpose()?;
    let locations = match (request.locations, &caller.readable) {
        (Some(locations), _) => Some(checked_locations(&state, &caller, locations).await?),
        (None, Readable::Everywhere) => None,
        // A key of some stores makes an endpoint of its stores.
        (None, Readable::Only(own)) => Some(own.iter().map(ToString::to_string).collect()),
    };
    let tenant = caller.tenant.as_str();
    if state.webhooks.endpoints_of(tenant).await?.len() >= MAX_ENDPOINTS {
        return Err(ApiError::StateConflict {
            code: ErrorCode::TooManyWebhooks,
            message: format!("a tenant has at most {MAX_ENDPOINTS} webhook endpoints"),
        });
    }
    let id = uuid::Uuid::now_v7().simple().to_string();
    let secret = format!("whsec_{}", secrets::random_token());
    let endpoint = Endpoint {
        secret: state.webhooks.seal_secret(&id, &secret),
        id,
        organization_id: tenant.to_owned(),
        url,
        description: request
            .description
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty()),
        event_types,
        locations,
        previous_secret: None,
        previous_secret_expires_at: None,
        status: EndpointStatus::Active,
        created_at: Utc::now(),
        failing_since: None,
        disabled_at: None,
        disabled_reason: None,
    };
    state.webhooks.create_endpoint(&endpoint).await?;
    tracing::info!(endpoint = %endpoint.id, "webhook endpoint created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            endpoint: WebhookEndpoint::from(&endpoint),
            secret,
        }),
    ))
}

/// An endpoint's URL as stored: `https` on a public host unless the server allows others.
fn checked_url(state: &AppState, url: &str) -> Result<String, ApiError> {
    webhooks::target::check_url(url.trim(), state.webhook_allow_private_hosts)
        .map(|url| url.to_string())
        .map_err(|err| ApiError::invalid("url", err.to_string()))
}

/// An endpoint's event types as stored: at least one, each known, sorted, once each.
fn checked_event_types(names: Vec<String>) -> Result<Vec<String>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::invalid(
            "event_types",
            "name at least one event type, or leave it out for every type",
        ));
    }
    let mut types = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let event_type = EventType::from_name(name.trim())
            .ok_or_else(|| ApiError::invalid(format!("event_types[{i}]"), format!("unknown event type {name:?}")))?;
        types.push(event_type.as_str().to_owned());
    }
    types.sort_unstable();
    types.dedup();
    Ok(types)
}

/// An endpoint's locations as stored ([`limits::named`]), each one the caller may read at
/// (403 `location_forbidden` for another store).
async fn checked_locations(state: &AppState, caller: &Caller, locations: Vec<String>) -> Result<Vec<String>, ApiError> {
    let locations = limits::named(state, &caller.tenant, locations).await?;
    for location in &locations {
        caller.readable.check(location)?;
    }
    Ok(locations)
}

/// `PATCH /v1/webhooks/{endpoint_id}`: only the fields sent change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhook {
    /// Where events are POSTed from now on (the rules of creation). Deliveries not yet
    /// made go there too.
    #[serde(default)]
    pub url: Option<String>,
    /// The event types it receives from now on; `null`: every type.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, nullable)]
    pub event_types: Option<Option<Vec<String>>>,
    /// Its label; `null` or blank removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    /// The locations whose events it receives from now on (with the chain's); `null`:
    /// every location's, which a key limited to locations may not ask for (403
    /// `location_forbidden`), as it may not name another store.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>, nullable)]
    pub locations: Option<Option<Vec<String>>>,
}

/// A field that is present (its value, `null` included), as opposed to absent (`None`,
/// by `#[serde(default)]`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Change an endpoint's URL, event types, label or locations (admins, or a key with
/// `webhooks`; a key limited to locations changes only its stores' endpoints and keeps
/// them to its stores). Only the fields sent change; events recorded from then on (within
/// a few seconds) follow the new settings; deliveries not yet made go to the new URL.
#[utoipa::path(patch, path = "/v1/webhooks/{endpoint_id}", tag = "webhooks",
    params(("endpoint_id" = String, Path)), request_body = UpdateWebhook,
    responses((status = 200, body = WebhookEndpoint),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["webhooks"])))]
#[tracing::instrument(name = "update_webhook", skip_all)]
async fn update_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<UpdateWebhook>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    // Another tenant's endpoint, or one a limited key does not manage, is 404 before the
    // body is judged.
    let filter = as_checked(&caller, &endpoint_of(&state, &caller, &id).await?);
    let (mut set, mut unset) = (bson::Document::new(), bson::Document::new());
    if let Some(url) = request.url {
        set.insert("url", checked_url(&state, &url)?);
    }
    match request.event_types {
        None => {}
        Some(None) => {
            unset.insert("event_types", "");
        }
        Some(Some(names)) => {
            set.insert("event_types", checked_event_types(names)?);
        }
    }
    match request.description {
        None => {}
        Some(description) => {
            fields::optional_text("description", description.as_deref())?;
            match description.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
                Some(description) => set.insert("description", description),
                None => unset.insert("description", ""),
            };
        }
    }
    match request.locations {
        None => {}
        Some(None) if caller.readable != Readable::Everywhere => {
            return Err(ApiError::LocationForbidden { location: None });
        }
        Some(None) => {
            unset.insert("locations", "");
        }
        Some(Some(locations)) => {
            set.insert("locations", checked_locations(&state, &caller, locations).await?);
        }
    }
    let updated = state
        .webhooks
        .update_endpoint(caller.tenant.as_str(), &id, set, unset, filter)
        .await?
        .ok_or_else(|| not_found(&id))?;
    tracing::info!(endpoint = %id, "webhook endpoint changed");
    Ok(Json(WebhookEndpoint::from(&updated)))
}

/// The tenant's webhook endpoints, oldest first (admins, or a key with `webhooks`).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Items<WebhookEndpoint>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["webhooks"])))]
async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Items<WebhookEndpoint>>, ApiError> {
    let mut endpoints = state.webhooks.endpoints_of(caller.tenant.as_str()).await?;
    endpoints.retain(|endpoint| manages(&caller, endpoint));
    Ok(Json(Items {
        items: endpoints.iter().map(WebhookEndpoint::from).collect(),
    }))
}

/// One endpoint: its status, since when it is failing, and why it was disabled.
#[utoipa::path(get, path = "/v1/webhooks/{endpoint_id}", tag = "webhooks",
    params(("endpoint_id" = String, Path)),
    responses((status = 200, body = WebhookEndpoint), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["webhooks"])))]
async fn get_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    Ok(Json(WebhookEndpoint::from(&endpoint_of(&state, &caller, &id).await?)))
}

/// Delete an endpoint: nothing more is sent to it (a request already under way may still
/// arrive), and its deliveries, pending and past, are deleted with it: its history is no
/// longer readable. Disable it instead to keep the history. 404 for another tenant's
/// endpoint, or one deleted already.
#[utoipa::path(delete, path = "/v1/webhooks/{endpoint_id}", tag = "webhooks",
    params(("endpoint_id" = String, Path)),
    responses((status = 204, description = "Deleted, with its deliveries"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["webhooks"])))]
#[tracing::instrument(name = "delete_webhook", skip_all)]
async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let filter = held_to_own(&state, &caller, &id).await?;
    if !state
        .webhooks
        .delete_endpoint(caller.tenant.as_str(), &id, filter)
        .await?
    {
        return Err(not_found(&id));
    }
    tracing::info!(endpoint = %id, "webhook endpoint deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Give an endpoint a new signing secret, shown this once. For `expires_in_secs` (default
/// 24 h, at most 7 days, 0 for none) each delivery is signed with both secrets (two `v1=`
/// values), so the receiver can switch to the new one without refusing a delivery; after
/// that only the new one signs. Rotating again during an overlap ends the older secret.
#[utoipa::path(post, path = "/v1/webhooks/{endpoint_id}/rotate-secret", tag = "webhooks",
    params(("endpoint_id" = String, Path)), request_body = RotateWebhookSecret,
    responses((status = 200, body = RotatedWebhookSecret, description = "Rotated: `secret` is shown this once"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["webhooks"])))]
#[tracing::instrument(name = "rotate_webhook_secret", skip_all)]
async fn rotate_webhook_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<RotateWebhookSecret>,
) -> Result<Json<RotatedWebhookSecret>, ApiError> {
    let overlap = request.expires_in_secs.unwrap_or(DEFAULT_SECRET_OVERLAP_SECS);
    if overlap > MAX_SECRET_OVERLAP_SECS {
        return Err(ApiError::invalid(
            "expires_in_secs",
            format!("the old secret may sign for at most {MAX_SECRET_OVERLAP_SECS} s (7 days)"),
        ));
    }
    let overlap_until = (overlap > 0).then(|| Utc::now() + chrono::Duration::seconds(overlap as i64));
    let filter = held_to_own(&state, &caller, &id).await?;
    let secret = format!("whsec_{}", secrets::random_token());
    let endpoint = match state
        .webhooks
        .rotate_secret(caller.tenant.as_str(), &id, &secret, overlap_until, filter)
        .await
    {
        Ok(Some(endpoint)) => endpoint,
        Ok(None) => return Err(not_found(&id)),
        Err(RotateError::Store(err)) => return Err(err.into()),
        Err(err) => {
            return Err(ApiError::Internal(
                anyhow::Error::new(err).context("rotating a webhook secret"),
            ));
        }
    };
    tracing::info!(endpoint = %id, overlap_secs = overlap, "webhook secret rotated");
    Ok(Json(RotatedWebhookSecret {
        endpoint: WebhookEndpoint::from(&endpoint),
        secret,
    }))
}

/// Stop delivering to an endpoint: its pending deliveries are dead-lettered (re-send them
/// after enabling it), and events recorded while it is disabled are not delivered to it
/// (read them from the feed).
#[utoipa::path(post, path = "/v1/webhooks/{endpoint_id}/disable", tag = "webhooks",
    params(("endpoint_id" = String, Path)),
    responses((status = 200, body = WebhookEndpoint), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["webhooks"])))]
async fn disable_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    let mut filter = as_checked(&caller, &endpoint_of(&state, &caller, &id).await?);
    filter.insert("organization_id", caller.tenant.as_str());
    state.webhooks.disable(&id, "disabled through the API", filter).await?;
    Ok(Json(WebhookEndpoint::from(&endpoint_of(&state, &caller, &id).await?)))
}

/// Deliver to an endpoint again (after it was disabled); its failure record is cleared.
#[utoipa::path(post, path = "/v1/webhooks/{endpoint_id}/enable", tag = "webhooks",
    params(("endpoint_id" = String, Path)),
    responses((status = 200, body = WebhookEndpoint), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["webhooks"])))]
async fn enable_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    let filter = held_to_own(&state, &caller, &id).await?;
    let endpoint = state
        .webhooks
        .enable(caller.tenant.as_str(), &id, filter)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(WebhookEndpoint::from(&endpoint)))
}

/// Parameters of `GET /v1/webhooks/{endpoint_id}/deliveries`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Only deliveries in this state (`dead` lists the dead letters).
    pub status: Option<WebhookDeliveryStatus>,
}

/// An endpoint's deliveries, newest event first (at most 100), optionally of one status:
/// `status=dead` lists its dead letters.
#[utoipa::path(get, path = "/v1/webhooks/{endpoint_id}/deliveries", tag = "webhooks",
    params(("endpoint_id" = String, Path), DeliveriesQuery),
    responses((status = 200, body = Items<WebhookDelivery>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["webhooks"])))]
async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<DeliveriesQuery>,
) -> Result<Json<Items<WebhookDelivery>>, ApiError> {
    endpoint_of(&state, &caller, &id).await?;
    let status = query.status.map(|status| match status {
        WebhookDeliveryStatus::Pending => DeliveryStatus::Pending,
        WebhookDeliveryStatus::Delivered => DeliveryStatus::Delivered,
        WebhookDeliveryStatus::Dead => DeliveryStatus::Dead,
    });
    let deliveries = state
        .webhooks
        .deliveries_of(caller.tenant.as_str(), &id, status, MAX_DELIVERIES)
        .await?;
    Ok(Json(Items {
        items: deliveries.iter().map(WebhookDelivery::from).collect(),
    }))
}

/// Send a dead (or delivered) delivery again: pending at once, attempts counted afresh.
/// 409 `webhook_disabled` while the endpoint is disabled, 409 `delivery_pending` when it
/// is still pending.
#[utoipa::path(post, path = "/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend", tag = "webhooks",
    params(("endpoint_id" = String, Path), ("delivery_id" = String, Path)),
    responses((status = 202, body = WebhookDelivery, description = "Queued: pending, due now"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = ["webhooks"])))]
async fn resend_delivery(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<WebhookDelivery>), ApiError> {
    let endpoint = endpoint_of(&state, &caller, &id).await?;
    if endpoint.status != EndpointStatus::Active {
        return Err(ApiError::StateConflict {
            code: ErrorCode::WebhookDisabled,
            message: "the endpoint is disabled; enable it first".to_owned(),
        });
    }
    let tenant = caller.tenant.as_str();
    match state.webhooks.resend(tenant, &id, &delivery_id).await? {
        Some(delivery) => Ok((StatusCode::ACCEPTED, Json(WebhookDelivery::from(&delivery)))),
        None => {
            let exists = state
                .webhooks
                .deliveries()
                .find_one(bson::doc! {"_id": &delivery_id, "organization_id": tenant, "endpoint_id": &id})
                .await?
                .is_some();
            Err(if exists {
                ApiError::StateConflict {
                    code: ErrorCode::DeliveryPending,
                    message: "the delivery is pending already".to_owned(),
                }
            } else {
                ApiError::NotFound {
                    resource: "webhook delivery",
                    id: delivery_id,
                }
            })
        }
    }
}
