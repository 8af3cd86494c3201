//! Defining a tax jurisdiction.

use chrono::{DateTime, Utc};
use events::DomainEvent;
use events::event::TaxJurisdictionConfigured;
use events::tax::{Jurisdiction, JurisdictionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::commands::taxes::{invalidate, valid};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /v1/tax-jurisdictions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefineJurisdiction {
    /// The whole configuration: taxes with dated rates, deposits, rounding.
    pub jurisdiction: Jurisdiction,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for DefineJurisdiction {
    const NAME: &'static str = "DefineJurisdiction";
    const ROUTE: Route = Route::post(
        "/v1/tax-jurisdictions",
        "define_tax_jurisdiction",
        "taxes",
        "Define a tax jurisdiction.",
    )
    .created("Defined; ETag holds the version");
    const CREATES: bool = true;
    const ETAG: bool = true;
    type Role = Admin;
    type Target = ();
    type Id = JurisdictionId;
    type State = ();
    type Loaded = ();

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, (): &(), _: Option<&str>) -> Result<JurisdictionId, ApiError> {
        Ok(self.jurisdiction.id.clone())
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        on.context.check_tenant(self.tenant_id.as_deref())?;
        fields::occurred_at(self.occurred_at, on.now)?;
        valid(&self.jurisdiction, on.id)?;
        Ok(TaxJurisdictionConfigured {
            jurisdiction: self.jurisdiction.clone(),
        }
        .into())
    }

    async fn recorded(&self, app: &AppState, id: &JurisdictionId, meta: &CommandMeta) -> Result<(), ApiError> {
        invalidate(app, meta, id).await;
        Ok(())
    }
}
