//! The back office in the browser: server-rendered pages for a tenant's managers and
//! admins (dashboard, Z report, sales, stock, products), served by its own process. It is
//! a backend-for-frontend of the command API: every page reads the API over HTTP with the
//! signed-in user's token, every form posts to the back office, which calls the API. The
//! tokens stay in the server-side session; the browser holds a session cookie only.
//! Why this shape: docs/backoffice.md and docs/architecture.md.
//!
//! # Layout
//! - [`config`]: [`Config`], flags and environment.
//! - [`startup`]: [`Application`]: build, bind, serve, shut down.
//! - [`api`]: the command API client and the answers the pages read.
//! - [`session`]: server-side sessions and the session cookie.
//! - [`extract`]: the signed-in user, the visitor, the client address, CSRF-checked forms.
//! - [`security`]: Content-Security-Policy and the other headers of every answer.
//! - [`pages`]: the pages and the route table.
//! - [`chart`]: bar charts as inline SVG.
//! - [`money`]: amounts in the tenant's currency.
//! - [`role`]: cashier < manager < admin.
//! - [`error`]: [`error::PageError`] and its readable pages.
//! - [`state`]: the shared [`state::AppState`].

pub mod api;
pub mod chart;
pub mod config;
pub mod error;
pub mod extract;
pub mod money;
pub mod pages;
pub mod role;
pub mod security;
pub mod session;
pub mod startup;
pub mod state;

pub use config::Config;
pub use startup::Application;
