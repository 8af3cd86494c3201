//! Stock levels per location (every role) and one SKU's movements (managers: the API
//! shows movements to managers and admins).

use axum::extract::{Path, Query, State};
use axum::response::Html;
use maud::html;
use serde::Deserialize;

use crate::api::views::{Items, Location, Movement, Page, StockLevel};
use crate::error::PageError;
use crate::extract::SignedIn;
use crate::pages::form;
use crate::pages::layout::{self, Section};
use crate::pages::sales::valid_id;
use crate::role::Role;
use crate::state::AppState;

/// `GET /stock` filters.
#[derive(Debug, Default, Deserialize)]
pub struct StockFilter {
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

fn pick(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `GET /stock`.
pub async fn levels(
    State(state): State<AppState>,
    who: SignedIn,
    Query(filter): Query<StockFilter>,
) -> Result<Html<String>, PageError> {
    let locations = state
        .api
        .get::<Items<Location>>(who.token(), "/v1/locations", &[])
        .await?
        .items;
    let location = pick(&filter.location);
    let level = pick(&filter.state)
        .filter(|s| matches!(*s, "low" | "negative"))
        .unwrap_or("all");
    let mut query = vec![("state", level), ("limit", "100")];
    if let Some(location) = location {
        query.push(("location", location));
    }
    if let Some(cursor) = pick(&filter.cursor) {
        query.push(("cursor", cursor));
    }
    let page: Page<StockLevel> = state.api.get(who.token(), "/v1/stock", &query).await?;
    let next = page.next_cursor.as_ref().map(|cursor| {
        let mut params = vec![("state", level), ("cursor", cursor.as_str())];
        if let Some(location) = location {
            params.push(("location", location));
        }
        format!("/stock?{}", serde_urlencoded::to_string(&params).unwrap_or_default())
    });
    let body = html! {
        form method="get" action="/stock" class="filters" {
            (form::location_filter(&locations, location, true))
            div {
                label for="state" { "Show" }
                select id="state" name="state" {
                    @for (value, label) in [("all", "Everything"), ("low", "At or below reorder point"), ("negative", "Below zero")] {
                        option value=(value) selected[value == level] { (label) }
                    }
                }
            }
            div { button type="submit" class="secondary" { "Show" } }
        }
        @if page.items.is_empty() {
            p class="muted" id="no-stock" { "No products match." }
        } @else {
            table id="stock" {
                thead { tr { th { "SKU" } th { "Name" } th class="num" { "On hand" } th class="num" { "Reorder point" } th { "" } } }
                tbody {
                    @for item in &page.items {
                        tr data-sku=(item.sku) {
                            td {
                                @if who.is(Role::Manager) { a href=(format!("/stock/{}", item.sku)) { (item.sku) } } @else { (item.sku) }
                            }
                            td { (item.name.as_deref().unwrap_or("")) }
                            td class="num" { (item.on_hand.map(|n| n.to_string()).unwrap_or_else(|| "—".to_owned())) }
                            td class="num" { (item.reorder_point.map(|p| p.to_string()).unwrap_or_default()) }
                            td {
                                @if item.negative_stock { span class="status voided" { "below zero" } }
                                @else if item.low_stock { span class="status" { "low" } }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = next { p class="pager" { a href=(next) rel="next" { "More →" } } }
    };
    Ok(layout::page(&who, Section::Stock, "Stock", body))
}

/// `GET /stock/{sku}` filters.
#[derive(Debug, Default, Deserialize)]
pub struct MovementFilter {
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

/// `GET /stock/{sku}`: the SKU's movements, oldest first.
pub async fn movements(
    State(state): State<AppState>,
    who: SignedIn,
    Path(sku): Path<String>,
    Query(filter): Query<MovementFilter>,
) -> Result<Html<String>, PageError> {
    who.require(Role::Manager)?;
    if !valid_id(&sku) {
        return Err(PageError::NotFound);
    }
    let mut query = vec![("sku", sku.as_str()), ("limit", "100")];
    let location = pick(&filter.location).or_else(|| who.default_store());
    if let Some(location) = location {
        query.push(("location", location));
    }
    if let Some(cursor) = pick(&filter.cursor) {
        query.push(("cursor", cursor));
    }
    let page: Page<Movement> = state.api.get(who.token(), "/v1/inventory/transactions", &query).await?;
    let next = page.next_cursor.as_ref().map(|cursor| {
        let mut params = vec![("cursor", cursor.as_str())];
        if let Some(location) = location {
            params.push(("location", location));
        }
        format!(
            "/stock/{sku}?{}",
            serde_urlencoded::to_string(&params).unwrap_or_default()
        )
    });
    let body = html! {
        p { a href=(format!("/products/{sku}")) { "The product" } }
        @if page.items.is_empty() {
            p class="muted" id="no-movements" { "No stock movements." }
        } @else {
            table id="movements" {
                thead { tr { th { "When (UTC)" } th { "Location" } th { "What" } th class="num" { "Change" } th class="num" { "Before" } th class="num" { "After" } th { "Reference" } } }
                tbody {
                    @for m in &page.items {
                        tr {
                            td { (m.occurred_at.format("%Y-%m-%d %H:%M")) }
                            td { (m.location) }
                            td { (m.kind.replace('_', " ")) @if let Some(reason) = &m.reason { " (" (reason) ")" } }
                            td class="num" { (m.quantity) }
                            td class="num" { (m.quantity_before) }
                            td class="num" { (m.quantity_after) }
                            td { (m.reference) }
                        }
                    }
                }
            }
        }
        @if let Some(next) = next { p class="pager" { a href=(next) rel="next" { "More →" } } }
    };
    Ok(layout::page(
        &who,
        Section::Stock,
        &format!("Stock movements of {sku}"),
        body,
    ))
}
