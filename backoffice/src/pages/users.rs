//! Users and roles (admins): the organization's users, inviting one by mail, changing a
//! role or the stores a user may act at, deactivating. The API checks the admin role
//! again on every call.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use reqwest::Method;
use serde::Deserialize;

use crate::api::views::{Items, UserEntry};
use crate::error::PageError;
use crate::extract::{CheckedForm, SignedIn};
use crate::pages::layout::{self, Section, csrf_field, notice};
use crate::pages::sales::valid_id;
use crate::role::Role;
use crate::session::Handle;
use crate::state::AppState;

const ROLES: [&str; 3] = ["cashier", "manager", "admin"];

/// `?done=` after a change.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /users`.
pub async fn list(
    State(state): State<AppState>,
    who: SignedIn,
    Query(done): Query<Done>,
) -> Result<Html<String>, PageError> {
    who.require(Role::Admin)?;
    let Items { items: users } = state.api.get::<Items<UserEntry>>(who.token(), "/v1/users", &[]).await?;
    let body = html! {
        @match done.done.as_deref() {
            Some("invited") => (notice("ok", "The invitation is on its way; the user exists once they accept it.")),
            Some("role") => (notice("ok", "The role is changed. It applies to their next page.")),
            Some("locations") => (notice("ok", "The stores are changed. They apply within seconds.")),
            Some("deactivated") => (notice("ok", "The user is deactivated and signed out everywhere.")),
            _ => {}
        }
        table id="users" {
            thead { tr { th { "Name" } th { "Email" } th { "Role" } th { "Stores" } th { "" } } }
            tbody {
                @for user in &users {
                    tr data-user=(user.id) {
                        td { (user.name) }
                        td { (user.email) }
                        td {
                            @if user.active && user.id != who.user.user_id {
                                form method="post" action=(format!("/users/{}/role", user.id)) class="inline" {
                                    (csrf_field(&who.csrf))
                                    select name="role" aria-label=(format!("Role of {}", user.email)) {
                                        @for role in ROLES { option value=(role) selected[role == user.role] { (role) } }
                                    }
                                    " " button type="submit" class="secondary" { "Change" }
                                }
                            } @else {
                                (user.role)
                            }
                        }
                        td {
                            @if user.active && user.role != "admin" {
                                form method="post" action=(format!("/users/{}/locations", user.id)) class="inline" {
                                    (csrf_field(&who.csrf))
                                    input name="locations" value=(user.locations.join(", ")) placeholder="every store"
                                        aria-label=(format!("Stores of {} (location ids, separated by commas; empty: every store)", user.email));
                                    " " button type="submit" class="secondary" { "Save" }
                                }
                            } @else if user.locations.is_empty() || user.role == "admin" {
                                span class="muted" { "every store" }
                            } @else {
                                (user.locations.join(", "))
                            }
                        }
                        td {
                            @if !user.active {
                                span class="status voided" { "deactivated" }
                            } @else if user.id != who.user.user_id {
                                form method="post" action=(format!("/users/{}/deactivate", user.id)) class="inline" {
                                    (csrf_field(&who.csrf))
                                    button type="submit" class="danger" { "Deactivate" }
                                }
                            } @else {
                                span class="muted" { "you" }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Invite a user" }
        form method="post" action="/users" id="invite-form" {
            (csrf_field(&who.csrf))
            label for="name" { "Name" } input id="name" name="name" required;
            label for="email" { "Email" } input id="email" name="email" type="email" required;
            label for="role" { "Role" }
            select id="role" name="role" { @for role in ROLES { option value=(role) { (role) } } }
            p { button type="submit" { "Invite" } }
        }
    };
    Ok(layout::page(&who, Section::Users, "Users and roles", body))
}

async fn admin(state: &AppState, handle: &Handle) -> Result<SignedIn, PageError> {
    let who = SignedIn::of(state, handle).await?;
    who.require(Role::Admin)?;
    Ok(who)
}

/// The invitation form.
#[derive(Debug, Deserialize)]
pub struct InviteForm {
    name: String,
    email: String,
    role: String,
}

/// `POST /users`: invite by mail.
pub async fn invite(
    State(state): State<AppState>,
    CheckedForm { handle, form }: CheckedForm<InviteForm>,
) -> Result<Response, PageError> {
    let who = admin(&state, &handle).await?;
    let body = serde_json::json!({"name": form.name.trim(), "email": form.email.trim(), "role": form.role});
    state
        .api
        .send(Method::POST, "/v1/users", Some(who.token()), &body, &[], None)
        .await?;
    Ok(Redirect::to("/users?done=invited").into_response())
}

/// The role form.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    role: String,
}

/// `POST /users/{id}/role`.
pub async fn change_role(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { handle, form }: CheckedForm<RoleForm>,
) -> Result<Response, PageError> {
    let who = admin(&state, &handle).await?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    let body = serde_json::json!({"role": form.role});
    state
        .api
        .send(
            Method::PUT,
            &format!("/v1/users/{id}/role"),
            Some(who.token()),
            &body,
            &[],
            None,
        )
        .await?;
    Ok(Redirect::to("/users?done=role").into_response())
}

/// The stores form: location ids separated by commas or spaces; empty: every store.
#[derive(Debug, Deserialize)]
pub struct LocationsForm {
    #[serde(default)]
    locations: String,
}

/// `POST /users/{id}/locations`.
pub async fn change_locations(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { handle, form }: CheckedForm<LocationsForm>,
) -> Result<Response, PageError> {
    let who = admin(&state, &handle).await?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    let locations: Vec<&str> = form
        .locations
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .collect();
    state
        .api
        .send(
            Method::PUT,
            &format!("/v1/users/{id}/locations"),
            Some(who.token()),
            &serde_json::json!({"locations": locations}),
            &[],
            None,
        )
        .await?;
    Ok(Redirect::to("/users?done=locations").into_response())
}

/// An empty form.
#[derive(Debug, Deserialize)]
pub struct Empty {}

/// `POST /users/{id}/deactivate`.
pub async fn deactivate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { handle, .. }: CheckedForm<Empty>,
) -> Result<Response, PageError> {
    let who = admin(&state, &handle).await?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    state
        .api
        .send(
            Method::POST,
            &format!("/v1/users/{id}/deactivate"),
            Some(who.token()),
            &serde_json::json!({}),
            &[],
            None,
        )
        .await?;
    Ok(Redirect::to("/users?done=deactivated").into_response())
}
