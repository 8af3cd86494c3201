//! Ending a promotion early: it no longer applies to sales that happen from then on
//! (sales rung up before, even if uploaded later, keep it).

use chrono::{DateTime, Utc};
use events::DomainEvent;
use events::event::PromotionEnded;
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use crate::commands::promotions::{PromotionState, PromotionVersion, check_change, expect_version};
use crate::commands::{Command, Decision, Route, fields};
use crate::error::ApiError;

/// `POST /v1/promotions/{promotion_id}/end`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndPromotion {
    /// Why (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When, by the client's clock; defaults to now. The promotion applies to sales
    /// before this instant.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for EndPromotion {
    const NAME: &'static str = "EndPromotion";
    const ROUTE: Route = Route::post(
        "/v1/promotions/{promotion_id}/end",
        "end_promotion",
        "promotions",
        "End a promotion early.",
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
        Ok(end(on.id, self, on.context, on.state, on.now)?.into())
    }
}

/// Checks an end against the promotion's state.
pub fn end(
    target: &PromotionVersion,
    command: &EndPromotion,
    context: &TenantContext,
    state: &PromotionState,
    now: DateTime<Utc>,
) -> Result<PromotionEnded, ApiError> {
    check_change(
        target,
        context,
        command.tenant_id.as_deref(),
        command.occurred_at,
        state,
        now,
    )?;
    fields::optional_text("reason", command.reason.as_deref())?;
    Ok(PromotionEnded {
        promotion_id: target.id.clone(),
        reason: command.reason.clone(),
    })
}
