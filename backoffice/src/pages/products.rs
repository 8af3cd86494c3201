//! The catalog: search, register, edit details and change the price. Changes carry the
//! version the form was filled from as `If-Match`; when someone changed the product in
//! between, the API answers 409 and the page shows what was tried beside the newer values,
//! with the forms filled from the newer version.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use reqwest::Method;
use serde::Deserialize;

use crate::api::ApiError;
use crate::api::views::{Items, Location, Page, Product};
use crate::error::PageError;
use crate::extract::{CheckedForm, SignedIn};
use crate::money;
use crate::pages::form::{self, After, manager};
use crate::pages::layout::{self, Section, csrf_field, notice};
use crate::pages::sales::valid_id;
use crate::role::Role;
use crate::state::AppState;

/// `GET /products` filters.
#[derive(Debug, Default, Deserialize)]
pub struct ProductFilter {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

/// `GET /products`.
pub async fn list(
    State(state): State<AppState>,
    who: SignedIn,
    Query(filter): Query<ProductFilter>,
) -> Result<Html<String>, PageError> {
    let q = filter.q.as_deref().map(str::trim).unwrap_or("");
    let mut query = vec![("limit", "100")];
    if !q.is_empty() {
        query.push(("q", q));
    }
    if let Some(cursor) = filter.cursor.as_deref().filter(|c| !c.is_empty()) {
        query.push(("cursor", cursor));
    }
    let page: Page<Product> = state.api.get(who.token(), "/v1/products", &query).await?;
    let next = page.next_cursor.as_ref().map(|cursor| {
        format!(
            "/products?{}",
            serde_urlencoded::to_string([("q", q), ("cursor", cursor.as_str())]).unwrap_or_default()
        )
    });
    let body = html! {
        form method="get" action="/products" class="filters" role="search" {
            div { label for="q" { "Name contains" } input id="q" name="q" value=(q); }
            div { button type="submit" class="secondary" { "Search" } }
            @if who.is(Role::Manager) { div { a class="button" href="/products/new" id="new-product" { "Register a product" } } }
        }
        @if page.items.is_empty() {
            p class="muted" id="no-products" { "No products match." }
        } @else {
            table id="products" {
                thead { tr { th { "SKU" } th { "Name" } th { "Category" } th class="num" { "Price" } th class="num" { "On hand" } th { "Status" } } }
                tbody {
                    @for p in &page.items {
                        tr data-sku=(p.id) {
                            td { a href=(format!("/products/{}", p.id)) { (p.id) } }
                            td { (p.name.as_deref().unwrap_or("")) }
                            td { (p.category.as_deref().unwrap_or("")) }
                            td class="num" { (p.price.as_ref().map(|m| money::format(m.amount_minor, &m.currency)).unwrap_or_default()) }
                            td class="num" { (p.on_hand_total) }
                            td { span class="status" { (p.status) } }
                        }
                    }
                }
            }
        }
        @if let Some(next) = next { p class="pager" { a href=(next) rel="next" { "More →" } } }
    };
    Ok(layout::page(&who, Section::Products, "Products", body))
}

/// The details of a product as a form holds them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DetailsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tax_class: String,
    /// Separated by commas or spaces.
    #[serde(default)]
    barcodes: String,
    #[serde(default)]
    minimum_age: String,
    #[serde(default)]
    reorder_point: String,
}

impl DetailsForm {
    fn of(product: &Product) -> Self {
        Self {
            name: product.name.clone().unwrap_or_default(),
            category: product.category.clone().unwrap_or_default(),
            tax_class: product.tax_class.clone().unwrap_or_default(),
            barcodes: product.barcodes.join(", "),
            minimum_age: product.minimum_age.map(|a| a.to_string()).unwrap_or_default(),
            reorder_point: product.reorder_point.map(|p| p.to_string()).unwrap_or_default(),
        }
    }

    /// The API's `details` object.
    fn to_api(&self) -> Result<serde_json::Value, String> {
        let number = |field: &str, text: &str| -> Result<Option<i64>, String> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse()
                .map(Some)
                .map_err(|_| format!("{field}: '{text}' is not a whole number"))
        };
        let barcodes: Vec<&str> = self
            .barcodes
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|b| !b.is_empty())
            .collect();
        Ok(serde_json::json!({
            "name": self.name.trim(),
            "category": self.category.trim(),
            "tax_class": self.tax_class.trim(),
            "barcodes": barcodes,
            "minimum_age": number("Minimum age", &self.minimum_age)?,
            "reorder_point": number("Reorder point", &self.reorder_point)?,
        }))
    }
}

fn details_fields(form: &DetailsForm) -> Markup {
    html! {
        label for="name" { "Name" } input id="name" name="name" required value=(form.name);
        label for="category" { "Category" } input id="category" name="category" required value=(form.category);
        label for="tax_class" { "Tax class" } input id="tax_class" name="tax_class" required value=(form.tax_class);
        label for="barcodes" { "Barcodes (8 to 14 digits, separated by commas)" } input id="barcodes" name="barcodes" value=(form.barcodes);
        label for="minimum_age" { "Minimum age to buy" } input id="minimum_age" name="minimum_age" inputmode="numeric" value=(form.minimum_age);
        label for="reorder_point" { "Reorder point (units)" } input id="reorder_point" name="reorder_point" inputmode="numeric" value=(form.reorder_point);
    }
}

/// The registration form.
#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    sku: String,
    #[serde(flatten)]
    details: DetailsForm,
    #[serde(default)]
    price: String,
    #[serde(default)]
    currency: String,
}

async fn currencies(state: &AppState, who: &SignedIn) -> Result<Vec<String>, PageError> {
    let locations = state
        .api
        .get::<Items<Location>>(who.token(), "/v1/locations", &[])
        .await?
        .items;
    let mut currencies: Vec<String> = locations.into_iter().map(|l| l.currency).collect();
    currencies.dedup();
    if currencies.is_empty() {
        currencies.push("USD".to_owned());
    }
    Ok(currencies)
}

fn register_view(who: &SignedIn, form: &RegisterForm, currencies: &[String], message: Option<&str>) -> Html<String> {
    let body = html! {
        @if let Some(message) = message { (notice("error", message)) }
        form method="post" action="/products" id="register-form" {
            (csrf_field(&who.csrf))
            label for="sku" { "SKU" } input id="sku" name="sku" required maxlength="64" value=(form.sku);
            (details_fields(&form.details))
            label for="price" { "Shelf price" } input id="price" name="price" required inputmode="decimal" value=(form.price);
            label for="currency" { "Currency" }
            select id="currency" name="currency" {
                @for c in currencies { option value=(c) selected[*c == form.currency] { (c) } }
            }
            p { button type="submit" { "Register" } }
        }
    };
    layout::page(who, Section::Products, "Register a product", body)
}

/// `GET /products/new`.
pub async fn new_page(State(state): State<AppState>, who: SignedIn) -> Result<Html<String>, PageError> {
    who.require(Role::Manager)?;
    let currencies = currencies(&state, &who).await?;
    Ok(register_view(&who, &RegisterForm::default(), &currencies, None))
}

/// A refusal the user can fix in the form (422 and the like), as its message.
fn fixable(err: &ApiError) -> Option<String> {
    form::refusal(err, |status| {
        status.is_client_error()
            && status != StatusCode::UNAUTHORIZED
            && status != StatusCode::FORBIDDEN
            && status != StatusCode::NOT_FOUND
    })
}

/// `POST /products`.
pub async fn register(
    State(state): State<AppState>,
    CheckedForm { handle, form }: CheckedForm<RegisterForm>,
) -> Result<Response, PageError> {
    let who = manager(&state, &handle).await?;
    let currencies = currencies(&state, &who).await?;
    let invalid = |message: String| {
        Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            register_view(&who, &form, &currencies, Some(&message)),
        )
            .into_response())
    };
    let sku = form.sku.trim();
    if !valid_id(sku) {
        return invalid("The SKU has letters, digits, - and _ only (at most 64).".to_owned());
    }
    let details = match form.details.to_api() {
        Ok(details) => details,
        Err(message) => return invalid(message),
    };
    let amount = match money::parse(&form.price, &form.currency) {
        Ok(amount) => amount,
        Err(message) => return invalid(format!("Shelf price: {message}")),
    };
    let body = serde_json::json!({"sku": sku, "details": details, "price": {"amount_minor": amount, "currency": form.currency}});
    match state
        .api
        .send(Method::POST, "/v1/products", Some(who.token()), &body, &[], None)
        .await
    {
        Ok(written) => {
            let seq = form::written_seq(&written);
            Ok(Redirect::to(&format!("/products/{sku}?seq={seq}&done=registered")).into_response())
        }
        Err(err) => match fixable(&err) {
            Some(message) => invalid(message),
            None => Err(err.into()),
        },
    }
}

async fn product(state: &AppState, who: &SignedIn, sku: &str, seq: Option<u64>) -> Result<Product, PageError> {
    let seq = seq.map(|s| s.to_string());
    let mut query = Vec::new();
    if let Some(seq) = seq.as_deref() {
        query.push(("min_sequence", seq));
    }
    Ok(state
        .api
        .get(who.token(), &format!("/v1/products/{sku}"), &query)
        .await?)
}

/// A catalog change as the API takes it, with what to show if it conflicts.
struct Change {
    /// The API path.
    path: String,
    /// The JSON body.
    body: serde_json::Value,
    /// The version the form was filled from.
    version: String,
    /// What the user tried, for the conflict message.
    conflict: Conflict,
    /// The `done=` of the redirect.
    done: &'static str,
}

/// What the user tried when the product had changed under them.
struct Conflict {
    tried_details: Option<DetailsForm>,
    tried_price: Option<String>,
    their_version: String,
}

fn edit_view(who: &SignedIn, product: &Product, top: Option<Markup>, conflict: Option<&Conflict>) -> Html<String> {
    let current = DetailsForm::of(product);
    let currency = product
        .price
        .as_ref()
        .map(|p| p.currency.clone())
        .unwrap_or_else(|| "USD".to_owned());
    let price_now = product
        .price
        .as_ref()
        .map(|p| money::format(p.amount_minor, &p.currency))
        .unwrap_or_default();
    let price_field = product
        .price
        .as_ref()
        .map(|p| {
            money::format(p.amount_minor, "XXX")
                .trim_start_matches("XXX ")
                .to_owned()
        })
        .unwrap_or_default();
    let manager = who.is(Role::Manager);
    let body = html! {
        @if let Some(top) = top { (top) }
        @if let Some(conflict) = conflict {
            section class="conflict" id="conflict" role="alert" {
                h2 { "Someone changed this product while you were editing" }
                p { "Your change was made to version " (conflict.their_version) ", but the product is now at version " span id="current-version" { (product.version) } ". Nothing of yours was saved. The newer values are below and in the forms; make your change again if it is still needed." }
                table {
                    thead { tr { th { "" } th { "You tried" } th { "Now" } } }
                    tbody {
                        @if let Some(tried) = &conflict.tried_details {
                            tr { th { "Name" } td { (tried.name) } td id="newer-name" { (current.name) } }
                            tr { th { "Category" } td { (tried.category) } td id="newer-category" { (current.category) } }
                            tr { th { "Tax class" } td { (tried.tax_class) } td { (current.tax_class) } }
                            tr { th { "Barcodes" } td { (tried.barcodes) } td { (current.barcodes) } }
                            tr { th { "Minimum age" } td { (tried.minimum_age) } td { (current.minimum_age) } }
                            tr { th { "Reorder point" } td { (tried.reorder_point) } td { (current.reorder_point) } }
                        }
                        tr { th { "Price" } td { (conflict.tried_price.as_deref().unwrap_or("(unchanged)")) } td id="newer-price" { (price_now) } }
                    }
                }
            }
        }
        dl class="cards" {
            div class="card" { dt class="label" { "Status" } dd class="value" id="product-status" { (product.status) } }
            div class="card" { dt class="label" { "Price" } dd class="value" id="product-price" { (price_now) } }
            div class="card" { dt class="label" { "On hand" } dd class="value" { (product.on_hand_total) } }
            div class="card" { dt class="label" { "Version" } dd class="value" id="product-version" { (product.version) } }
        }
        @if !product.stock.is_empty() {
            p { "Per location: " @for (location, units) in &product.stock { (location) " " (units) "; " } }
        }
        @if manager { p { a href=(format!("/stock/{}", product.id)) { "Stock movements" } } }
        @if manager && product.status != "unregistered" {
            h2 { "Details" }
            form method="post" action=(format!("/products/{}", product.id)) id="details-form" {
                (csrf_field(&who.csrf))
                input type="hidden" name="version" value=(product.version);
                (details_fields(&current))
                p { button type="submit" id="save-details" { "Save details" } }
            }
            h2 { "Price" }
            form method="post" action=(format!("/products/{}/price", product.id)) id="price-form" {
                (csrf_field(&who.csrf))
                input type="hidden" name="version" value=(product.version);
                label for="new-price" { "New shelf price (" (currency) ")" }
                input id="new-price" name="price" required inputmode="decimal" value=(price_field);
                p { button type="submit" id="save-price" { "Change price" } }
            }
        } @else {
            dl {
                dt { "Name" } dd { (current.name) }
                dt { "Category" } dd { (current.category) }
                dt { "Tax class" } dd { (current.tax_class) }
                dt { "Barcodes" } dd { (current.barcodes) }
            }
        }
    };
    let title = format!("{} · {}", product.id, product.name.as_deref().unwrap_or("unregistered"));
    layout::page(who, Section::Products, &title, body)
}

/// `GET /products/{sku}`.
pub async fn edit_page(
    State(state): State<AppState>,
    who: SignedIn,
    Path(sku): Path<String>,
    Query(after): Query<After>,
) -> Result<Html<String>, PageError> {
    if !valid_id(&sku) {
        return Err(PageError::NotFound);
    }
    let product = product(&state, &who, &sku, after.seq).await?;
    let top = after.notice(&[
        ("registered", "The product is registered."),
        ("saved", "The details are saved."),
        ("priced", "The price is changed."),
    ]);
    Ok(edit_view(&who, &product, top, None))
}

/// The details form with its version.
#[derive(Debug, Deserialize)]
pub struct UpdateForm {
    version: String,
    #[serde(flatten)]
    details: DetailsForm,
}

/// The price form with its version.
#[derive(Debug, Deserialize)]
pub struct PriceForm {
    version: String,
    price: String,
}

/// Sends a catalog change with `If-Match: version`; redirects to the product when
/// recorded, re-shows the page with the conflict or the refusal when not.
async fn change(state: &AppState, who: &SignedIn, sku: &str, change: Change) -> Result<Response, PageError> {
    let Change {
        path,
        body,
        version,
        conflict,
        done,
    } = change;
    let if_match = form::if_match(&version)?;
    match state
        .api
        .send(Method::PUT, &path, Some(who.token()), &body, &if_match, None)
        .await
    {
        Ok(written) => {
            let seq = form::written_seq(&written);
            Ok(Redirect::to(&format!("/products/{sku}?seq={seq}&done={done}")).into_response())
        }
        Err(err) => match form::version_conflict(&err) {
            // The current version is the stream sequence of the product's last change: wait
            // for the read model to show it.
            Some(current) => {
                let product = product(state, who, sku, current).await?;
                Ok((StatusCode::CONFLICT, edit_view(who, &product, None, Some(&conflict))).into_response())
            }
            None => match fixable(&err) {
                Some(message) => {
                    let product = product(state, who, sku, None).await?;
                    Ok((
                        StatusCode::UNPROCESSABLE_ENTITY,
                        edit_view(who, &product, Some(notice("error", &message)), None),
                    )
                        .into_response())
                }
                None => Err(err.into()),
            },
        },
    }
}

/// `POST /products/{sku}`: new details.
pub async fn update(
    State(state): State<AppState>,
    Path(sku): Path<String>,
    CheckedForm { handle, form }: CheckedForm<UpdateForm>,
) -> Result<Response, PageError> {
    let who = manager(&state, &handle).await?;
    if !valid_id(&sku) {
        return Err(PageError::NotFound);
    }
    let details = form.details.to_api().map_err(PageError::BadRequest)?;
    let conflict = Conflict {
        tried_details: Some(form.details.clone()),
        tried_price: None,
        their_version: form.version.clone(),
    };
    let path = format!("/v1/products/{sku}");
    let body = serde_json::json!({"details": details});
    let version = form.version;
    change(
        &state,
        &who,
        &sku,
        Change {
            path,
            body,
            version,
            conflict,
            done: "saved",
        },
    )
    .await
}

/// `POST /products/{sku}/price`: a new price, in the product's currency.
pub async fn change_price(
    State(state): State<AppState>,
    Path(sku): Path<String>,
    CheckedForm { handle, form }: CheckedForm<PriceForm>,
) -> Result<Response, PageError> {
    let who = manager(&state, &handle).await?;
    if !valid_id(&sku) {
        return Err(PageError::NotFound);
    }
    let current = product(&state, &who, &sku, None).await?;
    let currency = current.price.map(|p| p.currency).unwrap_or_else(|| "USD".to_owned());
    let amount = money::parse(&form.price, &currency).map_err(PageError::BadRequest)?;
    let conflict = Conflict {
        tried_details: None,
        tried_price: Some(money::format(amount, &currency)),
        their_version: form.version.clone(),
    };
    let path = format!("/v1/products/{sku}/price");
    let body = serde_json::json!({"price": {"amount_minor": amount, "currency": currency}});
    let version = form.version;
    change(
        &state,
        &who,
        &sku,
        Change {
            path,
            body,
            version,
            conflict,
            done: "priced",
        },
    )
    .await
}
