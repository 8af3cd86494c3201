//! A tax jurisdiction's state, folded from its history.

use events::DomainEvent;
use events::tax::Jurisdiction;
use eventstore::StoredEvent;

use crate::commands::Fold;

/// What is known about a jurisdiction from its events.
#[derive(Debug, Clone, Default)]
pub struct JurisdictionState {
    /// Its configuration, once defined.
    pub jurisdiction: Option<Jurisdiction>,
    /// Stream sequence of the last event: the version in `ETag` / `If-Match`.
    pub version: u64,
}

impl Fold for JurisdictionState {
    fn fold(history: &[StoredEvent]) -> Self {
        let mut state = JurisdictionState::default();
        for stored in history {
            state.version = stored.sequence;
            if let DomainEvent::TaxJurisdictionConfigured(e) = &stored.envelope.event {
                state.jurisdiction = Some(e.jurisdiction.clone());
            }
        }
        state
    }
}
