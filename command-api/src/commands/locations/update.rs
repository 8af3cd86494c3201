//! New details for a location. Days already recorded keep their dates: each sale carries
//! the business date it was given when it was recorded.

use chrono::{DateTime, Utc};
use events::DomainEvent;
use events::event::LocationUpdated;
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Admin, TenantContext};
use crate::commands::locations::{LocationDetailsInput, LocationState, details, existing, expect_version, invalidate};
use crate::commands::{Command, CommandMeta, Decision, LocationVersion, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `PUT /v1/locations/{location_id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLocation {
    /// The new details (all of them).
    pub details: LocationDetailsInput,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for UpdateLocation {
    const NAME: &'static str = "UpdateLocation";
    const ROUTE: Route = Route::put(
        "/v1/locations/{location_id}",
        "update_location",
        "locations",
        "Change a location's details.",
    )
    .created("Recorded; ETag holds the new version");
    const ETAG: bool = true;
    type Role = Admin;
    type Target = LocationVersion;
    type Id = LocationVersion;
    type State = LocationState;
    type Loaded = ();

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, target: &LocationVersion, _: Option<&str>) -> Result<LocationVersion, ApiError> {
        Ok(target.clone())
    }

    fn expect(
        &self,
        target: &LocationVersion,
        state: &LocationState,
        history: &[StoredEvent],
    ) -> Result<Expected, ApiError> {
        expect_version(target, state, history)
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(update(on.id, self, on.context, on.state, on.now)?.into())
    }

    async fn recorded(&self, app: &AppState, target: &LocationVersion, meta: &CommandMeta) -> Result<(), ApiError> {
        invalidate(app, meta, &target.id).await;
        Ok(())
    }
}

/// Checks an update against the location's state.
pub fn update(
    target: &LocationVersion,
    command: &UpdateLocation,
    context: &TenantContext,
    state: &LocationState,
    now: DateTime<Utc>,
) -> Result<LocationUpdated, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    existing(&target.id, state)?;
    let details = details(&command.details)?;
    if let Some(current) = &state.details
        && current.currency != details.currency
    {
        return Err(ApiError::invalid(
            "details.currency",
            format!(
                "the location sells in {}; open a new location for another currency",
                current.currency
            ),
        ));
    }
    Ok(LocationUpdated {
        location_id: target.id.clone(),
        details,
    })
}
