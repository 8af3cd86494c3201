//! Cancelling a purchase order before anything arrived.

use chrono::{DateTime, Utc};
use events::event::{PurchaseOrderCancelled, PurchaseOrderStatus};
use events::{DomainEvent, PurchaseOrderId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Manager;
use crate::commands::purchasing::{PurchaseOrderState, status_conflict};
use crate::commands::{Command, Decision, Route, fields};
use crate::error::ApiError;

/// `POST /v1/purchase-orders/{po_id}/cancel`: a draft or submitted order is called off.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelPurchaseOrder {
    /// Why.
    pub reason: String,
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for CancelPurchaseOrder {
    const NAME: &'static str = "CancelPurchaseOrder";
    const ROUTE: Route = Route::post(
        "/v1/purchase-orders/{po_id}/cancel",
        "cancel_purchase_order",
        "purchasing",
        "Cancel a draft or submitted purchase order.",
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
        format!("po-cancel:{po}")
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        on.context.check_tenant(self.tenant_id.as_deref())?;
        fields::text("reason", &self.reason)?;
        fields::occurred_at(self.occurred_at, on.now)?;
        let Some(drafted) = &on.state.drafted else {
            return Err(ApiError::NotFound {
                resource: "purchase order",
                id: on.id.to_string(),
            });
        };
        let released = match on.state.status {
            Some(PurchaseOrderStatus::Draft) => Vec::new(),
            Some(PurchaseOrderStatus::Submitted) => on.state.outstanding_units(),
            Some(PurchaseOrderStatus::PartiallyReceived | PurchaseOrderStatus::Received) => {
                return Err(status_conflict(on.id, "deliveries arrived; close it instead"));
            }
            _ => return Err(status_conflict(on.id, "it is closed or cancelled already")),
        };
        Ok(PurchaseOrderCancelled {
            po_id: on.id.clone(),
            location: drafted.location.clone(),
            reason: self.reason.trim().to_owned(),
            released,
        }
        .into())
    }
}
