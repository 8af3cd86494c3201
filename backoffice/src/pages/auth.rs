//! Sign-in and sign-out, and the identity pages the API's mails link to: signup, email
//! verification and accepting an invitation. Each form posts to the back office, which
//! calls the API's identity route; tokens from login stay in the server-side session.

use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use reqwest::Method;
use serde::Deserialize;

use crate::api::views::TokenPair;
use crate::error::PageError;
use crate::extract::{CheckedForm, ClientIp, Visitor};
use crate::pages::layout::{self, csrf_field, notice};
use crate::role::Role;
use crate::session::User;
use crate::state::AppState;

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

fn login_form(csrf: &str, email: &str, message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message { (notice("error", message)) }
        form method="post" action="/login" id="login" {
            (csrf_field(csrf))
            label for="email" { "Email" }
            input id="email" name="email" type="email" autocomplete="username" required value=(email);
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            p { button type="submit" { "Sign in" } }
        }
        p class="muted" { "New here? " a href="/signup" { "Open an organization" } ". Forgot your password? " a href="/reset-password" { "Reset it" } "." }
    }
}

fn with_cookie(set_cookie: Option<String>, response: impl IntoResponse) -> Response {
    match set_cookie {
        Some(cookie) => ([(header::SET_COOKIE, cookie)], response).into_response(),
        None => response.into_response(),
    }
}

/// `GET /login`.
pub async fn login_page(visitor: Visitor) -> Response {
    let page = layout::public("Sign in", login_form(&visitor.csrf, "", None));
    with_cookie(visitor.set_cookie, page)
}

/// `POST /login`: the API checks the password (and throttles per browser address); on
/// success the session is replaced by a new one holding the tokens.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    CheckedForm { handle, form }: CheckedForm<LoginForm>,
) -> Result<Response, PageError> {
    let answer: Result<TokenPair, _> = state
        .api
        .send_for(
            Method::POST,
            "/v1/auth/login",
            None,
            &serde_json::json!({"email": form.email, "password": form.password}),
            client,
        )
        .await;
    let pair = match answer {
        Ok(pair) => pair,
        Err(err)
            if err.status().is_some_and(|s| {
                s == StatusCode::UNAUTHORIZED || s == StatusCode::TOO_MANY_REQUESTS || s.is_client_error()
            }) =>
        {
            let message = if err.status() == Some(StatusCode::TOO_MANY_REQUESTS) {
                "Too many attempts. Wait a little and try again."
            } else {
                "Wrong email or password."
            };
            let csrf = handle.session.lock().await.csrf.clone();
            let page = layout::public("Sign in", login_form(&csrf, &form.email, Some(message)));
            return Ok((StatusCode::UNAUTHORIZED, page).into_response());
        }
        Err(err) => return Err(err.into()),
    };
    let now = Instant::now();
    let role = Role::parse(&pair.role);
    let user = User {
        access_token: pair.access_token,
        access_expires: now + Duration::from_secs(pair.expires_in),
        refresh_token: pair.refresh_token,
        user_id: pair.user_id,
        organization_id: pair.organization_id,
        role,
        locations: pair.locations,
        email: form.email.trim().to_lowercase(),
        signed_in_at: now,
    };
    tracing::info!(user_id = %user.user_id, organization_id = %user.organization_id, "signed in");
    // A new id for the signed-in session: an id known before sign-in is worth nothing.
    state.sessions.remove(&handle.id).await;
    let signed_in = state.sessions.create(Some(user)).await;
    let home = if role >= Role::Manager { "/dashboard" } else { "/stock" };
    Ok((
        [(header::SET_COOKIE, state.sessions.cookie(&signed_in.id))],
        Redirect::to(home),
    )
        .into_response())
}

/// An empty form (only the CSRF token).
#[derive(Debug, Deserialize)]
pub struct Empty {}

/// `POST /logout`: revokes the API login (its refresh tokens, and within seconds its
/// access tokens), drops the session and the cookie.
pub async fn logout(
    State(state): State<AppState>,
    CheckedForm { handle, .. }: CheckedForm<Empty>,
) -> Result<Response, PageError> {
    let user = handle.session.lock().await.user.take();
    if let Some(user) = user {
        let revoked = state
            .api
            .send(
                Method::POST,
                "/v1/auth/logout",
                None,
                &serde_json::json!({"refresh_token": user.refresh_token}),
                &[],
                None,
            )
            .await;
        if let Err(err) = revoked {
            tracing::warn!(error = %err, "could not revoke the API login at sign-out");
        }
    }
    state.sessions.remove(&handle.id).await;
    Ok((
        [(header::SET_COOKIE, state.sessions.expired_cookie())],
        Redirect::to("/login"),
    )
        .into_response())
}

/// The signup form.
#[derive(Debug, Deserialize)]
pub struct SignupForm {
    organization_name: String,
    admin_name: String,
    email: String,
}

fn signup_form(csrf: &str, message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message { (notice("error", message)) }
        form method="post" action="/signup" id="signup" {
            (csrf_field(csrf))
            label for="organization_name" { "Organization" }
            input id="organization_name" name="organization_name" required;
            label for="admin_name" { "Your name" }
            input id="admin_name" name="admin_name" autocomplete="name" required;
            label for="email" { "Email" }
            input id="email" name="email" type="email" autocomplete="email" required;
            p { button type="submit" { "Open the organization" } }
        }
        p class="muted" { "You choose your password after confirming your email." }
    }
}

/// `GET /signup`.
pub async fn signup_page(visitor: Visitor) -> Response {
    with_cookie(
        visitor.set_cookie,
        layout::public("Open an organization", signup_form(&visitor.csrf, None)),
    )
}

/// `POST /signup`: the API mails a verification link (it answers the same whatever the
/// address).
pub async fn signup(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    CheckedForm { handle, form }: CheckedForm<SignupForm>,
) -> Result<Response, PageError> {
    let body = serde_json::json!({"organization_name": form.organization_name, "admin_name": form.admin_name, "email": form.email});
    match state.api.send(Method::POST, "/v1/auth/signup", None, &body, &[], client).await {
        Ok(_) => Ok(layout::public(
            "Check your mail",
            html! { (notice("ok", "If the address can receive mail, a link to confirm it is on its way. Open it to choose your password.")) },
        )
        .into_response()),
        Err(err) if err.status().is_some_and(|s| s.is_client_error()) => {
            let csrf = handle.session.lock().await.csrf.clone();
            let message = match &err {
                crate::api::ApiError::Refused { message, .. } => message.clone(),
                _ => "The signup was refused.".to_owned(),
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                layout::public("Open an organization", signup_form(&csrf, Some(&message))),
            )
                .into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// `?token=` of a mailed link.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// The form of a mailed link: its token and the password the reader chooses.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    token: String,
    password: String,
}

/// What a mailed link does.
#[derive(Debug, Clone, Copy)]
pub enum Link {
    /// `/verify`: confirm the signup's email, creating the organization.
    Verify,
    /// `/accept-invitation`: join an organization.
    AcceptInvitation,
    /// `/reset-password?token=`: choose a new password (ends every login of the account).
    ResetPassword,
}

impl Link {
    fn path(self) -> &'static str {
        match self {
            Link::Verify => "/verify",
            Link::AcceptInvitation => "/accept-invitation",
            Link::ResetPassword => "/reset-password/confirm",
        }
    }

    fn api_path(self) -> &'static str {
        match self {
            Link::Verify => "/v1/auth/verify",
            Link::AcceptInvitation => "/v1/auth/accept-invitation",
            Link::ResetPassword => "/v1/auth/password-reset/confirm",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Link::Verify => "Confirm your email",
            Link::AcceptInvitation => "Accept the invitation",
            Link::ResetPassword => "Choose a new password",
        }
    }
}

fn token_form(link: Link, csrf: &str, token: &str, message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message { (notice("error", message)) }
        form method="post" action=(link.path()) id="choose-password" {
            (csrf_field(csrf))
            input type="hidden" name="token" value=(token);
            label for="password" { "Choose a password" }
            input id="password" name="password" type="password" autocomplete="new-password" minlength="15" required;
            p class="muted" { "At least 15 characters; a phrase of a few words is good." }
            p { button type="submit" { "Save the password" } }
        }
    }
}

/// `GET /verify?token=` and `GET /accept-invitation?token=`.
pub async fn token_page(link: Link, visitor: Visitor, Query(query): Query<TokenQuery>) -> Response {
    with_cookie(
        visitor.set_cookie,
        layout::public(link.title(), token_form(link, &visitor.csrf, &query.token, None)),
    )
}

/// `POST /verify` and `POST /accept-invitation`.
pub async fn token_submit(link: Link, state: AppState, form: CheckedForm<TokenForm>) -> Result<Response, PageError> {
    let CheckedForm { handle, form } = form;
    let body = serde_json::json!({"token": form.token, "password": form.password});
    match state
        .api
        .send(Method::POST, link.api_path(), None, &body, &[], None)
        .await
    {
        Ok(_) => Ok(layout::public(
            link.title(),
            html! {
                (notice("ok", "Your password is saved."))
                p { a class="button" href="/login" { "Sign in" } }
            },
        )
        .into_response()),
        Err(crate::api::ApiError::Refused { status, message, .. }) if status.is_client_error() => {
            let csrf = handle.session.lock().await.csrf.clone();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                layout::public(link.title(), token_form(link, &csrf, &form.token, Some(&message))),
            )
                .into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// The password-reset request form.
#[derive(Debug, Deserialize)]
pub struct ResetForm {
    email: String,
}

fn reset_form(csrf: &str) -> Markup {
    html! {
        form method="post" action="/reset-password" id="reset" {
            (csrf_field(csrf))
            label for="email" { "Email" }
            input id="email" name="email" type="email" autocomplete="username" required;
            p { button type="submit" { "Mail me a link" } }
        }
    }
}

/// `GET /reset-password`: with the mailed `token`, the new-password form; without, the
/// form that asks for a link.
pub async fn reset_page(visitor: Visitor, Query(query): Query<TokenQuery>) -> Response {
    if !query.token.is_empty() {
        return token_page(Link::ResetPassword, visitor, Query(query)).await;
    }
    with_cookie(
        visitor.set_cookie,
        layout::public("Reset your password", reset_form(&visitor.csrf)),
    )
}

/// `POST /reset-password`: the API mails a single-use link (it answers the same whatever
/// the address).
pub async fn reset(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    CheckedForm { form, .. }: CheckedForm<ResetForm>,
) -> Result<Response, PageError> {
    let body = serde_json::json!({"email": form.email});
    match state
        .api
        .send(Method::POST, "/v1/auth/password-reset", None, &body, &[], client)
        .await
    {
        Ok(_) => {}
        Err(err) if err.status().is_some_and(|s| s.is_client_error()) => {
            tracing::info!(error = %err, "password reset refused");
        }
        Err(err) => return Err(err.into()),
    }
    Ok(layout::public(
        "Check your mail",
        html! { (notice("ok", "If the address has an account, a link to choose a new password is on its way.")) },
    )
    .into_response())
}
