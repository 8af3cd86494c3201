//! Cash reports: one drawer session (the X report while it is open, its Z report once
//! closed), the sessions of a period of business days (paged), the drawer figures of a
//! location's business day, over/short per cashier and per terminal over a period, and
//! paid-outs by reason. Definitions and a worked shift are
//! in docs/cash.md. Money is in minor units of each session's currency.

use std::collections::BTreeMap;

use bson::{Document, doc};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::Database;
use serde::{Deserialize, Serialize};
use tenantdb::collections;
use tenantdb::docs::{
    ApprovalStatus, CashMovementDoc, CashMovementKind, CashReason, DenominationDoc, DrawerFlag, DrawerSessionDoc,
    DrawerSessionStatus, FlaggedSaleDoc, ID,
};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::queries::date::date;
use crate::queries::document::rfc3339;
use crate::queries::locations;
use crate::queries::page::{self, Page, list};

/// Which report a session's answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionReport {
    /// The session so far (it is open): read-only, nothing is closed by reading it.
    X,
    /// The closed session's final figures.
    Z,
}

/// A drawer session as `GET /v1/drawer-sessions/{session_id}` answers it.
///
/// When the tenant closes blind and the caller is a cashier, `expected_cash_minor`,
/// `over_short_minor` and `approval` are `null` (`expected_hidden` is true): the cashier
/// counts without knowing what the drawer should hold. Managers always see them.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DrawerSession {
    /// The session id.
    pub id: String,
    /// `x` while open, `z` once closed.
    pub report: SessionReport,
    /// `open` or `closed`.
    pub status: DrawerSessionStatus,
    /// The till.
    pub terminal_id: String,
    /// The store.
    pub location: String,
    /// The cashier who opened it.
    pub cashier_id: String,
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// The location's business day it opened on, `YYYY-MM-DD`.
    pub business_date: String,
    /// When it opened (terminal clock).
    #[serde(serialize_with = "rfc3339")]
    pub opened_at: DateTime<Utc>,
    /// When it closed, once closed.
    #[serde(serialize_with = "optional_rfc3339")]
    #[schema(value_type = Option<String>)]
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// The float counted in at the start.
    pub opening_float_minor: i64,
    /// Sales counted on it.
    pub cash_sale_count: i64,
    /// Their cash, net of change.
    pub cash_sales_minor: i64,
    /// Refunds paid from it.
    pub cash_refund_count: i64,
    /// Their cash.
    pub cash_refunds_minor: i64,
    /// Voids whose cash it handed back.
    pub cash_void_count: i64,
    /// That cash.
    pub cash_voids_minor: i64,
    /// Σ paid in.
    pub paid_in_minor: i64,
    /// Σ paid out.
    pub paid_out_minor: i64,
    /// Σ safe drops.
    pub safe_drops_minor: i64,
    /// Σ cash paid out for empties brought back (container deposits).
    pub empties_paid_minor: i64,
    /// Every paid-in, paid-out, safe drop and empties return, in order.
    pub movements: Vec<CashMovement>,
    /// Whether the expected figures are withheld from this caller (blind close).
    pub expected_hidden: bool,
    /// float + cash sales − cash refunds − cash voids + paid in − paid out − safe drops
    /// − empties paid (`null` when hidden).
    pub expected_cash_minor: Option<i64>,
    /// The cash counted at the close.
    pub counted_cash_minor: Option<i64>,
    /// The count by face value, if counted that way.
    pub denominations: Option<Vec<DenominationDoc>>,
    /// counted − expected: positive over, negative short (`null` while open or hidden).
    pub over_short_minor: Option<i64>,
    /// The threshold beyond which an over/short needs a manager.
    pub approval_threshold_minor: Option<i64>,
    /// `not_needed`, `pending` or `approved` once closed (`null` while open or hidden).
    pub approval: Option<ApprovalStatus>,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// Why it was approved.
    pub approval_note: Option<String>,
    /// Sales that named it but were not counted on it (closed already, other location).
    pub flagged_sales: Vec<FlaggedSale>,
}

/// A paid-in, paid-out or safe drop.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CashMovement {
    /// The terminal-generated id.
    pub movement_id: String,
    /// `paid_in`, `paid_out`, `safe_drop` or `empties_return`.
    pub kind: CashMovementKind,
    /// Amount, minor units.
    pub amount_minor: i64,
    /// Why (absent for safe drops).
    pub reason: Option<CashReason>,
    /// Free text.
    pub note: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When (terminal clock).
    #[serde(serialize_with = "rfc3339")]
    pub occurred_at: DateTime<Utc>,
}

/// A sale that named the session but was not counted on it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FlaggedSale {
    /// The sale.
    pub sale_id: String,
    /// `session_closed` or `other_location`.
    pub flag: DrawerFlag,
    /// Its cash net of change, minor units.
    pub cash_minor: i64,
    /// When it happened (terminal clock).
    #[serde(serialize_with = "rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// When the server recorded it.
    #[serde(serialize_with = "rfc3339")]
    pub recorded_at: DateTime<Utc>,
}

fn optional_rfc3339<S: serde::Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, serializer),
        None => serializer.serialize_none(),
    }
}

impl From<CashMovementDoc> for CashMovement {
    fn from(doc: CashMovementDoc) -> Self {
        Self {
            movement_id: doc.movement_id,
            kind: doc.kind,
            amount_minor: doc.amount_minor,
            reason: doc.reason,
            note: doc.note,
            recorded_by: doc.recorded_by,
            occurred_at: doc.occurred_at,
        }
    }
}

impl From<FlaggedSaleDoc> for FlaggedSale {
    fn from(doc: FlaggedSaleDoc) -> Self {
        Self {
            sale_id: doc.sale_id,
            flag: doc.flag,
            cash_minor: doc.cash_minor,
            occurred_at: doc.occurred_at,
            recorded_at: doc.recorded_at,
        }
    }
}

impl DrawerSession {
    /// The view of `doc`, with the expected figures withheld when `hide_expected`.
    pub fn of(doc: DrawerSessionDoc, hide_expected: bool) -> Self {
        Self {
            id: doc.session_id,
            report: match doc.status {
                DrawerSessionStatus::Open => SessionReport::X,
                DrawerSessionStatus::Closed => SessionReport::Z,
            },
            status: doc.status,
            terminal_id: doc.terminal_id,
            location: doc.location,
            cashier_id: doc.cashier_id,
            currency: doc.currency,
            business_date: doc.business_date,
            opened_at: doc.opened_at,
            closed_at: doc.closed_at,
            closed_by: doc.closed_by,
            opening_float_minor: doc.opening_float_minor,
            cash_sale_count: doc.cash_sale_count,
            cash_sales_minor: doc.cash_sales_minor,
            cash_refund_count: doc.cash_refund_count,
            cash_refunds_minor: doc.cash_refunds_minor,
            cash_void_count: doc.cash_void_count,
            cash_voids_minor: doc.cash_voids_minor,
            paid_in_minor: doc.paid_in_minor,
            paid_out_minor: doc.paid_out_minor,
            safe_drops_minor: doc.safe_drops_minor,
            empties_paid_minor: doc.empties_paid_minor,
            movements: doc.movements.into_iter().map(CashMovement::from).collect(),
            expected_hidden: hide_expected,
            expected_cash_minor: (!hide_expected).then_some(doc.expected_cash_minor),
            counted_cash_minor: doc.counted_cash_minor,
            denominations: doc.denominations,
            over_short_minor: doc.over_short_minor.filter(|_| !hide_expected),
            approval_threshold_minor: doc.approval_threshold_minor,
            approval: doc.approval.filter(|_| !hide_expected),
            approved_by: doc.approved_by,
            approval_note: doc.approval_note,
            flagged_sales: doc.flagged_sales.into_iter().map(FlaggedSale::from).collect(),
        }
    }
}

/// One session's document.
pub async fn session(db: &Database, session_id: &str) -> Result<DrawerSessionDoc, ApiError> {
    collections::drawer_sessions(db)
        .find_one(doc! {ID: session_id})
        .await?
        .ok_or_else(|| ApiError::NotFound {
            resource: "drawer session",
            id: session_id.to_owned(),
        })
}

/// The sessions of business days `from..=to` (optionally at one location), by id.
async fn sessions_between(
    db: &Database,
    from: &str,
    to: &str,
    location: Option<&str>,
) -> Result<Vec<DrawerSessionDoc>, ApiError> {
    let mut filter: Document = doc! {(DrawerSessionDoc::BUSINESS_DATE): {"$gte": from, "$lte": to}};
    if let Some(location) = location {
        filter.insert(DrawerSessionDoc::LOCATION, location);
    }
    Ok(collections::drawer_sessions(db)
        .find(filter)
        .sort(doc! {ID: 1})
        .await?
        .try_collect()
        .await?)
}

/// The drawers of one location on one business day: its sessions and their sums.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct DrawerDay {
    /// The sessions opened on that day, by id.
    pub sessions: Vec<String>,
    /// How many of them are still open.
    pub open_count: i64,
    /// Σ opening floats.
    pub opening_float_minor: i64,
    /// Σ cash sales (net of change).
    pub cash_sales_minor: i64,
    /// Σ cash refunds.
    pub cash_refunds_minor: i64,
    /// Σ cash voids.
    pub cash_voids_minor: i64,
    /// cash sales − cash refunds − cash voids − empties paid: equals the day's
    /// `expected_cash_minor` when every cash sale, void, refund and empties return of the
    /// day named one of these sessions.
    pub net_cash_minor: i64,
    /// Σ paid in.
    pub paid_in_minor: i64,
    /// Σ paid out.
    pub paid_out_minor: i64,
    /// Σ safe drops.
    pub safe_drops_minor: i64,
    /// Σ cash paid out for empties.
    pub empties_paid_minor: i64,
    /// Σ expected cash in the drawers.
    pub expected_cash_minor: i64,
    /// Σ counted cash of the closed sessions.
    pub counted_cash_minor: i64,
    /// Σ over/short of the closed sessions.
    pub over_short_minor: i64,
}

impl DrawerDay {
    /// Whether no session opened that day.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    fn add(&mut self, doc: &DrawerSessionDoc) {
        self.sessions.push(doc.session_id.clone());
        if doc.status == DrawerSessionStatus::Open {
            self.open_count += 1;
        }
        self.opening_float_minor += doc.opening_float_minor;
        self.cash_sales_minor += doc.cash_sales_minor;
        self.cash_refunds_minor += doc.cash_refunds_minor;
        self.cash_voids_minor += doc.cash_voids_minor;
        self.net_cash_minor +=
            doc.cash_sales_minor - doc.cash_refunds_minor - doc.cash_voids_minor - doc.empties_paid_minor;
        self.empties_paid_minor += doc.empties_paid_minor;
        self.paid_in_minor += doc.paid_in_minor;
        self.paid_out_minor += doc.paid_out_minor;
        self.safe_drops_minor += doc.safe_drops_minor;
        self.expected_cash_minor += doc.expected_cash_minor;
        self.counted_cash_minor += doc.counted_cash_minor.unwrap_or(0);
        self.over_short_minor += doc.over_short_minor.unwrap_or(0);
    }
}

/// The drawer figures of business day `date` per location.
pub async fn drawer_days(
    db: &Database,
    date: &str,
    location: Option<&str>,
) -> Result<BTreeMap<String, DrawerDay>, ApiError> {
    let mut days: BTreeMap<String, DrawerDay> = BTreeMap::new();
    for doc in sessions_between(db, date, date, location).await? {
        days.entry(doc.location.clone()).or_default().add(&doc);
    }
    Ok(days)
}

/// Filters of the period reports (`over-short`, `paid-outs`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CashPeriodQuery {
    /// First business day, `YYYY-MM-DD` (inclusive).
    pub from: String,
    /// Last business day, `YYYY-MM-DD` (inclusive).
    pub to: String,
    /// Only this location. A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
}

impl CashPeriodQuery {
    fn check(&self) -> Result<(), ApiError> {
        let (from, to) = (date("from", &self.from)?, date("to", &self.to)?);
        if from > to {
            return Err(ApiError::invalid("to", "must not be before from"));
        }
        Ok(())
    }
}

/// Over/short of the closed sessions of one cashier or one terminal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct OverShortRow {
    /// The cashier's user id or the terminal id.
    pub id: String,
    /// Closed sessions.
    pub session_count: i64,
    /// Σ expected cash.
    pub expected_cash_minor: i64,
    /// Σ counted cash.
    pub counted_cash_minor: i64,
    /// Σ over/short (counted − expected).
    pub over_short_minor: i64,
    /// Σ of the positive over/shorts (cash over).
    pub over_minor: i64,
    /// Σ of the negative over/shorts (cash short), as a negative number.
    pub short_minor: i64,
    /// Sessions whose over/short waits for a manager.
    pub pending_approval_count: i64,
}

impl OverShortRow {
    fn add(&mut self, doc: &DrawerSessionDoc) {
        let over_short = doc.over_short_minor.unwrap_or(0);
        self.session_count += 1;
        self.expected_cash_minor += doc.expected_cash_minor;
        self.counted_cash_minor += doc.counted_cash_minor.unwrap_or(0);
        self.over_short_minor += over_short;
        if over_short > 0 {
            self.over_minor += over_short;
        } else {
            self.short_minor += over_short;
        }
        if doc.approval == Some(ApprovalStatus::Pending) {
            self.pending_approval_count += 1;
        }
    }
}

/// `GET /v1/reports/over-short`: closed sessions of a period, per cashier and per terminal.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OverShortReport {
    /// First business day.
    pub from: String,
    /// Last business day.
    pub to: String,
    /// Per cashier (who opened the session), by id.
    pub by_cashier: Vec<OverShortRow>,
    /// Per terminal, by id.
    pub by_terminal: Vec<OverShortRow>,
}

/// Over/short per cashier and per terminal of the sessions closed in a period (by the
/// business day they opened on).
pub async fn over_short(db: &Database, query: &CashPeriodQuery) -> Result<OverShortReport, ApiError> {
    query.check()?;
    let mut cashiers: BTreeMap<String, OverShortRow> = BTreeMap::new();
    let mut terminals: BTreeMap<String, OverShortRow> = BTreeMap::new();
    for doc in sessions_between(db, &query.from, &query.to, query.location.as_deref()).await? {
        if doc.status != DrawerSessionStatus::Closed {
            continue;
        }
        cashiers.entry(doc.cashier_id.clone()).or_default().add(&doc);
        terminals.entry(doc.terminal_id.clone()).or_default().add(&doc);
    }
    let rows =
        |map: BTreeMap<String, OverShortRow>| map.into_iter().map(|(id, row)| OverShortRow { id, ..row }).collect();
    Ok(OverShortReport {
        from: query.from.clone(),
        to: query.to.clone(),
        by_cashier: rows(cashiers),
        by_terminal: rows(terminals),
    })
}

/// Paid-outs of one reason in a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PaidOutsByReason {
    /// The reason.
    pub reason: CashReason,
    /// How many paid-outs.
    pub count: i64,
    /// Σ their amounts, minor units.
    pub amount_minor: i64,
}

/// Paid-outs of the sessions of a period, per reason (in the reasons' fixed order).
pub async fn paid_outs(db: &Database, query: &CashPeriodQuery) -> Result<Vec<PaidOutsByReason>, ApiError> {
    query.check()?;
    let mut reasons: BTreeMap<CashReason, (i64, i64)> = BTreeMap::new();
    for doc in sessions_between(db, &query.from, &query.to, query.location.as_deref()).await? {
        for movement in doc.movements.iter().filter(|m| m.kind == CashMovementKind::PaidOut) {
            let entry = reasons.entry(movement.reason.unwrap_or(CashReason::Other)).or_default();
            entry.0 += 1;
            entry.1 += movement.amount_minor;
        }
    }
    Ok(reasons
        .into_iter()
        .map(|(reason, (count, amount_minor))| PaidOutsByReason {
            reason,
            count,
            amount_minor,
        })
        .collect())
}

/// The longest period `GET /v1/drawer-sessions` lists in one request, in business days
/// (`from` and `to` included): a quarter.
pub const MAX_SESSION_DAYS: i64 = 92;

/// Filters and paging of `GET /v1/drawer-sessions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SessionListQuery {
    /// First business day, `YYYY-MM-DD` (inclusive).
    pub from: String,
    /// Last business day, `YYYY-MM-DD` (inclusive); at most 92 days after `from`
    /// counting both.
    pub to: String,
    /// Only this location (404 when the tenant has no such location). A caller limited to locations: one of theirs, by default their only one
    /// (docs/identity.md).
    pub location: Option<String>,
    /// Page size (1 to 500, default 50).
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

impl SessionListQuery {
    fn check(&self) -> Result<(), ApiError> {
        let (from, to) = (date("from", &self.from)?, date("to", &self.to)?);
        if from > to {
            return Err(ApiError::invalid("to", "must not be before from"));
        }
        if (to - from).num_days() >= MAX_SESSION_DAYS {
            return Err(ApiError::invalid(
                "to",
                format!("must be at most {MAX_SESSION_DAYS} days from from, both included"),
            ));
        }
        Ok(())
    }
}

/// The cursor of a session in the listing's order: its business day, then its id.
fn session_cursor(doc: &DrawerSessionDoc) -> String {
    format!("{}/{}", doc.business_date, doc.session_id)
}

/// The sessions opened on business days `from..=to` (optionally at one location), by
/// business day then id, a page at a time, each with every figure (managers and API keys
/// see through blind close).
pub async fn sessions(db: &Database, query: &SessionListQuery) -> Result<Page<DrawerSession>, ApiError> {
    query.check()?;
    let limit = page::limit(query.limit)?;
    let mut filter: Document = doc! {(DrawerSessionDoc::BUSINESS_DATE): {"$gte": &query.from, "$lte": &query.to}};
    if let Some(location) = &query.location {
        locations::location(db, location).await?;
        filter.insert(DrawerSessionDoc::LOCATION, location.as_str());
    }
    if let Some(cursor) = &query.cursor {
        let (day, id) = cursor
            .split_once('/')
            .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this listing gave"))?;
        filter = doc! {"$and": [filter, {"$or": [
            {(DrawerSessionDoc::BUSINESS_DATE): {"$gt": day}},
            {(DrawerSessionDoc::BUSINESS_DATE): day, ID: {"$gt": id}},
        ]}]};
    }
    list(
        &collections::drawer_sessions(db),
        filter,
        doc! {(DrawerSessionDoc::BUSINESS_DATE): 1, ID: 1},
        limit,
        session_cursor,
        |doc| DrawerSession::of(doc, false),
    )
    .await
}
