//! Purchasing (manager or admin): suppliers and what they sell, purchase orders from draft
//! to closed, deliveries received against them, and reorder levels per location.
//!
//! A supplier (`supplier.<id>`) and a purchase order (`purchaseorder.<id>`) are
//! aggregates of their own; each command on an order is decided against the order's
//! folded history ([`PurchaseOrderState`]), and a draft reads its supplier's
//! ([`SupplierState`]) to take the supplier's code, case size and case cost of each line.
//! Reorder levels live on the product's replenishment aggregate ([`Replenishment`]), apart
//! from the catalog entry, so setting them leaves the product's `ETag` alone.
//!
//! # Layout
//! - [`register_supplier`]: [`RegisterSupplier`], a supplier with its items.
//! - [`update_supplier`]: [`UpdateSupplier`], its name and items replaced.
//! - [`draft`]: [`DraftPurchaseOrder`], an order in cases (status draft).
//! - [`submit`]: [`SubmitPurchaseOrder`], sent to the supplier: its units are on order.
//! - [`receive`]: [`ReceivePurchaseOrder`], a delivery (damaged and extra cases too).
//! - [`close`]: [`ClosePurchaseOrder`], finished; what is outstanding is written off.
//! - [`cancel`]: [`CancelPurchaseOrder`], called off before anything arrived.
//! - [`reorder`]: [`SetReorderLevels`], a product's reorder point and par level at a store.
//! - [`state`]: [`SupplierState`] and [`PurchaseOrderState`], folded from their histories.

pub mod cancel;
pub mod close;
pub mod draft;
pub mod receive;
pub mod register_supplier;
pub mod reorder;
pub mod state;
pub mod submit;
pub mod update_supplier;

pub use cancel::CancelPurchaseOrder;
pub use close::ClosePurchaseOrder;
pub use draft::DraftPurchaseOrder;
pub use receive::ReceivePurchaseOrder;
pub use register_supplier::RegisterSupplier;
pub use reorder::SetReorderLevels;
pub use state::{PurchaseOrderState, SupplierState};
pub use submit::SubmitPurchaseOrder;
pub use update_supplier::UpdateSupplier;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::Path;
use events::event::SupplierItem;
use events::{AggregateRef, Money, PurchaseOrderId, Sku, SupplierId};
use eventstore::StoredEvent;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::codes::ErrorCode;
use crate::commands::Fold;
use crate::commands::catalog::ProductState;
use crate::commands::inventory;
use crate::commands::{AggregateId, CommandMeta, Target, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// Most items one supplier lists, and most lines one order has.
pub const MAX_LINES: usize = 500;
/// Largest case (units per case).
pub const MAX_CASE_SIZE: i64 = 10_000;
/// Longest lead time, days.
pub const MAX_LEAD_TIME_DAYS: i64 = 365;

impl AggregateId for SupplierId {
    fn natural_key(&self) -> String {
        format!("supplier:{self}")
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::supplier(self)
    }

    fn exists(&self, _: &[StoredEvent]) -> ApiError {
        ApiError::StateConflict {
            code: ErrorCode::SupplierExists,
            message: format!("supplier {self} was already registered; change it with PUT /v1/suppliers/{self}"),
        }
    }
}

impl AggregateId for PurchaseOrderId {
    fn natural_key(&self) -> String {
        format!("po:{self}")
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::purchase_order(self)
    }

    fn exists(&self, _: &[StoredEvent]) -> ApiError {
        ApiError::StateConflict {
            code: ErrorCode::PurchaseOrderExists,
            message: format!("purchase order {self} was already drafted with different contents"),
        }
    }
}

impl Target for SupplierId {
    type Raw = Path<String>;
    const PATH_PARAMS: &'static [&'static str] = &["supplier_id"];
    const IF_MATCH: bool = false;

    fn parse(Path(raw): Path<String>) -> Result<Self, ApiError> {
        SupplierId::parse(raw).map_err(|err| ApiError::invalid("supplier_id", err.to_string()))
    }

    fn keyed<'a, B: Serialize>(&'a self, body: &'a B) -> impl Serialize + 'a {
        (self, body)
    }
}

impl Target for PurchaseOrderId {
    type Raw = Path<String>;
    const PATH_PARAMS: &'static [&'static str] = &["po_id"];
    const IF_MATCH: bool = false;

    fn parse(Path(raw): Path<String>) -> Result<Self, ApiError> {
        PurchaseOrderId::parse(raw).map_err(|err| ApiError::invalid("po_id", err.to_string()))
    }

    fn keyed<'a, B: Serialize>(&'a self, body: &'a B) -> impl Serialize + 'a {
        (self, body)
    }
}

/// A product's replenishment rules (reorder levels per location), addressed by SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Replenishment(pub Sku);

impl AggregateId for Replenishment {
    fn natural_key(&self) -> String {
        format!("replenishment:{}", self.0)
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::replenishment(&self.0)
    }

    fn exists(&self, _: &[StoredEvent]) -> ApiError {
        ApiError::Internal(anyhow::anyhow!("reorder levels never create their aggregate"))
    }
}

impl Target for Replenishment {
    type Raw = Path<String>;
    const PATH_PARAMS: &'static [&'static str] = &["sku"];
    const IF_MATCH: bool = false;

    fn parse(Path(raw): Path<String>) -> Result<Self, ApiError> {
        Sku::parse(raw)
            .map(Replenishment)
            .map_err(|err| ApiError::invalid("sku", err.to_string()))
    }

    fn keyed<'a, B: Serialize>(&'a self, body: &'a B) -> impl Serialize + 'a {
        (self, body)
    }
}

/// One item a supplier sells, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierItemInput {
    /// Our product.
    #[schema(value_type = String)]
    pub sku: Sku,
    /// The supplier's code for it.
    pub supplier_code: String,
    /// Units per case (1 to 10,000; 1 for single units).
    pub case_size: i64,
    /// Cost of one case.
    #[schema(value_type = Object, example = json!({"amount_minor": 14400, "currency": "USD"}))]
    pub case_cost: Money,
    /// Days from order to delivery (0 to 365).
    #[serde(default)]
    pub lead_time_days: i64,
    /// The catalog's pack SKU that is this case (docs/catalog.md): it must be a pack of
    /// `sku` and `case_size` must be its units; deliveries then raise `sku`'s stock by
    /// `cases × units`, as a receipt of the pack would.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub pack_sku: Option<Sku>,
}

/// What the catalog says of each item a supplier sells, in the items' order: the product
/// itself and, when the item names a `pack_sku`, that pack.
pub type ItemProducts = Vec<(Arc<ProductState>, Option<Arc<ProductState>>)>;

/// Reads the catalog entries `items` name (their products and linked packs).
pub async fn load_item_products(
    app: &AppState,
    meta: &CommandMeta,
    items: &[SupplierItemInput],
) -> Result<ItemProducts, ApiError> {
    futures::future::try_join_all(items.iter().take(MAX_LINES).map(|item| async move {
        let product = inventory::product(app, meta, &item.sku).await?;
        let pack = match &item.pack_sku {
            Some(pack) => Some(inventory::product(app, meta, pack).await?),
            None => None,
        };
        Ok::<_, ApiError>((product, pack))
    }))
    .await
}

/// Checks an item against the catalog (422 naming the field): its `sku` is not itself a
/// pack (stock is kept in base units), and a linked `pack_sku` is a pack of `sku` with
/// `case_size` units.
fn check_pack_link(
    i: usize,
    item: &SupplierItemInput,
    (product, pack): &(Arc<ProductState>, Option<Arc<ProductState>>),
) -> Result<(), ApiError> {
    let field = |name: &str| format!("items[{i}].{name}");
    if let Some(own) = product.pack() {
        return Err(ApiError::Unusable {
            code: ErrorCode::StockInBaseUnits,
            field: field("sku"),
            message: format!(
                "{} is a pack of {} × {}: name the base SKU {} and link the pack with pack_sku",
                item.sku, own.units, own.base_sku, own.base_sku
            ),
        });
    }
    let (Some(pack_sku), Some(pack)) = (&item.pack_sku, pack) else {
        return Ok(());
    };
    if !pack.exists() {
        return Err(ApiError::Unusable {
            code: ErrorCode::UnknownProduct,
            field: field("pack_sku"),
            message: format!("{pack_sku} is not in the catalog"),
        });
    }
    let Some(linked) = pack.pack().filter(|p| p.base_sku == item.sku) else {
        return Err(ApiError::invalid(
            field("pack_sku"),
            format!("{pack_sku} is not a pack of {}", item.sku),
        ));
    };
    if item.case_size != i64::from(linked.units) {
        return Err(ApiError::invalid(
            field("case_size"),
            format!("must be {}, the units of pack {pack_sku}", linked.units),
        ));
    }
    Ok(())
}

/// Checks a supplier's name and items (422 naming the field), with the catalog entries
/// they name (`catalog`, from [`load_item_products`]; an item without its entry is not
/// checked against the catalog), and builds the items.
pub fn supplier_items(
    name: &str,
    items: &[SupplierItemInput],
    catalog: &ItemProducts,
) -> Result<Vec<SupplierItem>, ApiError> {
    fields::text("name", name)?;
    if items.len() > MAX_LINES {
        return Err(ApiError::invalid("items", format!("at most {MAX_LINES} items")));
    }
    let mut seen = BTreeSet::new();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = |name: &str| format!("items[{i}].{name}");
            if !seen.insert(item.sku.clone()) {
                return Err(ApiError::invalid(field("sku"), "is listed twice"));
            }
            fields::text(&field("supplier_code"), &item.supplier_code)?;
            if !(1..=MAX_CASE_SIZE).contains(&item.case_size) {
                return Err(ApiError::invalid(
                    field("case_size"),
                    format!("must be between 1 and {MAX_CASE_SIZE}"),
                ));
            }
            fields::amount(&field("case_cost.amount_minor"), item.case_cost.amount_minor)?;
            if !(0..=MAX_LEAD_TIME_DAYS).contains(&item.lead_time_days) {
                return Err(ApiError::invalid(
                    field("lead_time_days"),
                    format!("must be between 0 and {MAX_LEAD_TIME_DAYS}"),
                ));
            }
            if let Some(entries) = catalog.get(i) {
                check_pack_link(i, item, entries)?;
            }
            Ok(SupplierItem {
                sku: item.sku.clone(),
                supplier_code: item.supplier_code.clone(),
                case_size: item.case_size,
                case_cost: item.case_cost,
                lead_time_days: item.lead_time_days,
                pack_sku: item.pack_sku.clone(),
            })
        })
        .collect()
}

/// A supplier, read from its own history.
pub async fn load_supplier(
    app: &AppState,
    meta: &CommandMeta,
    supplier: &SupplierId,
) -> Result<SupplierState, ApiError> {
    let history = app
        .store
        .history(&meta.context.tenant, &AggregateRef::supplier(supplier))
        .await?;
    Ok(SupplierState::fold(&history))
}

/// A purchase order, read from its own history.
pub async fn load_order(
    app: &AppState,
    tenant: &events::TenantId,
    po: &PurchaseOrderId,
) -> Result<PurchaseOrderState, ApiError> {
    let history = app.store.history(tenant, &AggregateRef::purchase_order(po)).await?;
    Ok(PurchaseOrderState::fold(&history))
}

/// 409 `purchase_order_status`: what the order's status does not allow.
pub fn status_conflict(po: &PurchaseOrderId, message: impl std::fmt::Display) -> ApiError {
    ApiError::StateConflict {
        code: ErrorCode::PurchaseOrderStatus,
        message: format!("purchase order {po}: {message}"),
    }
}
