//! A product's state, folded from its history, as catalog commands and the age check need
//! it.

use events::event::ProductDetails;
use events::{DomainEvent, Money};
use eventstore::StoredEvent;

use crate::commands::Fold;

/// What is known about a product from its events.
#[derive(Debug, Clone, Default)]
pub struct ProductState {
    /// Details, once registered.
    pub details: Option<ProductDetails>,
    /// Current price, once registered.
    pub price: Option<Money>,
    /// Whether it was discontinued.
    pub discontinued: bool,
    /// Stream sequence of the last event: the version in `ETag` / `If-Match`.
    pub version: u64,
}

impl ProductState {
    /// Folds a product's history.
    pub fn fold(history: &[StoredEvent]) -> Self {
        let mut state = ProductState::default();
        for stored in history {
            state.version = stored.sequence;
            match &stored.envelope.event {
                DomainEvent::ProductRegistered(e) => {
                    state.details = Some(e.details.clone());
                    state.price = Some(e.price);
                }
                DomainEvent::ProductUpdated(e) => state.details = Some(e.details.clone()),
                DomainEvent::ProductPriceChanged(e) => state.price = Some(e.price),
                DomainEvent::ProductDiscontinued(_) => state.discontinued = true,
                _ => {}
            }
        }
        state
    }

    /// Whether the product exists.
    pub fn exists(&self) -> bool {
        self.details.is_some()
    }

    /// The minimum age to buy it, if restricted.
    pub fn minimum_age(&self) -> Option<u8> {
        self.details
            .as_ref()
            .and_then(|d| d.age_restriction)
            .map(|a| a.minimum_age)
    }
}

impl Fold for ProductState {
    fn fold(history: &[StoredEvent]) -> Self {
        ProductState::fold(history)
    }
}
