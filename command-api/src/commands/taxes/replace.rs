//! A new configuration for a tax jurisdiction. Sales already recorded keep the taxes they
//! were priced with; rates carry their own effective dates, so a late offline sale is
//! priced by the rate of its own day.

use chrono::{DateTime, Utc};
use events::DomainEvent;
use events::event::TaxJurisdictionConfigured;
use events::tax::Jurisdiction;
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::commands::taxes::{JurisdictionState, invalidate, valid};
use crate::commands::{Command, CommandMeta, Decision, JurisdictionVersion, Route, expect_version, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `PUT /v1/tax-jurisdictions/{jurisdiction_id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceJurisdiction {
    /// The whole new configuration (its `id` must be the path's).
    pub jurisdiction: Jurisdiction,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for ReplaceJurisdiction {
    const NAME: &'static str = "ReplaceJurisdiction";
    const ROUTE: Route = Route::put(
        "/v1/tax-jurisdictions/{jurisdiction_id}",
        "replace_tax_jurisdiction",
        "taxes",
        "Replace a tax jurisdiction's configuration.",
    )
    .created("Recorded; ETag holds the new version");
    const ETAG: bool = true;
    type Role = Admin;
    type Target = JurisdictionVersion;
    type Id = JurisdictionVersion;
    type State = JurisdictionState;
    type Loaded = ();

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, target: &JurisdictionVersion, _: Option<&str>) -> Result<JurisdictionVersion, ApiError> {
        Ok(target.clone())
    }

    fn expect(
        &self,
        target: &JurisdictionVersion,
        state: &JurisdictionState,
        _: &[StoredEvent],
    ) -> Result<Expected, ApiError> {
        expect_version(
            "tax jurisdiction",
            &target.id,
            state.jurisdiction.is_some(),
            state.version,
            target.version,
        )
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        on.context.check_tenant(self.tenant_id.as_deref())?;
        fields::occurred_at(self.occurred_at, on.now)?;
        valid(&self.jurisdiction, &on.id.id)?;
        Ok(TaxJurisdictionConfigured {
            jurisdiction: self.jurisdiction.clone(),
        }
        .into())
    }

    async fn recorded(&self, app: &AppState, target: &JurisdictionVersion, meta: &CommandMeta) -> Result<(), ApiError> {
        invalidate(app, meta, &target.id).await;
        Ok(())
    }
}
