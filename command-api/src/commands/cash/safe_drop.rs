//! A safe drop: cash moved from an open drawer into the safe, lowering the expected cash.

use chrono::{DateTime, Utc};
use events::event::SafeDropRecorded;
use events::{CashMovementId, DomainEvent, DrawerSessionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Cashier, TenantContext};
use crate::commands::cash::{DrawerSessionState, movement_checks};
use crate::commands::{Command, Decision, Route};
use crate::error::ApiError;

/// `POST /v1/drawer-sessions/{session_id}/safe-drops`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SafeDrop {
    /// Terminal-generated id of this safe drop; re-sending it is safe.
    #[schema(value_type = String)]
    pub movement_id: CashMovementId,
    /// Amount, minor units (> 0).
    pub amount_minor: i64,
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

impl Command for SafeDrop {
    const NAME: &'static str = "SafeDrop";
    const ROUTE: Route = Route::post(
        "/v1/drawer-sessions/{session_id}/safe-drops",
        "safe_drop",
        "cash",
        "Move cash from an open drawer into the safe.",
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
        format!("safe-drop:{session}:{}", self.movement_id)
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(decide(on.id, self, on.context, on.state, on.now)?.into())
    }
}

/// Checks the safe drop against the session and builds its event.
pub fn decide(
    session: &DrawerSessionId,
    command: &SafeDrop,
    context: &TenantContext,
    state: &DrawerSessionState,
    now: DateTime<Utc>,
) -> Result<SafeDropRecorded, ApiError> {
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
    Ok(SafeDropRecorded {
        session_id: session.clone(),
        movement_id: command.movement_id.clone(),
        amount_minor: command.amount_minor,
        note: command.note.clone(),
    })
}
