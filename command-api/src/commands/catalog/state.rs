//! A product's state, folded from its history, as catalog commands and the age check need
//! it.

use chrono::{DateTime, Utc};
use events::event::{Pack, ProductDetails};
use events::{DomainEvent, LocationId, Money};
use eventstore::StoredEvent;
use pricing::{PriceSchedule, ScheduledPrice};

use crate::commands::Fold;

/// What is known about a product from its events.
#[derive(Debug, Clone, Default)]
pub struct ProductState {
    /// Details, once registered.
    pub details: Option<ProductDetails>,
    /// The chain-wide price set by the last change that took effect when it was made
    /// (its currency is the product's); prices for one store and scheduled changes are in
    /// `schedule`.
    pub price: Option<Money>,
    /// Whether it was discontinued.
    pub discontinued: bool,
    /// Its prices over time, chain-wide and per store (each taking effect at its
    /// `effective_from`, else when its event happened), for quotes and for pricing a sale
    /// at the time it was rung up.
    pub schedule: PriceSchedule,
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
                    state.schedule_price(stored.envelope.occurred_at, None, e.price.amount_minor);
                }
                DomainEvent::ProductUpdated(e) => state.details = Some(e.details.clone()),
                DomainEvent::ProductPriceChanged(e) => {
                    let happened = stored.envelope.occurred_at;
                    let effective = e.effective_from.unwrap_or(happened);
                    if e.location.is_none() && effective <= happened {
                        state.price = Some(e.price);
                    }
                    state.schedule_price(effective, e.location.clone(), e.price.amount_minor);
                }
                DomainEvent::ProductDiscontinued(_) => state.discontinued = true,
                _ => {}
            }
        }
        state
    }

    /// Adds a price from `at` for `location` (or chain-wide); a later event for the same
    /// location and instant replaces it.
    fn schedule_price(&mut self, at: DateTime<Utc>, location: Option<LocationId>, amount_minor: i64) {
        self.schedule
            .entries
            .retain(|e| !(e.location == location && e.effective_from == at));
        self.schedule.entries.push(ScheduledPrice {
            effective_from: at,
            location,
            unit_price_minor: Some(amount_minor),
        });
    }

    /// The catalog's price per item at `location` at `at`. Before its first price (a sale
    /// rung up offline before the product was registered here) the first price counts.
    pub fn price_at(&self, location: &LocationId, at: DateTime<Utc>) -> Option<i64> {
        self.schedule.price_at(location, at).or_else(|| {
            self.schedule
                .entries
                .iter()
                .filter(|e| e.location.is_none())
                .min_by_key(|e| e.effective_from)
                .and_then(|e| e.unit_price_minor)
        })
    }

    /// What the product is a pack of, when it is one.
    pub fn pack(&self) -> Option<&Pack> {
        self.details.as_ref().and_then(|d| d.pack.as_ref())
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
