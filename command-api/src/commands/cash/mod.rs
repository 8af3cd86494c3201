//! Cash management: drawer sessions (a cashier's shift on one terminal's drawer), cash
//! paid in and out, safe drops, the count at the close, a manager's approval of an
//! over/short beyond the tenant's threshold, and the tenant's cash settings. The rules and
//! a worked shift are in docs/cash.md.
//!
//! A session is its own aggregate (`drawer.<session id>`), created by the terminal with a
//! client-generated id. Cashiers open sessions and move cash in their own; managers (and
//! admins) may act on and close anyone's. Commands on a closed session are refused with
//! 422 `drawer_session_closed`; on an unknown one with 404. Sales, voids and refunds name
//! the session with `drawer_session_id` ([`check_open`] refuses voids and refunds naming a
//! closed or unknown one; a sale is never refused for it, the projector flags it).
//!
//! # Layout
//! - [`open`]: [`OpenDrawerSession`], with the counted float.
//! - [`pay_in`], [`pay_out`], [`safe_drop`]: [`PayIn`], [`PayOut`], [`SafeDrop`], cash in
//!   and out of an open drawer (checked alike by [`movement_checks`]).
//! - [`return_empties`]: [`ReturnEmpties`], container deposits paid out for empties
//!   brought back, priced by the store's deposit schemes.
//! - [`close`]: [`CloseDrawerSession`], with the count (optionally by denomination).
//! - [`approve`]: [`ApproveOverShort`], a manager accepting an over/short.
//! - [`settings`]: [`ConfigureCashSettings`] (blind close, approval threshold).
//! - [`state`]: [`DrawerSessionState`] and [`CashSettingsState`], folded from history.

pub mod approve;
pub mod close;
pub mod open;
pub mod pay_in;
pub mod pay_out;
pub mod return_empties;
pub mod safe_drop;
pub mod settings;
pub mod state;

pub use approve::ApproveOverShort;
pub use close::CloseDrawerSession;
pub use open::OpenDrawerSession;
pub use pay_in::PayIn;
pub use pay_out::PayOut;
pub use return_empties::ReturnEmpties;
pub use safe_drop::SafeDrop;
pub use settings::ConfigureCashSettings;
pub use state::{CashSettingsState, DrawerSessionState};

use chrono::{DateTime, Utc};
use events::{AggregateRef, CashMovementId, DrawerSessionId, Role};
use eventstore::StoredEvent;

use crate::auth::TenantContext;
use crate::codes::ErrorCode;
use crate::commands::command::AggregateId;
use crate::commands::target::{PathId, Target};
use crate::commands::{CommandMeta, Fold, fields};
use crate::error::ApiError;
use crate::state::AppState;

impl AggregateId for DrawerSessionId {
    fn natural_key(&self) -> String {
        format!("drawer:{self}")
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::drawer_session(self)
    }

    fn exists(&self, _: &[StoredEvent]) -> ApiError {
        ApiError::StateConflict {
            code: ErrorCode::DrawerSessionExists,
            message: format!("drawer session {self} was already opened with different contents"),
        }
    }
}

impl PathId for DrawerSessionId {
    const PARAM: &'static str = "session_id";

    fn from_path(raw: String) -> Result<Self, ApiError> {
        DrawerSessionId::parse(raw).map_err(|err| ApiError::invalid(Self::PARAM, err.to_string()))
    }
}

/// `{session_id}` in the path; the fingerprint covers `(session_id, body)`.
impl Target for DrawerSessionId {
    type Raw = axum::extract::Path<String>;
    const PATH_PARAMS: &'static [&'static str] = &["session_id"];
    const IF_MATCH: bool = false;

    fn parse(axum::extract::Path(raw): Self::Raw) -> Result<Self, ApiError> {
        <Self as PathId>::from_path(raw)
    }

    fn from_batch(path: Option<&str>) -> Result<Self, ApiError> {
        let raw = path.ok_or_else(|| ApiError::MissingField {
            field: "path (the session id)".to_owned(),
        })?;
        DrawerSessionId::parse(raw).map_err(|err| ApiError::invalid("path", err.to_string()))
    }

    fn keyed<'a, B: serde::Serialize>(&'a self, body: &'a B) -> impl serde::Serialize + 'a {
        (self, body)
    }
}

/// Refuses a command on a session that was never opened (404), is closed (422 naming
/// `field`), or (for a cashier) belongs to another cashier (403).
pub fn usable<'s>(
    session: &DrawerSessionId,
    state: &'s DrawerSessionState,
    context: &TenantContext,
    field: &str,
) -> Result<&'s events::event::DrawerSessionOpened, ApiError> {
    let Some(opened) = &state.opened else {
        return Err(ApiError::NotFound {
            resource: "drawer session",
            id: session.to_string(),
        });
    };
    if state.closed {
        return Err(ApiError::Unusable {
            code: ErrorCode::DrawerSessionClosed,
            field: field.to_owned(),
            message: format!("drawer session {session} is closed"),
        });
    }
    if !context.role.at_least(Role::Manager) && !context.is_user(&opened.cashier_id) {
        return Err(ApiError::Forbidden {
            required: Role::Manager,
        });
    }
    Ok(opened)
}

/// The state of drawer session `session`, read from its own history.
pub async fn load_session(
    app: &AppState,
    meta: &CommandMeta,
    session: &DrawerSessionId,
) -> Result<DrawerSessionState, ApiError> {
    let history = app
        .store
        .history(&meta.context.tenant, &AggregateRef::drawer_session(session))
        .await?;
    Ok(DrawerSessionState::fold(&history))
}

/// The sessions matching `filter` in the read model that are still open by their own
/// histories, except `except`, at most [`OPEN_SESSIONS_CHECKED`] of them, sorted.
///
/// The read model finds the candidates (by terminal, or by location and day); each one's
/// event history then decides, so a session closed a moment ago whose close the projector
/// has not applied yet does not count. A session opened within the projection lag is not
/// in the read model yet and is missed: the checks built on this (one open session per
/// terminal, no day close over open drawers) hold once the projector has caught up, which
/// docs/cash.md states.
pub async fn still_open(
    app: &AppState,
    meta: &CommandMeta,
    mut filter: bson::Document,
    except: Option<&DrawerSessionId>,
) -> Result<Vec<DrawerSessionId>, ApiError> {
    use futures::TryStreamExt;
    use tenantdb::docs::{DrawerSessionDoc, DrawerSessionStatus};
    filter.insert(
        DrawerSessionDoc::STATUS,
        bson::to_bson(&DrawerSessionStatus::Open)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("encoding a session status: {e}")))?,
    );
    let db = app.databases.database(&meta.context.tenant).await?;
    let docs: Vec<DrawerSessionDoc> = tenantdb::collections::drawer_sessions(&db)
        .find(filter)
        .limit(OPEN_SESSIONS_CHECKED)
        .await?
        .try_collect()
        .await?;
    let mut open = Vec::new();
    for doc in docs {
        let Ok(id) = DrawerSessionId::parse(doc.session_id) else {
            continue;
        };
        if except == Some(&id) {
            continue;
        }
        let state = load_session(app, meta, &id).await?;
        if state.opened.is_some() && !state.closed {
            open.push(id);
        }
    }
    open.sort();
    Ok(open)
}

/// How many candidate sessions [`still_open`] reads.
pub const OPEN_SESSIONS_CHECKED: i64 = 20;

/// The tenant's cash settings, read from their own history (defaults when never set).
pub async fn load_settings(app: &AppState, meta: &CommandMeta) -> Result<CashSettingsState, ApiError> {
    let history = app
        .store
        .history(&meta.context.tenant, &AggregateRef::cash_settings())
        .await?;
    Ok(CashSettingsState::fold(&history))
}

/// For voids and refunds naming `drawer_session_id`: the session must exist, be open and
/// be at `location` (422 naming the field otherwise). A cashier's own-session rule does
/// not apply: voids and refunds are a manager's.
pub fn check_open(
    session: &DrawerSessionId,
    state: &DrawerSessionState,
    location: Option<&events::LocationId>,
) -> Result<(), ApiError> {
    let field = "drawer_session_id";
    let Some(opened) = &state.opened else {
        return Err(ApiError::Unusable {
            code: ErrorCode::UnknownDrawerSession,
            field: field.to_owned(),
            message: format!("drawer session {session} was never opened"),
        });
    };
    if state.closed {
        return Err(ApiError::Unusable {
            code: ErrorCode::DrawerSessionClosed,
            field: field.to_owned(),
            message: format!("drawer session {session} is closed; name the terminal's open session"),
        });
    }
    if let Some(location) = location
        && opened.location != *location
    {
        return Err(ApiError::invalid(
            field,
            format!("drawer session {session} is at location {}", opened.location),
        ));
    }
    Ok(())
}

/// The checks every paid-in, paid-out and safe drop passes: the session is usable by the
/// caller ([`usable`]), the movement id is new in it, the amount is > 0, the note is
/// sensible text.
#[allow(clippy::too_many_arguments)]
pub fn movement_checks(
    session: &DrawerSessionId,
    state: &DrawerSessionState,
    context: &TenantContext,
    movement_id: &CashMovementId,
    amount_minor: i64,
    note: Option<&str>,
    occurred_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    fields::occurred_at(occurred_at, now)?;
    if amount_minor <= 0 {
        return Err(ApiError::invalid("amount_minor", "must be > 0"));
    }
    fields::amount("amount_minor", amount_minor)?;
    fields::optional_text("note", note)?;
    usable(session, state, context, "session_id")?;
    if state.movement_ids.contains(movement_id.as_str()) {
        return Err(movement_used(session, movement_id));
    }
    Ok(())
}

/// 409 for a movement id the session already used with other contents (a retry with the
/// same contents is answered from the idempotency record before this runs).
pub fn movement_used(session: &DrawerSessionId, movement_id: &CashMovementId) -> ApiError {
    ApiError::StateConflict {
        code: ErrorCode::CashMovementExists,
        message: format!(
            "cash movement {movement_id} of drawer session {session} was recorded with different contents"
        ),
    }
}
