//! Registering a supplier with the products it sells, by the case.

use chrono::{DateTime, Utc};
use events::event::SupplierRegistered;
use events::{DomainEvent, SupplierId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Manager;
use crate::commands::purchasing::{ItemProducts, SupplierItemInput, load_item_products, supplier_items};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /v1/suppliers`: a supplier (vendor) and what it sells.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterSupplier {
    /// The supplier's id, chosen by the client (letters, digits, `-`, `_`).
    #[schema(value_type = String)]
    pub supplier_id: SupplierId,
    /// Display name.
    pub name: String,
    /// What it sells: one entry per product, with its code, case size, case cost and
    /// lead time.
    #[serde(default)]
    pub items: Vec<SupplierItemInput>,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for RegisterSupplier {
    const NAME: &'static str = "RegisterSupplier";
    const ROUTE: Route = Route::post(
        "/v1/suppliers",
        "register_supplier",
        "purchasing",
        "Register a supplier with the products it sells.",
    );
    const CREATES: bool = true;
    type Role = Manager;
    type Target = ();
    type Id = SupplierId;
    type State = ();
    /// The catalog entries its items name (products and linked packs).
    type Loaded = ItemProducts;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, (): &(), _: Option<&str>) -> Result<SupplierId, ApiError> {
        Ok(self.supplier_id.clone())
    }

    async fn load(&self, app: &AppState, _: &SupplierId, meta: &CommandMeta) -> Result<ItemProducts, ApiError> {
        load_item_products(app, meta, &self.items).await
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        on.context.check_tenant(self.tenant_id.as_deref())?;
        fields::occurred_at(self.occurred_at, on.now)?;
        let items = supplier_items(&self.name, &self.items, on.loaded)?;
        Ok(SupplierRegistered {
            supplier_id: self.supplier_id.clone(),
            name: self.name.trim().to_owned(),
            items,
        }
        .into())
    }
}
