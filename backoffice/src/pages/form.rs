//! What the pages' forms share: the `?seq=&done=` a page is redirected to after a change
//! ([`After`]), the `If-Match` of a versioned change ([`if_match`]), how a refusal reads
//! on the page ([`refusal`], [`fixable`]), a version conflict's newer version
//! ([`version_conflict`]), the stream sequence a write answered ([`written_seq`]) and the
//! manager check of a form post ([`manager`]), a plain POST that redirects to the page
//! it changed ([`post_then_show`]), and a list's location filter ([`location_filter`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use reqwest::Method;
use serde::Deserialize;

use crate::api::views::Location;
use crate::api::{ApiError, Written};
use crate::error::PageError;
use crate::extract::SignedIn;
use crate::pages::layout::notice;
use crate::role::Role;
use crate::session::Handle;
use crate::state::AppState;

/// `?seq=&done=` after a change: wait for the read model to show it; say what was done.
#[derive(Debug, Default, Deserialize)]
pub struct After {
    /// The stream sequence of the change (read with `min_sequence`).
    #[serde(default)]
    pub seq: Option<u64>,
    /// What was done (`saved`, `voided`, ...).
    #[serde(default)]
    pub done: Option<String>,
}

impl After {
    /// The "ok" notice of the `done` among `said` (`(done, sentence)` pairs), if any.
    pub fn notice(&self, said: &[(&str, &str)]) -> Option<Markup> {
        let done = self.done.as_deref()?;
        said.iter()
            .find(|(what, _)| *what == done)
            .map(|(_, sentence)| notice("ok", sentence))
    }

    /// `seq` as the `min_sequence` a read passes.
    pub fn min_sequence(&self) -> Option<String> {
        self.seq.map(|s| s.to_string())
    }
}

/// The `If-Match` header of a change made against the form's `version` (digits only;
/// anything else is a form that was not loaded from a page: 400).
pub fn if_match(version: &str) -> Result<[(&'static str, String); 1], PageError> {
    let version = version.trim();
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PageError::BadRequest("the form has no version; reload it".to_owned()));
    }
    Ok([("if-match", format!("\"{version}\""))])
}

/// The stream sequence the API gave a write (0 when it gave none).
pub fn written_seq(written: &Written) -> u64 {
    written.body["stream_sequence"].as_u64().unwrap_or(0)
}

/// With 409 `version_conflict`: `Some` of the current version (the stream sequence of
/// the last change, to wait for); `None` for any other answer.
pub fn version_conflict(err: &ApiError) -> Option<Option<u64>> {
    match err {
        ApiError::Refused {
            status,
            code,
            current_version,
            ..
        } if *status == StatusCode::CONFLICT && code == "version_conflict" => {
            Some(current_version.and_then(|v| u64::try_from(v).ok()))
        }
        _ => None,
    }
}

/// A refusal whose status `shown` accepts, as the page's message (the API's message and
/// the field at fault); `None` for every other error (the error page).
pub fn refusal(err: &ApiError, shown: impl Fn(StatusCode) -> bool) -> Option<String> {
    match err {
        ApiError::Refused {
            status, message, field, ..
        } if shown(*status) => Some(match field {
            Some(field) => format!("{message} ({field})"),
            None => message.clone(),
        }),
        _ => None,
    }
}

/// A refusal the user can fix on the page (422, or a 409 other than a version conflict
/// handled before), as its message.
pub fn fixable(err: &ApiError) -> Option<String> {
    refusal(err, |status| {
        status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::CONFLICT
    })
}

/// The signed-in user of a form post, who must be a manager or an admin.
pub async fn manager(state: &AppState, handle: &Handle) -> Result<SignedIn, PageError> {
    let who = SignedIn::of(state, handle).await?;
    who.require(Role::Manager)?;
    Ok(who)
}

/// POSTs `body` to the API's `api_path` as the signed-in user, then redirects to `page`
/// with `?seq=&done=` so it waits for the change and says what was done. A refusal is
/// the error page.
pub async fn post_then_show(
    state: &AppState,
    who: &SignedIn,
    api_path: &str,
    body: &serde_json::Value,
    page: &str,
    done: &str,
) -> Result<Response, PageError> {
    let written = state
        .api
        .send(Method::POST, api_path, Some(who.token()), body, &[], None)
        .await?;
    let seq = written_seq(&written);
    Ok(Redirect::to(&format!("{page}?seq={seq}&done={done}")).into_response())
}

/// The location filter of a list: every location (offered when `every`), or the
/// `selected` one.
pub fn location_filter(locations: &[Location], selected: Option<&str>, every: bool) -> Markup {
    html! {
        div {
            label for="location" { "Location" }
            select id="location" name="location" {
                @if every { option value="" { "All locations" } }
                @for l in locations { option value=(l.id) selected[Some(l.id.as_str()) == selected] { (l.name) } }
            }
        }
    }
}
