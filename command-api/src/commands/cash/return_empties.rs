//! Empty containers returned at the counter: the customer brings back cans and bottles
//! and the cashier pays their deposits out of the open drawer. The server prices the
//! return with the deposit schemes of the store's tax jurisdiction in force on the
//! store's business day (the same amounts a sale of the full containers would have
//! charged); the till says what it actually paid (`paid_minor`). A till that was offline
//! may have paid an older amount: the return is recorded as paid, never refused for it,
//! and the difference shows on the drawer and the Z report (docs/cash.md, "Empties").

use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::event::{EmptiesLine, EmptiesReturned};
use events::tax::{DepositId, Jurisdiction};
use events::{CashMovementId, DomainEvent, DrawerSessionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Cashier, TenantContext};
use crate::commands::cash::{DrawerSessionState, load_session, usable};
use crate::commands::locations::{self, LocationState};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// The most lines one return may have (one per deposit scheme).
pub const MAX_LINES: usize = 50;

/// The most containers one line may count.
pub const MAX_COUNT: u32 = 100_000;

/// `POST /v1/drawer-sessions/{session_id}/empties-returns`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnEmpties {
    /// Terminal-generated id of this return; re-sending it is safe.
    #[schema(value_type = String)]
    pub movement_id: CashMovementId,
    /// What came back, one line per deposit scheme of the store's jurisdiction (1–50
    /// lines, each scheme at most once).
    pub lines: Vec<ReturnedEmpties>,
    /// The cash the till handed out, minor units (>= 0). Absent: the server's amount
    /// (Σ count × the scheme's amount on the business day). A different figure is
    /// recorded as paid and shows as a difference.
    #[serde(default)]
    pub paid_minor: Option<i64>,
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

/// Containers of one deposit scheme brought back.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnedEmpties {
    /// The deposit scheme, as the store's tax jurisdiction names it (`deposit_id`).
    #[schema(value_type = String, example = "crv-small")]
    pub deposit_id: DepositId,
    /// Containers (1–100,000).
    pub count: u32,
}

/// What a return is decided on besides the session's history.
#[derive(Debug, Default)]
pub struct EmptiesLoaded {
    /// The session's store.
    pub location: Arc<LocationState>,
    /// The store's tax jurisdiction, when it has one.
    pub jurisdiction: Option<Jurisdiction>,
}

impl Command for ReturnEmpties {
    const NAME: &'static str = "ReturnEmpties";
    const ROUTE: Route = Route::post(
        "/v1/drawer-sessions/{session_id}/empties-returns",
        "return_empties",
        "cash",
        "Pay out the deposits of empty containers brought back, from an open drawer.",
    );
    type Role = Cashier;
    type Target = DrawerSessionId;
    type Id = DrawerSessionId;
    type State = DrawerSessionState;
    type Loaded = EmptiesLoaded;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, session: &DrawerSessionId, _: Option<&str>) -> Result<DrawerSessionId, ApiError> {
        Ok(session.clone())
    }

    fn natural_key(&self, session: &DrawerSessionId) -> String {
        format!("empties:{session}:{}", self.movement_id)
    }

    async fn load(
        &self,
        app: &AppState,
        session: &DrawerSessionId,
        meta: &CommandMeta,
    ) -> Result<EmptiesLoaded, ApiError> {
        let state = load_session(app, meta, session).await?;
        let Some(opened) = state.opened else {
            // `decide` answers 404 from the state it is given.
            return Ok(EmptiesLoaded::default());
        };
        let location = locations::load(app, meta, Some(&opened.location)).await?;
        let jurisdiction = match location.details.as_ref().and_then(|d| d.tax_jurisdiction.as_ref()) {
            Some(id) => app
                .jurisdictions
                .get(&meta.context.tenant, id)
                .await?
                .jurisdiction
                .clone(),
            None => None,
        };
        Ok(EmptiesLoaded { location, jurisdiction })
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(decide(on.id, self, on.context, on.state, on.loaded, on.now)?.into())
    }
}

/// Checks the return against the session and the store's deposit schemes, and prices
/// it.
pub fn decide(
    session: &DrawerSessionId,
    command: &ReturnEmpties,
    context: &TenantContext,
    state: &DrawerSessionState,
    loaded: &EmptiesLoaded,
    now: DateTime<Utc>,
) -> Result<EmptiesReturned, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    let opened = usable(session, state, context, "session_id")?;
    fields::occurred_at(command.occurred_at, now)?;
    fields::optional_text("note", command.note.as_deref())?;
    if state.movement_ids.contains(command.movement_id.as_str()) {
        return Err(crate::commands::cash::movement_used(session, &command.movement_id));
    }
    if command.lines.is_empty() || command.lines.len() > MAX_LINES {
        return Err(ApiError::invalid("lines", format!("must have 1 to {MAX_LINES} lines")));
    }
    if let Some(paid) = command.paid_minor
        && paid < 0
    {
        return Err(ApiError::invalid("paid_minor", "must be >= 0"));
    }
    let at = command.occurred_at.unwrap_or(now);
    let date = locations::business_date_at(&loaded.location, "session_id", &opened.location, at)?;
    let mut lines = Vec::with_capacity(command.lines.len());
    for (i, line) in command.lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        if line.count == 0 || line.count > MAX_COUNT {
            return Err(ApiError::invalid(field("count"), format!("must be 1 to {MAX_COUNT}")));
        }
        if command.lines[..i]
            .iter()
            .any(|other| other.deposit_id == line.deposit_id)
        {
            return Err(ApiError::invalid(
                field("deposit_id"),
                format!("{} is named twice; count it on one line", line.deposit_id),
            ));
        }
        let jurisdiction = loaded.jurisdiction.as_ref().ok_or_else(|| {
            ApiError::invalid(
                field("deposit_id"),
                format!(
                    "location {} has no tax jurisdiction, so no deposit schemes",
                    opened.location
                ),
            )
        })?;
        let rule = jurisdiction
            .deposits
            .iter()
            .find(|rule| rule.deposit_id == line.deposit_id)
            .ok_or_else(|| {
                ApiError::invalid(
                    field("deposit_id"),
                    format!(
                        "jurisdiction {} has no deposit scheme {}",
                        jurisdiction.id, line.deposit_id
                    ),
                )
            })?;
        let amount_each_minor = rule.amount_on(date).ok_or_else(|| {
            ApiError::invalid(
                field("deposit_id"),
                format!("deposit scheme {} was not in force on {date}", line.deposit_id),
            )
        })?;
        lines.push(EmptiesLine {
            deposit_id: line.deposit_id.clone(),
            count: line.count,
            amount_each_minor,
            amount_minor: i64::from(line.count) * amount_each_minor,
        });
    }
    let deposit_minor: i64 = lines.iter().map(|l| l.amount_minor).sum();
    Ok(EmptiesReturned {
        session_id: session.clone(),
        movement_id: command.movement_id.clone(),
        location: opened.location.clone(),
        business_date: date,
        currency: opened.currency,
        lines,
        deposit_minor,
        paid_minor: command.paid_minor.unwrap_or(deposit_minor),
        note: command.note.clone(),
    })
}
