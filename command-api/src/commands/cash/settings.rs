//! The tenant's cash settings: blind close and the over/short approval threshold.
//!
//! Versioned like every settings change ([`crate::commands::settings`]).

use chrono::{DateTime, Utc};
use events::DomainEvent;
use events::event::{CashSettingsConfigured, VoidWindow};
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Admin, TenantContext};
use crate::commands::cash::CashSettingsState;
use crate::commands::settings::{SettingsKind, SettingsVersion, expect_version};
use crate::commands::{Command, Decision, Route, fields};
use crate::error::ApiError;

/// `PUT /v1/settings/cash`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigureCashSettings {
    /// The settings' version this change replaces: the `sequence` the previous change
    /// answered with, 0 when they were never set.
    pub version: u64,
    /// Cashiers do not see the expected cash or the over/short of their sessions
    /// (sessions opened afterwards).
    pub blind_close: bool,
    /// An over/short whose size exceeds this needs a manager's approval, minor units
    /// (>= 0; sessions closed afterwards).
    pub approval_threshold_minor: i64,
    /// How long a sale may be voided: `same_session` (from the drawer session the sale
    /// named, while it is open) or `same_business_day`; absent: any time. After it a sale
    /// is undone by a refund.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "same_business_day")]
    pub void_window: Option<VoidWindow>,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for ConfigureCashSettings {
    const NAME: &'static str = "ConfigureCashSettings";
    const ROUTE: Route = Route::put(
        "/v1/settings/cash",
        "configure_cash_settings",
        "cash",
        "Set blind close and the over/short approval threshold (admin).",
    );
    type Role = Admin;
    type Target = ();
    type Id = SettingsVersion;
    type State = CashSettingsState;
    type Loaded = ();

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, (): &(), _: Option<&str>) -> Result<SettingsVersion, ApiError> {
        Ok(SettingsVersion {
            kind: SettingsKind::Cash,
            version: self.version,
        })
    }

    fn expect(&self, id: &SettingsVersion, state: &CashSettingsState, _: &[StoredEvent]) -> Result<Expected, ApiError> {
        expect_version(id, state.version)
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(configure(self, on.context, on.now)?.into())
    }
}

/// Checks the settings and builds the event.
pub fn configure(
    command: &ConfigureCashSettings,
    context: &TenantContext,
    now: DateTime<Utc>,
) -> Result<CashSettingsConfigured, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    fields::amount("approval_threshold_minor", command.approval_threshold_minor)?;
    Ok(CashSettingsConfigured {
        blind_close: command.blind_close,
        approval_threshold_minor: command.approval_threshold_minor,
        void_window: command.void_window,
    })
}
