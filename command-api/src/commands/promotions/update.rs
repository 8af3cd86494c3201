//! New details for a promotion. Sales already recorded keep the discounts they got.

use chrono::{DateTime, Utc};
use events::DomainEvent;
use events::event::PromotionUpdated;
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use crate::commands::promotions::{
    PromotionDetailsInput, PromotionState, PromotionVersion, check_change, details, expect_version,
};
use crate::commands::{Command, Decision, Route};
use crate::error::ApiError;

/// `PUT /v1/promotions/{promotion_id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePromotion {
    /// The new details (all of them).
    pub details: PromotionDetailsInput,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for UpdatePromotion {
    const NAME: &'static str = "UpdatePromotion";
    const ROUTE: Route = Route::put(
        "/v1/promotions/{promotion_id}",
        "update_promotion",
        "promotions",
        "Change a promotion's details.",
    )
    .created("Recorded; ETag holds the new version");
    const ETAG: bool = true;
    type Role = Manager;
    type Target = PromotionVersion;
    type Id = PromotionVersion;
    type State = PromotionState;
    type Loaded = ();

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, target: &PromotionVersion, _: Option<&str>) -> Result<PromotionVersion, ApiError> {
        Ok(target.clone())
    }

    fn expect(
        &self,
        target: &PromotionVersion,
        state: &PromotionState,
        history: &[StoredEvent],
    ) -> Result<Expected, ApiError> {
        expect_version(target, state, history)
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(update(on.id, self, on.context, on.state, on.now)?.into())
    }
}

/// Checks an update against the promotion's state.
pub fn update(
    target: &PromotionVersion,
    command: &UpdatePromotion,
    context: &TenantContext,
    state: &PromotionState,
    now: DateTime<Utc>,
) -> Result<PromotionUpdated, ApiError> {
    check_change(
        target,
        context,
        command.tenant_id.as_deref(),
        command.occurred_at,
        state,
        now,
    )?;
    Ok(PromotionUpdated {
        promotion_id: target.id.clone(),
        details: details(&command.details)?,
    })
}
