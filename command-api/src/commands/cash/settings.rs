//! The tenant's cash settings: blind close and the over/short approval threshold.
//!
//! The body names the version it changes (`version`: the stream sequence the previous
//! change answered with, 0 for the first), as `If-Match` does for catalog changes, so
//! that a retried change is recognised and a change made against stale settings is 409.

use chrono::{DateTime, Utc};
use events::event::{CashSettingsConfigured, VoidWindow};
use events::{AggregateRef, DomainEvent};
use eventstore::{Expected, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Admin, TenantContext};
use crate::commands::cash::CashSettingsState;
use crate::commands::command::AggregateId;
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

/// The tenant's cash settings at a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CashSettingsVersion(pub u64);

impl AggregateId for CashSettingsVersion {
    fn natural_key(&self) -> String {
        format!("settings:cash:{}", self.0)
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::cash_settings()
    }

    fn exists(&self, history: &[StoredEvent]) -> ApiError {
        ApiError::VersionConflict {
            expected: self.0,
            current: history.last().map_or(0, |e| e.sequence),
        }
    }
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
    type Id = CashSettingsVersion;
    type State = CashSettingsState;
    type Loaded = ();

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, (): &(), _: Option<&str>) -> Result<CashSettingsVersion, ApiError> {
        Ok(CashSettingsVersion(self.version))
    }

    fn expect(
        &self,
        id: &CashSettingsVersion,
        state: &CashSettingsState,
        _: &[StoredEvent],
    ) -> Result<Expected, ApiError> {
        if state.version != id.0 {
            return Err(ApiError::VersionConflict {
                expected: id.0,
                current: state.version,
            });
        }
        Ok(if id.0 == 0 {
            Expected::NoEvents
        } else {
            Expected::LastSequence(id.0)
        })
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
