//! The operator console: the platform's view, for whoever holds the projector's admin
//! token (`ADMIN_TOKEN`), never a tenant role. It signs in with that token (kept in the
//! server-side session like a user's tokens) and reads the projector's admin server: each
//! partition's consumer position, and one tenant's projection lag and parked events.
//! Read-only: the admin server has no tenant list, no re-drive of one parked event and no
//! replay progress over HTTP yet (docs/backoffice.md).

use axum::extract::{FromRef, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use crate::api::{Api, ApiError};
use crate::error::PageError;
use crate::extract::{CheckedForm, Visitor};
use crate::pages::auth::Empty;
use crate::pages::layout::{self, csrf_field, notice};
use crate::pages::sales::valid_id;
use crate::state::AppState;

/// A signed-in operator.
#[derive(Debug, Clone)]
pub struct Operator {
    token: String,
    csrf: String,
}

fn console(state: &AppState) -> Result<&Api, PageError> {
    state.projector.as_ref().ok_or(PageError::NotFound)
}

impl<S> FromRequestParts<S> for Operator
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        console(&state)?;
        let handle = state
            .sessions
            .find(&parts.headers)
            .await
            .ok_or(PageError::OperatorSignInRequired)?;
        let session = handle.session.lock().await;
        let token = session.operator.clone().ok_or(PageError::OperatorSignInRequired)?;
        Ok(Self {
            token,
            csrf: session.csrf.clone(),
        })
    }
}

fn login_form(csrf: &str, message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message { (notice("error", message)) }
        form method="post" action="/operator/login" id="operator-login" {
            (csrf_field(csrf))
            label for="token" { "Operator token (the projector's ADMIN_TOKEN)" }
            input id="token" name="token" type="password" autocomplete="off" required;
            p { button type="submit" { "Sign in" } }
        }
    }
}

/// `GET /operator/login`.
pub async fn login_page(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    console(&state)?;
    let page = layout::public("Operator console", login_form(&visitor.csrf, None));
    Ok(match visitor.set_cookie {
        Some(cookie) => ([(header::SET_COOKIE, cookie)], page).into_response(),
        None => page.into_response(),
    })
}

/// The operator sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: String,
}

/// `POST /operator/login`: the token is checked against the admin server (`/stats`); on
/// success the session is replaced by an operator session.
pub async fn login(
    State(state): State<AppState>,
    CheckedForm { handle, form }: CheckedForm<LoginForm>,
) -> Result<Response, PageError> {
    let admin = console(&state)?;
    let token = form.token.trim().to_owned();
    match admin.get::<Value>(&token, "/stats", &[]).await {
        Ok(_) => {}
        Err(err) if err.is_unauthorized() => {
            tracing::warn!("operator sign-in refused");
            let csrf = handle.session.lock().await.csrf.clone();
            let page = layout::public(
                "Operator console",
                login_form(&csrf, Some("That is not the operator token.")),
            );
            return Ok((StatusCode::UNAUTHORIZED, page).into_response());
        }
        Err(err) => return Err(err.into()),
    }
    state.sessions.remove(&handle.id).await;
    let session = state.sessions.create_operator(token).await;
    tracing::info!("operator signed in");
    Ok((
        [(header::SET_COOKIE, state.sessions.cookie(&session.id))],
        Redirect::to("/operator"),
    )
        .into_response())
}

/// `POST /operator/logout`.
pub async fn logout(
    State(state): State<AppState>,
    CheckedForm { handle, .. }: CheckedForm<Empty>,
) -> Result<Response, PageError> {
    state.sessions.remove(&handle.id).await;
    Ok((
        [(header::SET_COOKIE, state.sessions.expired_cookie())],
        Redirect::to("/operator/login"),
    )
        .into_response())
}

/// A number of a JSON object, shown as is.
fn number(value: &Value, key: &str) -> String {
    value.get(key).map(|v| v.to_string()).unwrap_or_default()
}

/// The operator's reads: an expired or changed token ends the operator session.
async fn read(state: &AppState, operator: &Operator, path: &str) -> Result<Value, PageError> {
    match console(state)?.get::<Value>(&operator.token, path, &[]).await {
        Err(err) if err.is_unauthorized() => Err(PageError::OperatorSignInRequired),
        other => Ok(other?),
    }
}

/// `?tenant=` of the tenant picker.
#[derive(Debug, Default, Deserialize)]
pub struct TenantQuery {
    #[serde(default)]
    tenant: Option<String>,
}

/// `GET /operator`: each partition's consumer, and a tenant picker.
pub async fn overview(
    State(state): State<AppState>,
    operator: Operator,
    Query(query): Query<TenantQuery>,
) -> Result<Response, PageError> {
    if let Some(tenant) = query.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        return Ok(Redirect::to(&format!("/operator/tenants/{}", tenant.to_lowercase())).into_response());
    }
    let stats = read(&state, &operator, "/stats").await?;
    let partitions = stats["partitions"].as_array().cloned().unwrap_or_default();
    let body = html! {
        form method="get" action="/operator" class="filters" {
            div { label for="tenant" { "Tenant id" } input id="tenant" name="tenant" required; }
            div { button type="submit" class="secondary" { "Lag and parked events" } }
        }
        h2 { "Partitions" }
        table id="partitions" {
            thead { tr { th { "Partition" } th { "Consumer" } th class="num" { "Pending" } th class="num" { "Unacknowledged" } th class="num" { "Ack floor" } th class="num" { "Delivered" } th { "" } } }
            tbody {
                @for p in &partitions {
                    tr {
                        td { (number(p, "partition")) }
                        td { (p["consumer"].as_str().unwrap_or("")) }
                        td class="num" { (number(p, "pending")) }
                        td class="num" { (number(p, "ack_pending")) }
                        td class="num" { (number(p, "ack_floor")) }
                        td class="num" { (number(p, "delivered")) }
                        td class="error" { (p["error"].as_str().unwrap_or("")) }
                    }
                }
            }
        }
        h2 { "MongoDB pool" }
        pre id="pool" { (serde_json::to_string_pretty(&stats["mongodb"]).unwrap_or_default()) }
    };
    Ok(layout::operator_page(&operator.csrf, "Operator console", body).into_response())
}

/// `GET /operator/tenants/{tenant}`: projection lag (with a progress bar) and parked events.
pub async fn tenant(
    State(state): State<AppState>,
    operator: Operator,
    Path(tenant): Path<String>,
) -> Result<Html<String>, PageError> {
    if !valid_id(&tenant) {
        return Err(PageError::NotFound);
    }
    let (lag_path, parked_path) = (
        format!("/v1/tenants/{tenant}/lag"),
        format!("/v1/tenants/{tenant}/parked"),
    );
    let (lag, parked) = tokio::join!(
        read(&state, &operator, &lag_path),
        read(&state, &operator, &parked_path),
    );
    let (lag, parked) = match (lag, parked) {
        (Ok(lag), Ok(parked)) => (lag, parked),
        (Err(PageError::Api(ApiError::Refused { status, message, .. })), _)
        | (_, Err(PageError::Api(ApiError::Refused { status, message, .. })))
            if status.is_client_error() =>
        {
            return Err(PageError::BadRequest(message));
        }
        (Err(err), _) | (_, Err(err)) => return Err(err),
    };
    let head = lag["stream_head"].as_u64().unwrap_or(0);
    let checkpoint = lag["checkpoint"].as_u64().unwrap_or(0);
    let events = parked["parked"].as_array().cloned().unwrap_or_default();
    let body = html! {
        dl class="cards" {
            div class="card" { dt class="label" { "Stream head" } dd class="value" id="stream-head" { (head) } }
            div class="card" { dt class="label" { "Checkpoint" } dd class="value" id="checkpoint" { (checkpoint) } }
            div class="card" { dt class="label" { "Lag (events)" } dd class="value" id="lag" { (head.saturating_sub(checkpoint)) } }
            div class="card" { dt class="label" { "Parked" } dd class="value" id="parked-count" { (events.len()) } }
        }
        p {
            label for="progress" { "Projected" }
            progress id="progress" max=(head.max(1)) value=(checkpoint.min(head)) { (checkpoint) " of " (head) }
        }
        h2 { "Parked events" }
        @if events.is_empty() {
            p class="muted" id="no-parked" { "None." }
        } @else {
            table id="parked" {
                thead { tr { th class="num" { "Sequence" } th { "Subject" } th { "Type" } th { "Error" } th class="num" { "Deliveries" } th { "Parked at" } } }
                tbody {
                    @for e in &events {
                        tr {
                            td class="num" { (number(e, "sequence")) }
                            td { (e["subject"].as_str().unwrap_or("")) }
                            td { (e["event_type"].as_str().unwrap_or("—")) }
                            td { (e["error"].as_str().unwrap_or("")) }
                            td class="num" { (number(e, "deliveries")) }
                            td { (e["parked_at"].as_str().unwrap_or("")) }
                        }
                    }
                }
            }
            p class="muted" { "Re-drive after a fix: rebuild the tenant (" code { "projector replay --tenant " (tenant) } "), see docs/operations.md." }
        }
    };
    Ok(layout::operator_page(&operator.csrf, &format!("Tenant {tenant}"), body))
}
