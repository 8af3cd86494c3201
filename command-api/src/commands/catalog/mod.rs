//! Catalog commands (manager or admin): register, update, reprice, discontinue.
//!
//! Changes to an existing product carry `If-Match` with the version the manager saw; a
//! stale version gets 409 with the current one, so two back-office screens never
//! overwrite each other silently. Every answer carries the product's new version as
//! `ETag`, and every change forgets the product's cached age restriction.
//!
//! # Layout
//! - [`register`]: a new product, [`RegisterProduct`].
//! - [`update`]: [`UpdateProduct`], new details.
//! - [`change_price`]: a new price, [`ChangePrice`].
//! - [`discontinue`]: the end of a product, [`DiscontinueProduct`].
//! - [`state`]: [`ProductState`], a product folded from its history.
//!
//! A product may be a pack of another (a six-pack of cans): [`with_base`] checks it
//! against its base and fills in what it inherits (docs/catalog.md).

pub mod change_price;
pub mod discontinue;
pub mod register;
pub mod state;
pub mod update;

pub use change_price::ChangePrice;
pub use discontinue::DiscontinueProduct;
pub use register::RegisterProduct;
pub use state::ProductState;
pub use update::UpdateProduct;

use std::sync::Arc;

use events::event::{AgeRestriction, Pack, ProductDetails};
use events::tax::Container;
use events::{Money, Sku};
use eventstore::Expected;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::codes::ErrorCode;
use crate::commands::{CommandMeta, ProductVersion, fields};
use crate::error::ApiError;
use crate::state::AppState;

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
    /// What one sold item comes in: container type, volume in ml, containers per item (6
    /// for a six-pack). Deposits and per-container or per-litre taxes need it.
    #[serde(default)]
    pub container: Option<Container>,
    /// What one unit of stock is called (`bottle`, `can`); a pack inherits its base's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_unit: Option<String>,
    /// Alcohol by volume in basis points (4.5 % is 450; at most 10000); a pack inherits
    /// its base's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abv_basis_points: Option<u16>,
    /// Makes this SKU a pack of another product (docs/catalog.md). Fixed at registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackInput>,
}

/// A pack as sent: the product whose units it holds, and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackInput {
    /// The base product's SKU (registered, not discontinued, not itself a pack).
    #[schema(value_type = String, example = "BEER-CAN")]
    pub base_sku: Sku,
    /// Base units in one pack (1 to 1000): 6 for a six-pack, 24 for a case.
    pub units: u32,
}

/// Checks the details and builds them as the events carry them.
pub fn details(input: &ProductDetailsInput) -> Result<ProductDetails, ApiError> {
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
    if let Some(container) = &input.container {
        if !(1..=100_000).contains(&container.volume_ml) {
            return Err(ApiError::invalid(
                "details.container.volume_ml",
                "must be 1 to 100000 ml",
            ));
        }
        if !(1..=1_000).contains(&container.units) {
            return Err(ApiError::invalid("details.container.units", "must be 1 to 1000"));
        }
    }
    if let Some(unit) = &input.base_unit {
        fields::text("details.base_unit", unit)?;
    }
    if input.abv_basis_points.is_some_and(|abv| abv > 10_000) {
        return Err(ApiError::invalid("details.abv_basis_points", "must be 0 to 10000"));
    }
    if let Some(pack) = &input.pack
        && !(1..=1_000).contains(&pack.units)
    {
        return Err(ApiError::invalid("details.pack.units", "must be 1 to 1000"));
    }
    Ok(ProductDetails {
        base_unit: input.base_unit.clone(),
        abv_basis_points: input.abv_basis_points,
        pack: input.pack.as_ref().map(|pack| Pack {
            base_sku: pack.base_sku.clone(),
            units: pack.units,
        }),
        name: input.name.clone(),
        category: input.category.clone(),
        tax_class: input.tax_class.clone(),
        barcodes: input.barcodes.clone(),
        age_restriction: input.minimum_age.map(|minimum_age| AgeRestriction { minimum_age }),
        reorder_point: input.reorder_point,
        container: input.container.clone(),
    })
}

/// Checks a pack's details against its base product (`base`, folded from the catalog's
/// events; `None` when the details name no pack) and fills in what the pack inherits:
/// the container (the base's, times the pack's units, so a six-pack carries six
/// deposits), the base unit, the ABV and the minimum age, each when not given.
///
/// `registering` is true for a new product: only a new pack is refused for a discontinued
/// base; an existing pack of a base discontinued since may still have its details edited.
pub fn with_base(
    sku: &Sku,
    mut details: ProductDetails,
    base: Option<&ProductState>,
    registering: bool,
) -> Result<ProductDetails, ApiError> {
    let Some(pack) = details.pack.clone() else {
        return Ok(details);
    };
    const FIELD: &str = "details.pack.base_sku";
    let unusable = |message: String| ApiError::Unusable {
        code: ErrorCode::UnknownProduct,
        field: FIELD.to_owned(),
        message,
    };
    if &pack.base_sku == sku {
        return Err(ApiError::invalid(FIELD, "a pack cannot hold itself"));
    }
    let Some(base_details) = base.and_then(|b| b.details.as_ref()) else {
        return Err(unusable(format!("names no product of the catalog: {}", pack.base_sku)));
    };
    if registering && base.is_some_and(|b| b.discontinued) {
        return Err(unusable(format!("product {} is discontinued", pack.base_sku)));
    }
    if base_details.pack.is_some() {
        return Err(unusable(format!(
            "product {} is itself a pack; name its base product",
            pack.base_sku
        )));
    }
    let container = base_details.container.as_ref().map(|c| Container {
        units: c.units.saturating_mul(pack.units),
        ..c.clone()
    });
    if details.container.is_some() && details.container != container {
        return Err(ApiError::invalid(
            "details.container",
            "a pack's container is its base product's, times the pack's units; leave it out",
        ));
    }
    details.container = container;
    details.base_unit = details.base_unit.or_else(|| base_details.base_unit.clone());
    details.abv_basis_points = details.abv_basis_points.or(base_details.abv_basis_points);
    details.age_restriction = details.age_restriction.or(base_details.age_restriction);
    Ok(details)
}

/// The base product of `input`'s pack, when it names one, folded from the catalog's
/// events.
pub async fn load_base(
    app: &AppState,
    meta: &CommandMeta,
    input: &ProductDetailsInput,
) -> Result<Option<Arc<ProductState>>, ApiError> {
    match &input.pack {
        Some(pack) => Ok(Some(app.products.get(&meta.context.tenant, &pack.base_sku).await?)),
        None => Ok(None),
    }
}

/// Checks a price.
pub fn price(field: &str, price: Money) -> Result<Money, ApiError> {
    fields::amount(field, price.amount_minor)?;
    Ok(price)
}

/// Refuses a change of a product that does not exist (404) or is discontinued (409).
pub fn existing(sku: &Sku, state: &ProductState) -> Result<(), ApiError> {
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

/// The expectation for a change made against version `if_match`: the product exists and
/// that version is still its last event.
pub fn expect_version(target: &ProductVersion, state: &ProductState) -> Result<Expected, ApiError> {
    crate::commands::expect_version("product", &target.sku, state.exists(), state.version, target.version)
}

/// After any catalog command: forget what is cached about the product.
pub async fn invalidate(app: &AppState, meta: &CommandMeta, sku: &Sku) {
    app.products.invalidate(&meta.context.tenant, sku);
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
            container: None,
            base_unit: None,
            abv_basis_points: None,
            pack: None,
        }
    }

    #[test]
    fn a_pack_inherits_its_bases_container_times_its_units_and_its_age() {
        let mut can = details(&input()).expect("valid");
        can.container = Some(Container {
            container_type: events::tax::ContainerType::parse("can").expect("slug"),
            volume_ml: 355,
            units: 1,
        });
        can.abv_basis_points = Some(500);
        let base = ProductState {
            details: Some(can),
            ..ProductState::default()
        };
        let mut six = input();
        six.minimum_age = None;
        six.pack = Some(PackInput {
            base_sku: Sku::parse("CAN").expect("sku"),
            units: 6,
        });
        let sku = Sku::parse("SIX").expect("sku");
        let pack = with_base(&sku, details(&six).expect("valid"), Some(&base), true).expect("a pack");
        assert_eq!(pack.container.as_ref().map(|c| (c.volume_ml, c.units)), Some((355, 6)));
        assert_eq!(pack.abv_basis_points, Some(500));
        assert_eq!(pack.age_restriction.map(|a| a.minimum_age), Some(21));

        // A discontinued base takes no new pack, but an existing one may still be edited.
        let gone = ProductState {
            discontinued: true,
            ..base
        };
        let refused = with_base(&sku, details(&six).expect("valid"), Some(&gone), true);
        assert_eq!(refused.map_err(|e| e.code()).err(), Some(ErrorCode::UnknownProduct));
        assert!(with_base(&sku, details(&six).expect("valid"), Some(&gone), false).is_ok());
        // Unknown base.
        let unknown = with_base(&sku, details(&six).expect("valid"), None, true);
        assert_eq!(unknown.map_err(|e| e.code()).err(), Some(ErrorCode::UnknownProduct));
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
