//! The operator console: the platform's view, for whoever holds the projector's admin
//! token (`ADMIN_TOKEN`), never a tenant role. It signs in with that token (kept in the
//! server-side session like a user's tokens) and reads the projector's admin server: each
//! partition's consumer position, the tenants with their projection lag (a bar), placement
//! and parked count, replays and moves in progress (a bar each), and one tenant's parked events, each
//! with a re-drive button (a CSRF-checked form like every other; the projector applies the
//! event again in the tenant's stream order, see `projector/src/redrive.rs`).

use axum::extract::{FromRef, FromRequestParts, Path, Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
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

/// Tenants on one page of the overview.
const TENANTS_PER_PAGE: usize = 50;

/// `?tenant=` of the tenant picker, `?after=` of the tenant list's pages.
#[derive(Debug, Default, Deserialize)]
pub struct TenantQuery {
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

/// `?redriven=&outcome=` after a re-drive.
#[derive(Debug, Default, Deserialize)]
pub struct RedriveNotice {
    #[serde(default)]
    redriven: Option<u64>,
    #[serde(default)]
    outcome: Option<String>,
}

/// `POST /operator/tenants/{tenant}/parked/{sequence}/redrive`: asks the projector to apply
/// the parked event again (`POST /v1/tenants/{tenant}/parked/{sequence}/redrive`) and goes
/// back to the tenant's page with the outcome.
pub async fn redrive(
    State(state): State<AppState>,
    operator: Operator,
    Path((tenant, sequence)): Path<(String, u64)>,
    CheckedForm { .. }: CheckedForm<Empty>,
) -> Result<Response, PageError> {
    if !valid_id(&tenant) {
        return Err(PageError::NotFound);
    }
    let path = format!("/v1/tenants/{tenant}/parked/{sequence}/redrive");
    let answer = console(&state)?
        .send(
            Method::POST,
            &path,
            Some(&operator.token),
            &serde_json::json!({}),
            &[],
            None,
        )
        .await;
    let outcome = match answer {
        Ok(written) => match written.body["outcome"].as_str() {
            Some(outcome @ ("applied" | "parked" | "not_parked" | "pending")) => outcome.to_owned(),
            _ => "pending".to_owned(),
        },
        Err(err) if err.is_unauthorized() => return Err(PageError::OperatorSignInRequired),
        Err(err) if err.status() == Some(StatusCode::NOT_FOUND) => "not_parked".to_owned(),
        Err(err) => return Err(err.into()),
    };
    tracing::info!(tenant = %tenant, sequence, %outcome, "operator re-drove a parked event");
    Ok(Redirect::to(&format!(
        "/operator/tenants/{tenant}?redriven={sequence}&outcome={outcome}"
    ))
    .into_response())
}

fn redrive_notice(notice_query: &RedriveNotice) -> Option<Markup> {
    let sequence = notice_query.redriven?;
    let (kind, message) = match notice_query.outcome.as_deref()? {
        "applied" => (
            "ok",
            format!("Event {sequence} was re-driven and applied; it is no longer parked."),
        ),
        "parked" => (
            "error",
            format!("Event {sequence} failed again and stays parked; its error below is the new one."),
        ),
        "not_parked" => (
            "info",
            format!("Event {sequence} is not parked (any more): nothing was done."),
        ),
        _ => (
            "info",
            format!("The projector has not reached the re-drive of event {sequence} yet; reload in a moment."),
        ),
    };
    Some(notice(kind, &message))
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
    let after = query.after.as_deref().filter(|a| valid_id(a)).unwrap_or("");
    let tenants_path = format!("/v1/tenants?limit={TENANTS_PER_PAGE}&after={after}");
    let (stats, page, jobs) = tokio::join!(
        read(&state, &operator, "/stats"),
        read(&state, &operator, &tenants_path),
        read(&state, &operator, "/v1/jobs"),
    );
    let (stats, page, jobs) = (stats?, page?, jobs?);
    let partitions = stats["partitions"].as_array().cloned().unwrap_or_default();
    let tenants = page["tenants"].as_array().cloned().unwrap_or_default();
    let jobs = jobs["jobs"].as_array().cloned().unwrap_or_default();
    let body = html! {
        form method="get" action="/operator" class="filters" {
            div { label for="tenant" { "Tenant id" } input id="tenant" name="tenant" required; }
            div { button type="submit" class="secondary" { "Lag and parked events" } }
        }
        h2 { "Tenants" }
        @if tenants.is_empty() {
            p class="muted" id="no-tenants" { "None." }
        } @else {
            table id="tenants" {
                thead { tr { th { "Tenant" } th { "Placement" } th class="num" { "Stream head" } th class="num" { "Checkpoint" } th class="num" { "Lag" } th { "Projected" } th class="num" { "Parked" } } }
                tbody {
                    @for t in &tenants {
                        @let id = t["tenant"].as_str().unwrap_or("");
                        @let head = t["stream_head"].as_u64().unwrap_or(0);
                        @let checkpoint = t["checkpoint"].as_u64().unwrap_or(0);
                        tr data-tenant=(id) {
                            td { a href=(format!("/operator/tenants/{id}")) { (id) } }
                            td class="placement" { (t["placement"].as_str().unwrap_or("")) }
                            td class="num" { (head) }
                            td class="num" { (checkpoint) }
                            td class="num lag" { (number(t, "lag")) }
                            // Nothing in the stream is nothing to project: a full bar.
                            td { progress max=(head.max(1)) value=(if head == 0 { 1 } else { checkpoint.min(head) }) title=(format!("{checkpoint} of {head}")) { (checkpoint) " of " (head) } }
                            td class="num parked" { (number(t, "parked")) }
                        }
                    }
                }
            }
            @if let Some(next) = page["next_after"].as_str() {
                p { a href=(format!("/operator?after={next}")) id="next-tenants" { "Next tenants" } }
            }
        }
        h2 { "Replays and moves in progress" }
        @if jobs.is_empty() {
            p class="muted" id="no-jobs" { "None." }
        } @else {
            table id="jobs" {
                thead { tr { th { "Tenant" } th { "Job" } th { "Started" } th class="num" { "Built to" } th class="num" { "Stream head" } th { "Progress" } } }
                tbody {
                    @for job in &jobs {
                        @let id = job["tenant"].as_str().unwrap_or("");
                        @let done = job["checkpoint"].as_u64().unwrap_or(0);
                        @let head = job["stream_head"].as_u64().unwrap_or(0);
                        tr data-job=(format!("{}:{id}", job["kind"].as_str().unwrap_or(""))) {
                            td { a href=(format!("/operator/tenants/{id}")) { (id) } }
                            td {
                                (job["kind"].as_str().unwrap_or(""))
                                @if let Some(to) = job["to"].as_str() { " to " (to) }
                            }
                            td { (job["started_at"].as_str().unwrap_or("")) }
                            td class="num" { (done) }
                            td class="num" { (head) }
                            td { progress max=(head.max(1)) value=(if head == 0 { 1 } else { done.min(head) }) { (number(job, "percent")) " %" } }
                        }
                    }
                }
            }
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
    Query(notice_query): Query<RedriveNotice>,
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
        @if let Some(notice) = redrive_notice(&notice_query) { (notice) }
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
                thead { tr { th class="num" { "Sequence" } th { "Subject" } th { "Type" } th { "Error" } th class="num" { "Deliveries" } th { "Parked at" } th { "" } } }
                tbody {
                    @for e in &events {
                        @let sequence = e["sequence"].as_u64().unwrap_or(0);
                        tr data-sequence=(sequence) {
                            td class="num" { (number(e, "sequence")) }
                            td { (e["subject"].as_str().unwrap_or("")) }
                            td { (e["event_type"].as_str().unwrap_or("—")) }
                            td { (e["error"].as_str().unwrap_or("")) }
                            td class="num" { (number(e, "deliveries")) }
                            td { (e["parked_at"].as_str().unwrap_or("")) }
                            td {
                                form method="post" action=(format!("/operator/tenants/{tenant}/parked/{sequence}/redrive")) class="redrive" {
                                    (csrf_field(&operator.csrf))
                                    button type="submit" aria-label=(format!("Re-drive event {sequence}")) { "Re-drive" }
                                }
                            }
                        }
                    }
                }
            }
            p class="muted" { "Re-drive an event once its cause is fixed: the projector applies it again after everything the tenant did since (it stays parked with the new error if it fails again). To apply events at their own place in the stream instead, rebuild the tenant (" code { "projector replay --tenant " (tenant) } "), see docs/operations.md." }
        }
    };
    Ok(layout::operator_page(&operator.csrf, &format!("Tenant {tenant}"), body))
}
