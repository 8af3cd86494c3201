//! Purchasing (managers and admins, like the API's purchasing routes): the suppliers with
//! what they sell, the purchase orders filtered by location, status and supplier, and one
//! order with its lines, what arrived of each (damaged and extra cases too) and its
//! deliveries. From an order's page a manager submits a draft and records a delivery
//! against a submitted or partly received order (CSRF forms, like every form here).
//! Drafting orders and editing suppliers are left to the API for now.

use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use maud::html;
use serde::Deserialize;

use crate::api::views::{Items, Location, Page};
use crate::error::PageError;
use crate::extract::{CheckedForm, SignedIn};
use crate::money;
use crate::pages::form::{self, After};
use crate::pages::layout::{self, Section, csrf_field};
use crate::pages::sales::valid_id;
use crate::role::Role;
use crate::state::AppState;

/// One product a supplier sells (`GET /v1/suppliers`).
#[derive(Debug, Deserialize)]
pub struct SupplierItem {
    /// Our product.
    pub sku: String,
    /// The supplier's code.
    pub supplier_code: String,
    /// Units per case.
    pub case_size: i64,
    /// Cost of one case, minor units.
    pub case_cost_minor: i64,
    /// Its currency.
    pub currency: String,
    /// Days from order to delivery.
    pub lead_time_days: i64,
    /// The catalog pack that is the case, if linked.
    #[serde(default)]
    pub pack_sku: Option<String>,
}

/// A supplier (`GET /v1/suppliers`).
#[derive(Debug, Deserialize)]
pub struct Supplier {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it sells.
    pub items: Vec<SupplierItem>,
}

/// One line of an order (`GET /v1/purchase-orders/{id}`).
#[derive(Debug, Deserialize)]
pub struct OrderLine {
    /// Line number.
    pub line_no: i64,
    /// Product.
    pub sku: String,
    /// Supplier's code.
    pub supplier_code: String,
    /// Cases ordered.
    pub cases: i64,
    /// Units per case.
    pub case_size: i64,
    /// Cost of a case, minor units.
    pub case_cost_minor: i64,
    /// Its currency.
    pub currency: String,
    /// Linked pack.
    #[serde(default)]
    pub pack_sku: Option<String>,
    /// Cases delivered (damaged included).
    pub cases_delivered: i64,
    /// Damaged cases.
    pub cases_damaged: i64,
    /// Cases beyond what was ordered.
    pub cases_over: i64,
    /// Cases still expected.
    pub cases_outstanding: i64,
    /// Units on the shelf.
    pub units_accepted: i64,
}

/// One delivery of an order.
#[derive(Debug, Deserialize)]
pub struct Delivery {
    /// Its id.
    pub receipt_id: String,
    /// Delivery note.
    #[serde(default)]
    pub reference: Option<String>,
    /// Cases delivered.
    pub cases_received: i64,
    /// Damaged cases.
    pub cases_damaged: i64,
    /// Units on the shelf.
    pub units_accepted: i64,
    /// When (RFC 3339).
    pub received_at: String,
}

/// A purchase order (`GET /v1/purchase-orders[/{id}]`).
#[derive(Debug, Deserialize)]
pub struct Order {
    /// Its id.
    pub po_id: String,
    /// Supplier.
    pub supplier_id: String,
    /// Delivery location.
    pub location: String,
    /// Status (`draft`, `submitted`, ...).
    pub status: String,
    /// Expected delivery date.
    #[serde(default)]
    pub expected_on: Option<String>,
    /// Lines.
    pub lines: Vec<OrderLine>,
    /// Deliveries.
    #[serde(default)]
    pub deliveries: Vec<Delivery>,
    /// Σ cases × case cost, minor units.
    pub ordered_cost_minor: i64,
    /// Why it was cancelled.
    #[serde(default)]
    pub cancel_reason: Option<String>,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl Order {
    fn currency(&self) -> &str {
        self.lines.first().map_or("USD", |l| l.currency.as_str())
    }
}

const STATUSES: [(&str, &str); 6] = [
    ("draft", "Draft"),
    ("submitted", "Submitted"),
    ("partially_received", "Partially received"),
    ("received", "Received"),
    ("closed", "Closed"),
    ("cancelled", "Cancelled"),
];

fn pick(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn manager_only(who: &SignedIn) -> Result<(), PageError> {
    who.require(Role::Manager)
}

/// `GET /suppliers`.
pub async fn suppliers(State(state): State<AppState>, who: SignedIn) -> Result<Html<String>, PageError> {
    manager_only(&who)?;
    let page: Page<Supplier> = state.api.get(who.token(), "/v1/suppliers", &[("limit", "500")]).await?;
    let body = html! {
        @if page.items.is_empty() {
            p class="muted" id="no-suppliers" { "No suppliers yet (register them with POST /v1/suppliers)." }
        } @else {
            table id="suppliers" {
                thead { tr { th { "Supplier" } th { "SKU" } th { "Code" } th class="num" { "Case" } th class="num" { "Case cost" } th class="num" { "Lead time" } th { "Pack" } } }
                tbody {
                    @for s in &page.items {
                        @if s.items.is_empty() {
                            tr data-supplier=(s.id) { td { (s.name) " (" (s.id) ")" } td colspan="6" class="muted" { "sells nothing listed" } }
                        }
                        @for item in &s.items {
                            tr data-supplier=(s.id) data-sku=(item.sku) {
                                td { (s.name) " (" (s.id) ")" }
                                td { (item.sku) } td { (item.supplier_code) }
                                td class="num" { (item.case_size) }
                                td class="num" data-minor=(item.case_cost_minor) { (money::format(item.case_cost_minor, &item.currency)) }
                                td class="num" { (item.lead_time_days) " d" }
                                td { (item.pack_sku.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
        p { a href="/purchase-orders" { "Purchase orders →" } }
    };
    Ok(layout::page(&who, Section::Stock, "Suppliers", body))
}

/// `GET /purchase-orders` filters.
#[derive(Debug, Default, Deserialize)]
pub struct OrderFilter {
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    supplier: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

/// `GET /purchase-orders`.
pub async fn orders(
    State(state): State<AppState>,
    who: SignedIn,
    Query(filter): Query<OrderFilter>,
) -> Result<Html<String>, PageError> {
    manager_only(&who)?;
    let location = pick(&filter.location).or_else(|| who.default_store());
    let status = pick(&filter.status).filter(|s| STATUSES.iter().any(|(v, _)| v == s));
    let supplier = pick(&filter.supplier);
    let mut params: Vec<(&str, &str)> = Vec::new();
    if let Some(location) = location {
        params.push(("location", location));
    }
    if let Some(status) = status {
        params.push(("status", status));
    }
    if let Some(supplier) = supplier {
        params.push(("supplier", supplier));
    }
    let mut query = params.clone();
    query.push(("limit", "100"));
    if let Some(cursor) = pick(&filter.cursor) {
        query.push(("cursor", cursor));
    }
    let (page, locations, suppliers) = tokio::join!(
        state.api.get::<Page<Order>>(who.token(), "/v1/purchase-orders", &query),
        state.api.get::<Items<Location>>(who.token(), "/v1/locations", &[]),
        state
            .api
            .get::<Page<Supplier>>(who.token(), "/v1/suppliers", &[("limit", "500")]),
    );
    let (page, locations, suppliers) = (page?, who.readable(locations?.items), suppliers?.items);
    let next = page.next_cursor.as_ref().map(|cursor| {
        let mut next = params.clone();
        next.push(("cursor", cursor.as_str()));
        format!(
            "/purchase-orders?{}",
            serde_urlencoded::to_string(&next).unwrap_or_default()
        )
    });
    let body = html! {
        form method="get" action="/purchase-orders" class="filters" {
            (form::location_filter(&locations, location, !who.limited()))
            div {
                label for="status" { "Status" }
                select id="status" name="status" {
                    option value="" { "Any status" }
                    @for (value, label) in STATUSES { option value=(value) selected[Some(value) == status] { (label) } }
                }
            }
            div {
                label for="supplier" { "Supplier" }
                select id="supplier" name="supplier" {
                    option value="" { "Any supplier" }
                    @for s in &suppliers { option value=(s.id) selected[Some(s.id.as_str()) == supplier] { (s.name) } }
                }
            }
            div { button type="submit" class="secondary" { "Show" } }
        }
        @if page.items.is_empty() {
            p class="muted" id="no-orders" { "No purchase orders match." }
        } @else {
            table id="orders" {
                thead { tr { th { "Order" } th { "Supplier" } th { "Location" } th { "Status" } th class="num" { "Cases" } th class="num" { "Outstanding" } th class="num" { "Ordered cost" } th { "Expected" } } }
                tbody {
                    @for o in &page.items {
                        tr data-order=(o.po_id) {
                            td { a href=(format!("/purchase-orders/{}", o.po_id)) { (o.po_id) } }
                            td { (o.supplier_id) } td { (o.location) }
                            td { span class="status" { (o.status.replace('_', " ")) } }
                            td class="num" { (o.lines.iter().map(|l| l.cases).sum::<i64>()) }
                            td class="num" { (o.lines.iter().map(|l| l.cases_outstanding).sum::<i64>()) }
                            td class="num" data-minor=(o.ordered_cost_minor) { (money::format(o.ordered_cost_minor, o.currency())) }
                            td { (o.expected_on.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
        @if let Some(next) = next { p class="pager" { a href=(next) rel="next" { "More →" } } }
        p { a href="/suppliers" { "Suppliers →" } }
    };
    Ok(layout::page(&who, Section::Stock, "Purchase orders", body))
}

/// `GET /purchase-orders/{id}`.
pub async fn order(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(after): Query<After>,
) -> Result<Html<String>, PageError> {
    manager_only(&who)?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    let seq = after.min_sequence();
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(seq) = seq.as_deref() {
        query.push(("min_sequence", seq));
    }
    let o: Order = state
        .api
        .get(who.token(), &format!("/v1/purchase-orders/{id}"), &query)
        .await?;
    let c = o.currency().to_owned();
    let receivable = matches!(o.status.as_str(), "submitted" | "partially_received");
    let receipt_id = uuid::Uuid::now_v7().simple().to_string();
    let body = html! {
        @if let Some(done) = after.notice(&[("submitted", "The order is submitted: its units are on order."), ("received", "The delivery is recorded.")]) { (done) }
        dl class="cards" {
            div class="card" { dt class="label" { "Status" } dd class="value" id="order-status" { (o.status.replace('_', " ")) } }
            div class="card" { dt class="label" { "Ordered cost" } dd class="value" id="order-cost" data-minor=(o.ordered_cost_minor) { (money::format(o.ordered_cost_minor, &c)) } }
            div class="card" { dt class="label" { "Supplier" } dd class="value" { (o.supplier_id) } }
            div class="card" { dt class="label" { "Deliver to" } dd class="value" { (o.location) } }
        }
        p class="muted" {
            @if let Some(on) = &o.expected_on { "Expected on " (on) ". " }
            "Last change " (o.updated_at) "."
            @if let Some(reason) = &o.cancel_reason { " Cancelled: " (reason) "." }
        }
        h2 { "Lines" }
        table id="lines" {
            thead { tr { th { "#" } th { "SKU" } th { "Code" } th class="num" { "Cases" } th class="num" { "Case" } th class="num" { "Case cost" } th class="num" { "Delivered" } th class="num" { "Damaged" } th class="num" { "Over" } th class="num" { "Outstanding" } th class="num" { "Units accepted" } } }
            tbody {
                @for l in &o.lines {
                    tr data-line=(l.line_no) {
                        td { (l.line_no) }
                        td { (l.sku) @if let Some(pack) = &l.pack_sku { " (case " (pack) ")" } }
                        td { (l.supplier_code) }
                        td class="num" { (l.cases) } td class="num" { (l.case_size) }
                        td class="num" data-minor=(l.case_cost_minor) { (money::format(l.case_cost_minor, &l.currency)) }
                        td class="num" data-field="delivered" { (l.cases_delivered) }
                        td class="num" data-field="damaged" { (l.cases_damaged) }
                        td class="num" data-field="over" { (l.cases_over) }
                        td class="num" data-field="outstanding" { (l.cases_outstanding) }
                        td class="num" data-field="accepted" { (l.units_accepted) }
                    }
                }
            }
        }
        h2 { "Deliveries" }
        @if o.deliveries.is_empty() {
            p class="muted" id="no-deliveries" { "Nothing arrived yet." }
        } @else {
            table id="deliveries" {
                thead { tr { th { "Delivery" } th { "Note" } th class="num" { "Cases" } th class="num" { "Damaged" } th class="num" { "Units accepted" } th { "When" } } }
                tbody {
                    @for d in &o.deliveries {
                        tr data-receipt=(d.receipt_id) {
                            td { (d.receipt_id) } td { (d.reference.as_deref().unwrap_or("")) }
                            td class="num" { (d.cases_received) } td class="num" { (d.cases_damaged) }
                            td class="num" { (d.units_accepted) } td { (d.received_at) }
                        }
                    }
                }
            }
        }
        @if o.status == "draft" {
            form method="post" action=(format!("/purchase-orders/{}/submit", o.po_id)) id="submit-order" {
                (csrf_field(&who.csrf))
                p { button type="submit" id="submit-button" { "Submit to the supplier" } }
            }
        }
        @if receivable {
            h2 { "Record a delivery" }
            form method="post" action=(format!("/purchase-orders/{}/receive", o.po_id)) id="receive-order" {
                (csrf_field(&who.csrf))
                input type="hidden" name="receipt_id" value=(receipt_id);
                table {
                    thead { tr { th { "#" } th { "SKU" } th { "Cases received" } th { "Of which damaged" } } }
                    tbody {
                        @for l in &o.lines {
                            tr {
                                td { (l.line_no) } td { (l.sku) }
                                td { input type="number" min="0" name=(format!("cases_{}", l.line_no)) value=(l.cases_outstanding) aria-label=(format!("Cases received of line {}", l.line_no)); }
                                td { input type="number" min="0" name=(format!("damaged_{}", l.line_no)) value="0" aria-label=(format!("Damaged cases of line {}", l.line_no)); }
                            }
                        }
                    }
                }
                label for="reference" { "Delivery note" }
                input id="reference" name="reference" maxlength="200";
                p { button type="submit" id="receive-button" { "Record the delivery" } }
            }
        }
        p { a href="/purchase-orders" { "← Purchase orders" } }
    };
    Ok(layout::page(
        &who,
        Section::Stock,
        &format!("Purchase order {}", o.po_id),
        body,
    ))
}

/// The submit form (only its CSRF token).
#[derive(Debug, Deserialize)]
pub struct SubmitForm {}

/// `POST /purchase-orders/{id}/submit` (managers and admins).
pub async fn submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm {
        handle,
        form: SubmitForm {},
    }: CheckedForm<SubmitForm>,
) -> Result<Response, PageError> {
    let who = SignedIn::of(&state, &handle).await?;
    manager_only(&who)?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    form::post_then_show(
        &state,
        &who,
        &format!("/v1/purchase-orders/{id}/submit"),
        &serde_json::json!({}),
        &format!("/purchase-orders/{id}"),
        "submitted",
    )
    .await
}

/// `POST /purchase-orders/{id}/receive` (managers and admins): `cases_<n>` and
/// `damaged_<n>` per line `n`, `receipt_id` (made when the page was drawn, so a resent
/// form records the delivery once) and an optional `reference`.
pub async fn receive(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { handle, form }: CheckedForm<std::collections::BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let who = SignedIn::of(&state, &handle).await?;
    manager_only(&who)?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    let number = |name: &str, value: &str| -> Result<i64, PageError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(0);
        }
        value
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| PageError::BadRequest(format!("'{value}' is not a number of cases ({name})")))
    };
    let mut lines = Vec::new();
    for (name, value) in &form {
        let Some(line_no) = name.strip_prefix("cases_") else {
            continue;
        };
        let line_no: u32 = line_no
            .parse()
            .map_err(|_| PageError::BadRequest(format!("{name} is not a line")))?;
        let cases = number(name, value)?;
        let damaged_name = format!("damaged_{line_no}");
        let damaged = number(
            &damaged_name,
            form.get(&damaged_name).map(String::as_str).unwrap_or_default(),
        )?;
        if cases > 0 || damaged > 0 {
            lines.push(serde_json::json!({"line_no": line_no, "cases_received": cases, "cases_damaged": damaged}));
        }
    }
    if lines.is_empty() {
        return Err(PageError::BadRequest(
            "Enter the cases that arrived on at least one line.".to_owned(),
        ));
    }
    let receipt_id = form.get("receipt_id").map(String::as_str).unwrap_or_default();
    if !valid_id(receipt_id) {
        return Err(PageError::BadRequest(
            "the delivery form is damaged; reload it".to_owned(),
        ));
    }
    let mut body = serde_json::json!({"receipt_id": receipt_id, "lines": lines});
    if let Some(reference) = form.get("reference").map(|r| r.trim()).filter(|r| !r.is_empty()) {
        body["reference"] = serde_json::json!(reference);
    }
    let shown = form::post_then_show(
        &state,
        &who,
        &format!("/v1/purchase-orders/{id}/receipts"),
        &body,
        &format!("/purchase-orders/{id}"),
        "received",
    )
    .await?;
    tracing::info!(order = %id, user = %who.user.user_id, "delivery recorded from the back office");
    Ok(shown)
}
