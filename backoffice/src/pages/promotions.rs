//! Promotions (managers and admins): every promotion with its rule, window, locations and
//! status; a form creating the simplest kinds (mix-and-match over SKUs and categories, and
//! quantity breaks on one SKU) with a window and locations; and ending one early, with the
//! version the list was drawn from as `If-Match` (a conflict shows the newer values).
//!
//! The window is typed as local wall-clock times in the zone of the first location chosen
//! (of the first location when it applies everywhere); the list shows it in that zone too.
//! Amounts are in the promotion's currency (`crate::money`).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};
use reqwest::Method;
use serde::Deserialize;

use crate::api::views::{Items, Location};
use crate::error::PageError;
use crate::extract::{CheckedForm, SignedIn};
use crate::money;
use crate::pages::form::{self, After, manager};
use crate::pages::layout::{self, Section, csrf_field, notice};
use crate::pages::sales::valid_id;
use crate::role::Role;
use crate::state::AppState;

/// The products a promotion counts.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProductSet {
    /// SKUs.
    #[serde(default)]
    pub skus: Vec<String>,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<String>,
}

/// What a mix-and-match group gets.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reward {
    /// Basis points off.
    PercentOff {
        /// 1000 = 10 %.
        basis_points: i64,
    },
    /// An amount off each group.
    AmountOff {
        /// Minor units.
        amount_minor: i64,
    },
    /// A price per group.
    FixedPrice {
        /// Minor units.
        price_minor: i64,
    },
    /// A reward this page does not know yet.
    #[serde(other)]
    Other,
}

/// One quantity break.
#[derive(Debug, Clone, Deserialize)]
pub struct Break {
    /// From this many items.
    pub min_quantity: i64,
    /// Each item's price, minor units.
    pub unit_price_minor: i64,
}

/// What a promotion does (docs/promotions.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// N items of the set form a group that gets the reward.
    MixAndMatch {
        /// The set.
        products: ProductSet,
        /// Items per group.
        quantity: i64,
        /// What a group gets.
        reward: Reward,
    },
    /// The price per item falls with the quantity.
    QuantityBreaks {
        /// The product.
        sku: String,
        /// The breaks.
        breaks: Vec<Break>,
    },
    /// Buy X, get Y at a discount.
    BuyXGetY {
        /// The set.
        products: ProductSet,
        /// Paid in full.
        buy: i64,
        /// Discounted.
        get: i64,
        /// Discount on those, basis points.
        #[serde(default)]
        get_basis_points: i64,
    },
    /// A rule this page does not know yet.
    #[serde(other)]
    Other,
}

/// `GET /v1/promotions` items.
#[derive(Debug, Clone, Deserialize)]
pub struct Promotion {
    /// Its id.
    pub id: String,
    /// `active` or `ended`.
    pub status: String,
    /// Name.
    pub name: String,
    /// Currency of its amounts.
    pub currency: String,
    /// What it does.
    pub rule: Rule,
    /// From when.
    pub starts_at: DateTime<Utc>,
    /// Until when (open-ended when absent).
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// Where (empty: everywhere).
    #[serde(default)]
    pub locations: Vec<String>,
    /// Whether it stacks.
    #[serde(default)]
    pub stackable: bool,
    /// When it was ended early.
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    /// Why.
    #[serde(default)]
    pub ended_reason: Option<String>,
    /// The `If-Match` of changes.
    pub version: i64,
}

fn percent(basis_points: i64) -> String {
    let text = format!("{}.{:02}", basis_points / 100, basis_points % 100);
    format!("{} %", text.trim_end_matches('0').trim_end_matches('.'))
}

fn set_text(set: &ProductSet) -> String {
    let mut parts: Vec<String> = set.skus.clone();
    parts.extend(set.categories.iter().map(|c| format!("category {c}")));
    parts.join(", ")
}

/// The rule in words.
fn describe(rule: &Rule, currency: &str) -> String {
    match rule {
        Rule::MixAndMatch {
            products,
            quantity,
            reward,
        } => {
            let reward = match reward {
                Reward::PercentOff { basis_points } => format!("{} off", percent(*basis_points)),
                Reward::AmountOff { amount_minor } => format!("{} off", money::format(*amount_minor, currency)),
                Reward::FixedPrice { price_minor } => format!("for {}", money::format(*price_minor, currency)),
                Reward::Other => "a reward".to_owned(),
            };
            format!("any {quantity} of {} {reward}", set_text(products))
        }
        Rule::QuantityBreaks { sku, breaks } => {
            let steps: Vec<String> = breaks
                .iter()
                .map(|b| format!("{}+ at {}", b.min_quantity, money::format(b.unit_price_minor, currency)))
                .collect();
            format!("{sku}: {}", steps.join(", "))
        }
        Rule::BuyXGetY {
            products,
            buy,
            get,
            get_basis_points,
        } => format!(
            "buy {buy} get {get} of {} at {} off",
            set_text(products),
            percent(*get_basis_points)
        ),
        Rule::Other => "(another kind of rule)".to_owned(),
    }
}

/// The zone a promotion's window is typed and shown in.
fn zone_of(locations: &[Location], chosen: &[String]) -> Tz {
    chosen
        .first()
        .and_then(|id| locations.iter().find(|l| &l.id == id))
        .or_else(|| locations.first())
        .and_then(|l| l.time_zone.parse().ok())
        .unwrap_or(Tz::UTC)
}

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// The create form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    promotion_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    currency: String,
    /// `mix_and_match` or `quantity_breaks`.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    skus: String,
    #[serde(default)]
    categories: String,
    #[serde(default)]
    quantity: String,
    /// `percent_off`, `amount_off` or `fixed_price`.
    #[serde(default)]
    reward: String,
    #[serde(default)]
    reward_value: String,
    #[serde(default)]
    sku: String,
    /// `6 @ 9.99` per line (or separated by `;`).
    #[serde(default)]
    breaks: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default)]
    stackable: String,
    /// The location checkboxes (`at_<id>`), with the other fields.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn instant(text: &str, tz: Tz, label: &str) -> Result<Option<DateTime<Utc>>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .map_err(|_| format!("{label}: '{text}' is not a date and time like 2026-12-01T09:00"))?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|at| Some(at.with_timezone(&Utc)))
        .ok_or_else(|| format!("{label}: {text} does not exist in {tz} (the clocks skip it)"))
}

fn whole(text: &str, label: &str) -> Result<i64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{label}: '{}' is not a whole number", text.trim()))
}

impl CreateForm {
    fn chosen(&self) -> Vec<String> {
        self.rest
            .keys()
            .filter_map(|k| k.strip_prefix("at_"))
            .filter(|id| valid_id(id))
            .map(str::to_owned)
            .collect()
    }

    /// The API's `rule`.
    fn rule(&self) -> Result<serde_json::Value, String> {
        let currency = self.currency.as_str();
        match self.kind.as_str() {
            "quantity_breaks" => {
                let mut breaks = Vec::new();
                for step in self.breaks.split(['\n', ';']).map(str::trim).filter(|s| !s.is_empty()) {
                    let (quantity, price) = step
                        .split_once(['@', ':'])
                        .ok_or_else(|| format!("Breaks: '{step}' is not like 6 @ 9.99"))?;
                    let min_quantity = whole(quantity, "Breaks")?;
                    let unit_price_minor = money::parse(price, currency).map_err(|m| format!("Breaks: {m}"))?;
                    breaks
                        .push(serde_json::json!({"min_quantity": min_quantity, "unit_price_minor": unit_price_minor}));
                }
                if breaks.is_empty() {
                    return Err("Breaks: give at least one, like 6 @ 9.99".to_owned());
                }
                Ok(serde_json::json!({"kind": "quantity_breaks", "sku": self.sku.trim(), "breaks": breaks}))
            }
            "mix_and_match" => {
                let reward = match self.reward.as_str() {
                    "percent_off" => {
                        let basis_points = money::parse(&self.reward_value, "USD").map_err(|_| {
                            format!(
                                "Reward: '{}' is not a percentage like 10 or 12.5",
                                self.reward_value.trim()
                            )
                        })?;
                        serde_json::json!({"kind": "percent_off", "basis_points": basis_points})
                    }
                    "amount_off" => {
                        let amount = money::parse(&self.reward_value, currency).map_err(|m| format!("Reward: {m}"))?;
                        serde_json::json!({"kind": "amount_off", "amount_minor": amount})
                    }
                    "fixed_price" => {
                        let price = money::parse(&self.reward_value, currency).map_err(|m| format!("Reward: {m}"))?;
                        serde_json::json!({"kind": "fixed_price", "price_minor": price})
                    }
                    other => return Err(format!("Reward: '{other}' is not one this form knows")),
                };
                Ok(serde_json::json!({"kind": "mix_and_match",
                    "products": {"skus": words(&self.skus), "categories": words(&self.categories)},
                    "quantity": whole(&self.quantity, "Items per group")?, "reward": reward}))
            }
            other => Err(format!("Kind: '{other}' is not one this form knows")),
        }
    }

    /// The API's create body.
    fn to_api(&self, tz: Tz) -> Result<serde_json::Value, String> {
        let starts_at = instant(&self.starts_at, tz, "Starts")?.ok_or("Starts: give a date and time")?;
        let ends_at = instant(&self.ends_at, tz, "Ends")?;
        Ok(serde_json::json!({
            "promotion_id": self.promotion_id.trim(),
            "details": {
                "name": self.name.trim(),
                "currency": self.currency,
                "rule": self.rule()?,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "locations": self.chosen(),
                "stackable": !self.stackable.is_empty(),
            }
        }))
    }
}

fn create_form(who: &SignedIn, locations: &[Location], f: &CreateForm) -> Markup {
    let mut currencies: Vec<&str> = locations.iter().map(|l| l.currency.as_str()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    let chosen = f.chosen();
    let kind = if f.kind.is_empty() {
        "mix_and_match"
    } else {
        f.kind.as_str()
    };
    html! {
        h2 { "Create a promotion" }
        form method="post" action="/promotions" id="create-promotion" {
            (csrf_field(&who.csrf))
            label for="promotion_id" { "Id (letters, digits, - and _)" } input id="promotion_id" name="promotion_id" required maxlength="64" value=(f.promotion_id);
            label for="name" { "Name (on receipts and reports)" } input id="name" name="name" required value=(f.name);
            label for="currency" { "Currency" }
            select id="currency" name="currency" {
                @for c in &currencies { option value=(c) selected[*c == f.currency] { (c) } }
            }
            fieldset {
                legend { "Rule" }
                label class="check" { input type="radio" name="kind" value="mix_and_match" checked[kind == "mix_and_match"]; " Mix and match: any N items of a set get a reward" }
                label for="skus" { "SKUs in the set (separated by commas)" } input id="skus" name="skus" value=(f.skus);
                label for="categories" { "Categories in the set" } input id="categories" name="categories" value=(f.categories);
                label for="quantity" { "Items per group" } input id="quantity" name="quantity" inputmode="numeric" value=(f.quantity);
                label for="reward" { "Each group gets" }
                select id="reward" name="reward" {
                    option value="percent_off" selected[f.reward == "percent_off"] { "a percentage off" }
                    option value="amount_off" selected[f.reward == "amount_off"] { "an amount off" }
                    option value="fixed_price" selected[f.reward == "fixed_price"] { "a fixed price" }
                }
                label for="reward_value" { "Percentage or amount" } input id="reward_value" name="reward_value" inputmode="decimal" value=(f.reward_value);
                label class="check" { input type="radio" name="kind" value="quantity_breaks" checked[kind == "quantity_breaks"]; " Quantity breaks: the price per item falls with the quantity" }
                label for="sku" { "SKU" } input id="sku" name="sku" value=(f.sku);
                label for="breaks" { "Breaks, one a line: quantity @ price per item (e.g. 6 @ 9.99)" }
                textarea id="breaks" name="breaks" rows="3" { (f.breaks) }
            }
            fieldset {
                legend { "When and where" }
                label for="starts_at" { "Starts (local time of the first location chosen)" } input id="starts_at" name="starts_at" type="datetime-local" required value=(f.starts_at);
                label for="ends_at" { "Ends (empty: open-ended)" } input id="ends_at" name="ends_at" type="datetime-local" value=(f.ends_at);
                p class="muted" { "Locations (none chosen: every location selling in the currency)" }
                @for l in locations.iter().filter(|l| l.status == "open") {
                    label class="check" { input type="checkbox" name=(format!("at_{}", l.id)) value="on" checked[chosen.contains(&l.id)]; " " (l.name) " (" (l.id) ", " (l.time_zone) ")" }
                }
                label class="check" { input type="checkbox" name="stackable" value="on" checked[!f.stackable.is_empty()]; " Stacks with other promotions" }
            }
            p { button type="submit" id="create" { "Create" } }
        }
    }
}

fn view(
    who: &SignedIn,
    promotions: &[Promotion],
    locations: &[Location],
    top: Option<Markup>,
    form: &CreateForm,
) -> Html<String> {
    let body = html! {
        @if let Some(top) = top { (top) }
        @if promotions.is_empty() {
            p class="muted" id="no-promotions" { "No promotion yet." }
        } @else {
            table id="promotions" {
                thead { tr { th { "Id" } th { "Name" } th { "Rule" } th { "From" } th { "Until" } th { "Where" } th { "Stacks" } th { "Status" } th { "" } } }
                tbody {
                    @for p in promotions {
                        @let tz = zone_of(locations, &p.locations);
                        tr data-promotion=(p.id) {
                            td { (p.id) } td { (p.name) } td { (describe(&p.rule, &p.currency)) }
                            td { (local(p.starts_at, tz)) }
                            td { (p.ends_at.map(|at| local(at, tz)).unwrap_or_else(|| "open-ended".to_owned())) }
                            td { @if p.locations.is_empty() { "every location" } @else { (p.locations.join(", ")) } }
                            td { (if p.stackable { "yes" } else { "no" }) }
                            td {
                                span class="status" { (p.status) }
                                @if let Some(at) = p.ended_at { " " (local(at, tz)) }
                                @if let Some(reason) = &p.ended_reason { " (" (reason) ")" }
                            }
                            td {
                                @if p.status == "active" {
                                    form method="post" action=(format!("/promotions/{}/end", p.id)) class="inline end-promotion" {
                                        (csrf_field(&who.csrf))
                                        input type="hidden" name="version" value=(p.version);
                                        label for=(format!("reason-{}", p.id)) class="sr-only" { "Why end it" }
                                        input id=(format!("reason-{}", p.id)) name="reason" placeholder="why (optional)";
                                        button type="submit" class="danger" { "End now" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (create_form(who, locations, form))
    };
    layout::page(who, Section::Promotions, "Promotions", body)
}

async fn read(
    state: &AppState,
    who: &SignedIn,
    seq: Option<u64>,
) -> Result<(Vec<Promotion>, Vec<Location>), PageError> {
    let seq = seq.map(|s| s.to_string());
    let mut query = Vec::new();
    if let Some(seq) = seq.as_deref() {
        query.push(("min_sequence", seq));
    }
    let (promotions, locations) = futures::try_join!(
        state.api.get::<Items<Promotion>>(who.token(), "/v1/promotions", &query),
        state.api.get::<Items<Location>>(who.token(), "/v1/locations", &[]),
    )?;
    Ok((promotions.items, locations.items))
}

/// `GET /promotions` (managers and admins).
pub async fn list(
    State(state): State<AppState>,
    who: SignedIn,
    Query(after): Query<After>,
) -> Result<Html<String>, PageError> {
    who.require(Role::Manager)?;
    let (promotions, locations) = read(&state, &who, after.seq).await?;
    let top = after.notice(&[
        ("created", "The promotion is created."),
        ("ended", "The promotion is ended."),
    ]);
    Ok(view(&who, &promotions, &locations, top, &CreateForm::default()))
}

/// `POST /promotions`: creates one (managers and admins).
pub async fn create(
    State(state): State<AppState>,
    CheckedForm { handle, form }: CheckedForm<CreateForm>,
) -> Result<Response, PageError> {
    let who = manager(&state, &handle).await?;
    let (promotions, locations) = read(&state, &who, None).await?;
    let refused = |message: String| {
        Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            view(&who, &promotions, &locations, Some(notice("error", &message)), &form),
        )
            .into_response())
    };
    if !valid_id(form.promotion_id.trim()) {
        return refused("The id has letters, digits, - and _ only (at most 64).".to_owned());
    }
    let body = match form.to_api(zone_of(&locations, &form.chosen())) {
        Ok(body) => body,
        Err(message) => return refused(message),
    };
    match state
        .api
        .send(Method::POST, "/v1/promotions", Some(who.token()), &body, &[], None)
        .await
    {
        Ok(written) => {
            let seq = form::written_seq(&written);
            Ok(Redirect::to(&format!("/promotions?seq={seq}&done=created")).into_response())
        }
        Err(err) => match form::fixable(&err) {
            Some(message) => refused(message),
            None => Err(err.into()),
        },
    }
}

/// The end form.
#[derive(Debug, Deserialize)]
pub struct EndForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    reason: String,
}

/// `POST /promotions/{id}/end` (managers and admins), with `If-Match`.
pub async fn end(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { handle, form }: CheckedForm<EndForm>,
) -> Result<Response, PageError> {
    let who = manager(&state, &handle).await?;
    if !valid_id(&id) {
        return Err(PageError::NotFound);
    }
    let if_match = form::if_match(&form.version)?;
    let version = form.version.trim();
    let reason = form.reason.trim();
    let body = if reason.is_empty() {
        serde_json::json!({})
    } else {
        serde_json::json!({"reason": reason})
    };
    match state
        .api
        .send(
            Method::POST,
            &format!("/v1/promotions/{id}/end"),
            Some(who.token()),
            &body,
            &if_match,
            None,
        )
        .await
    {
        Ok(written) => {
            let seq = form::written_seq(&written);
            Ok(Redirect::to(&format!("/promotions?seq={seq}&done=ended")).into_response())
        }
        Err(err) if form::version_conflict(&err).is_some() => {
            let seq = form::version_conflict(&err).flatten();
            let (promotions, locations) = read(&state, &who, seq).await?;
            let newer = promotions.iter().find(|p| p.id == id);
            let top = html! {
                section class="conflict" id="conflict" role="alert" {
                    h2 { "Someone changed this promotion while you were looking" }
                    p { "You tried to end " (id) " as of version " (version) ", but it is now at version "
                        span id="current-version" { (newer.map(|p| p.version).unwrap_or_default()) } ". Nothing was ended. Its newer values:" }
                    @if let Some(p) = newer {
                        dl {
                            dt { "Name" } dd id="newer-name" { (p.name) }
                            dt { "Rule" } dd id="newer-rule" { (describe(&p.rule, &p.currency)) }
                            dt { "Status" } dd id="newer-status" { (p.status) }
                        }
                    }
                    p { "End it again from the list below if it is still needed." }
                }
            };
            Ok((
                StatusCode::CONFLICT,
                view(&who, &promotions, &locations, Some(top), &CreateForm::default()),
            )
                .into_response())
        }
        Err(err) => match form::fixable(&err) {
            Some(message) => {
                let (promotions, locations) = read(&state, &who, None).await?;
                Ok((
                    StatusCode::CONFLICT,
                    view(
                        &who,
                        &promotions,
                        &locations,
                        Some(notice("error", &message)),
                        &CreateForm::default(),
                    ),
                )
                    .into_response())
            }
            None => Err(err.into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_as_words_with_the_currencys_amounts() {
        let mix = Rule::MixAndMatch {
            products: ProductSet {
                skus: vec!["RIOJA".into()],
                categories: vec!["wine".into()],
            },
            quantity: 12,
            reward: Reward::PercentOff { basis_points: 1050 },
        };
        assert_eq!(describe(&mix, "USD"), "any 12 of RIOJA, category wine 10.5 % off");
        let breaks = Rule::QuantityBreaks {
            sku: "MALBEC".into(),
            breaks: vec![Break {
                min_quantity: 4,
                unit_price_minor: 800,
            }],
        };
        assert_eq!(describe(&breaks, "USD"), "MALBEC: 4+ at $8.00");
        assert_eq!(percent(1000), "10 %");
    }

    #[test]
    fn a_window_is_read_in_the_zone_of_the_first_location() {
        let tz: Tz = "America/New_York".parse().unwrap_or(Tz::UTC);
        let at = instant("2026-12-01T09:00", tz, "Starts").ok().flatten();
        assert_eq!(at.map(|a| a.to_rfc3339()), Some("2026-12-01T14:00:00+00:00".to_owned()));
        assert!(instant("tomorrow", tz, "Starts").is_err());
        assert_eq!(instant(" ", tz, "Ends"), Ok(None));
    }
}
