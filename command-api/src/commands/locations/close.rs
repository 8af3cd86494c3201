//! Closing a location: new commands naming it are refused from then on, except sales that
//! happened before the close.

use chrono::{DateTime, Utc};
use events::DomainEvent;
use events::event::LocationClosed;
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Admin, TenantContext};
use crate::commands::locations::{LocationState, existing, expect_version, invalidate};
use crate::commands::{Command, CommandMeta, Decision, LocationVersion, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /v1/locations/{location_id}/close`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseLocation {
    /// Why.
    pub reason: String,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for CloseLocation {
    const NAME: &'static str = "CloseLocation";
    const ROUTE: Route = Route::post(
        "/v1/locations/{location_id}/close",
        "close_location",
        "locations",
        "Close a location.",
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
        Ok(close(on.id, self, on.context, on.state, on.now)?.into())
    }

    async fn recorded(&self, app: &AppState, target: &LocationVersion, meta: &CommandMeta) -> Result<(), ApiError> {
        invalidate(app, meta, &target.id).await;
        Ok(())
    }
}

/// Checks a close against the location's state.
pub fn close(
    target: &LocationVersion,
    command: &CloseLocation,
    context: &TenantContext,
    state: &LocationState,
    now: DateTime<Utc>,
) -> Result<LocationClosed, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::text("reason", &command.reason)?;
    fields::occurred_at(command.occurred_at, now)?;
    existing(&target.id, state)?;
    Ok(LocationClosed {
        location_id: target.id.clone(),
        reason: command.reason.clone(),
    })
}
