//! Voiding a sale: cancelling it in full (manager or admin). A sale with refunds cannot be
//! voided, and a sale is voided once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::event::{SaleCompleted, SaleVoided, VoidWindow};
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
    /// The location the sale was rung up at, the drawer session named, the void window.
    type Loaded = VoidLoaded;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, sale_id: &SaleId, _: Option<&str>) -> Result<SaleId, ApiError> {
        Ok(sale_id.clone())
    }

    fn natural_key(&self, sale_id: &SaleId) -> String {
        format!("void:{sale_id}")
    }

    async fn load(&self, app: &AppState, sale_id: &SaleId, meta: &CommandMeta) -> Result<VoidLoaded, ApiError> {
        let location = locations::of_sale(app, meta, sale_id).await?;
        let drawer = async {
            match &self.drawer_session_id {
                Some(session) => cash::load_session(app, meta, session).await.map(Some),
                None => Ok(None),
            }
        };
        let (location, drawer, settings) = futures::try_join!(
            locations::load(app, meta, location.as_ref()),
            drawer,
            cash::load_settings(app, meta)
        )?;
        Ok(VoidLoaded {
            reversal: ReversalLoaded { location, drawer },
            void_window: settings.settings.void_window,
        })
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        let mut void = decide(on.id, self, on.context, on.state, on.now)?;
        if let (Some(session), Some(drawer)) = (&self.drawer_session_id, &on.loaded.reversal.drawer) {
            let location = on.state.completed.as_ref().map(|sale| &sale.location);
            cash::check_open(session, drawer, location)?;
        }
        if let Some(sale) = &on.state.completed {
            // Undoing a sale is allowed at a closed location; its day is still the
            // location's.
            if let Some(details) = &on.loaded.reversal.location.details {
                void.business_date = Some(LocationState::business_date(
                    details,
                    self.occurred_at.unwrap_or(on.now),
                ));
            } else {
                tracing::debug!(location = %sale.location, "voiding a sale of a location that was never opened");
            }
            if let Some(window) = on.loaded.void_window {
                within_window(window, sale, &void)?;
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

/// What a void is decided on besides the sale's history.
#[derive(Debug, Default)]
pub struct VoidLoaded {
    /// The sale's location and the drawer session named.
    pub reversal: ReversalLoaded,
    /// The tenant's void window (none: any time).
    pub void_window: Option<VoidWindow>,
}

/// Refuses a void outside the tenant's window (409 `void_window_passed`): the sale must
/// be undone by a refund, which lands on the day the money goes back. A sale recorded
/// before business days were stamped, or without a drawer session, is outside any window.
pub fn within_window(window: VoidWindow, sale: &SaleCompleted, void: &SaleVoided) -> Result<(), ApiError> {
    let passed = |why: String| ApiError::StateConflict {
        code: ErrorCode::VoidWindowPassed,
        message: format!("sale {}: {why}; refund it instead", sale.sale_id),
    };
    match window {
        VoidWindow::SameBusinessDay => match (sale.business_date, void.business_date) {
            (Some(sold), Some(voided)) if sold == voided => Ok(()),
            (Some(sold), _) => Err(passed(format!(
                "it belongs to business day {sold} and voids are accepted on that day only"
            ))),
            (None, _) => Err(passed("it has no business day".to_owned())),
        },
        VoidWindow::SameSession => match (&sale.drawer_session_id, &void.drawer_session_id) {
            (Some(sold), Some(voided)) if sold == voided => Ok(()),
            (Some(sold), _) => Err(passed(format!(
                "voids are accepted only from its drawer session {sold} while it is open"
            ))),
            (None, _) => Err(passed("it named no drawer session".to_owned())),
        },
    }
}

/// What a void or refund is decided on besides the sale's history.
#[derive(Debug, Default)]
pub struct ReversalLoaded {
    /// The location (the sale's for a void, where the goods come back for a refund).
    pub location: Arc<LocationState>,
    /// The drawer session the command names, if it names one.
    pub drawer: Option<DrawerSessionState>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use events::{Currency, LocationId, TerminalId, UserId};

    fn sale(date: Option<&str>, session: Option<&str>) -> SaleCompleted {
        SaleCompleted {
            sale_id: SaleId::parse("s1").expect("id"),
            terminal_id: TerminalId::parse("t1").expect("t"),
            location: LocationId::parse("main").expect("l"),
            cashier_id: UserId::parse("c1").expect("u"),
            currency: Currency::USD,
            lines: Vec::new(),
            subtotal_minor: 0,
            discount_total_minor: 0,
            tax_total_minor: 0,
            deposit_total_minor: 0,
            total_minor: 0,
            tenders: Vec::new(),
            change_minor: 0,
            age_verification: None,
            business_date: date.map(|d| d.parse::<NaiveDate>().expect("date")),
            pricing: None,
            drawer_session_id: session.map(|s| DrawerSessionId::parse(s).expect("session")),
            backdate_reason: None,
        }
    }

    fn void(date: &str, session: Option<&str>) -> SaleVoided {
        SaleVoided {
            sale_id: SaleId::parse("s1").expect("id"),
            reason: "r".into(),
            business_date: Some(date.parse().expect("date")),
            drawer_session_id: session.map(|s| DrawerSessionId::parse(s).expect("session")),
        }
    }

    #[test]
    fn a_void_outside_the_window_is_refused_and_inside_it_is_accepted() {
        let day = VoidWindow::SameBusinessDay;
        let sold = sale(Some("2026-11-27"), Some("shift-1"));
        assert!(within_window(day, &sold, &void("2026-11-27", None)).is_ok());
        let late = within_window(day, &sold, &void("2026-11-28", None)).expect_err("next day");
        assert_eq!(late.code(), "void_window_passed");
        assert!(within_window(day, &sale(None, None), &void("2026-11-27", None)).is_err());
        let session = VoidWindow::SameSession;
        assert!(within_window(session, &sold, &void("2026-11-28", Some("shift-1"))).is_ok());
        assert!(within_window(session, &sold, &void("2026-11-27", Some("shift-2"))).is_err());
        assert!(within_window(session, &sold, &void("2026-11-27", None)).is_err());
        assert!(within_window(session, &sale(Some("2026-11-27"), None), &void("2026-11-27", None)).is_err());
    }
}
