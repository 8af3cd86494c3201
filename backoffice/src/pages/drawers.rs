//! Drawer sessions of one location over a period of business days (managers and admins):
//! each session with its float, expected and counted cash, over/short and approval, linked
//! to its own report (`/drawers/{id}`); the over/short per cashier and per terminal, and the
//! paid-outs by reason, of the same period (the API's cash reports, docs/cash.md).
//!
//! The sessions come from `GET /v1/drawer-sessions?location=&from=&to=` (500 a page, a
//! further request per 500), alongside the two period reports.

use axum::extract::{Query, State};
use axum::response::Html;
use chrono::{Duration, NaiveDate};
use maud::{Markup, html};
use serde::Deserialize;

use crate::api::views::{DrawerSession, Items, Page};
use crate::error::PageError;
use crate::extract::SignedIn;
use crate::money;
use crate::pages::day::{Day, DayQuery};
use crate::pages::layout::{self, Section, notice};
use crate::role::Role;
use crate::state::AppState;

/// The longest period one page shows, in days.
pub const MAX_DAYS: i64 = 31;

/// Most pages of 500 sessions one period reads (10,000 sessions).
const MAX_SESSION_PAGES: usize = 20;

/// `?location=&from=&to=`.
#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// One row of `GET /v1/reports/over-short`.
#[derive(Debug, Clone, Deserialize)]
pub struct OverShortRow {
    /// The cashier or terminal.
    pub id: String,
    /// Closed sessions.
    pub session_count: i64,
    /// Σ expected cash.
    pub expected_cash_minor: i64,
    /// Σ counted cash.
    pub counted_cash_minor: i64,
    /// Σ over/short.
    pub over_short_minor: i64,
    /// Σ of the overs.
    pub over_minor: i64,
    /// Σ of the shorts (negative).
    pub short_minor: i64,
    /// Sessions waiting for a manager's approval.
    pub pending_approval_count: i64,
}

/// `GET /v1/reports/over-short`.
#[derive(Debug, Clone, Deserialize)]
pub struct OverShortReport {
    /// Per cashier.
    pub by_cashier: Vec<OverShortRow>,
    /// Per terminal.
    pub by_terminal: Vec<OverShortRow>,
}

/// One row of `GET /v1/reports/paid-outs`.
#[derive(Debug, Clone, Deserialize)]
pub struct PaidOuts {
    /// The reason.
    pub reason: String,
    /// How many.
    pub count: i64,
    /// Σ amounts.
    pub amount_minor: i64,
}

fn date(text: Option<&str>, label: &str) -> Result<Option<NaiveDate>, PageError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| PageError::BadRequest(format!("{label}: '{text}' is not a date like 2026-11-24"))),
    }
}

fn optional(minor: Option<i64>, currency: &str) -> String {
    minor.map_or_else(|| "—".to_owned(), |m| money::format(m, currency))
}

fn summary(caption: &str, id: &str, rows: &[OverShortRow], c: &str) -> Markup {
    html! {
        table id=(id) {
            caption { (caption) }
            thead { tr { th { "" } th class="num" { "Sessions" } th class="num" { "Expected" } th class="num" { "Counted" } th class="num" { "Over" } th class="num" { "Short" } th class="num" { "Over/short" } th class="num" { "Pending approval" } } }
            tbody {
                @for r in rows {
                    tr data-row=(r.id) {
                        th scope="row" { (r.id) }
                        td class="num" { (r.session_count) }
                        td class="num" { (money::format(r.expected_cash_minor, c)) }
                        td class="num" { (money::format(r.counted_cash_minor, c)) }
                        td class="num" { (money::format(r.over_minor, c)) }
                        td class="num" { (money::format(r.short_minor, c)) }
                        td class="num" data-minor=(r.over_short_minor) { (money::format(r.over_short_minor, c)) }
                        td class="num" { (r.pending_approval_count) }
                    }
                }
            }
        }
    }
}

/// `GET /drawers`: the period's sessions at a location (managers and admins).
pub async fn period(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<PeriodQuery>,
) -> Result<Html<String>, PageError> {
    who.require(Role::Manager)?;
    let to = date(query.to.as_deref(), "To")?;
    let day = Day::pick(
        &state,
        &who,
        &DayQuery {
            location: query.location.clone(),
            date: to.map(|d| d.format("%Y-%m-%d").to_string()),
        },
    )
    .await?;
    let to = day.date;
    let from = date(query.from.as_deref(), "From")?.unwrap_or(to - Duration::days(6));
    if from > to {
        return Err(PageError::BadRequest("From must not be after To.".to_owned()));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(PageError::BadRequest(format!(
            "Choose at most {MAX_DAYS} days at a time."
        )));
    }
    let location = day.location.id.clone();
    let (from_text, to_text) = (from.format("%Y-%m-%d").to_string(), to.format("%Y-%m-%d").to_string());
    let period = [
        ("from", from_text.as_str()),
        ("to", to_text.as_str()),
        ("location", location.as_str()),
    ];
    let sessions = async {
        let mut sessions: Vec<DrawerSession> = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_SESSION_PAGES {
            let mut query = period.to_vec();
            query.push(("limit", "500"));
            if let Some(cursor) = cursor.as_deref() {
                query.push(("cursor", cursor));
            }
            let page: Page<DrawerSession> = state.api.get(who.token(), "/v1/drawer-sessions", &query).await?;
            sessions.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok::<_, crate::api::ApiError>(sessions)
    };
    let (sessions, over_short, paid_outs) = tokio::join!(
        sessions,
        state
            .api
            .get::<OverShortReport>(who.token(), "/v1/reports/over-short", &period),
        state
            .api
            .get::<Items<PaidOuts>>(who.token(), "/v1/reports/paid-outs", &period),
    );
    let (mut sessions, over_short, paid_outs) = (sessions?, over_short?, paid_outs?.items);
    sessions.sort_by(|a, b| (&a.business_date, a.opened_at).cmp(&(&b.business_date, b.opened_at)));

    let c = day.location.currency.as_str();
    let closed: Vec<&DrawerSession> = sessions.iter().filter(|s| s.status == "closed").collect();
    let listed_over_short: i64 = closed.iter().filter_map(|s| s.over_short_minor).sum();
    let pending = sessions
        .iter()
        .filter(|s| s.approval.as_deref() == Some("pending"))
        .count();
    let body = html! {
        form method="get" action="/drawers" class="filters" {
            div {
                label for="location" { "Location" }
                select id="location" name="location" {
                    @for l in &day.locations {
                        option value=(l.id) selected[l.id == day.location.id] { (l.name) " (" (l.id) ")" }
                    }
                }
            }
            div { label for="from" { "From (business day)" } input id="from" name="from" type="date" value=(from_text); }
            div { label for="to" { "To" } input id="to" name="to" type="date" value=(to_text); }
            div { button type="submit" class="secondary" { "Show" } }
        }
        @if pending > 0 {
            (notice("warning", &format!("{pending} session(s) wait for a manager to approve their over/short (POST /v1/drawer-sessions/{{id}}/approve).")))
        }
        @if sessions.is_empty() {
            p class="muted" id="no-sessions" { "No drawer session at " (day.location.name) " from " (from_text) " to " (to_text) "." }
        } @else {
            table id="sessions" aria-label="Drawer sessions of the period" {
                caption { (day.location.name) " (" (day.location.id) "), " (from_text) " to " (to_text) ", times in " (day.location.time_zone) ", " (c) }
                thead { tr {
                    th { "Day" } th { "Session" } th { "Terminal" } th { "Cashier" } th { "Opened" } th { "Closed" } th { "Status" }
                    th class="num" { "Float" } th class="num" { "Expected" } th class="num" { "Counted" } th class="num" { "Over/short" } th { "Approval" }
                } }
                tbody {
                    @for s in &sessions {
                        tr data-session=(s.id) {
                            td { (s.business_date) }
                            td { a href=(format!("/drawers/{}", s.id)) { (s.id) } }
                            td { (s.terminal_id) } td { (s.cashier_id) }
                            td { (day.local(s.opened_at)) }
                            td { (s.closed_at.map(|at| day.local(at)).unwrap_or_default()) }
                            td { (s.status) }
                            td class="num" { (money::format(s.opening_float_minor, c)) }
                            td class="num" { (optional(s.expected_cash_minor, c)) }
                            td class="num" { (optional(s.counted_cash_minor, c)) }
                            td class="num" data-minor=[s.over_short_minor] { (optional(s.over_short_minor, c)) }
                            td class="approval" { (s.approval.as_deref().unwrap_or("—")) }
                        }
                    }
                }
                tfoot { tr {
                    th scope="row" colspan="10" { "Σ over/short of the " (closed.len()) " closed session(s) listed" }
                    td class="num" id="sessions-over-short" data-minor=(listed_over_short) { (money::format(listed_over_short, c)) }
                    td {}
                } }
            }
        }
        h2 { "Over/short of the period" }
        @if over_short.by_cashier.is_empty() {
            p class="muted" { "No closed session." }
        } @else {
            (summary("Per cashier", "by-cashier", &over_short.by_cashier, c))
            (summary("Per terminal", "by-terminal", &over_short.by_terminal, c))
        }
        h2 { "Paid-outs by reason" }
        @if paid_outs.is_empty() {
            p class="muted" id="no-paid-outs" { "No paid-out." }
        } @else {
            table id="paid-outs" {
                thead { tr { th { "Reason" } th class="num" { "Count" } th class="num" { "Amount" } } }
                tbody {
                    @for p in &paid_outs {
                        tr data-reason=(p.reason) { th scope="row" { (p.reason) } td class="num" { (p.count) } td class="num" data-minor=(p.amount_minor) { (money::format(p.amount_minor, c)) } }
                    }
                }
            }
        }
        p class="muted" { "Over/short is counted − expected: positive when the drawer held more than expected. What each figure means: docs/cash.md." }
    };
    Ok(layout::page(&who, Section::Drawers, "Drawer sessions", body))
}
