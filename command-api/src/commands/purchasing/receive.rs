//! Receiving a delivery against a purchase order: cases per line, damaged cases refused,
//! extra cases accepted and flagged. The accepted units go on the shelf at the order's
//! location with the case cost of the order (see docs/purchasing.md).

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::event::{PurchaseOrderReceived, PurchaseOrderStatus, ReceivedLine};
use events::{DomainEvent, Money, MovementId, PurchaseOrderId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Manager;
use crate::codes::ErrorCode;
use crate::commands::inventory::movement_id;
use crate::commands::locations::{self, LocationState};
use crate::commands::purchasing::{MAX_LINES, PurchaseOrderState, load_order, status_conflict};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// One order line of a delivery.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceivedLineInput {
    /// The order line (from 1).
    pub line_no: u32,
    /// Cases delivered, damaged ones included (> 0). More than outstanding is an
    /// over-delivery: accepted and flagged as `cases_over`.
    pub cases_received: i64,
    /// Of those, cases refused as damaged (0 to `cases_received`): they count as delivered
    /// against the order but never reach the shelf.
    #[serde(default)]
    pub cases_damaged: i64,
}

/// `POST /v1/purchase-orders/{po_id}/receipts`: a delivery against a submitted order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceivePurchaseOrder {
    /// Client-generated id of this delivery; required unless `Idempotency-Key` is sent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub receipt_id: Option<MovementId>,
    /// What arrived, per order line (each line at most once).
    pub lines: Vec<ReceivedLineInput>,
    /// The delivery note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// When, by the terminal's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

/// The delivery's id within its order.
#[derive(Debug, Clone)]
pub struct ReceiptOf {
    /// The order.
    pub po: PurchaseOrderId,
    /// The delivery.
    pub receipt: MovementId,
}

impl crate::commands::AggregateId for ReceiptOf {
    fn natural_key(&self) -> String {
        format!("po-receipt:{}:{}", self.po, self.receipt)
    }

    fn aggregate(&self) -> events::AggregateRef {
        events::AggregateRef::purchase_order(&self.po)
    }

    fn exists(&self, history: &[eventstore::StoredEvent]) -> ApiError {
        crate::commands::AggregateId::exists(&self.po, history)
    }
}

impl Command for ReceivePurchaseOrder {
    const NAME: &'static str = "ReceivePurchaseOrder";
    const ROUTE: Route = Route::post(
        "/v1/purchase-orders/{po_id}/receipts",
        "receive_purchase_order",
        "purchasing",
        "Receive a delivery against a purchase order.",
    )
    .key("Required when the body has no receipt_id");
    type Role = Manager;
    type Target = PurchaseOrderId;
    type Id = ReceiptOf;
    type State = PurchaseOrderState;
    /// The order's delivery location.
    type Loaded = Arc<LocationState>;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, po: &PurchaseOrderId, key: Option<&str>) -> Result<ReceiptOf, ApiError> {
        let receipt = movement_id(self.receipt_id.as_ref(), key).map_err(|err| match err {
            ApiError::MissingField { .. } => ApiError::MissingField {
                field: "receipt_id (or an Idempotency-Key header)".to_owned(),
            },
            other => other,
        })?;
        Ok(ReceiptOf {
            po: po.clone(),
            receipt,
        })
    }

    async fn load(&self, app: &AppState, id: &ReceiptOf, meta: &CommandMeta) -> Result<Arc<LocationState>, ApiError> {
        let order = load_order(app, &meta.context.tenant, &id.po).await?;
        let location = order.drafted.map(|d| d.location);
        locations::load(app, meta, location.as_ref()).await
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        on.context.check_tenant(self.tenant_id.as_deref())?;
        fields::occurred_at(self.occurred_at, on.now)?;
        fields::optional_text("reference", self.reference.as_deref())?;
        let po = &on.id.po;
        let state = on.state;
        let Some(drafted) = &state.drafted else {
            return Err(ApiError::NotFound {
                resource: "purchase order",
                id: po.to_string(),
            });
        };
        match state.status {
            Some(PurchaseOrderStatus::Submitted | PurchaseOrderStatus::PartiallyReceived) => {}
            Some(PurchaseOrderStatus::Draft) => return Err(status_conflict(po, "submit it before receiving")),
            Some(PurchaseOrderStatus::Received) => {
                return Err(status_conflict(
                    po,
                    "it was received in full; record extra goods as a receipt",
                ));
            }
            _ => return Err(status_conflict(po, "it is closed or cancelled")),
        }
        if state.receipts.contains(&on.id.receipt) {
            return Err(ApiError::StateConflict {
                code: ErrorCode::MovementExists,
                message: format!(
                    "delivery {} of {po} was recorded with different contents",
                    on.id.receipt
                ),
            });
        }
        if self.lines.is_empty() {
            return Err(ApiError::invalid("lines", "must not be empty"));
        }
        if self.lines.len() > MAX_LINES {
            return Err(ApiError::invalid("lines", format!("at most {MAX_LINES} lines")));
        }
        let mut seen = BTreeSet::new();
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, input) in self.lines.iter().enumerate() {
            let field = |name: &str| format!("lines[{i}].{name}");
            let Some(line) = drafted.lines.iter().find(|l| l.line_no == input.line_no) else {
                return Err(ApiError::Unusable {
                    code: ErrorCode::UnknownOrderLine,
                    field: field("line_no"),
                    message: format!("purchase order {po} has lines 1 to {}", drafted.lines.len()),
                });
            };
            if !seen.insert(input.line_no) {
                return Err(ApiError::invalid(field("line_no"), "is named twice in this delivery"));
            }
            fields::positive_quantity(&field("cases_received"), input.cases_received)?;
            if !(0..=input.cases_received).contains(&input.cases_damaged) {
                return Err(ApiError::invalid(
                    field("cases_damaged"),
                    "must be between 0 and cases_received",
                ));
            }
            let outstanding = state.outstanding(line);
            let good = input.cases_received - input.cases_damaged;
            let covered = input.cases_received.min(outstanding);
            lines.push(ReceivedLine {
                line_no: line.line_no,
                sku: line.sku.clone(),
                cases_received: input.cases_received,
                cases_damaged: input.cases_damaged,
                cases_over: input.cases_received - covered,
                units_accepted: good * line.case_size,
                value: Money::new(good * line.case_cost.amount_minor, line.case_cost.currency),
                on_order_released: covered * line.case_size,
            });
        }
        let complete = drafted.lines.iter().all(|line| {
            let now = lines
                .iter()
                .find(|r| r.line_no == line.line_no)
                .map_or(0, |r| r.cases_received);
            state.outstanding(line) <= now
        });
        on.loaded
            .usable("po_id", &drafted.location, self.occurred_at.unwrap_or(on.now))?;
        Ok(PurchaseOrderReceived {
            po_id: po.clone(),
            receipt_id: on.id.receipt.clone(),
            supplier_id: drafted.supplier_id.clone(),
            location: drafted.location.clone(),
            lines,
            status: if complete {
                PurchaseOrderStatus::Received
            } else {
                PurchaseOrderStatus::PartiallyReceived
            },
            reference: self.reference.clone(),
        }
        .into())
    }
}
