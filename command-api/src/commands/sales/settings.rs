//! The tenant's sales settings: how far back a sale may be dated (the back-dating
//! window).
//!
//! A terminal that was offline uploads its sales with the time they were rung up; that is
//! normal for hours or days. A sale dated further back than the window is refused for a
//! cashier (422 `backdated_too_far` on `occurred_at`): it would change days whose drawers
//! were counted and reports read. A manager may still record it with a
//! `backdate_reason`, which the sale keeps and the reports show.
//!
//! Versioned like every settings change ([`crate::commands::settings`]).

use chrono::{DateTime, Utc};
use events::event::SalesSettingsConfigured;
use events::{AggregateRef, DomainEvent};
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Admin, TenantContext};
use crate::commands::command::AggregateId;
use crate::commands::settings::{SettingsKind, SettingsVersion, expect_version};
use crate::commands::{Command, CommandMeta, Decision, Fold, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest window an admin may set: ten years, in hours.
pub const MAX_WINDOW_HOURS: u32 = 10 * 366 * 24;

/// `PUT /v1/settings/sales`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigureSalesSettings {
    /// The settings' version this change replaces: the `sequence` the previous change
    /// answered with, 0 when they were never set.
    pub version: u64,
    /// How many hours before it reaches the server a sale may have happened and still be
    /// recorded from a cashier (1 to 87,840; default 168, a week).
    pub backdate_window_hours: u32,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

/// The tenant's sales settings (one aggregate per tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SalesSettingsId;

impl std::fmt::Display for SalesSettingsId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("settings.sales")
    }
}

impl AggregateId for SalesSettingsId {
    fn natural_key(&self) -> String {
        "settings:sales".to_owned()
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::sales_settings()
    }

    fn exists(&self, history: &[StoredEvent]) -> ApiError {
        ApiError::VersionConflict {
            expected: 0,
            current: history.last().map_or(0, |e| e.sequence),
        }
    }
}

/// The settings in force, folded from their events (the defaults before any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SalesSettingsState {
    /// The settings.
    pub settings: SalesSettingsConfigured,
    /// Stream sequence of the last change, 0 when never set.
    pub version: u64,
}

impl Fold for SalesSettingsState {
    fn fold(history: &[StoredEvent]) -> Self {
        let mut state = SalesSettingsState::default();
        for stored in history {
            if let DomainEvent::SalesSettingsConfigured(e) = &stored.envelope.event {
                state.settings = e.clone();
                state.version = stored.sequence;
            }
        }
        state
    }
}

impl Command for ConfigureSalesSettings {
    const NAME: &'static str = "ConfigureSalesSettings";
    const ROUTE: Route = Route::put(
        "/v1/settings/sales",
        "configure_sales_settings",
        "sales",
        "Set the back-dating window of sales (admin).",
    );
    type Role = Admin;
    type Target = ();
    type Id = SettingsVersion;
    type State = SalesSettingsState;
    type Loaded = ();

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, (): &(), _: Option<&str>) -> Result<SettingsVersion, ApiError> {
        Ok(SettingsVersion {
            kind: SettingsKind::Sales,
            version: self.version,
        })
    }

    fn expect(
        &self,
        id: &SettingsVersion,
        state: &SalesSettingsState,
        _: &[StoredEvent],
    ) -> Result<Expected, ApiError> {
        expect_version(id, state.version)
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(configure(self, on.context, on.now)?.into())
    }

    async fn recorded(&self, app: &AppState, _: &SettingsVersion, meta: &CommandMeta) -> Result<(), ApiError> {
        app.sales_settings.invalidate(&meta.context.tenant, &SalesSettingsId);
        Ok(())
    }
}

/// Checks the settings and builds the event.
pub fn configure(
    command: &ConfigureSalesSettings,
    context: &TenantContext,
    now: DateTime<Utc>,
) -> Result<SalesSettingsConfigured, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    if !(1..=MAX_WINDOW_HOURS).contains(&command.backdate_window_hours) {
        return Err(ApiError::invalid(
            "backdate_window_hours",
            format!("between 1 and {MAX_WINDOW_HOURS}"),
        ));
    }
    Ok(SalesSettingsConfigured {
        backdate_window_hours: command.backdate_window_hours,
    })
}

/// Whether a sale that happened at `at`, recorded at `now`, is within the tenant's
/// window; if not, it needs a manager and a reason.
pub fn backdating(
    settings: &SalesSettingsConfigured,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    context: &TenantContext,
    reason: Option<&str>,
) -> Result<Option<String>, ApiError> {
    let window = chrono::Duration::hours(i64::from(settings.backdate_window_hours));
    if at >= now - window {
        // Within the window, a reason is not needed; one that was given is kept.
        return Ok(reason.map(str::to_owned));
    }
    let Some(reason) = reason else {
        return Err(ApiError::Unusable {
            code: crate::codes::ErrorCode::BackdatedTooFar,
            field: "occurred_at".to_owned(),
            message: format!(
                "is more than {} hours ago; a manager may record it with a backdate_reason",
                settings.backdate_window_hours
            ),
        });
    };
    if !context.role.at_least(events::Role::Manager) {
        return Err(ApiError::Unusable {
            code: crate::codes::ErrorCode::BackdatedTooFar,
            field: "occurred_at".to_owned(),
            message: format!(
                "is more than {} hours ago; only a manager may record it",
                settings.backdate_window_hours
            ),
        });
    }
    Ok(Some(reason.to_owned()))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use events::{Role, TenantId, UserId};

    use super::*;

    fn context(role: Role) -> TenantContext {
        TenantContext {
            tenant: TenantId::parse("acme").expect("tenant"),
            user_id: Some(UserId::parse("u-1").expect("user")),
            api_key_id: None,
            role,
            terminal_id: None,
            locations: None,
            limited_since: None,
        }
    }

    #[test]
    fn old_sales_need_a_manager_and_a_reason() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).single().expect("instant");
        let week = SalesSettingsConfigured::default();
        assert_eq!(week.backdate_window_hours, 168);
        let six_days = now - chrono::Duration::days(6);
        let eight_days = now - chrono::Duration::days(8);
        let year_one = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).single().expect("instant");
        assert_eq!(
            backdating(&week, six_days, now, &context(Role::Cashier), None).ok(),
            Some(None)
        );
        for at in [eight_days, year_one] {
            let refused = backdating(&week, at, now, &context(Role::Cashier), Some("till was off"));
            assert_eq!(
                refused.map_err(|e| e.code()).err(),
                Some(crate::codes::ErrorCode::BackdatedTooFar)
            );
            let no_reason = backdating(&week, at, now, &context(Role::Manager), None);
            assert_eq!(
                no_reason.map_err(|e| e.code()).err(),
                Some(crate::codes::ErrorCode::BackdatedTooFar)
            );
            let manager = backdating(&week, at, now, &context(Role::Manager), Some("till was off"));
            assert_eq!(manager.ok(), Some(Some("till was off".to_owned())));
        }
    }
}
