//! The Z report of one location and business day, laid out for printing (the print
//! stylesheet hides the navigation and forms), and its CSV as the API makes it.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};

use crate::api::views::Reversals;
use crate::error::PageError;
use crate::extract::SignedIn;
use crate::money;
use crate::pages::dashboard::{picker, z_row};
use crate::pages::day::{Day, DayQuery};
use crate::pages::layout::{self, Section};
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

/// `GET /reports/z`.
pub async fn z_report(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<DayQuery>,
) -> Result<Html<String>, PageError> {
    who.require(Role::Manager)?;
    let day = Day::pick(&state, &who, &query).await?;
    let date = day.date_text();
    let r = z_row(&state, &who, &date, &day.location.id).await?.unwrap_or_default();
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
                (row("z-expected-cash", "Expected cash", r.expected_cash_minor, c))
            }
        }
        p class="muted" { "What each figure means: docs/reports.md. Amounts in " (c) "." }
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
