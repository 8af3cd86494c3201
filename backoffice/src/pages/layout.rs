//! The frame of every page: head (our stylesheet and script only), navigation for the
//! signed-in user's role, the sign-out form, and the error page.

use axum::http::StatusCode;
use axum::response::Html;
use maud::{DOCTYPE, Markup, html};

use crate::extract::SignedIn;
use crate::role::Role;

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `/dashboard`.
    Dashboard,
    /// `/reports/z`.
    Report,
    /// `/sales`.
    Sales,
    /// `/stock`.
    Stock,
    /// `/products`.
    Products,
    /// `/locations`.
    Locations,
    /// `/promotions`.
    Promotions,
    /// `/drawers` (and a session's `/drawers/{id}` is under the Z report).
    Drawers,
    /// `/taxes`.
    Taxes,
    /// `/users`.
    Users,
    /// Sign-in, signup, verification.
    Public,
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · tillstream back office" }
            link rel="stylesheet" href="/static/app.css";
            script src="/static/app.js" defer {}
        }
    }
}

/// A hidden field with the session's CSRF token: every form has one.
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// A page for the signed-in `who`, in `section`.
pub fn page(who: &SignedIn, section: Section, title: &str, body: Markup) -> Html<String> {
    let links: [(Section, &str, &str, Role); 10] = [
        (Section::Dashboard, "/dashboard", "Dashboard", Role::Manager),
        (Section::Report, "/reports/z", "Z report", Role::Manager),
        (Section::Sales, "/sales", "Sales", Role::Manager),
        (Section::Stock, "/stock", "Stock", Role::Cashier),
        (Section::Products, "/products", "Products", Role::Cashier),
        (Section::Locations, "/locations", "Locations", Role::Cashier),
        (Section::Promotions, "/promotions", "Promotions", Role::Manager),
        (Section::Drawers, "/drawers", "Drawers", Role::Manager),
        (Section::Taxes, "/taxes", "Taxes", Role::Cashier),
        (Section::Users, "/users", "Users", Role::Admin),
    ];
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                (head(title))
                body {
                    a class="skip" href="#main" { "Skip to content" }
                    header class="top" {
                        nav aria-label="Main" {
                            span class="brand" { "tillstream" }
                            ul {
                                @for (s, href, label, needed) in links {
                                    @if who.is(needed) {
                                        li {
                                            a href=(href) aria-current=[(s == section).then_some("page")] { (label) }
                                        }
                                    }
                                }
                            }
                        }
                        div class="who" {
                            span id="who" data-role=(who.user.role) { (who.user.email) " · " (who.user.role) }
                            form method="post" action="/logout" class="inline" {
                                (csrf_field(&who.csrf))
                                button type="submit" id="sign-out" { "Sign out" }
                            }
                        }
                    }
                    main id="main" {
                        h1 { (title) }
                        (body)
                    }
                }
            }
        }
        .into_string(),
    )
}

/// A page for someone not signed in.
pub fn public(title: &str, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                (head(title))
                body class="public" {
                    main id="main" class="narrow" {
                        p class="brand" { "tillstream back office" }
                        h1 { (title) }
                        (body)
                    }
                }
            }
        }
        .into_string(),
    )
}

/// The readable page of an error.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Html<String> {
    public(
        title,
        html! {
            p class="error" role="alert" data-status=(status.as_u16()) { (message) }
            p { a href="/dashboard" { "Back to the dashboard" } " · " a href="/login" { "Sign in" } }
        },
    )
}

/// A notice (`kind`: `ok` or `error`) at the top of a page's body.
pub fn notice(kind: &str, message: &str) -> Markup {
    html! { p class=(format!("notice {kind}")) role=(if kind == "error" { "alert" } else { "status" }) { (message) } }
}

/// A page of the operator console (no tenant navigation).
pub fn operator_page(csrf: &str, title: &str, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                (head(title))
                body {
                    a class="skip" href="#main" { "Skip to content" }
                    header class="top" {
                        nav aria-label="Operator" {
                            span class="brand" { "tillstream operator console" }
                            ul { li { a href="/operator" { "Partitions" } } }
                        }
                        div class="who" {
                            span id="who" { "operator" }
                            form method="post" action="/operator/logout" class="inline" {
                                (csrf_field(csrf))
                                button type="submit" id="sign-out" { "Sign out" }
                            }
                        }
                    }
                    main id="main" {
                        h1 { (title) }
                        (body)
                    }
                }
            }
        }
        .into_string(),
    )
}
