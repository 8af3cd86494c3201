//! Closing a purchase order: nothing more is expected; outstanding cases are written off.

use chrono::{DateTime, Utc};
use events::event::{PurchaseOrderClosed, PurchaseOrderStatus};
use events::{DomainEvent, PurchaseOrderId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Manager;
use crate::commands::purchasing::{PurchaseOrderState, status_conflict};
use crate::commands::{Command, Decision, Route, fields};
use crate::error::ApiError;

/// `POST /v1/purchase-orders/{po_id}/close`: a submitted, partially received or received
/// order is finished.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosePurchaseOrder {
    /// When, by the client's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

impl Command for ClosePurchaseOrder {
    const NAME: &'static str = "ClosePurchaseOrder";
    const ROUTE: Route = Route::post(
        "/v1/purchase-orders/{po_id}/close",
        "close_purchase_order",
        "purchasing",
        "Close a purchase order; outstanding cases are no longer expected.",
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
        format!("po-close:{po}")
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
        match on.state.status {
            Some(
                PurchaseOrderStatus::Submitted | PurchaseOrderStatus::PartiallyReceived | PurchaseOrderStatus::Received,
            ) => {}
            Some(PurchaseOrderStatus::Draft) => {
                return Err(status_conflict(on.id, "a draft is cancelled, not closed"));
            }
            _ => return Err(status_conflict(on.id, "it is closed or cancelled already")),
        }
        Ok(PurchaseOrderClosed {
            po_id: on.id.clone(),
            location: drafted.location.clone(),
            released: on.state.outstanding_units(),
        }
        .into())
    }
}
