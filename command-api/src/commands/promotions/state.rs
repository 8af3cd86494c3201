//! A promotion's state, folded from its history.

use events::DomainEvent;
use events::event::PromotionDetails;
use eventstore::StoredEvent;

use crate::commands::Fold;

/// What is known about a promotion from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromotionState {
    /// Details, once created.
    pub details: Option<PromotionDetails>,
    /// Whether it was ended.
    pub ended: bool,
    /// Stream sequence of its last event: the version in `ETag` / `If-Match`.
    pub version: u64,
}

impl PromotionState {
    /// Whether it was created.
    pub fn exists(&self) -> bool {
        self.details.is_some()
    }
}

impl Fold for PromotionState {
    fn fold(history: &[StoredEvent]) -> Self {
        let mut state = PromotionState::default();
        for stored in history {
            match &stored.envelope.event {
                DomainEvent::PromotionCreated(e) => state.details = Some(e.details.clone()),
                DomainEvent::PromotionUpdated(e) => state.details = Some(e.details.clone()),
                DomainEvent::PromotionEnded(_) => state.ended = true,
                _ => continue,
            }
            state.version = stored.sequence;
        }
        state
    }
}
