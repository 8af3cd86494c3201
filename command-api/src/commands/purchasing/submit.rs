//! Submitting a purchase order: it goes to the supplier and its units are on order.

use chrono::{DateTime, Utc};
use events::event::{PurchaseOrderStatus, PurchaseOrderSubmitted};
use events::{DomainEvent, PurchaseOrderId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Manager;
use crate::commands::purchasing::{PurchaseOrderState, status_conflict};
use crate::commands::{Command, Decision, Route, fields};
use crate::error::ApiError;

/// `POST /v1/purchase-orders/{po_id}/submit`: a draft is sent to the supplier.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitPurchaseOrder {
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for SubmitPurchaseOrder {
    const NAME: &'static str = "SubmitPurchaseOrder";
    const ROUTE: Route = Route::post(
        "/v1/purchase-orders/{po_id}/submit",
        "submit_purchase_order",
        "purchasing",
        "Submit a draft purchase order to its supplier.",
    );
    type Role = Manager;
    type Target = PurchaseOrderId;
    type Id = PurchaseOrderId;
    type State = PurchaseOrderState;
    type Loaded = ();

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, po: &PurchaseOrderId, _: Option<&str>) -> Result<PurchaseOrderId, ApiError> {
        Ok(po.clone())
    }

    fn natural_key(&self, po: &PurchaseOrderId) -> String {
        format!("po-submit:{po}")
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        on.context.check_tenant(self.tenant_id.as_deref())?;
        fields::occurred_at(self.occurred_at, on.now)?;
        let Some(drafted) = &on.state.drafted else {
            return Err(ApiError::NotFound {
                resource: "purchase order",
                id: on.id.to_string(),
            });
        };
        if on.state.status != Some(PurchaseOrderStatus::Draft) {
            return Err(status_conflict(on.id, "only a draft can be submitted"));
        }
        Ok(PurchaseOrderSubmitted {
            po_id: on.id.clone(),
            location: drafted.location.clone(),
            on_order: on.state.outstanding_units(),
        }
        .into())
    }
}
