//! Opening a location: from then on commands may name it.

use chrono::{DateTime, Utc};
use events::event::LocationOpened;
use events::{DomainEvent, LocationId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Admin, TenantContext};
use crate::commands::locations::{LocationDetailsInput, details, invalidate};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /v1/locations`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenLocation {
    /// The id sales, stock movements and reports name the location by.
    #[schema(value_type = String, example = "main-street")]
    pub location_id: LocationId,
    /// Name, time zone, day start, currency, tax jurisdiction.
    pub details: LocationDetailsInput,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for OpenLocation {
    const NAME: &'static str = "OpenLocation";
    const ROUTE: Route = Route::post("/v1/locations", "open_location", "locations", "Open a location.")
        .created("Opened; ETag holds the version");
    const CREATES: bool = true;
    const ETAG: bool = true;
    type Role = Admin;
    type Target = ();
    type Id = LocationId;
    type State = ();
    type Loaded = ();

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, (): &(), _: Option<&str>) -> Result<LocationId, ApiError> {
        Ok(self.location_id.clone())
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(open(self, on.context, on.now)?.into())
    }

    async fn recorded(&self, app: &AppState, location: &LocationId, meta: &CommandMeta) -> Result<(), ApiError> {
        invalidate(app, meta, location).await;
        Ok(())
    }
}

/// Checks an opening.
pub fn open(command: &OpenLocation, context: &TenantContext, now: DateTime<Utc>) -> Result<LocationOpened, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    Ok(LocationOpened {
        location_id: command.location_id.clone(),
        details: details(&command.details)?,
    })
}
