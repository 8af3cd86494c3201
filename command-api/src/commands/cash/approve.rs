//! A manager approving a closed session's over/short that exceeds the tenant's threshold.
//!
//! Only the projector knows a session's expected cash (it sums the sales, voids and
//! refunds that named it), so the approval is checked against the session's document in
//! the read model: it must be closed there and waiting for approval, and the manager
//! names the over/short they accept, which must be the one the document shows (a late
//! sale that changed it makes the approval stale: 422 naming `over_short_minor`).

use chrono::{DateTime, Utc};
use events::event::OverShortApproved;
use events::{DomainEvent, DrawerSessionId};
use serde::{Deserialize, Serialize};
use tenantdb::collections;
use tenantdb::docs::{ApprovalStatus, DrawerSessionDoc, ID};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use crate::codes::ErrorCode;
use crate::commands::cash::DrawerSessionState;
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /v1/drawer-sessions/{session_id}/approve`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveOverShort {
    /// The over/short being accepted, minor units, as `GET /v1/drawer-sessions/{id}`
    /// shows it (counted − expected).
    pub over_short_minor: i64,
    /// Why it is accepted.
    pub note: String,
    /// When, by the terminal's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for ApproveOverShort {
    const NAME: &'static str = "ApproveOverShort";
    const ROUTE: Route = Route::post(
        "/v1/drawer-sessions/{session_id}/approve",
        "approve_over_short",
        "cash",
        "Approve a closed session's over/short beyond the threshold (manager).",
    );
    type Role = Manager;
    type Target = DrawerSessionId;
    type Id = DrawerSessionId;
    type State = DrawerSessionState;
    /// The session's document in the read model, if it is there.
    type Loaded = Option<DrawerSessionDoc>;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, session: &DrawerSessionId, _: Option<&str>) -> Result<DrawerSessionId, ApiError> {
        Ok(session.clone())
    }

    fn natural_key(&self, session: &DrawerSessionId) -> String {
        format!("drawer-approve:{session}")
    }

    async fn load(
        &self,
        app: &AppState,
        session: &DrawerSessionId,
        meta: &CommandMeta,
    ) -> Result<Option<DrawerSessionDoc>, ApiError> {
        let db = app.databases.database(&meta.context.tenant).await?;
        Ok(collections::drawer_sessions(&db)
            .find_one(bson::doc! {ID: session.as_str()})
            .await?)
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(approve(on.id, self, on.context, on.state, on.loaded.as_ref(), on.now)?.into())
    }
}

/// Checks an approval and builds its event.
pub fn approve(
    session: &DrawerSessionId,
    command: &ApproveOverShort,
    context: &TenantContext,
    state: &DrawerSessionState,
    doc: Option<&DrawerSessionDoc>,
    now: DateTime<Utc>,
) -> Result<OverShortApproved, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    fields::text("note", &command.note)?;
    if state.opened.is_none() {
        return Err(ApiError::NotFound {
            resource: "drawer session",
            id: session.to_string(),
        });
    }
    let nothing = |why: &str| ApiError::StateConflict {
        code: ErrorCode::NothingToApprove,
        message: format!("drawer session {session} {why}"),
    };
    if !state.closed {
        return Err(nothing("is still open"));
    }
    if state.approved {
        return Err(nothing("was approved already"));
    }
    let Some(doc) = doc.filter(|d| d.counted_cash_minor.is_some()) else {
        return Err(nothing(
            "is closed, but its close is not in the read model yet; retry shortly",
        ));
    };
    if doc.approval != Some(ApprovalStatus::Pending) {
        return Err(nothing("has an over/short within the threshold"));
    }
    if doc.over_short_minor != Some(command.over_short_minor) {
        return Err(ApiError::invalid(
            "over_short_minor",
            format!(
                "the session's over/short is {}",
                doc.over_short_minor.unwrap_or_default()
            ),
        ));
    }
    Ok(OverShortApproved {
        session_id: session.clone(),
        over_short_minor: command.over_short_minor,
        note: command.note.clone(),
    })
}
