//! A supplier's and a purchase order's state, folded from their histories.

use std::collections::BTreeMap;

use events::event::{OnOrderUnits, PurchaseOrderDrafted, PurchaseOrderLine, PurchaseOrderStatus, SupplierItem};
use events::{DomainEvent, MovementId, Sku};
use eventstore::StoredEvent;

use crate::commands::Fold;

/// What is known about a supplier from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupplierState {
    /// Its name, once registered.
    pub name: Option<String>,
    /// What it sells now.
    pub items: Vec<SupplierItem>,
}

impl SupplierState {
    /// Whether it was registered.
    pub fn exists(&self) -> bool {
        self.name.is_some()
    }

    /// How it sells `sku`, if it does.
    pub fn item(&self, sku: &Sku) -> Option<&SupplierItem> {
        self.items.iter().find(|item| &item.sku == sku)
    }
}

impl Fold for SupplierState {
    fn fold(history: &[StoredEvent]) -> Self {
        let mut state = Self::default();
        for stored in history {
            match &stored.envelope.event {
                DomainEvent::SupplierRegistered(e) => {
                    state.name = Some(e.name.clone());
                    state.items = e.items.clone();
                }
                DomainEvent::SupplierUpdated(e) => {
                    state.name = Some(e.name.clone());
                    state.items = e.items.clone();
                }
                _ => {}
            }
        }
        state
    }
}

/// What arrived of one order line so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineProgress {
    /// Cases delivered, damaged ones included.
    pub delivered: i64,
    /// Of those, damaged.
    pub damaged: i64,
    /// Units put on the shelf.
    pub units_accepted: i64,
}

/// What is known about a purchase order from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurchaseOrderState {
    /// The order as drafted.
    pub drafted: Option<PurchaseOrderDrafted>,
    /// Where it stands (`None` before it was drafted).
    pub status: Option<PurchaseOrderStatus>,
    /// Progress per line number.
    pub progress: BTreeMap<u32, LineProgress>,
    /// The deliveries received, in order.
    pub receipts: Vec<MovementId>,
    /// Stream sequence of its last event.
    pub version: u64,
}

impl PurchaseOrderState {
    /// Cases of `line` still outstanding.
    pub fn outstanding(&self, line: &PurchaseOrderLine) -> i64 {
        let delivered = self.progress.get(&line.line_no).map_or(0, |p| p.delivered);
        (line.cases - delivered).max(0)
    }

    /// The order's lines (none before it was drafted).
    pub fn lines(&self) -> &[PurchaseOrderLine] {
        self.drafted.as_ref().map_or(&[], |d| d.lines.as_slice())
    }

    /// The outstanding units per SKU, in line order of first appearance.
    pub fn outstanding_units(&self) -> Vec<OnOrderUnits> {
        let mut units: Vec<OnOrderUnits> = Vec::new();
        for line in self.lines() {
            let n = self.outstanding(line) * line.case_size;
            if n == 0 {
                continue;
            }
            match units.iter_mut().find(|u| u.sku == line.sku) {
                Some(u) => u.units += n,
                None => units.push(OnOrderUnits {
                    sku: line.sku.clone(),
                    units: n,
                }),
            }
        }
        units
    }
}

impl Fold for PurchaseOrderState {
    fn fold(history: &[StoredEvent]) -> Self {
        let mut state = Self::default();
        for stored in history {
            match &stored.envelope.event {
                DomainEvent::PurchaseOrderDrafted(e) => {
                    state.drafted = Some(e.clone());
                    state.status = Some(PurchaseOrderStatus::Draft);
                }
                DomainEvent::PurchaseOrderSubmitted(_) => state.status = Some(PurchaseOrderStatus::Submitted),
                DomainEvent::PurchaseOrderReceived(e) => {
                    for line in &e.lines {
                        let progress = state.progress.entry(line.line_no).or_default();
                        progress.delivered += line.cases_received;
                        progress.damaged += line.cases_damaged;
                        progress.units_accepted += line.units_accepted;
                    }
                    state.receipts.push(e.receipt_id.clone());
                    state.status = Some(e.status);
                }
                DomainEvent::PurchaseOrderClosed(_) => state.status = Some(PurchaseOrderStatus::Closed),
                DomainEvent::PurchaseOrderCancelled(_) => state.status = Some(PurchaseOrderStatus::Cancelled),
                _ => continue,
            }
            state.version = stored.sequence;
        }
        state
    }
}
