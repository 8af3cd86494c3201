//! Catalog commands (manager or admin): register, update, reprice, discontinue.
//!
//! Changes to an existing product carry `If-Match` with the version the manager saw; a
//! stale version gets 409 with the current one, so two back-office screens never
//! overwrite each other silently.

use chrono::{DateTime, Utc};
use events::event::{
    AgeRestriction, ProductDetails, ProductDiscontinued, ProductPriceChanged, ProductRegistered, ProductUpdated,
};
use events::{Money, Sku};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::TenantContext;
use crate::codes::ErrorCode;
use crate::commands::fields;
use crate::commands::product_state::ProductState;
use crate::error::ApiError;

/// Most barcodes per product.
pub const MAX_BARCODES: usize = 20;

/// The descriptive fields of a product, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductDetailsInput {
    /// Name on receipts and screens.
    pub name: String,
    /// Category (wine, spirits, beer, ...).
    pub category: String,
    /// Tax class the terminals apply.
    pub tax_class: String,
    /// EAN/UPC barcodes: 8 to 14 digits each.
    #[serde(default)]
    pub barcodes: Vec<String>,
    /// Minimum age to buy, for alcohol and tobacco.
    #[serde(default)]
    pub minimum_age: Option<u8>,
    /// Stock level at which to reorder (>= 0).
    #[serde(default)]
    pub reorder_point: Option<i64>,
}

/// `POST /v1/products`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterProduct {
    /// The new product's SKU.
    #[schema(value_type = String)]
    pub sku: Sku,
    /// Name, category, ...
    pub details: ProductDetailsInput,
    /// Shelf price.
    #[schema(value_type = Object, example = json!({"amount_minor": 2999, "currency": "USD"}))]
    pub price: Money,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

/// `PUT /v1/products/{sku}`: replaces the details (not the price).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    /// The complete new details.
    pub details: ProductDetailsInput,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

/// `PUT /v1/products/{sku}/price`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePrice {
    /// The new shelf price.
    #[schema(value_type = Object, example = json!({"amount_minor": 2799, "currency": "USD"}))]
    pub price: Money,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

/// `POST /v1/products/{sku}/discontinue`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscontinueProduct {
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

fn details(input: &ProductDetailsInput) -> Result<ProductDetails, ApiError> {
    fields::text("details.name", &input.name)?;
    fields::text("details.category", &input.category)?;
    fields::text("details.tax_class", &input.tax_class)?;
    if input.barcodes.len() > MAX_BARCODES {
        return Err(ApiError::invalid("details.barcodes", format!("at most {MAX_BARCODES}")));
    }
    for (index, barcode) in input.barcodes.iter().enumerate() {
        if !(8..=14).contains(&barcode.len()) || !barcode.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::invalid(
                format!("details.barcodes[{index}]"),
                "must be 8 to 14 digits",
            ));
        }
        if input.barcodes[..index].contains(barcode) {
            return Err(ApiError::invalid(format!("details.barcodes[{index}]"), "appears twice"));
        }
    }
    if input.minimum_age == Some(0) {
        return Err(ApiError::invalid("details.minimum_age", "must be > 0 when present"));
    }
    if let Some(point) = input.reorder_point
        && !(0..=fields::MAX_QUANTITY).contains(&point)
    {
        return Err(ApiError::invalid(
            "details.reorder_point",
            format!("must be between 0 and {}", fields::MAX_QUANTITY),
        ));
    }
    Ok(ProductDetails {
        name: input.name.clone(),
        category: input.category.clone(),
        tax_class: input.tax_class.clone(),
        barcodes: input.barcodes.clone(),
        age_restriction: input.minimum_age.map(|minimum_age| AgeRestriction { minimum_age }),
        reorder_point: input.reorder_point,
    })
}

fn price(field: &str, price: Money) -> Result<Money, ApiError> {
    fields::amount(field, price.amount_minor)?;
    Ok(price)
}

/// Checks a registration.
pub fn register(
    command: &RegisterProduct,
    context: &TenantContext,
    now: DateTime<Utc>,
) -> Result<ProductRegistered, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    Ok(ProductRegistered {
        sku: command.sku.clone(),
        details: details(&command.details)?,
        price: price("price.amount_minor", command.price)?,
    })
}

fn existing(sku: &Sku, state: &ProductState) -> Result<(), ApiError> {
    if !state.exists() {
        return Err(ApiError::NotFound {
            resource: "product",
            id: sku.to_string(),
        });
    }
    if state.discontinued {
        return Err(ApiError::StateConflict {
            code: ErrorCode::ProductDiscontinued,
            message: format!("product {sku} is discontinued"),
        });
    }
    Ok(())
}

/// Checks an update against the product's state.
pub fn update(
    sku: &Sku,
    command: &UpdateProduct,
    context: &TenantContext,
    state: &ProductState,
    now: DateTime<Utc>,
) -> Result<ProductUpdated, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    let details = details(&command.details)?;
    existing(sku, state)?;
    Ok(ProductUpdated {
        sku: sku.clone(),
        details,
    })
}

/// Checks a price change against the product's state.
pub fn change_price(
    sku: &Sku,
    command: &ChangePrice,
    context: &TenantContext,
    state: &ProductState,
    now: DateTime<Utc>,
) -> Result<ProductPriceChanged, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    let new_price = price("price.amount_minor", command.price)?;
    existing(sku, state)?;
    if let Some(current) = state.price
        && current.currency != new_price.currency
    {
        return Err(ApiError::invalid(
            "price.currency",
            format!("the product is priced in {}", current.currency),
        ));
    }
    Ok(ProductPriceChanged {
        sku: sku.clone(),
        price: new_price,
        previous_price: state.price,
    })
}

/// Checks a discontinuation against the product's state.
pub fn discontinue(
    sku: &Sku,
    command: &DiscontinueProduct,
    context: &TenantContext,
    state: &ProductState,
    now: DateTime<Utc>,
) -> Result<ProductDiscontinued, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    fields::optional_text("reason", command.reason.as_deref())?;
    existing(sku, state)?;
    Ok(ProductDiscontinued {
        sku: sku.clone(),
        reason: command.reason.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ProductDetailsInput {
        ProductDetailsInput {
            name: "Whiskey".into(),
            category: "spirits".into(),
            tax_class: "alcohol".into(),
            barcodes: vec!["082184090466".into()],
            minimum_age: Some(21),
            reorder_point: Some(6),
        }
    }

    #[test]
    fn details_are_checked_field_by_field() {
        assert!(details(&input()).is_ok());
        type Mutation = Box<dyn Fn(&mut ProductDetailsInput)>;
        let cases: Vec<(Mutation, &str)> = vec![
            (Box::new(|d| d.name = " ".into()), "details.name"),
            (
                Box::new(|d| d.barcodes = vec!["12ab5678".into()]),
                "details.barcodes[0]",
            ),
            (
                Box::new(|d| d.barcodes = vec!["12345678".into(), "12345678".into()]),
                "details.barcodes[1]",
            ),
            (Box::new(|d| d.minimum_age = Some(0)), "details.minimum_age"),
            (Box::new(|d| d.reorder_point = Some(-1)), "details.reorder_point"),
        ];
        for (mutate, field) in cases {
            let mut d = input();
            mutate(&mut d);
            match details(&d) {
                Err(ApiError::InvalidField { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
