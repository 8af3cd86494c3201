//! Pricing a basket on the server (`POST /v1/pricing/quotes`, like Square's
//! CalculateOrder): what an online terminal shows before it takes payment.
//!
//! The server knows the store (its time zone, whether its shelf prices include tax, its
//! tax jurisdiction), the products (price, tax class, container) and the jurisdiction's
//! dated rates and deposits; the terminal sends only SKUs, quantities and discounts (and
//! a price where the cashier overrode it). The engine is the `pricing` crate; the rules
//! are in docs/taxes.md. Promotions in force at the store and instant apply (stacking
//! and allocation: docs/promotions.md). Nothing is recorded.

use chrono::{DateTime, Utc};
use events::tax::TaxClass;
use events::{LocationId, Sku};
use pricing::{
    Basket, BasketLine, PriceMode, PricedBasket, PricingContext, PricingError, PromotionLine, apply_promotions,
    price_basket,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::TenantContext;
use crate::commands::locations::LocationState;
use crate::commands::{fields, promotions};
use crate::error::ApiError;
use crate::state::AppState;

/// Most lines in one quote.
pub const MAX_LINES: usize = 500;

/// `POST /v1/pricing/quotes`: a basket to price.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// The store the basket is sold in.
    #[schema(value_type = String, example = "main-street")]
    pub location: LocationId,
    /// When the sale happens; defaults to now. Prices, rates and deposits are those of
    /// this instant (and of the location's business day it falls on).
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    /// The lines, in receipt order.
    pub lines: Vec<QuoteLine>,
}

/// One line of a basket to price.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteLine {
    /// The product.
    #[schema(value_type = String, example = "IPA-6PK")]
    pub sku: Sku,
    /// Items (> 0).
    pub quantity: i64,
    /// Discount on the whole line, minor units (default 0).
    #[serde(default)]
    pub discount_minor: i64,
    /// A price the cashier set instead of the shelf price, minor units per item.
    #[serde(default)]
    pub unit_price_minor: Option<i64>,
}

/// Prices `request` for the caller's tenant, with the promotions in force at the store
/// and instant (docs/promotions.md): each line's `discount_minor` is its promotion shares
/// (listed in `promotions`) plus the cashier's discount, at most the line's gross.
pub async fn quote(app: &AppState, context: &TenantContext, request: &QuoteRequest) -> Result<PricedBasket, ApiError> {
    let tenant = &context.tenant;
    if request.lines.is_empty() || request.lines.len() > MAX_LINES {
        return Err(ApiError::invalid("lines", format!("between 1 and {MAX_LINES} lines")));
    }
    let now = Utc::now();
    fields::occurred_at(request.at, now).map_err(|_| ApiError::invalid("at", "is in the future"))?;
    let at = request.at.unwrap_or(now);
    let location = app.locations.get(tenant, &request.location).await?;
    let details = location.usable("location", &request.location, at)?;
    let Some(jurisdiction_id) = &details.tax_jurisdiction else {
        return Err(ApiError::invalid(
            "location",
            format!("location {} has no tax jurisdiction", request.location),
        ));
    };
    let jurisdiction = app.jurisdictions.get(tenant, jurisdiction_id).await?;
    let Some(jurisdiction) = &jurisdiction.jurisdiction else {
        return Err(ApiError::invalid(
            "location",
            format!(
                "tax jurisdiction {jurisdiction_id} of location {} is not defined",
                request.location
            ),
        ));
    };
    let mut lines = Vec::with_capacity(request.lines.len());
    let mut promotion_lines = Vec::with_capacity(request.lines.len());
    for (index, line) in request.lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{index}].{name}");
        fields::positive_quantity(&field("quantity"), line.quantity)?;
        fields::amount(&field("discount_minor"), line.discount_minor)?;
        let product = app.products.get(tenant, &line.sku).await?;
        let (Some(product_details), Some(price)) = (&product.details, product.price) else {
            return Err(ApiError::invalid(
                field("sku"),
                format!("product {} is not registered", line.sku),
            ));
        };
        if product.discontinued {
            return Err(ApiError::invalid(
                field("sku"),
                format!("product {} is discontinued", line.sku),
            ));
        }
        if price.currency != details.currency {
            return Err(ApiError::invalid(
                field("sku"),
                format!(
                    "product {} is priced in {}, the store sells in {}",
                    line.sku, price.currency, details.currency
                ),
            ));
        }
        let tax_class = TaxClass::parse(product_details.tax_class.clone()).map_err(|err| {
            ApiError::invalid(
                field("sku"),
                format!("product {} has no usable tax class: {err}", line.sku),
            )
        })?;
        if let Some(unit_price) = line.unit_price_minor {
            fields::amount(&field("unit_price_minor"), unit_price)?;
        }
        // The store's price at that instant (its own, a scheduled change, or the chain's).
        let list_price = product.price_at(&request.location, at).unwrap_or(price.amount_minor);
        promotion_lines.push(PromotionLine {
            line_no: index as u32 + 1,
            sku: line.sku.clone(),
            category: Some(product_details.category.clone()),
            quantity: line.quantity,
            unit_price_minor: list_price,
        });
        lines.push(BasketLine {
            line_no: index as u32 + 1,
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price_minor: line.unit_price_minor.unwrap_or(list_price),
            list_price_minor: line.unit_price_minor.map(|_| list_price),
            discount_minor: line.discount_minor,
            tax_class,
            container: product_details.container.clone(),
        });
    }
    let db = crate::queries::tenant_database(app, context).await?;
    let active = promotions::active(&db, &request.location, details.currency, at).await?;
    let promoted = apply_promotions(&active, &promotion_lines);
    for (line, promotion) in lines.iter_mut().zip(&promoted) {
        let gross = line.quantity.saturating_mul(line.unit_price_minor);
        let room = (gross - promotion.discount_minor).max(0);
        line.discount_minor = promotion.discount_minor + line.discount_minor.min(room);
    }
    let basket = Basket {
        currency: details.currency,
        lines,
    };
    let pricing_context = PricingContext {
        date: LocationState::business_date(details, at),
        price_mode: if details.prices_include_tax {
            PriceMode::Inclusive
        } else {
            PriceMode::Additive
        },
    };
    let mut priced = price_basket(jurisdiction, &basket, pricing_context).map_err(|err| match err {
        PricingError::Line { line_no, error } => {
            ApiError::invalid(format!("lines[{}]", line_no.saturating_sub(1)), error.to_string())
        }
        PricingError::Overflow { line_no: Some(n) } => {
            ApiError::invalid(format!("lines[{}]", n.saturating_sub(1)), "amount too large")
        }
        other => ApiError::invalid("location", other.to_string()),
    })?;
    for (line, promotion) in priced.lines.iter_mut().zip(promoted) {
        line.promotions = promotion.applied;
    }
    Ok(priced)
}
