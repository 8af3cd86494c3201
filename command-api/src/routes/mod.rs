//! HTTP routes. Each module owns the routes of one area and returns an
//! [`OpenApiRouter`], so a route and its OpenAPI entry are registered together and cannot
//! drift apart. A command's route is one line of its area's table,
//! `.routes(command::<VoidSale>())`: [`command`] builds the handler and the OpenAPI
//! operation from the command's [`Command`](crate::commands::Command) impl.
//!
//! # Layout
//! - [`command`]: the one generic command handler and its OpenAPI operation.
//! - [`accepted`]: [`Accepted`], the answer to a command that was recorded.
//! - [`sales`]: complete, void and refund sales; list and read them.
//! - [`inventory`]: receipts, adjustments, counts, transfers; stock levels and transactions.
//! - [`catalog`]: register, update, reprice and discontinue products; search and read them.
//! - [`locations`]: open, update and close locations; list and read them.
//! - [`taxes`]: define and replace tax jurisdictions; read one.
//! - [`pricing`]: quote a basket (with the promotions in force).
//! - [`promotions`]: create, update and end promotions; list and read them.
//! - [`cash`]: drawer sessions (open, paid in/out, safe drop, close, approve), cash
//!   settings, a session's X/Z report, over/short and paid-out reports.
//! - [`purchasing`]: suppliers, purchase orders, reorder levels; margin, valuation,
//!   reorder and low-stock reports.
//! - [`promotions`]: promotions (create, change, end, list).
//! - [`reports`]: the daily Z report, top products, pricing exceptions and the promotion
//!   report (JSON or CSV).
//! - [`feed`]: the integrators' event feed (long-poll JSON pages).
//! - [`api_keys`]: integrations' API keys (admins).
//! - [`auth`]: signup, verification, login, refresh, logout.
//! - [`users`]: user management (admins).
//! - [`webhooks`]: webhook endpoints and their deliveries (admins, keys with `webhooks`).
//! - [`terminals`]: a terminal's offline data (catalog, prices, taxes, location, users),
//!   then only what changed.
//! - [`health`]: liveness and readiness.
//! - [`metrics`]: Prometheus metrics and the request-metrics middleware.
//! - [`openapi`]: the OpenAPI document.

pub mod accepted;
pub mod api_keys;
pub mod auth;
pub mod batch;
pub mod cash;
pub mod catalog;
pub mod command;
pub mod feed;
pub mod health;
pub mod inventory;
pub mod locations;
pub mod metrics;
pub mod openapi;
pub mod pricing;
pub mod promotions;
pub mod purchasing;
pub mod reports;
pub mod sales;
pub mod taxes;
pub mod terminals;
pub mod users;
pub mod webhooks;

pub use accepted::Accepted;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every route of the API with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::with_openapi(openapi::base())
        .merge(sales::router())
        .merge(batch::router())
        .merge(feed::router())
        .merge(api_keys::router())
        .merge(webhooks::router())
        .merge(terminals::router())
        .merge(inventory::router())
        .merge(catalog::router())
        .merge(locations::router())
        .merge(taxes::router())
        .merge(pricing::router())
        .merge(purchasing::router())
        .merge(promotions::router())
        .merge(reports::router())
        .merge(cash::router())
        .merge(auth::router())
        .merge(users::router())
        .merge(health::router());
    openapi::add_server_answers(router.get_openapi_mut());
    router
}
