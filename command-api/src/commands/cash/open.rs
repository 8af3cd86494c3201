//! Opening a drawer session: a cashier counts the float into a terminal's drawer. A till
//! has one drawer, so a terminal has one open session at a time (409
//! `terminal_session_open` otherwise).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::event::DrawerSessionOpened;
use events::{DomainEvent, DrawerSessionId, LocationId, TerminalId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Cashier, TenantContext};
use tenantdb::docs::DrawerSessionDoc;

use crate::codes::ErrorCode;
use crate::commands::cash::{CashSettingsState, load_settings, still_open};
use crate::commands::locations::{self, LocationState};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /v1/drawer-sessions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDrawerSession {
    /// Terminal-generated id (a UUID is best); re-sending the same opening is safe.
    #[schema(value_type = String, example = "0190c2d8-5b7e-7c1a-9f00-1234567890ab")]
    pub session_id: DrawerSessionId,
    /// The till; defaults to the token's `terminalId` and must match it when both exist.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub terminal_id: Option<TerminalId>,
    /// The store.
    #[schema(value_type = String, example = "main-street")]
    pub location: LocationId,
    /// The float counted into the drawer, minor units (>= 0).
    pub opening_float_minor: i64,
    /// When, by the terminal's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

/// What an opening is decided on besides its body.
#[derive(Debug, Default)]
pub struct OpenLoaded {
    /// The location it names.
    pub location: Arc<LocationState>,
    /// The tenant's cash settings (blind close).
    pub settings: CashSettingsState,
    /// Other sessions still open on the terminal (a till has one drawer: one at a time).
    pub open_on_terminal: Vec<DrawerSessionId>,
}

impl Command for OpenDrawerSession {
    const NAME: &'static str = "OpenDrawerSession";
    const ROUTE: Route = Route::post(
        "/v1/drawer-sessions",
        "open_drawer_session",
        "cash",
        "Open a drawer session (shift) with a counted float.",
    )
    .key("Optional; the session id serves as key otherwise");
    const CREATES: bool = true;
    type Role = Cashier;
    type Target = ();
    type Id = DrawerSessionId;
    type State = ();
    type Loaded = OpenLoaded;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, (): &(), _: Option<&str>) -> Result<DrawerSessionId, ApiError> {
        Ok(self.session_id.clone())
    }

    async fn load(&self, app: &AppState, id: &DrawerSessionId, meta: &CommandMeta) -> Result<OpenLoaded, ApiError> {
        let open_on_terminal = async {
            match terminal(self.terminal_id.as_ref(), &meta.context) {
                Ok(terminal) => {
                    let filter = bson::doc! {(DrawerSessionDoc::TERMINAL_ID): terminal.as_str()};
                    still_open(app, meta, filter, Some(id)).await
                }
                // `decide` refuses the body.
                Err(_) => Ok(Vec::new()),
            }
        };
        let (location, settings, open_on_terminal) = futures::try_join!(
            locations::load(app, meta, Some(&self.location)),
            load_settings(app, meta),
            open_on_terminal,
        )?;
        Ok(OpenLoaded {
            location,
            settings,
            open_on_terminal,
        })
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        Ok(open(self, on.context, on.loaded, on.now)?.into())
    }
}

/// Checks an opening and builds its event.
pub fn open(
    command: &OpenDrawerSession,
    context: &TenantContext,
    loaded: &OpenLoaded,
    now: DateTime<Utc>,
) -> Result<DrawerSessionOpened, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    fields::amount("opening_float_minor", command.opening_float_minor)?;
    let terminal_id = terminal(command.terminal_id.as_ref(), context)?;
    let at = command.occurred_at.unwrap_or(now);
    let details = loaded.location.usable("location", &command.location, at)?;
    if let Some(other) = loaded.open_on_terminal.first() {
        return Err(ApiError::StateConflict {
            code: ErrorCode::TerminalSessionOpen,
            message: format!(
                "terminal {terminal_id} already has drawer session {other} open; close it (or go on with it) first"
            ),
        });
    }
    Ok(DrawerSessionOpened {
        session_id: command.session_id.clone(),
        terminal_id,
        location: command.location.clone(),
        cashier_id: context.user("opening a drawer session")?.clone(),
        currency: details.currency,
        opening_float_minor: command.opening_float_minor,
        business_date: LocationState::business_date(details, at),
        blind_close: loaded.settings.settings.blind_close,
    })
}

/// The terminal: the body's, the token's, and they must agree when both are given.
pub fn terminal(body: Option<&TerminalId>, context: &TenantContext) -> Result<TerminalId, ApiError> {
    match (body, &context.terminal_id) {
        (Some(body), Some(token)) if body != token => {
            Err(ApiError::invalid("terminal_id", "does not match the token's terminal"))
        }
        (Some(terminal), _) | (None, Some(terminal)) => Ok(terminal.clone()),
        (None, None) => Err(ApiError::MissingField {
            field: "terminal_id".to_owned(),
        }),
    }
}
