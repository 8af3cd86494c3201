//! [`Places`]: where an event acts (`events::event::reach`), with an event that acts where
//! its aggregate is (a void, a drawer's paid-in or close, a promotion's end) placed by the
//! aggregate's earlier events. Those are read from the stream once per aggregate and
//! remembered: a sale's or a drawer's store never changes, and a promotion has one such
//! event, its end. For readers that show a tenant's events to someone held to some of its
//! locations: the feed of a store's manager or key, and a store's webhook endpoint.
//!
//! An aggregate whose history holds an event this build cannot decode (written by a newer
//! build during a rolling deploy, or damaged) is placed nowhere: its voids and cash
//! movements are shown to no one held to locations (logged), rather than stall the feed
//! or a webhook partition on it, or show them to every store.

use std::collections::HashMap;

use events::event::reach::{self, Reach};
use events::{AggregateRef, DomainEvent, LocationId, TenantId};

use crate::error::ReadError;
use crate::store::EventStore;

/// Places of aggregates already looked up (see the [module](self)).
#[derive(Debug, Default)]
pub struct Places {
    // `None`: the whole chain.
    aggregates: HashMap<(TenantId, AggregateRef), Option<Vec<LocationId>>>,
}

impl Places {
    /// Most aggregates remembered; past it the memory starts over (a long-running reader).
    pub const REMEMBERED: usize = 10_000;

    /// An empty memory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where `event` of `tenant`, stored at `sequence`, acts: never
    /// [`Reach::OfAggregate`]. An aggregate with no earlier event saying where it is counts
    /// as the whole chain, as when a command acts on it; one whose history cannot be
    /// decoded, as nowhere (`Reach::At` of no location). Err when the aggregate's history
    /// cannot be read: the caller must not pass over the event as if it were elsewhere.
    pub async fn of<'a>(
        &'a mut self,
        store: &EventStore,
        tenant: &TenantId,
        sequence: u64,
        event: &'a DomainEvent,
    ) -> Result<Reach<'a>, ReadError> {
        let reach = event.reach();
        if reach != Reach::OfAggregate {
            return Ok(reach);
        }
        let key = (tenant.clone(), event.aggregate());
        if !self.aggregates.contains_key(&key) {
            let placed = match store.history(tenant, &key.1).await {
                Ok(history) => {
                    let earlier = history
                        .iter()
                        .filter(|stored| stored.sequence < sequence)
                        .map(|stored| &stored.envelope.event);
                    match reach::of_aggregate(earlier) {
                        Some(Reach::At(places)) => Some(places.into_iter().cloned().collect()),
                        Some(Reach::Chain | Reach::OfAggregate) | None => None,
                    }
                }
                Err(ReadError::Decode { sequence: bad, source }) => {
                    tracing::warn!(tenant = %tenant, aggregate = %key.1, sequence = bad, error = %source,
                        "an aggregate's history cannot be decoded; its events are placed nowhere");
                    Some(Vec::new())
                }
                Err(err) => return Err(err),
            };
            if self.aggregates.len() >= Self::REMEMBERED {
                self.aggregates.clear();
            }
            self.aggregates.insert(key.clone(), placed);
        }
        Ok(match self.aggregates.get(&key) {
            Some(Some(places)) => Reach::At(places.iter().collect()),
            _ => Reach::Chain,
        })
    }
}
