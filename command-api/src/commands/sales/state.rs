//! A sale's state, folded from its history, as voids and refunds need it.

use std::collections::{HashMap, HashSet};

use events::DomainEvent;
use events::event::SaleCompleted;
use eventstore::StoredEvent;

use crate::commands::Fold;

/// What is known about a sale from its events.
#[derive(Debug, Clone, Default)]
pub struct SaleState {
    /// The completed sale, if it exists.
    pub completed: Option<SaleCompleted>,
    /// Whether it was voided.
    pub voided: bool,
    /// Units refunded so far, per line number.
    pub refunded_units: HashMap<u32, i64>,
    /// Money refunded so far (amount, tax, deposit), per line number.
    pub refunded_money: HashMap<u32, (i64, i64, i64)>,
    /// Refund ids already used.
    pub refund_ids: HashSet<String>,
    /// Stream sequence of the last event: what the next append must expect.
    pub version: u64,
}

impl SaleState {
    /// Folds a sale's history.
    pub fn fold(history: &[StoredEvent]) -> Self {
        let mut state = SaleState::default();
        for stored in history {
            state.version = stored.sequence;
            match &stored.envelope.event {
                DomainEvent::SaleCompleted(sale) => state.completed = Some(sale.clone()),
                DomainEvent::SaleVoided(_) => state.voided = true,
                DomainEvent::SaleRefunded(refund) => {
                    state.refund_ids.insert(refund.refund_id.to_string());
                    for line in &refund.lines {
                        *state.refunded_units.entry(line.line_no).or_default() += line.quantity;
                        let money = state.refunded_money.entry(line.line_no).or_default();
                        money.0 += line.amount_minor;
                        money.1 += line.tax_minor;
                        money.2 += line.deposit_minor;
                    }
                }
                _ => {}
            }
        }
        state
    }

    /// Whether any refund was recorded.
    pub fn has_refunds(&self) -> bool {
        !self.refund_ids.is_empty()
    }
}

impl Fold for SaleState {
    fn fold(history: &[StoredEvent]) -> Self {
        SaleState::fold(history)
    }
}
