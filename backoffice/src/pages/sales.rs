//! Sales: a filtered list and one sale's detail, with void and refund forms for managers.
//! Cashiers get neither the buttons nor the actions: the back office refuses the forms
//! by role, and the API refuses them again.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::html;
use serde::Deserialize;

use crate::api::views::{Items, Location, Page, Sale};
use crate::error::PageError;
use crate::extract::{CheckedForm, SignedIn};
use crate::money;
use crate::pages::day::{Day, DayQuery};
use crate::pages::form::{self, After, manager};
use crate::pages::layout::{self, Section, csrf_field};
use crate::role::Role;
use crate::state::AppState;

/// Whether `id` can be an API id (letters, digits, `-`, `_`; at most 64 bytes): anything
/// else never reaches an API path.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `GET /sales` filters.
#[derive(Debug, Default, Deserialize)]
pub struct SalesFilter {
    #[serde(default)]
    location: Option<String>,
    /// A business day at `location`.
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    terminal: Option<String>,
    #[serde(default)]
    cashier: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

fn time_zones(locations: &[Location]) -> BTreeMap<String, Tz> {
    locations
        .iter()
        .map(|l| (l.id.clone(), l.time_zone.parse().unwrap_or(Tz::UTC)))
        .collect()
}

fn local(zones: &BTreeMap<String, Tz>, location: &str, at: DateTime<Utc>) -> String {
    let tz = zones.get(location).copied().unwrap_or(Tz::UTC);
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `GET /sales`.
pub async fn list(
    State(state): State<AppState>,
    who: SignedIn,
    Query(filter): Query<SalesFilter>,
) -> Result<Html<String>, PageError> {
    who.require(Role::Manager)?;
    let day = Day::pick(
        &state,
        &who,
        &DayQuery {
            location: filter.location.clone(),
            date: filter.date.clone(),
        },
    )
    .await?;
    let (from, to) = day.bounds();
    let (from, to) = (from.to_rfc3339(), to.to_rfc3339());
    let mut query: Vec<(&str, &str)> = vec![
        ("from", &from),
        ("to", &to),
        ("location", &day.location.id),
        ("limit", "50"),
    ];
    for (name, value) in [
        ("status", &filter.status),
        ("terminal", &filter.terminal),
        ("cashier", &filter.cashier),
        ("cursor", &filter.cursor),
    ] {
        if let Some(value) = non_empty(value) {
            query.push((name, value));
        }
    }
    let page: Page<Sale> = state.api.get(who.token(), "/v1/sales", &query).await?;
    let zones = time_zones(&day.locations);
    let date = day.date_text();
    let next = page.next_cursor.as_ref().map(|cursor| {
        let mut params = vec![
            ("location", day.location.id.as_str()),
            ("date", date.as_str()),
            ("cursor", cursor.as_str()),
        ];
        for (name, value) in [
            ("status", &filter.status),
            ("terminal", &filter.terminal),
            ("cashier", &filter.cashier),
        ] {
            if let Some(value) = non_empty(value) {
                params.push((name, value));
            }
        }
        format!("/sales?{}", serde_urlencoded::to_string(&params).unwrap_or_default())
    });
    let status = non_empty(&filter.status).unwrap_or("");
    let body = html! {
        form method="get" action="/sales" class="filters" {
            div {
                label for="location" { "Location" }
                select id="location" name="location" {
                    @for l in &day.locations { option value=(l.id) selected[l.id == day.location.id] { (l.name) } }
                }
            }
            div { label for="date" { "Business day" } input id="date" name="date" type="date" value=(date); }
            div {
                label for="status" { "Status" }
                select id="status" name="status" {
                    @for (value, label) in [("", "Any"), ("completed", "Completed"), ("voided", "Voided"), ("partially_refunded", "Partially refunded"), ("refunded", "Refunded")] {
                        option value=(value) selected[value == status] { (label) }
                    }
                }
            }
            div { label for="terminal" { "Till" } input id="terminal" name="terminal" value=(non_empty(&filter.terminal).unwrap_or("")); }
            div { label for="cashier" { "Cashier id" } input id="cashier" name="cashier" value=(non_empty(&filter.cashier).unwrap_or("")); }
            div { button type="submit" class="secondary" { "Filter" } }
        }
        @if page.items.is_empty() {
            p id="no-sales" class="muted" { "No sales match." }
        } @else {
            table id="sales" {
                thead { tr { th { "Sale" } th { "Time (" (day.location.time_zone) ")" } th { "Till" } th { "Cashier" } th { "Status" } th class="num" { "Total" } } }
                tbody {
                    @for sale in &page.items {
                        tr data-sale=(sale.id) {
                            td { a href=(format!("/sales/{}", sale.id)) { (sale.id) } }
                            td { (local(&zones, &sale.location, sale.occurred_at)) }
                            td { (sale.terminal_id) }
                            td { (sale.cashier_id) }
                            td { span class=(format!("status {}", sale.status)) { (sale.status.replace('_', " ")) } }
                            td class="num" data-minor=(sale.total_minor) { (money::format(sale.total_minor, &sale.currency)) }
                        }
                    }
                }
            }
        }
        @if let Some(next) = next { p class="pager" { a href=(next) rel="next" { "Older sales →" } } }
    };
    Ok(layout::page(&who, Section::Sales, "Sales", body))
}

/// `GET /sales/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(after): Query<After>,
) -> Result<Html<String>, PageError> {
    who.require(Role::Manager)?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    let seq = after.min_sequence();
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(seq) = seq.as_deref() {
        query.push(("min_sequence", seq));
    }
    let path = format!("/v1/sales/{id}");
    let (sale, locations) = tokio::join!(
        state.api.get::<Sale>(who.token(), &path, &query),
        state.api.get::<Items<Location>>(who.token(), "/v1/locations", &[]),
    );
    let sale = sale?;
    let zones = time_zones(&locations?.items);
    let c = sale.currency.as_str();
    let refundable = sale.status != "voided" && sale.lines.iter().any(|l| l.quantity > l.refunded_quantity);
    let voidable = sale.status == "completed";
    let refund_id = uuid::Uuid::now_v7().simple().to_string();
    let body = html! {
        @if let Some(done) = after.notice(&[("voided", "The sale is voided."), ("refunded", "The refund is recorded.")]) { (done) }
        dl class="cards" {
            div class="card" { dt class="label" { "Status" } dd class="value" id="sale-status" { (sale.status.replace('_', " ")) } }
            div class="card" { dt class="label" { "Total" } dd class="value" id="sale-total" data-minor=(sale.total_minor) { (money::format(sale.total_minor, c)) } }
            div class="card" { dt class="label" { "When" } dd class="value" { (local(&zones, &sale.location, sale.occurred_at)) } }
            div class="card" { dt class="label" { "Where" } dd class="value" { (sale.location) " · " (sale.terminal_id) } }
        }
        p class="muted" { "Business day " (sale.business_date) ", cashier " (sale.cashier_id) "." }
        h2 { "Lines" }
        table id="lines" {
            thead { tr { th { "#" } th { "SKU" } th class="num" { "Qty" } th class="num" { "Price" } th class="num" { "Discount" } th class="num" { "Tax" } th class="num" { "Total" } th class="num" { "Refunded" } } }
            tbody {
                @for line in &sale.lines {
                    tr {
                        td { (line.line_no) } td { (line.sku) } td class="num" { (line.quantity) }
                        td class="num" { (money::format(line.unit_price_minor, c)) }
                        td class="num" { (money::format(line.discount_minor, c)) }
                        td class="num" { (money::format(line.tax_minor, c)) }
                        td class="num" { (money::format(line.total_minor, c)) }
                        td class="num" { (line.refunded_quantity) }
                    }
                }
            }
        }
        h2 { "Paid" }
        ul {
            @for tender in &sale.tenders { li { (tender.kind) ": " (money::format(tender.amount_minor, c)) } }
            @if sale.change_minor != 0 { li { "change given: " (money::format(sale.change_minor, c)) } }
        }
        @if let Some(void) = &sale.void {
            h2 { "Void" }
            p id="void" { "Voided by " (void.voided_by) " at " (local(&zones, &sale.location, void.voided_at)) " (business day " (void.business_date) "): " (void.reason) }
        }
        @if !sale.refunds.is_empty() {
            h2 { "Refunds" }
            ul id="refunds" {
                @for refund in &sale.refunds {
                    li { (money::format(refund.total_minor, c)) " by " (refund.refunded_by) " at " (local(&zones, &sale.location, refund.refunded_at)) " (" (refund.business_date) "): " (refund.reason) " [" (refund.refund_id) "]" }
                }
            }
        }
        @if who.is(Role::Manager) && voidable {
            h2 { "Void the sale" }
            form method="post" action=(format!("/sales/{}/void", sale.id)) id="void-form" {
                (csrf_field(&who.csrf))
                label for="void-reason" { "Reason" }
                input id="void-reason" name="reason" required maxlength="200";
                p { button type="submit" class="danger" id="void-button" { "Void sale" } }
            }
        }
        @if who.is(Role::Manager) && refundable {
            h2 { "Refund" }
            form method="post" action=(format!("/sales/{}/refund", sale.id)) id="refund-form" {
                (csrf_field(&who.csrf))
                input type="hidden" name="refund_id" value=(refund_id);
                table {
                    thead { tr { th { "#" } th { "SKU" } th class="num" { "Units to refund" } } }
                    tbody {
                        @for line in &sale.lines {
                            @let left = line.quantity - line.refunded_quantity;
                            @if left > 0 {
                                tr {
                                    td { (line.line_no) } td { (line.sku) }
                                    td class="num" {
                                        input type="number" name=(format!("line_{}", line.line_no)) min="0" max=(left) value="0" aria-label=(format!("Units of line {} to refund", line.line_no));
                                    }
                                }
                            }
                        }
                    }
                }
                label for="refund-reason" { "Reason" }
                input id="refund-reason" name="reason" required maxlength="200";
                label { input type="checkbox" name="restock" value="on" checked; " Back on the shelf" }
                p { button type="submit" id="refund-button" { "Refund" } }
            }
        }
    };
    Ok(layout::page(&who, Section::Sales, &format!("Sale {}", sale.id), body))
}

/// The void form.
#[derive(Debug, Deserialize)]
pub struct VoidForm {
    reason: String,
}

/// `POST /sales/{id}/void` (managers and admins).
pub async fn void(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { handle, form }: CheckedForm<VoidForm>,
) -> Result<Response, PageError> {
    let who = manager(&state, &handle).await?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    let shown = form::post_then_show(
        &state,
        &who,
        &format!("/v1/sales/{id}/void"),
        &serde_json::json!({"reason": form.reason.trim()}),
        &format!("/sales/{id}"),
        "voided",
    )
    .await?;
    tracing::info!(sale = %id, user = %who.user.user_id, "sale voided from the back office");
    Ok(shown)
}

/// `POST /sales/{id}/refund` (managers and admins): `line_<n>` = units of line n.
pub async fn refund(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { handle, form }: CheckedForm<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let who = manager(&state, &handle).await?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    let mut lines = Vec::new();
    for (name, value) in &form {
        if let Some(line_no) = name.strip_prefix("line_") {
            let line_no: u32 = line_no
                .parse()
                .map_err(|_| PageError::BadRequest(format!("{name} is not a line")))?;
            let quantity: i64 = value
                .trim()
                .parse()
                .map_err(|_| PageError::BadRequest(format!("'{value}' is not a number of units")))?;
            if quantity > 0 {
                lines.push(serde_json::json!({"line_no": line_no, "quantity": quantity}));
            }
        }
    }
    if lines.is_empty() {
        return Err(PageError::BadRequest(
            "Choose how many units of which line to refund.".to_owned(),
        ));
    }
    let refund_id = form.get("refund_id").map(String::as_str).unwrap_or_default();
    if !valid_id(refund_id) {
        return Err(PageError::BadRequest(
            "the refund form is damaged; reload it".to_owned(),
        ));
    }
    let body = serde_json::json!({
        "refund_id": refund_id,
        "lines": lines,
        "restock": form.contains_key("restock"),
        "reason": form.get("reason").map(|r| r.trim()).unwrap_or_default(),
    });
    form::post_then_show(
        &state,
        &who,
        &format!("/v1/sales/{id}/refunds"),
        &body,
        &format!("/sales/{id}"),
        "refunded",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_api_shaped_ids_reach_an_api_path() {
        assert!(valid_id("sale-1_A"));
        assert!(!valid_id(""));
        assert!(!valid_id("../v1/users"));
        assert!(!valid_id("a/b"));
        assert!(!valid_id("a?b"));
        assert!(!valid_id(&"x".repeat(65)));
    }
}
