//! Paying cash into an open drawer (more change, a correction): it raises the expected cash.

use chrono::{DateTime, Utc};
use events::event::{CashReason, PaidInRecorded};
use events::{CashMovementId, DomainEvent, DrawerSessionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Cashier, TenantContext};
use crate::commands::cash::{DrawerSessionState, movement_checks};
use crate::commands::{Command, Decision, Route};
use crate::error::ApiError;

/// `POST /v1/drawer-sessions/{session_id}/paid-ins`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayIn {
    /// Terminal-generated id of this paid-in; re-sending it is safe.
    #[schema(value_type = String)]
    pub movement_id: CashMovementId,
    /// Amount, minor units (> 0).
    pub amount_minor: i64,
    /// Why, from the fixed list (docs/cash.md); `note` says the rest.
    #[schema(value_type = String, example = "change_fund")]
    pub reason: CashReason,
    /// Free text.
    #[serde(default)]
    pub note: Option<String>,
    /// When, by the terminal's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for PayIn {
    const NAME: &'static str = "PayIn";
    const ROUTE: Route = Route::post(
        "/v1/drawer-sessions/{session_id}/paid-ins",
        "pay_in",
        "cash",
        "Put cash into an open drawer (not a sale).",
    );
    type Role = Cashier;
    type Target = DrawerSessionId;
    type Id = DrawerSessionId;
    type State = DrawerSessionState;
    type Loaded = ();

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, session: &DrawerSessionId, _: Option<&str>) -> Result<DrawerSessionId, ApiError> {
        Ok(session.clone())
    }

    fn natural_key(&self, session: &DrawerSessionId) -> String {
        format!("paid-in:{session}:{}", self.movement_id)
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(decide(on.id, self, on.context, on.state, on.now)?.into())
    }
}

/// Checks the paid-in against the session and builds its event.
pub fn decide(
    session: &DrawerSessionId,
    command: &PayIn,
    context: &TenantContext,
    state: &DrawerSessionState,
    now: DateTime<Utc>,
) -> Result<PaidInRecorded, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    movement_checks(
        session,
        state,
        context,
        &command.movement_id,
        command.amount_minor,
        command.note.as_deref(),
        command.occurred_at,
        now,
    )?;
    Ok(PaidInRecorded {
        session_id: session.clone(),
        movement_id: command.movement_id.clone(),
        amount_minor: command.amount_minor,
        reason: command.reason,
        note: command.note.clone(),
    })
}
