//! The Z report of one location and business day, laid out for printing (the print
//! stylesheet hides the navigation and forms), and its CSV as the API makes it; with the
//! day's drawer sessions (each one's expected, counted and over/short, linked to its own
//! report), its deposits and empties, what arrived after its close, and the close itself
//! for managers (the API refuses it while drawers are still open).

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};
use reqwest::Method;
use serde::Deserialize;

use crate::api::views::{DrawerSession, Reversals};
use crate::error::PageError;
use crate::extract::{CheckedForm, SignedIn};
use crate::money;
use crate::pages::dashboard::{picker, z_row};
use crate::pages::day::{Day, DayQuery};
use crate::pages::layout::{self, Section};
use crate::pages::layout::{csrf_field, notice};
use crate::pages::sales::valid_id;
use crate::role::Role;
use crate::state::AppState;

fn row(id: &str, label: &str, minor: i64, currency: &str) -> Markup {
    html! { tr { th scope="row" { (label) } td class="num" id=(id) data-minor=(minor) { (money::format(minor, currency)) } } }
}

fn reversals(prefix: &str, title: &str, r: &Reversals, currency: &str) -> Markup {
    html! {
        tr { th scope="row" { (title) } td class="num" id=(format!("{prefix}-count")) data-count=(r.count) { (r.count) } }
        (row(&format!("{prefix}-net"), "  net", r.net_minor, currency))
        (row(&format!("{prefix}-tax"), "  tax", r.tax_minor, currency))
        (row(&format!("{prefix}-total"), "  total", r.total_minor, currency))
        (row(&format!("{prefix}-cash"), "  cash", r.tenders.cash, currency))
        (row(&format!("{prefix}-card"), "  card", r.tenders.card, currency))
        (row(&format!("{prefix}-other"), "  other", r.tenders.other, currency))
    }
}

/// `?closed=<seq>` after the day was closed from this page.
#[derive(Debug, Default, Deserialize)]
pub struct Closed {
    /// The close's stream sequence: wait for the read model to have it.
    #[serde(default)]
    closed: Option<u64>,
}

fn local(at: DateTime<Utc>, zone: &str) -> String {
    let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

fn optional(minor: Option<i64>, currency: &str) -> String {
    minor.map_or_else(|| "—".to_owned(), |m| money::format(m, currency))
}

/// The drawer sessions of the day, as their own reports (a day has a handful).
async fn sessions(state: &AppState, who: &SignedIn, ids: &[String]) -> Result<Vec<DrawerSession>, PageError> {
    let reads = ids.iter().filter(|id| valid_id(id)).map(|id| async move {
        state
            .api
            .get::<DrawerSession>(who.token(), &format!("/v1/drawer-sessions/{id}"), &[])
            .await
    });
    Ok(futures::future::try_join_all(reads).await?)
}

/// `GET /reports/z`.
pub async fn z_report(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<DayQuery>,
    Query(after): Query<Closed>,
) -> Result<Html<String>, PageError> {
    who.require(Role::Manager)?;
    let day = Day::pick(&state, &who, &query).await?;
    let date = day.date_text();
    if let Some(seq) = after.closed {
        // Read-your-writes: the close is in the read model before the page is drawn.
        let seq = seq.to_string();
        let _: serde_json::Value = state
            .api
            .get(
                who.token(),
                "/v1/reports/daily",
                &[("date", &date), ("location", &day.location.id), ("min_sequence", &seq)],
            )
            .await?;
    }
    let r = z_row(&state, &who, &date, &day.location.id).await?.unwrap_or_default();
    let drawers = sessions(&state, &who, &r.drawers.sessions).await?;
    let zone = day.location.time_zone.as_str();
    let c = day.location.currency.as_str();
    let csv = format!("/reports/z.csv?location={}&date={date}", day.location.id);
    let body = html! {
        (picker("/reports/z", &day))
        p class="no-print" {
            a class="button secondary" id="csv" href=(csv) download { "Download CSV" } " "
            button type="button" class="secondary" data-print hidden { "Print" }
        }
        table id="z-report" aria-label=(format!("Z report, {} on {date}", day.location.name)) {
            caption { (day.location.name) " (" (day.location.id) "), business day " (date) ", " (c) }
            tbody {
                tr { th scope="row" { "Sales" } td class="num" id="z-sale-count" data-count=(r.sale_count) { (r.sale_count) } }
                (row("z-gross", "Gross", r.gross_minor, c))
                (row("z-discounts", "Discounts", r.discounts_minor, c))
                (row("z-net", "Net", r.net_minor, c))
                (row("z-tax", "Tax", r.tax_minor, c))
                (row("z-total", "Total", r.total_minor, c))
                (row("z-cash", "Cash (net of change)", r.tenders.cash, c))
                (row("z-card", "Card", r.tenders.card, c))
                (row("z-other", "Other tenders", r.tenders.other, c))
                (reversals("z-voids", "Voids", &r.voids, c))
                (reversals("z-earlier-voids", "Voids of earlier days' sales", &r.earlier_day_voids, c))
                (reversals("z-refunds", "Refunds", &r.refunds, c))
                (row("z-net-after-refunds", "Net after refunds", r.net_after_refunds_minor, c))
                (row("z-tax-after-refunds", "Tax owed", r.tax_after_refunds_minor, c))
                (row("z-deposits", "Deposits charged", r.deposits_minor, c))
                tr { th scope="row" { "Empties returned" } td class="num" id="z-empties-count" data-count=(r.empties.count) { (r.empties.count) " (" (r.empties.containers) " containers)" } }
                (row("z-empties-paid", "  cash paid out", r.empties.paid_minor, c))
                (row("z-empties-deposit", "  at the deposit rates", r.empties.deposit_minor, c))
                (row("z-deposits-held", "Deposits held", r.deposits_after_refunds_minor, c))
                (row("z-expected-cash", "Expected cash", r.expected_cash_minor, c))
            }
        }
        @if r.empties.differing_count > 0 {
            (notice("warning", &format!("{} empties return(s) were paid at another amount than the deposit rates (an offline till, or an override).", r.empties.differing_count)))
        }
        h2 { "Drawers" }
        @if drawers.is_empty() {
            p class="muted" id="no-drawers" { "No drawer session was opened at this location on this day." }
        } @else {
            table id="drawers" aria-label="Drawer sessions of the day" {
                thead { tr {
                    th { "Session" } th { "Terminal" } th { "Cashier" } th { "Status" }
                    th class="num" { "Float" } th class="num" { "Expected" } th class="num" { "Counted" } th class="num" { "Over/short" } th { "Approval" }
                } }
                tbody {
                    @for d in &drawers {
                        tr data-session=(d.id) {
                            td { a href=(format!("/drawers/{}", d.id)) { (d.id) } }
                            td { (d.terminal_id) } td { (d.cashier_id) } td { (d.status) }
                            td class="num" { (money::format(d.opening_float_minor, c)) }
                            td class="num" { (optional(d.expected_cash_minor, c)) }
                            td class="num" { (optional(d.counted_cash_minor, c)) }
                            td class="num" data-minor=[d.over_short_minor] { (optional(d.over_short_minor, c)) }
                            td { (d.approval.as_deref().unwrap_or("—")) }
                        }
                    }
                }
                tfoot { tr {
                    th scope="row" colspan="5" { "Σ (" (r.drawers.open_count) " still open)" }
                    td class="num" id="drawers-expected" { (money::format(r.drawers.expected_cash_minor, c)) }
                    td class="num" id="drawers-counted" { (money::format(r.drawers.counted_cash_minor, c)) }
                    td class="num" id="drawers-over-short" data-minor=(r.drawers.over_short_minor) { (money::format(r.drawers.over_short_minor, c)) }
                    td {}
                } }
            }
        }
        @if let Some(at) = r.closed_at {
            p id="day-closed" { "Day closed by " (r.closed_by.as_deref().unwrap_or("?")) " at " (local(at, zone)) "." }
            @if !r.amendments.is_empty() {
                h2 { "Arrived after the close" }
                table id="amendments" {
                    thead { tr { th { "Kind" } th { "Reference" } th class="num" { "Total" } th class="num" { "Cash" } th { "Arrived" } } }
                    tbody {
                        @for a in &r.amendments {
                            tr { td { (a.kind) } td { (a.reference) } td class="num" { (money::format(a.total_minor, c)) } td class="num" { (money::format(a.cash_minor, c)) } td { (local(a.recorded_at, zone)) } }
                        }
                    }
                }
            }
        } @else if who.is(Role::Manager) {
            form method="post" action="/reports/z/close" id="close-day-form" class="no-print" {
                (csrf_field(&who.csrf))
                input type="hidden" name="location" value=(day.location.id);
                input type="hidden" name="date" value=(date);
                p {
                    button type="submit" class="danger" id="close-day" { "Close the business day" }
                    " "
                    span class="muted" { "Every drawer must be closed first. Sales that arrive later still count on this day, listed as amendments." }
                }
            }
        }
        p class="muted" { "What each figure means: docs/reports.md and docs/cash.md. Amounts in " (c) "." }
    };
    Ok(layout::page(&who, Section::Report, "Z report", body))
}

/// `GET /reports/z.csv`: the API's CSV of the day at the location, as a download.
pub async fn z_csv(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<DayQuery>,
) -> Result<Response, PageError> {
    who.require(Role::Manager)?;
    let day = Day::pick(&state, &who, &query).await?;
    let date = day.date_text();
    let csv = state
        .api
        .get_csv(
            who.token(),
            "/v1/reports/daily",
            &[("date", &date), ("location", &day.location.id)],
        )
        .await?;
    let filename = format!("z-report-{}-{date}.csv", day.location.id);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// The close-day form.
#[derive(Debug, Deserialize)]
pub struct CloseDayForm {
    location: String,
    date: String,
}

/// `POST /reports/z/close` (managers and admins): closes the business day; the API
/// refuses it (409, shown on the error page with the open sessions) while drawers are open.
pub async fn close_day(
    State(state): State<AppState>,
    CheckedForm { handle, form }: CheckedForm<CloseDayForm>,
) -> Result<Response, PageError> {
    let who = SignedIn::of(&state, &handle).await?;
    who.require(Role::Manager)?;
    let date_ok = chrono::NaiveDate::parse_from_str(&form.date, "%Y-%m-%d").is_ok();
    if !valid_id(&form.location) || !date_ok {
        return Err(PageError::BadRequest(
            "the close form is damaged; reload the report".to_owned(),
        ));
    }
    let written = state
        .api
        .send(
            Method::POST,
            &format!("/v1/locations/{}/days/{}/close", form.location, form.date),
            Some(who.token()),
            &serde_json::json!({}),
            &[],
            None,
        )
        .await?;
    tracing::info!(location = %form.location, date = %form.date, user = %who.user.user_id, "business day closed from the back office");
    let seq = written.body["stream_sequence"].as_u64().unwrap_or(0);
    Ok(Redirect::to(&format!(
        "/reports/z?location={}&date={}&closed={seq}",
        form.location, form.date
    ))
    .into_response())
}

/// `GET /drawers/{id}`: one drawer session's X report (open) or Z report (closed), with
/// every cash movement (managers and admins).
pub async fn drawer(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    who.require(Role::Manager)?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    let d: DrawerSession = state
        .api
        .get(who.token(), &format!("/v1/drawer-sessions/{id}"), &[])
        .await?;
    let c = d.currency.as_str();
    let day = Day::pick(
        &state,
        &who,
        &DayQuery {
            location: Some(d.location.clone()),
            date: Some(d.business_date.clone()),
        },
    )
    .await?;
    let zone = day.location.time_zone.as_str();
    let title = if d.status == "open" {
        "X report (open)"
    } else {
        "Z report (closed)"
    };
    let back = format!("/reports/z?location={}&date={}", d.location, d.business_date);
    let body = html! {
        p class="no-print" { a href=(back) { "← The day's Z report" } }
        table id="drawer" aria-label=(format!("Drawer session {}", d.id)) {
            caption { "Drawer session " (d.id) ": terminal " (d.terminal_id) ", " (d.cashier_id) ", opened " (local(d.opened_at, zone))
                @if let Some(at) = d.closed_at { ", closed " (local(at, zone)) } }
            tbody {
                (row("d-float", "Opening float", d.opening_float_minor, c))
                (row("d-cash-sales", "Cash sales (net of change)", d.cash_sales_minor, c))
                (row("d-cash-refunds", "Cash refunds", d.cash_refunds_minor, c))
                (row("d-cash-voids", "Cash of voided sales", d.cash_voids_minor, c))
                (row("d-paid-in", "Paid in", d.paid_in_minor, c))
                (row("d-paid-out", "Paid out", d.paid_out_minor, c))
                (row("d-safe-drops", "Safe drops", d.safe_drops_minor, c))
                (row("d-empties", "Empties paid out", d.empties_paid_minor, c))
                tr { th scope="row" { "Expected cash" } td class="num" id="d-expected" { (optional(d.expected_cash_minor, c)) } }
                tr { th scope="row" { "Counted" } td class="num" id="d-counted" { (optional(d.counted_cash_minor, c)) } }
                tr { th scope="row" { "Over (+) / short (−)" } td class="num" id="d-over-short" { (optional(d.over_short_minor, c)) } }
                tr { th scope="row" { "Approval" } td id="d-approval" { (d.approval.as_deref().unwrap_or("—")) } }
            }
        }
        h2 { "Cash movements" }
        @if d.movements.is_empty() {
            p class="muted" { "None." }
        } @else {
            table id="movements" {
                thead { tr { th { "When" } th { "Kind" } th { "Reason" } th class="num" { "Amount" } th { "By" } th { "Note" } } }
                tbody {
                    @for m in &d.movements {
                        tr { td { (local(m.occurred_at, zone)) } td { (m.kind) } td { (m.reason.as_deref().unwrap_or("")) } td class="num" { (money::format(m.amount_minor, c)) } td { (m.recorded_by) } td { (m.note.as_deref().unwrap_or("")) } }
                    }
                }
            }
        }
    };
    Ok(layout::page(&who, Section::Report, title, body))
}
