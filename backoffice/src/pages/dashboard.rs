//! The dashboard of one location and business day: the day's figures (from the Z report),
//! sales by hour (from the day's sales), the last 30 days (one Z report per day) and the
//! products at or below their reorder point.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::response::Html;
use chrono::Duration;
use futures::StreamExt;
use maud::{Markup, html};

use crate::api::views::{DailyReport, Items, Page, Sale, StockLevel};
use crate::chart::{self, Bar};
use crate::error::PageError;
use crate::extract::SignedIn;
use crate::money;
use crate::pages::day::{Day, DayQuery};
use crate::pages::layout::{self, Section};
use crate::role::Role;
use crate::state::AppState;

/// Most pages of sales read for one hour of the hourly chart (500 each).
const MAX_SALE_PAGES: usize = 40;
/// Days in the trend chart.
const TREND_DAYS: i64 = 30;

/// The Z report row of `location` on `date` (a day without sales has none: zeros).
pub async fn z_row(
    state: &AppState,
    who: &SignedIn,
    date: &str,
    location: &str,
) -> Result<Option<DailyReport>, PageError> {
    let Items { items } = state
        .api
        .get::<Items<DailyReport>>(
            who.token(),
            "/v1/reports/daily",
            &[("date", date), ("location", location)],
        )
        .await?;
    Ok(items.into_iter().next())
}

/// The sales of `day` at its location that count on it, by local hour: (count, total).
/// The day is read an hour at a time, six hours at once, each hour paged by the API (500
/// sales a page): smaller sorts for the database and no long chain of pages.
pub async fn sales_by_hour(
    state: &AppState,
    who: &SignedIn,
    day: &Day,
) -> Result<BTreeMap<u32, (i64, i64)>, PageError> {
    let (from, to) = day.bounds();
    let mut slices = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + Duration::hours(1)).min(to);
        slices.push((start.to_rfc3339(), end.to_rfc3339()));
        start = end;
    }
    let date = day.date_text();
    let location = day.location.id.as_str();
    let read: Vec<Result<Vec<Sale>, PageError>> = futures::stream::iter(slices)
        .map(|(from, to)| async move {
            let mut sales = Vec::new();
            let mut cursor: Option<String> = None;
            for _ in 0..MAX_SALE_PAGES {
                let mut query = vec![
                    ("from", from.as_str()),
                    ("to", to.as_str()),
                    ("location", location),
                    ("limit", "500"),
                ];
                if let Some(cursor) = cursor.as_deref() {
                    query.push(("cursor", cursor));
                }
                let page: Page<Sale> = state.api.get(who.token(), "/v1/sales", &query).await?;
                sales.extend(page.items);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            Ok(sales)
        })
        .buffer_unordered(6)
        .collect()
        .await;
    let mut hours: BTreeMap<u32, (i64, i64)> = day.hours().into_iter().map(|h| (h, (0, 0))).collect();
    for sales in read {
        for sale in sales?
            .iter()
            .filter(|s| s.business_date == date && s.counts_on_its_day())
        {
            let slot = hours.entry(day.local_hour(sale.occurred_at)).or_default();
            slot.0 += 1;
            slot.1 += sale.total_minor;
        }
    }
    Ok(hours)
}

/// The totals of the 30 days up to `day`, oldest first.
async fn trend(state: &AppState, who: &SignedIn, day: &Day) -> Result<Vec<(String, i64)>, PageError> {
    let dates: Vec<String> = (0..TREND_DAYS)
        .rev()
        .map(|back| (day.date - Duration::days(back)).format("%Y-%m-%d").to_string())
        .collect();
    let location = day.location.id.as_str();
    let rows: Vec<Result<(String, i64), PageError>> = futures::stream::iter(dates)
        .map(|date| async move {
            let row = z_row(state, who, &date, location).await?;
            Ok((date, row.map(|r| r.total_minor).unwrap_or(0)))
        })
        .buffered(6)
        .collect()
        .await;
    rows.into_iter().collect()
}

/// A figure with its value in minor units (for tests and screen readers alike).
pub fn figure(id: &str, label: &str, minor: i64, currency: &str) -> Markup {
    html! {
        div class="card" {
            div class="label" { (label) }
            div class="value" id=(id) data-minor=(minor) { (money::format(minor, currency)) }
        }
    }
}

/// The location and day picker.
pub fn picker(action: &str, day: &Day) -> Markup {
    html! {
        form method="get" action=(action) class="filters" {
            div {
                label for="location" { "Location" }
                select id="location" name="location" {
                    @for location in &day.locations {
                        option value=(location.id) selected[location.id == day.location.id] { (location.name) " (" (location.id) ")" }
                    }
                }
            }
            div {
                label for="date" { "Business day" }
                input id="date" name="date" type="date" value=(day.date_text());
            }
            div { button type="submit" class="secondary" { "Show" } }
        }
    }
}

/// `GET /dashboard`.
pub async fn dashboard(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<DayQuery>,
) -> Result<Html<String>, PageError> {
    who.require(Role::Manager)?;
    let day = Day::pick(&state, &who, &query).await?;
    let date = day.date_text();
    let currency = day.location.currency.clone();
    let low_query = [
        ("location", day.location.id.as_str()),
        ("state", "low"),
        ("limit", "50"),
    ];
    let (row, hours, trend, low) = tokio::join!(
        z_row(&state, &who, &date, &day.location.id),
        sales_by_hour(&state, &who, &day),
        trend(&state, &who, &day),
        state.api.get::<Page<StockLevel>>(who.token(), "/v1/stock", &low_query),
    );
    let row = row?.unwrap_or_default();
    let hours = hours?;
    let trend = trend?;
    let low = low.map_err(PageError::from)?;
    let hour_bars: Vec<Bar> = day
        .hours()
        .into_iter()
        .map(|h| {
            let (_, total) = hours.get(&h).copied().unwrap_or_default();
            Bar {
                label: format!("{h:02}"),
                value: total,
                shown: money::format(total, &currency),
            }
        })
        .collect();
    let trend_bars: Vec<Bar> = trend
        .iter()
        .map(|(date, total)| Bar {
            label: date.get(5..).unwrap_or(date).to_owned(),
            value: *total,
            shown: money::format(*total, &currency),
        })
        .collect();
    let body = html! {
        (picker("/dashboard", &day))
        p class="muted" {
            (day.location.name) ", business day " (date) " (" (day.location.time_zone) ", starting " (day.location.business_day_start) "). "
            a href=(format!("/reports/z?location={}&date={date}", day.location.id)) { "Z report" } " · "
            a href=(format!("/sales?location={}&date={date}", day.location.id)) { "Sales of the day" }
        }
        section class="cards" aria-label="The day's figures" {
            div class="card" {
                div class="label" { "Sales" }
                div class="value" id="sale-count" data-count=(row.sale_count) { (row.sale_count) }
            }
            (figure("total", "Takings (tax incl.)", row.total_minor, &currency))
            (figure("net", "Net (before tax)", row.net_minor, &currency))
            (figure("tax", "Tax", row.tax_minor, &currency))
            (figure("net-after-refunds", "Net after refunds", row.net_after_refunds_minor, &currency))
            (figure("expected-cash", "Expected cash", row.expected_cash_minor, &currency))
        }
        h2 { "Tenders" }
        table id="tenders" {
            thead { tr { th { "Tender" } th class="num" { "Taken" } th class="num" { "Refunded" } } }
            tbody {
                tr { td { "Cash" } td class="num" data-minor=(row.tenders.cash) { (money::format(row.tenders.cash, &currency)) } td class="num" { (money::format(row.refunds.tenders.cash, &currency)) } }
                tr { td { "Card" } td class="num" data-minor=(row.tenders.card) { (money::format(row.tenders.card, &currency)) } td class="num" { (money::format(row.refunds.tenders.card, &currency)) } }
                tr { td { "Other" } td class="num" data-minor=(row.tenders.other) { (money::format(row.tenders.other, &currency)) } td class="num" { (money::format(row.refunds.tenders.other, &currency)) } }
            }
        }
        p class="muted" { (row.voids.count) " voids, " (row.refunds.count) " refunds." }
        h2 { "Sales by hour" }
        div id="chart-hours" { (chart::bars(&format!("Takings by hour on {date}"), &hour_bars, 2)) }
        h2 { "Last 30 days" }
        div id="chart-days" { (chart::bars(&format!("Takings per day, 30 days up to {date}"), &trend_bars, 5)) }
        h2 { "Low stock" }
        @if low.items.is_empty() {
            p id="low-stock" class="muted" { "Nothing is at or below its reorder point." }
        } @else {
            table id="low-stock" {
                thead { tr { th { "SKU" } th { "Name" } th class="num" { "On hand" } th class="num" { "Reorder point" } } }
                tbody {
                    @for item in &low.items {
                        tr {
                            td { a href=(format!("/stock/{}", item.sku)) { (item.sku) } }
                            td { (item.name.as_deref().unwrap_or("")) }
                            td class="num" { (item.on_hand.unwrap_or(0)) }
                            td class="num" { (item.reorder_point.map(|p| p.to_string()).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&who, Section::Dashboard, "Dashboard", body))
}
