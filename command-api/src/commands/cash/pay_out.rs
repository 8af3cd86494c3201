//! Paying cash out of an open drawer (a supplier, supplies, a deposit handed back): it
//! lowers the expected cash, and reports group paid-outs by reason.

use chrono::{DateTime, Utc};
use events::event::{CashReason, PaidOutRecorded};
use events::{CashMovementId, DomainEvent, DrawerSessionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Cashier, TenantContext};
use crate::commands::cash::{DrawerSessionState, movement_checks};
use crate::commands::{Command, Decision, Route};
use crate::error::ApiError;

/// `POST /v1/drawer-sessions/{session_id}/paid-outs`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayOut {
    /// Terminal-generated id of this paid-out; re-sending it is safe.
    #[schema(value_type = String)]
    pub movement_id: CashMovementId,
    /// Amount, minor units (> 0).
    pub amount_minor: i64,
    /// Why, from the fixed list (docs/cash.md); `note` says the rest.
    #[schema(value_type = String, example = "vendor_payment")]
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

impl Command for PayOut {
    const NAME: &'static str = "PayOut";
    const ROUTE: Route = Route::post(
        "/v1/drawer-sessions/{session_id}/paid-outs",
        "pay_out",
        "cash",
        "Take cash out of an open drawer for an expense (not a refund).",
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
        format!("paid-out:{session}:{}", self.movement_id)
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(decide(on.id, self, on.context, on.state, on.now)?.into())
    }
}

/// Checks the paid-out against the session and builds its event.
pub fn decide(
    session: &DrawerSessionId,
    command: &PayOut,
    context: &TenantContext,
    state: &DrawerSessionState,
    now: DateTime<Utc>,
) -> Result<PaidOutRecorded, ApiError> {
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
    Ok(PaidOutRecorded {
        session_id: session.clone(),
        movement_id: command.movement_id.clone(),
        amount_minor: command.amount_minor,
        reason: command.reason,
        note: command.note.clone(),
    })
}
