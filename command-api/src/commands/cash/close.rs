//! Closing a drawer session: the cash counted in the drawer, optionally by face value.
//! The projector compares it with the expected cash (docs/cash.md); an over/short whose
//! size exceeds the tenant's threshold (stamped on the event) waits for a manager.

use chrono::{DateTime, Utc};
use events::event::{DenominationCount, DrawerSessionClosed};
use events::{DomainEvent, DrawerSessionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Cashier, TenantContext};
use crate::commands::cash::{CashSettingsState, DrawerSessionState, load_settings, usable};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// Most denominations in one count.
pub const MAX_DENOMINATIONS: usize = 50;

/// `POST /v1/drawer-sessions/{session_id}/close`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseDrawerSession {
    /// The cash counted in the drawer, minor units (>= 0).
    pub counted_cash_minor: i64,
    /// The count by face value; when given it must add up to `counted_cash_minor`.
    #[serde(default)]
    pub denominations: Option<Vec<DenominationInput>>,
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

/// How many notes or coins of one face value were counted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenominationInput {
    /// Face value of one note or coin, minor units (> 0).
    pub value_minor: i64,
    /// How many (>= 0).
    pub count: i64,
}

impl Command for CloseDrawerSession {
    const NAME: &'static str = "CloseDrawerSession";
    const ROUTE: Route = Route::post(
        "/v1/drawer-sessions/{session_id}/close",
        "close_drawer_session",
        "cash",
        "Count the drawer and close the session (cashiers their own, managers any).",
    );
    type Role = Cashier;
    type Target = DrawerSessionId;
    type Id = DrawerSessionId;
    type State = DrawerSessionState;
    /// The tenant's threshold.
    type Loaded = CashSettingsState;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, session: &DrawerSessionId, _: Option<&str>) -> Result<DrawerSessionId, ApiError> {
        Ok(session.clone())
    }

    fn natural_key(&self, session: &DrawerSessionId) -> String {
        format!("drawer-close:{session}")
    }

    async fn load(
        &self,
        app: &AppState,
        _: &DrawerSessionId,
        meta: &CommandMeta,
    ) -> Result<CashSettingsState, ApiError> {
        load_settings(app, meta).await
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(close(on.id, self, on.context, on.state, on.loaded, on.now)?.into())
    }
}

/// Checks a close and builds its event.
pub fn close(
    session: &DrawerSessionId,
    command: &CloseDrawerSession,
    context: &TenantContext,
    state: &DrawerSessionState,
    settings: &CashSettingsState,
    now: DateTime<Utc>,
) -> Result<DrawerSessionClosed, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    fields::amount("counted_cash_minor", command.counted_cash_minor)?;
    fields::optional_text("note", command.note.as_deref())?;
    let denominations = command
        .denominations
        .as_deref()
        .map(|d| denominations(d, command.counted_cash_minor))
        .transpose()?;
    usable(session, state, context, "session_id")?;
    Ok(DrawerSessionClosed {
        session_id: session.clone(),
        counted_cash_minor: command.counted_cash_minor,
        denominations,
        approval_threshold_minor: settings.settings.approval_threshold_minor,
        note: command.note.clone(),
    })
}

/// Checks a count by face value: values > 0 and distinct, counts >= 0, and Σ value ×
/// count = `counted`.
pub fn denominations(input: &[DenominationInput], counted: i64) -> Result<Vec<DenominationCount>, ApiError> {
    if input.len() > MAX_DENOMINATIONS {
        return Err(ApiError::invalid(
            "denominations",
            format!("at most {MAX_DENOMINATIONS} face values"),
        ));
    }
    let mut total: i64 = 0;
    let mut out: Vec<DenominationCount> = Vec::with_capacity(input.len());
    for (index, d) in input.iter().enumerate() {
        let field = |name: &str| format!("denominations[{index}].{name}");
        if d.value_minor <= 0 {
            return Err(ApiError::invalid(field("value_minor"), "must be > 0"));
        }
        fields::amount(&field("value_minor"), d.value_minor)?;
        if d.count < 0 {
            return Err(ApiError::invalid(field("count"), "must be >= 0"));
        }
        fields::amount(&field("count"), d.count)?;
        if out.iter().any(|o| o.value_minor == d.value_minor) {
            return Err(ApiError::invalid(field("value_minor"), "appears twice"));
        }
        total = d
            .value_minor
            .checked_mul(d.count)
            .and_then(|v| total.checked_add(v))
            .filter(|t| *t <= fields::MAX_AMOUNT)
            .ok_or_else(|| ApiError::invalid(field("count"), "amount too large"))?;
        out.push(DenominationCount {
            value_minor: d.value_minor,
            count: d.count,
        });
    }
    if total != counted {
        return Err(ApiError::invalid(
            "denominations",
            format!("add up to {total}, but counted_cash_minor is {counted}"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_by_face_value_must_add_up_to_the_counted_cash() {
        let count = |value_minor, count| DenominationInput { value_minor, count };
        // 3 × 2000 + 4 × 500 + 7 × 25 = 6000 + 2000 + 175 = 8175.
        let input = [count(2000, 3), count(500, 4), count(25, 7)];
        assert_eq!(denominations(&input, 8175).map(|d| d.len()).ok(), Some(3));
        let err = denominations(&input, 8200).expect_err("does not add up");
        assert_eq!(err.field(), Some("denominations"));
        let err = denominations(&[count(0, 1)], 0).expect_err("zero face value");
        assert_eq!(err.field(), Some("denominations[0].value_minor"));
        let err = denominations(&[count(100, -1)], -100).expect_err("negative count");
        assert_eq!(err.field(), Some("denominations[0].count"));
        let err = denominations(&[count(100, 1), count(100, 1)], 200).expect_err("twice");
        assert_eq!(err.field(), Some("denominations[1].value_minor"));
    }
}
