//! One location: its details, a form changing them and a form closing it. Both carry the
//! version the page was drawn from as `If-Match`; when someone changed the location in
//! between, the API answers 409 `version_conflict` and the page shows what was tried beside
//! the newer values, with the forms filled from the newer version. Only admins may change a
//! location: the forms are drawn for them, and the API decides (its 403 is shown as the
//! readable "needs the admin role" page).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};
use reqwest::Method;
use serde::Deserialize;

use crate::error::PageError;
use crate::extract::{CheckedForm, SignedIn};
use crate::pages::form::{self, After};
use crate::pages::layout::{self, Section, csrf_field, notice};
use crate::pages::sales::valid_id;
use crate::role::Role;
use crate::state::AppState;

/// A postal address as `GET /v1/locations/{id}` answers it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Address {
    /// Street and number.
    pub line1: String,
    /// Suite, building.
    #[serde(default)]
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// State, province or region.
    #[serde(default)]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
}

/// `GET /v1/locations/{id}`: every detail, with the version changes name.
#[derive(Debug, Clone, Deserialize)]
pub struct LocationDetail {
    /// Its id.
    pub id: String,
    /// `open` or `closed`.
    pub status: String,
    /// Name.
    pub name: String,
    /// Address.
    #[serde(default)]
    pub address: Option<Address>,
    /// IANA time zone.
    pub time_zone: String,
    /// Local `HH:MM` the business day starts at.
    pub business_day_start: String,
    /// ISO 4217 currency (cannot change).
    pub currency: String,
    /// Tax jurisdiction id.
    #[serde(default)]
    pub tax_jurisdiction: Option<String>,
    /// Whether shelf prices include tax.
    #[serde(default)]
    pub prices_include_tax: bool,
    /// When it was closed.
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// The `If-Match` of changes.
    pub version: i64,
}

/// The details as the form holds them (every field text; the checkbox `on` or absent).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DetailsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    line1: String,
    #[serde(default)]
    line2: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    business_day_start: String,
    #[serde(default)]
    tax_jurisdiction: String,
    #[serde(default)]
    prices_include_tax: Option<String>,
}

impl DetailsForm {
    fn of(l: &LocationDetail) -> Self {
        let a = l.address.clone().unwrap_or_default();
        Self {
            name: l.name.clone(),
            line1: a.line1,
            line2: a.line2.unwrap_or_default(),
            city: a.city,
            region: a.region.unwrap_or_default(),
            postal_code: a.postal_code.unwrap_or_default(),
            country: a.country,
            time_zone: l.time_zone.clone(),
            business_day_start: l.business_day_start.clone(),
            tax_jurisdiction: l.tax_jurisdiction.clone().unwrap_or_default(),
            prices_include_tax: l.prices_include_tax.then(|| "on".to_owned()),
        }
    }

    fn inclusive(&self) -> bool {
        self.prices_include_tax.is_some()
    }

    fn address_text(&self) -> String {
        [
            &self.line1,
            &self.line2,
            &self.city,
            &self.region,
            &self.postal_code,
            &self.country,
        ]
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    }

    /// The API's `details` (all of them: the update replaces every detail).
    fn to_api(&self, currency: &str) -> serde_json::Value {
        let optional = |s: &str| {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_owned())
        };
        let address = if self.address_text().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::json!({
                "line1": self.line1.trim(), "line2": optional(&self.line2), "city": self.city.trim(),
                "region": optional(&self.region), "postal_code": optional(&self.postal_code),
                "country": self.country.trim().to_uppercase(),
            })
        };
        serde_json::json!({
            "name": self.name.trim(),
            "address": address,
            "time_zone": self.time_zone.trim(),
            "business_day_start": self.business_day_start.trim(),
            "currency": currency,
            "tax_jurisdiction": optional(&self.tax_jurisdiction),
            "prices_include_tax": self.inclusive(),
        })
    }
}

/// What the admin tried when the location had changed under them.
#[derive(Debug)]
enum Tried {
    /// New details.
    Details(Box<DetailsForm>),
    /// Closing it, for this reason.
    Close(String),
}

#[derive(Debug)]
struct Conflict {
    tried: Tried,
    their_version: String,
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn local(at: DateTime<Utc>, zone: &str) -> String {
    let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

fn details_fields(f: &DetailsForm) -> Markup {
    html! {
        label for="name" { "Name" } input id="name" name="name" required value=(f.name);
        fieldset {
            legend { "Address (optional; street, city and country when given)" }
            label for="line1" { "Street and number" } input id="line1" name="line1" value=(f.line1);
            label for="line2" { "Suite, building" } input id="line2" name="line2" value=(f.line2);
            label for="city" { "City" } input id="city" name="city" value=(f.city);
            label for="region" { "State or region" } input id="region" name="region" value=(f.region);
            label for="postal_code" { "Postal code" } input id="postal_code" name="postal_code" value=(f.postal_code);
            label for="country" { "Country (ISO code, e.g. US)" } input id="country" name="country" maxlength="2" value=(f.country);
        }
        label for="time_zone" { "Time zone (IANA, e.g. America/New_York)" } input id="time_zone" name="time_zone" required value=(f.time_zone);
        label for="business_day_start" { "Business day starts at (HH:MM, local)" }
        input id="business_day_start" name="business_day_start" required pattern="[0-2][0-9]:[0-5][0-9]" value=(f.business_day_start);
        label for="tax_jurisdiction" { "Tax jurisdiction id (empty: none)" } input id="tax_jurisdiction" name="tax_jurisdiction" value=(f.tax_jurisdiction);
        label class="check" { input type="checkbox" name="prices_include_tax" value="on" checked[f.inclusive()]; " Shelf prices include tax" }
    }
}

fn view(who: &SignedIn, l: &LocationDetail, top: Option<Markup>, conflict: Option<&Conflict>) -> Html<String> {
    let now = DetailsForm::of(l);
    let admin = who.is(Role::Admin);
    let open = l.status == "open";
    let body = html! {
        p { a href="/locations" { "← All locations" } }
        @if let Some(top) = top { (top) }
        @if let Some(c) = conflict {
            section class="conflict" id="conflict" role="alert" {
                h2 { "Someone changed this location while you were editing" }
                p { "Your change was made to version " (c.their_version) ", but the location is now at version "
                    span id="current-version" { (l.version) } ". Nothing of yours was saved. The newer values are below and in the forms; make your change again if it is still needed." }
                table {
                    thead { tr { th { "" } th { "You tried" } th { "Now" } } }
                    tbody {
                        @match &c.tried {
                            Tried::Details(t) => {
                                tr { th { "Name" } td { (t.name) } td id="newer-name" { (now.name) } }
                                tr { th { "Address" } td { (t.address_text()) } td id="newer-address" { (now.address_text()) } }
                                tr { th { "Time zone" } td { (t.time_zone) } td id="newer-time-zone" { (now.time_zone) } }
                                tr { th { "Day starts" } td { (t.business_day_start) } td { (now.business_day_start) } }
                                tr { th { "Tax jurisdiction" } td { (t.tax_jurisdiction) } td { (now.tax_jurisdiction) } }
                                tr { th { "Prices include tax" } td { (yes_no(t.inclusive())) } td { (yes_no(now.inclusive())) } }
                            }
                            Tried::Close(reason) => {
                                tr { th { "Status" } td { "closed (" (reason) ")" } td id="newer-status" { (l.status) } }
                                tr { th { "Name" } td { "" } td id="newer-name" { (now.name) } }
                                tr { th { "Time zone" } td { "" } td id="newer-time-zone" { (now.time_zone) } }
                            }
                        }
                    }
                }
            }
        }
        dl class="cards" {
            div class="card" { dt class="label" { "Status" } dd class="value" id="location-status" { (l.status) } }
            div class="card" { dt class="label" { "Currency" } dd class="value" { (l.currency) } }
            div class="card" { dt class="label" { "Version" } dd class="value" id="location-version" { (l.version) } }
        }
        @if let Some(at) = l.closed_at { p id="location-closed" { "Closed at " (local(at, &l.time_zone)) " (local time)." } }
        @if admin && open {
            h2 { "Details" }
            form method="post" action=(format!("/locations/{}", l.id)) id="location-form" {
                (csrf_field(&who.csrf))
                input type="hidden" name="version" value=(l.version);
                (details_fields(&now))
                p { "Currency: " (l.currency) " (a location keeps its currency; open a new one for another)." }
                p { button type="submit" id="save-location" { "Save details" } }
            }
            h2 { "Close this location" }
            form method="post" action=(format!("/locations/{}/close", l.id)) id="close-location-form" {
                (csrf_field(&who.csrf))
                input type="hidden" name="version" value=(l.version);
                label for="reason" { "Why" } input id="reason" name="reason" required;
                p {
                    button type="submit" class="danger" id="close-location" { "Close the location" } " "
                    span class="muted" { "From then on new sales and stock movements naming it are refused (sales rung up before still arrive)." }
                }
            }
        } @else {
            dl {
                dt { "Name" } dd id="location-name" { (now.name) }
                dt { "Address" } dd { (now.address_text()) }
                dt { "Time zone" } dd { (now.time_zone) }
                dt { "Business day starts" } dd { (now.business_day_start) }
                dt { "Tax jurisdiction" } dd { (now.tax_jurisdiction) }
                dt { "Prices include tax" } dd { (yes_no(now.inclusive())) }
            }
        }
    };
    layout::page(who, Section::Locations, &format!("{} · {}", l.id, l.name), body)
}

async fn location(state: &AppState, who: &SignedIn, id: &str, seq: Option<u64>) -> Result<LocationDetail, PageError> {
    let seq = seq.map(|s| s.to_string());
    let mut query = Vec::new();
    if let Some(seq) = seq.as_deref() {
        query.push(("min_sequence", seq));
    }
    Ok(state
        .api
        .get(who.token(), &format!("/v1/locations/{id}"), &query)
        .await?)
}

/// `GET /locations/{id}` (every role reads; admins get the forms).
pub async fn page(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(after): Query<After>,
) -> Result<Html<String>, PageError> {
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    let l = location(&state, &who, &id, after.seq).await?;
    let top = after.notice(&[
        ("saved", "The details are saved."),
        ("closed", "The location is closed."),
    ]);
    Ok(view(&who, &l, top, None))
}

/// The details form with its version.
#[derive(Debug, Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    version: String,
    #[serde(flatten)]
    details: DetailsForm,
}

/// The close form with its version.
#[derive(Debug, Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
}

/// Sends a change with `If-Match`; redirects when recorded, shows the conflict (409) or the
/// refusal the admin can fix (422, or 409 `location_closed`) on the page otherwise. Every
/// other refusal (403 for a manager, 404) is the readable error page.
async fn change(
    state: &AppState,
    who: &SignedIn,
    id: &str,
    request: (Method, String, serde_json::Value),
    conflict: Conflict,
    done: &str,
) -> Result<Response, PageError> {
    let (method, path, body) = request;
    let if_match = form::if_match(&conflict.their_version)?;
    match state
        .api
        .send(method, &path, Some(who.token()), &body, &if_match, None)
        .await
    {
        Ok(written) => {
            let seq = form::written_seq(&written);
            tracing::info!(location = %id, user = %who.user.user_id, done, "location changed from the back office");
            Ok(Redirect::to(&format!("/locations/{id}?seq={seq}&done={done}")).into_response())
        }
        Err(err) => {
            if let Some(current) = form::version_conflict(&err) {
                let newer = location(state, who, id, current).await?;
                return Ok((StatusCode::CONFLICT, view(who, &newer, None, Some(&conflict))).into_response());
            }
            match (err.status(), form::fixable(&err)) {
                (Some(status), Some(message)) => {
                    let l = location(state, who, id, None).await?;
                    Ok((status, view(who, &l, Some(notice("error", &message)), None)).into_response())
                }
                _ => Err(err.into()),
            }
        }
    }
}

/// `POST /locations/{id}`: new details (admins; the API decides).
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { handle, form }: CheckedForm<UpdateForm>,
) -> Result<Response, PageError> {
    let who = SignedIn::of(&state, &handle).await?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    // The currency cannot change: send the one the location has.
    let current = location(&state, &who, &id, None).await?;
    let body = serde_json::json!({"details": form.details.to_api(&current.currency)});
    let conflict = Conflict {
        tried: Tried::Details(Box::new(form.details)),
        their_version: form.version,
    };
    let path = format!("/v1/locations/{id}");
    change(&state, &who, &id, (Method::PUT, path, body), conflict, "saved").await
}

/// `POST /locations/{id}/close` (admins; the API decides).
pub async fn close(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { handle, form }: CheckedForm<CloseForm>,
) -> Result<Response, PageError> {
    let who = SignedIn::of(&state, &handle).await?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    let reason = form.reason.trim().to_owned();
    let body = serde_json::json!({"reason": reason});
    let conflict = Conflict {
        tried: Tried::Close(reason),
        their_version: form.version,
    };
    let path = format!("/v1/locations/{id}/close");
    change(&state, &who, &id, (Method::POST, path, body), conflict, "closed").await
}
