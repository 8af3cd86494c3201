//! Changing a supplier's name or items: the body holds the whole new list.

use chrono::{DateTime, Utc};
use events::event::SupplierUpdated;
use events::{DomainEvent, SupplierId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Manager;
use crate::commands::purchasing::{ItemProducts, SupplierItemInput, SupplierState, load_item_products, supplier_items};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `PUT /v1/suppliers/{supplier_id}`: the supplier's name and everything it sells now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSupplier {
    /// Display name.
    pub name: String,
    /// Everything it sells now (items left out are no longer bought from it).
    #[serde(default)]
    pub items: Vec<SupplierItemInput>,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for UpdateSupplier {
    const NAME: &'static str = "UpdateSupplier";
    const ROUTE: Route = Route::put(
        "/v1/suppliers/{supplier_id}",
        "update_supplier",
        "purchasing",
        "Replace a supplier's name and items.",
    );
    const RETRY_ONLY_AS_LATEST: bool = true;
    type Role = Manager;
    type Target = SupplierId;
    type Id = SupplierId;
    type State = SupplierState;
    /// The catalog entries its items name (products and linked packs).
    type Loaded = ItemProducts;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, supplier: &SupplierId, _: Option<&str>) -> Result<SupplierId, ApiError> {
        Ok(supplier.clone())
    }

    fn natural_key(&self, supplier: &SupplierId) -> String {
        format!("supplier-update:{supplier}")
    }

    async fn load(&self, app: &AppState, _: &SupplierId, meta: &CommandMeta) -> Result<ItemProducts, ApiError> {
        load_item_products(app, meta, &self.items).await
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        on.context.check_tenant(self.tenant_id.as_deref())?;
        fields::occurred_at(self.occurred_at, on.now)?;
        if !on.state.exists() {
            return Err(ApiError::NotFound {
                resource: "supplier",
                id: on.id.to_string(),
            });
        }
        let items = supplier_items(&self.name, &self.items, on.loaded)?;
        let removed = on
            .state
            .items
            .iter()
            .filter(|old| !items.iter().any(|new| new.sku == old.sku))
            .map(|old| old.sku.clone())
            .collect();
        Ok(SupplierUpdated {
            supplier_id: on.id.clone(),
            name: self.name.trim().to_owned(),
            items,
            removed,
        }
        .into())
    }
}
