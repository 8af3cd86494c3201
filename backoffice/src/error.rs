//! Why a page could not be shown, and the readable page each reason gets.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::api::ApiError;
use crate::pages::layout;
use crate::role::Role;

/// A page that cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No signed-in session (or the API ended it): 303 to the sign-in page.
    #[error("sign-in required")]
    SignInRequired,
    /// The session is over (the API no longer accepts its login, or it is too old): it is
    /// dropped, its cookie expired, and the browser sent to the sign-in page.
    #[error("session ended")]
    SessionEnded,
    /// No operator session: 303 to the console's sign-in page.
    #[error("operator sign-in required")]
    OperatorSignInRequired,
    /// 403: the user's role is below `needed`. The API refuses the same.
    #[error("needs the {needed} role")]
    Forbidden {
        /// The least role that may do it.
        needed: Role,
    },
    /// 403: a form without this session's CSRF token, or posted from another origin.
    #[error("form refused: {0}")]
    Csrf(&'static str),
    /// 404.
    #[error("not found")]
    NotFound,
    /// 400: a query parameter or form field the page cannot use.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The API refused or failed: its status decides the page.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// Marks an answer after which the request's session is over (the API refused its token,
/// or it has none): [`end_sessions`] drops it and tells the browser to forget the cookie.
#[derive(Debug, Clone, Copy)]
pub struct EndSession;

fn sign_in_again() -> Response {
    let mut response = Redirect::to("/login").into_response();
    response.extensions_mut().insert(EndSession);
    response
}

/// Middleware: after an answer marked [`EndSession`], removes the request's session from
/// the store and expires its cookie.
pub async fn end_sessions(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let id = state.sessions.cookie_id(request.headers());
    let mut response = next.run(request).await;
    if response.extensions().get::<EndSession>().is_some()
        && let Some(id) = id
    {
        state.sessions.remove(&id).await;
        if let Ok(value) = axum::http::HeaderValue::from_str(&state.sessions.expired_cookie()) {
            response.headers_mut().append(axum::http::header::SET_COOKIE, value);
        }
    }
    response
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            PageError::SignInRequired => return Redirect::to("/login").into_response(),
            PageError::SessionEnded => return sign_in_again(),
            PageError::OperatorSignInRequired => return Redirect::to("/operator/login").into_response(),
            PageError::Forbidden { needed } => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                format!("This needs the {needed} role. Ask an admin if you should have it."),
            ),
            PageError::Csrf(why) => (
                StatusCode::FORBIDDEN,
                "Form refused",
                format!("{why}. Reload the page and try again."),
            ),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here. It may belong to another organization, or never have existed.".to_owned(),
            ),
            PageError::BadRequest(why) => (StatusCode::BAD_REQUEST, "Cannot show this", why.clone()),
            PageError::Api(err) => match err {
                ApiError::Refused { status, .. } if *status == StatusCode::UNAUTHORIZED => {
                    return sign_in_again();
                }
                ApiError::Refused { status, code, .. }
                    if *status == StatusCode::FORBIDDEN && code == "location_forbidden" =>
                {
                    (
                        StatusCode::FORBIDDEN,
                        "Not your store",
                        "This belongs to a store you are not assigned to. Ask an admin if you should be.".to_owned(),
                    )
                }
                ApiError::Refused {
                    status, required_role, ..
                } if *status == StatusCode::FORBIDDEN => (
                    StatusCode::FORBIDDEN,
                    "Not allowed",
                    format!(
                        "This needs the {} role. Ask an admin if you should have it.",
                        required_role.as_deref().unwrap_or("manager")
                    ),
                ),
                ApiError::Refused { status, .. } if *status == StatusCode::NOT_FOUND => (
                    StatusCode::NOT_FOUND,
                    "Not found",
                    "There is nothing here. It may belong to another organization, or never have existed.".to_owned(),
                ),
                ApiError::Refused {
                    status, message, field, ..
                } if status.is_client_error() => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Cannot do this",
                    match field {
                        Some(field) => format!("{message} ({field})"),
                        None => message.clone(),
                    },
                ),
                ApiError::Refused { .. } | ApiError::Unreachable(_) => {
                    tracing::warn!(error = ?err, "the API failed");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Try again shortly",
                        "The back office cannot reach the store's data right now. Try again in a moment.".to_owned(),
                    )
                }
                ApiError::Malformed(_) => {
                    tracing::error!(error = ?err, "the API answered something unexpected");
                    (
                        StatusCode::BAD_GATEWAY,
                        "Something went wrong",
                        "The store's data came back in a form the back office does not understand.".to_owned(),
                    )
                }
            },
        };
        (status, layout::error_page(status, title, &message)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_of_the_token_sends_the_browser_to_sign_in() {
        let err = PageError::Api(ApiError::Refused {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_token".into(),
            message: "expired".into(),
            field: None,
            current_version: None,
            required_role: None,
        });
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }

    #[test]
    fn a_role_refusal_is_a_readable_403() {
        let response = PageError::Forbidden { needed: Role::Manager }.into_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
}
