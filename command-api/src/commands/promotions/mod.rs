//! Promotion commands (manager and up): create, update, end a promotion.
//!
//! A promotion is its own aggregate (`promotion.<id>`): a rule (mix-and-match over a
//! product set, quantity breaks on one product, buy X get Y), a time window, the
//! locations it applies at and whether it stacks. Changes carry `If-Match` with the
//! version the manager saw, as location changes do. Quotes and recorded sales apply the
//! promotions of the read model ([`active`]); the engine and its stacking and allocation
//! rules are `pricing::promotion`, described in docs/promotions.md.
//!
//! # Layout
//! - [`create`]: a new promotion, [`CreatePromotion`].
//! - [`update`]: [`UpdatePromotion`], new details.
//! - [`end`]: [`EndPromotion`], it stops applying from then on.
//! - [`state`]: [`PromotionState`], a promotion folded from its history.

pub mod create;
pub mod end;
pub mod state;
pub mod update;

pub use create::CreatePromotion;
pub use end::EndPromotion;
pub use state::PromotionState;
pub use update::UpdatePromotion;

use chrono::{DateTime, Utc};
use events::event::{ProductSet, PromotionDetails, PromotionReward, PromotionRule};
use events::{Currency, LocationId, PromotionId};
use eventstore::{Expected, StoredEvent};
use futures::TryStreamExt;
use mongodb::Database;
use pricing::ActivePromotion;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::TenantContext;
use crate::codes::ErrorCode;
use crate::commands::{PathId, Versioned, fields};
use crate::error::ApiError;

/// Most SKUs or categories in one product set, and most breaks or locations.
pub const MAX_ITEMS: usize = 500;

/// A promotion in the path and the version the change was made against.
pub type PromotionVersion = Versioned<PromotionId>;

impl PathId for PromotionId {
    const PARAM: &'static str = "promotion_id";

    fn from_path(raw: String) -> Result<Self, ApiError> {
        PromotionId::parse(raw).map_err(|err| ApiError::invalid(Self::PARAM, err.to_string()))
    }
}

/// Everything about a promotion but its id, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionDetailsInput {
    /// Name on receipts and reports.
    pub name: String,
    /// ISO 4217 currency of its amounts; it applies only at stores selling in it.
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    /// What it does: `mix_and_match`, `quantity_breaks` or `buy_x_get_y`.
    pub rule: PromotionRule,
    /// From when it applies (sales whose `occurred_at` is at or after it).
    pub starts_at: DateTime<Utc>,
    /// Until when (sales before it); open-ended when absent.
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// The locations it applies at; every location when empty or absent.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub locations: Vec<LocationId>,
    /// Whether it applies on top of another promotion on the same line (default false:
    /// the best single promotion per line wins).
    #[serde(default)]
    pub stackable: bool,
}

/// Checks the details (422 naming the field) and builds them as the events carry them.
pub fn details(input: &PromotionDetailsInput) -> Result<PromotionDetails, ApiError> {
    fields::text("details.name", &input.name)?;
    if let Some(end) = input.ends_at
        && end <= input.starts_at
    {
        return Err(ApiError::invalid("details.ends_at", "must be after starts_at"));
    }
    if input.locations.len() > MAX_ITEMS {
        return Err(ApiError::invalid("details.locations", format!("at most {MAX_ITEMS}")));
    }
    rule("details.rule", &input.rule)?;
    Ok(PromotionDetails {
        name: input.name.clone(),
        currency: input.currency,
        rule: input.rule.clone(),
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        locations: input.locations.clone(),
        stackable: input.stackable,
    })
}

fn products(field: &str, set: &ProductSet) -> Result<(), ApiError> {
    if set.skus.is_empty() && set.categories.is_empty() {
        return Err(ApiError::invalid(field, "name at least one SKU or category"));
    }
    if set.skus.len() > MAX_ITEMS || set.categories.len() > MAX_ITEMS {
        return Err(ApiError::invalid(
            field,
            format!("at most {MAX_ITEMS} SKUs and {MAX_ITEMS} categories"),
        ));
    }
    for (i, category) in set.categories.iter().enumerate() {
        fields::text(&format!("{field}.categories[{i}]"), category)?;
    }
    Ok(())
}

fn basis_points(field: &str, value: u32) -> Result<(), ApiError> {
    if !(1..=10_000).contains(&value) {
        return Err(ApiError::invalid(field, "must be between 1 and 10000 (100 %)"));
    }
    Ok(())
}

fn at_least(field: &str, value: i64, least: i64) -> Result<(), ApiError> {
    if value < least || value > 1_000_000 {
        return Err(ApiError::invalid(field, format!("must be between {least} and 1000000")));
    }
    Ok(())
}

/// Checks a rule; `field` is where it sits in the body.
pub fn rule(field: &str, rule: &PromotionRule) -> Result<(), ApiError> {
    match rule {
        PromotionRule::MixAndMatch {
            products: set,
            quantity,
            reward,
        } => {
            products(&format!("{field}.products"), set)?;
            at_least(&format!("{field}.quantity"), *quantity, 1)?;
            match *reward {
                PromotionReward::PercentOff { basis_points: bp } => {
                    basis_points(&format!("{field}.reward.basis_points"), bp)?
                }
                PromotionReward::AmountOff { amount_minor } => {
                    fields::amount(&format!("{field}.reward.amount_minor"), amount_minor)?;
                    if amount_minor == 0 {
                        return Err(ApiError::invalid(
                            format!("{field}.reward.amount_minor"),
                            "must be positive",
                        ));
                    }
                }
                PromotionReward::FixedPrice { price_minor } => {
                    fields::amount(&format!("{field}.reward.price_minor"), price_minor)?
                }
            }
        }
        PromotionRule::QuantityBreaks { breaks, .. } => {
            if breaks.is_empty() || breaks.len() > MAX_ITEMS {
                return Err(ApiError::invalid(
                    format!("{field}.breaks"),
                    format!("between 1 and {MAX_ITEMS} breaks"),
                ));
            }
            let mut previous = 1;
            for (i, step) in breaks.iter().enumerate() {
                let at = |name: &str| format!("{field}.breaks[{i}].{name}");
                at_least(&at("min_quantity"), step.min_quantity, 2)?;
                if step.min_quantity <= previous {
                    return Err(ApiError::invalid(at("min_quantity"), "breaks must rise in quantity"));
                }
                previous = step.min_quantity;
                fields::amount(&at("unit_price_minor"), step.unit_price_minor)?;
            }
        }
        PromotionRule::BuyXGetY {
            products: set,
            buy,
            get,
            get_basis_points,
        } => {
            products(&format!("{field}.products"), set)?;
            at_least(&format!("{field}.buy"), *buy, 1)?;
            at_least(&format!("{field}.get"), *get, 1)?;
            basis_points(&format!("{field}.get_basis_points"), *get_basis_points)?;
        }
    }
    Ok(())
}

/// The checks every change of an existing promotion (update, end) makes before its own:
/// the tenant named (if any) is the token's, `occurred_at` is acceptable, and the
/// promotion exists and has not ended.
pub fn check_change(
    target: &PromotionVersion,
    context: &TenantContext,
    tenant_id: Option<&str>,
    occurred_at: Option<DateTime<Utc>>,
    state: &PromotionState,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    context.check_tenant(tenant_id)?;
    fields::occurred_at(occurred_at, now)?;
    existing(&target.id, state)
}

/// Refuses a change of a promotion that was never created (404) or has ended (409).
pub fn existing(promotion: &PromotionId, state: &PromotionState) -> Result<(), ApiError> {
    if !state.exists() {
        return Err(ApiError::NotFound {
            resource: "promotion",
            id: promotion.to_string(),
        });
    }
    if state.ended {
        return Err(ApiError::StateConflict {
            code: ErrorCode::PromotionEnded,
            message: format!("promotion {promotion} has ended"),
        });
    }
    Ok(())
}

/// The expectation for a change made against version `If-Match`.
pub fn expect_version(
    target: &PromotionVersion,
    state: &PromotionState,
    _history: &[StoredEvent],
) -> Result<Expected, ApiError> {
    crate::commands::expect_version("promotion", &target.id, state.exists(), state.version, target.version)
}

/// The promotions in force at `location`, selling in `currency`, at `at`, from the read
/// model (a promotion applies once the projector has stored it: milliseconds after it is
/// created).
pub async fn active(
    db: &Database,
    location: &LocationId,
    currency: Currency,
    at: DateTime<Utc>,
) -> Result<Vec<ActivePromotion>, ApiError> {
    let docs: Vec<tenantdb::docs::PromotionDoc> = tenantdb::collections::promotions(db)
        .find(bson::doc! {})
        .await?
        .try_collect()
        .await?;
    Ok(docs
        .into_iter()
        .filter(|doc| doc.applies(location.as_str(), currency.code(), at))
        .filter_map(|doc| {
            Some(ActivePromotion {
                id: PromotionId::parse(doc.promotion_id).ok()?,
                rule: doc.rule,
                stackable: doc.stackable,
            })
        })
        .collect())
}
