//! Locations: every store and warehouse with its time zone, business-day start and
//! currency (every role reads them); admins open new ones. Changing and closing one is on
//! its own page ([`crate::pages::location_edit`]).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use reqwest::Method;
use serde::Deserialize;

use crate::api::ApiError;
use crate::api::views::{Items, Location};
use crate::error::PageError;
use crate::extract::{CheckedForm, SignedIn};
use crate::pages::layout::{self, Section, csrf_field, notice};
use crate::pages::sales::valid_id;
use crate::role::Role;
use crate::state::AppState;

/// `?done=` after opening one.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    seq: Option<u64>,
}

fn view(who: &SignedIn, locations: &[Location], top: Option<maud::Markup>) -> Html<String> {
    let body = html! {
        @if let Some(top) = top { (top) }
        table id="locations" {
            thead { tr { th { "Id" } th { "Name" } th { "Time zone" } th { "Day starts" } th { "Currency" } th { "Status" } } }
            tbody {
                @for l in locations {
                    tr data-location=(l.id) {
                        td { a href=(format!("/locations/{}", l.id)) { (l.id) } } td { (l.name) } td { (l.time_zone) } td { (l.business_day_start) } td { (l.currency) }
                        td { span class="status" { (l.status) } }
                    }
                }
            }
        }
        @if who.is(Role::Admin) {
            h2 { "Open a location" }
            form method="post" action="/locations" id="open-location" {
                (csrf_field(&who.csrf))
                label for="location_id" { "Id (letters, digits, - and _)" } input id="location_id" name="location_id" required maxlength="64";
                label for="name" { "Name" } input id="name" name="name" required;
                label for="time_zone" { "Time zone (IANA, e.g. America/New_York)" } input id="time_zone" name="time_zone" required value="UTC";
                label for="business_day_start" { "Business day starts at (HH:MM, local)" } input id="business_day_start" name="business_day_start" required value="00:00" pattern="[0-2][0-9]:[0-5][0-9]";
                label for="currency" { "Currency (ISO 4217)" } input id="currency" name="currency" required value="USD" maxlength="3";
                p { button type="submit" { "Open" } }
            }
        }
    };
    layout::page(who, Section::Locations, "Locations", body)
}

/// `GET /locations`.
pub async fn list(
    State(state): State<AppState>,
    who: SignedIn,
    Query(done): Query<Done>,
) -> Result<Html<String>, PageError> {
    let seq = done.seq.map(|s| s.to_string());
    let mut query = Vec::new();
    if let Some(seq) = seq.as_deref() {
        query.push(("min_sequence", seq));
    }
    let Items { items } = state
        .api
        .get::<Items<Location>>(who.token(), "/v1/locations", &query)
        .await?;
    let top = (done.done.as_deref() == Some("opened")).then(|| notice("ok", "The location is open."));
    Ok(view(&who, &items, top))
}

/// The list again, with why the location was not opened (422).
async fn refused(state: &AppState, who: &SignedIn, message: String) -> Result<Response, PageError> {
    let Items { items } = state
        .api
        .get::<Items<Location>>(who.token(), "/v1/locations", &[])
        .await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        view(who, &items, Some(notice("error", &message))),
    )
        .into_response())
}

/// The form opening a location.
#[derive(Debug, Deserialize)]
pub struct OpenForm {
    location_id: String,
    name: String,
    time_zone: String,
    business_day_start: String,
    currency: String,
}

/// `POST /locations` (admins).
pub async fn open(
    State(state): State<AppState>,
    CheckedForm { handle, form }: CheckedForm<OpenForm>,
) -> Result<Response, PageError> {
    let who = SignedIn::of(&state, &handle).await?;
    who.require(Role::Admin)?;
    let id = form.location_id.trim();
    if !valid_id(id) {
        return refused(
            &state,
            &who,
            "The id has letters, digits, - and _ only (at most 64).".to_owned(),
        )
        .await;
    }
    let body = serde_json::json!({"location_id": id, "details": {
        "name": form.name.trim(), "time_zone": form.time_zone.trim(),
        "business_day_start": form.business_day_start.trim(), "currency": form.currency.trim().to_uppercase()}});
    match state
        .api
        .send(Method::POST, "/v1/locations", Some(who.token()), &body, &[], None)
        .await
    {
        Ok(written) => {
            let seq = written.body["stream_sequence"].as_u64().unwrap_or(0);
            Ok(Redirect::to(&format!("/locations?done=opened&seq={seq}")).into_response())
        }
        Err(ApiError::Refused {
            status, message, field, ..
        }) if status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::CONFLICT => {
            refused(
                &state,
                &who,
                match field {
                    Some(field) => format!("{message} ({field})"),
                    None => message,
                },
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}
