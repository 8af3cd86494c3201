//! Voiding a sale: cancelling it in full (manager or admin). A sale with refunds cannot be
//! voided, and a sale is voided once.

use chrono::{DateTime, Utc};
use events::SaleId;
use events::event::SaleVoided;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::TenantContext;
use crate::codes::ErrorCode;
use crate::commands::fields;
use crate::commands::sale_state::SaleState;
use crate::error::ApiError;

/// `POST /v1/sales/{sale_id}/void`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidSale {
    /// Why the sale is voided.
    pub reason: String,
    /// When, by the terminal's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

/// Checks the void against the sale's state and builds the event.
pub fn decide(
    sale_id: &SaleId,
    command: &VoidSale,
    context: &TenantContext,
    state: &SaleState,
    now: DateTime<Utc>,
) -> Result<SaleVoided, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::text("reason", &command.reason)?;
    fields::occurred_at(command.occurred_at, now)?;
    if state.completed.is_none() {
        return Err(ApiError::NotFound {
            resource: "sale",
            id: sale_id.to_string(),
        });
    }
    if state.voided {
        return Err(ApiError::StateConflict {
            code: ErrorCode::SaleAlreadyVoided,
            message: format!("sale {sale_id} is already voided"),
        });
    }
    if state.has_refunds() {
        return Err(ApiError::StateConflict {
            code: ErrorCode::SaleHasRefunds,
            message: format!("sale {sale_id} has refunds; refund the remaining lines instead of voiding"),
        });
    }
    Ok(SaleVoided {
        sale_id: sale_id.clone(),
        reason: command.reason.clone(),
    })
}
