//! Voiding a sale: cancelling it in full (manager or admin). A sale with refunds cannot be
//! voided, and a sale is voided once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::event::SaleVoided;
use events::{DomainEvent, DrawerSessionId, SaleId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use crate::codes::ErrorCode;
use crate::commands::cash::{self, DrawerSessionState};
use crate::commands::locations::{self, LocationState};
use crate::commands::sales::SaleState;
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /v1/sales/{sale_id}/void`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidSale {
    /// Why the sale is voided.
    pub reason: String,
    /// The open drawer session whose drawer hands the sale's cash back; a closed or unknown one is
    /// refused (422 naming this field). Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub drawer_session_id: Option<DrawerSessionId>,
    /// When, by the terminal's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for VoidSale {
    const NAME: &'static str = "VoidSale";
    const ROUTE: Route = Route::post(
        "/v1/sales/{sale_id}/void",
        "void_sale",
        "sales",
        "Void a completed sale.",
    );
    type Role = Manager;
    type Target = SaleId;
    type Id = SaleId;
    type State = SaleState;
    /// The location the sale was rung up at, and the drawer session named.
    type Loaded = ReversalLoaded;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, sale_id: &SaleId, _: Option<&str>) -> Result<SaleId, ApiError> {
        Ok(sale_id.clone())
    }

    fn natural_key(&self, sale_id: &SaleId) -> String {
        format!("void:{sale_id}")
    }

    async fn load(&self, app: &AppState, sale_id: &SaleId, meta: &CommandMeta) -> Result<ReversalLoaded, ApiError> {
        let location = locations::of_sale(app, meta, sale_id).await?;
        let drawer = async {
            match &self.drawer_session_id {
                Some(session) => cash::load_session(app, meta, session).await.map(Some),
                None => Ok(None),
            }
        };
        let (location, drawer) = futures::try_join!(locations::load(app, meta, location.as_ref()), drawer)?;
        Ok(ReversalLoaded { location, drawer })
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        let mut void = decide(on.id, self, on.context, on.state, on.now)?;
        if let (Some(session), Some(drawer)) = (&self.drawer_session_id, &on.loaded.drawer) {
            let location = on.state.completed.as_ref().map(|sale| &sale.location);
            cash::check_open(session, drawer, location)?;
        }
        if let Some(sale) = &on.state.completed {
            // Undoing a sale is allowed at a closed location; its day is still the
            // location's.
            if let Some(details) = &on.loaded.location.details {
                void.business_date = Some(LocationState::business_date(
                    details,
                    self.occurred_at.unwrap_or(on.now),
                ));
            } else {
                tracing::debug!(location = %sale.location, "voiding a sale of a location that was never opened");
            }
        }
        Ok(void.into())
    }
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
        business_date: None,
        drawer_session_id: command.drawer_session_id.clone(),
    })
}

/// What a void or refund is decided on besides the sale's history.
#[derive(Debug, Default)]
pub struct ReversalLoaded {
    /// The location (the sale's for a void, where the goods come back for a refund).
    pub location: Arc<LocationState>,
    /// The drawer session the command names, if it names one.
    pub drawer: Option<DrawerSessionState>,
}
