//! The pages, one module per area, and the route table.
//!
//! # Layout
//! - [`layout`]: the frame of every page, the CSRF field, the error page.
//! - [`form`]: what the forms share: `?seq=&done=`, `If-Match`, refusals and conflicts.
//! - [`auth`]: sign-in, sign-out, signup, verification, invitations.
//! - [`day`]: which location and business day a page shows.
//! - [`dashboard`]: the day's figures, sales by hour, 30 days, low stock.
//! - [`report`]: the Z report (printable) and its CSV, the day's drawers, a drawer
//!   session's X/Z report, and closing the day.
//! - [`sales`]: the sales list, a sale, void and refund.
//! - [`stock`]: stock levels and a SKU's movements.
//! - [`products`]: the catalog: register, edit, change a price.
//! - [`users`]: users and roles (admins).
//! - [`locations`]: the stores and warehouses; opening one (admins).
//! - [`location_edit`]: one location; changing its details and closing it (admins,
//!   `If-Match`).
//! - [`promotions`]: the promotions; creating one and ending one (managers).
//! - [`drawers`]: the drawer sessions of a location over a period, with over/short,
//!   approval and paid-outs by reason (managers).
//! - [`taxes`]: a location's tax jurisdiction, its rates and deposits (read-only).
//! - [`purchasing`]: suppliers, purchase orders, one order; submitting and receiving it.
//! - [`operator`]: the operator console (projector admin token): partitions, tenants with
//!   lag and placement, replays in progress, a tenant's parked events and their re-drive.
//! - [`assets`]: the stylesheet and the script, compiled in.

pub mod assets;
pub mod auth;
pub mod dashboard;
pub mod day;
pub mod drawers;
pub mod form;
pub mod layout;
pub mod location_edit;
pub mod locations;
pub mod operator;
pub mod products;
pub mod promotions;
pub mod purchasing;
pub mod report;
pub mod sales;
pub mod stock;
pub mod taxes;
pub mod users;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::extract::{CheckedForm, Visitor};
use crate::state::AppState;
use auth::Link;

/// Every route of the back office.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/signup", get(auth::signup_page).post(auth::signup))
        .route(
            "/verify",
            get(|v: Visitor, q: Query<auth::TokenQuery>| auth::token_page(Link::Verify, v, q)).post(
                |State(s): State<AppState>, f: CheckedForm<auth::TokenForm>| auth::token_submit(Link::Verify, s, f),
            ),
        )
        .route(
            "/accept-invitation",
            get(|v: Visitor, q: Query<auth::TokenQuery>| auth::token_page(Link::AcceptInvitation, v, q)).post(
                |State(s): State<AppState>, f: CheckedForm<auth::TokenForm>| {
                    auth::token_submit(Link::AcceptInvitation, s, f)
                },
            ),
        )
        .route("/reset-password", get(auth::reset_page).post(auth::reset))
        .route(
            "/reset-password/confirm",
            post(|State(s): State<AppState>, f: CheckedForm<auth::TokenForm>| {
                auth::token_submit(Link::ResetPassword, s, f)
            }),
        )
        .route("/dashboard", get(dashboard::dashboard))
        .route("/reports/z", get(report::z_report))
        .route("/reports/z.csv", get(report::z_csv))
        .route("/reports/z/close", post(report::close_day))
        .route("/drawers/{id}", get(report::drawer))
        .route("/sales", get(sales::list))
        .route("/sales/{id}", get(sales::detail))
        .route("/sales/{id}/void", post(sales::void))
        .route("/sales/{id}/refund", post(sales::refund))
        .route("/stock", get(stock::levels))
        .route("/stock/{sku}", get(stock::movements))
        .route("/products", get(products::list).post(products::register))
        .route("/products/new", get(products::new_page))
        .route("/products/{sku}", get(products::edit_page).post(products::update))
        .route("/products/{sku}/price", post(products::change_price))
        .route("/locations", get(locations::list).post(locations::open))
        .route("/locations/{id}", get(location_edit::page).post(location_edit::update))
        .route("/locations/{id}/close", post(location_edit::close))
        .route("/promotions", get(promotions::list).post(promotions::create))
        .route("/promotions/{id}/end", post(promotions::end))
        .route("/drawers", get(drawers::period))
        .route("/taxes", get(taxes::page))
        .route("/suppliers", get(purchasing::suppliers))
        .route("/purchase-orders", get(purchasing::orders))
        .route("/purchase-orders/{id}", get(purchasing::order))
        .route("/purchase-orders/{id}/submit", post(purchasing::submit))
        .route("/purchase-orders/{id}/receive", post(purchasing::receive))
        .route("/users", get(users::list).post(users::invite))
        .route("/users/{id}/role", post(users::change_role))
        .route("/users/{id}/locations", post(users::change_locations))
        .route("/users/{id}/deactivate", post(users::deactivate))
        .route("/operator", get(operator::overview))
        .route("/operator/login", get(operator::login_page).post(operator::login))
        .route("/operator/logout", post(operator::logout))
        .route("/operator/tenants/{tenant}", get(operator::tenant))
        .route(
            "/operator/tenants/{tenant}/parked/{sequence}/redrive",
            post(operator::redrive),
        )
        .route("/static/app.css", get(assets::css))
        .route("/static/app.js", get(assets::js))
        .route("/health", get(|| async { "ok" }))
}
