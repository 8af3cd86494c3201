//! Creating a promotion: from its `starts_at` it applies to quotes and recorded sales at
//! its locations.

use chrono::{DateTime, Utc};
use events::event::PromotionCreated;
use events::{DomainEvent, PromotionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use crate::commands::promotions::{PromotionDetailsInput, details};
use crate::commands::{Command, Decision, Route, fields};
use crate::error::ApiError;

/// `POST /v1/promotions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePromotion {
    /// The id reports and receipts name the promotion by.
    #[schema(value_type = String, example = "wine-case-10")]
    pub promotion_id: PromotionId,
    /// Name, currency, rule, time window, locations, stacking.
    pub details: PromotionDetailsInput,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for CreatePromotion {
    const NAME: &'static str = "CreatePromotion";
    const ROUTE: Route = Route::post(
        "/v1/promotions",
        "create_promotion",
        "promotions",
        "Create a promotion.",
    )
    .created("Created; ETag holds the version");
    const CREATES: bool = true;
    const ETAG: bool = true;
    type Role = Manager;
    type Target = ();
    type Id = PromotionId;
    type State = ();
    type Loaded = ();

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, (): &(), _: Option<&str>) -> Result<PromotionId, ApiError> {
        Ok(self.promotion_id.clone())
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(create(self, on.context, on.now)?.into())
    }
}

/// Checks a creation.
pub fn create(
    command: &CreatePromotion,
    context: &TenantContext,
    now: DateTime<Utc>,
) -> Result<PromotionCreated, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    Ok(PromotionCreated {
        promotion_id: command.promotion_id.clone(),
        details: details(&command.details)?,
    })
}
