//! [`Reach`]: which of a tenant's locations an event acts on, so that a caller limited to
//! some locations (an API key with `locations`) can be held to them in one place, whatever
//! the command. Every event type must answer (the match below has no catch-all), so a new
//! event cannot be forgotten.

use crate::event::DomainEvent;
use crate::ids::LocationId;

/// Where an event acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach<'a> {
    /// The whole chain: the catalog, chain-wide prices, promotions for every store, tax
    /// jurisdictions, suppliers, users, settings.
    Chain,
    /// These locations (a stock transfer names two).
    At(Vec<&'a LocationId>),
    /// Where its aggregate is: a void or refund at the sale's store, a drawer's paid-in at
    /// the drawer's store, a promotion ended where it applied. The aggregate's earlier events
    /// say where.
    OfAggregate,
}

impl DomainEvent {
    /// Which locations this event acts on.
    pub fn reach(&self) -> Reach<'_> {
        use DomainEvent as E;
        match self {
            E::ProductRegistered(_) | E::ProductUpdated(_) | E::ProductDiscontinued(_) => Reach::Chain,
            E::ProductPriceChanged(e) => match &e.location {
                Some(location) => Reach::At(vec![location]),
                None => Reach::Chain,
            },
            E::StockReceived(e) => Reach::At(vec![&e.location]),
            E::StockAdjusted(e) => Reach::At(vec![&e.location]),
            E::StockCounted(e) => Reach::At(vec![&e.location]),
            E::StockTransferred(e) => Reach::At(vec![&e.from_location, &e.to_location]),
            E::SaleCompleted(e) => Reach::At(vec![&e.location]),
            E::SaleRefunded(e) => Reach::At(vec![&e.location]),
            E::SaleVoided(_) => Reach::OfAggregate,
            E::UserJoined(_) | E::UserRoleChanged(_) | E::UserDeactivated(_) | E::UserLocationsChanged(_) => {
                Reach::Chain
            }
            E::LocationOpened(e) => Reach::At(vec![&e.location_id]),
            E::LocationUpdated(e) => Reach::At(vec![&e.location_id]),
            E::LocationClosed(e) => Reach::At(vec![&e.location_id]),
            E::BusinessDayClosed(e) => Reach::At(vec![&e.location_id]),
            E::TaxJurisdictionConfigured(_) => Reach::Chain,
            E::DrawerSessionOpened(e) => Reach::At(vec![&e.location]),
            E::EmptiesReturned(e) => Reach::At(vec![&e.location]),
            E::PaidInRecorded(_)
            | E::PaidOutRecorded(_)
            | E::SafeDropRecorded(_)
            | E::DrawerSessionClosed(_)
            | E::OverShortApproved(_) => Reach::OfAggregate,
            E::CashSettingsConfigured(_) | E::SalesSettingsConfigured(_) => Reach::Chain,
            E::SupplierRegistered(_) | E::SupplierUpdated(_) => Reach::Chain,
            E::PurchaseOrderDrafted(e) => Reach::At(vec![&e.location]),
            E::PurchaseOrderSubmitted(e) => Reach::At(vec![&e.location]),
            E::PurchaseOrderReceived(e) => Reach::At(vec![&e.location]),
            E::PurchaseOrderClosed(e) => Reach::At(vec![&e.location]),
            E::PurchaseOrderCancelled(e) => Reach::At(vec![&e.location]),
            E::ReorderLevelsChanged(e) => Reach::At(vec![&e.location]),
            E::PromotionCreated(e) => promotion(&e.details.locations),
            E::PromotionUpdated(e) => promotion(&e.details.locations),
            E::PromotionEnded(_) => Reach::OfAggregate,
        }
    }
}

impl Reach<'_> {
    /// Whether someone held to the locations `holds` answers true for sees an event that
    /// acts here (the feed of a store's manager or key, a store's webhook endpoint): an
    /// event of the whole chain, yes; one at some locations, when it holds one of them (a
    /// transfer, at either end); [`Reach::OfAggregate`], not until it is resolved from
    /// the aggregate's earlier events ([`of_aggregate`]).
    pub fn seen_by(&self, holds: impl Fn(&LocationId) -> bool) -> bool {
        match self {
            Reach::Chain => true,
            Reach::At(places) => places.iter().any(|place| holds(place)),
            Reach::OfAggregate => false,
        }
    }
}

impl DomainEvent {
    /// Whether acting with this event also acts where its aggregate was until now: true for
    /// events that act [`Reach::OfAggregate`], and for a promotion's update (which may move
    /// it from every store to one). False for the others: a store's own price for a
    /// chain-wide product acts at that store only.
    pub fn inherits_reach(&self) -> bool {
        matches!(self.reach(), Reach::OfAggregate) || matches!(self, DomainEvent::PromotionUpdated(_))
    }
}

/// Where an aggregate is, by its events (oldest first): the reach of the latest one that
/// says; `None` when none does (an aggregate with no events yet).
pub fn of_aggregate<'a>(events: impl DoubleEndedIterator<Item = &'a DomainEvent>) -> Option<Reach<'a>> {
    events
        .rev()
        .map(DomainEvent::reach)
        .find(|reach| *reach != Reach::OfAggregate)
}

/// A promotion for some stores acts there; one for none listed applies everywhere.
fn promotion(locations: &[LocationId]) -> Reach<'_> {
    if locations.is_empty() {
        Reach::Chain
    } else {
        Reach::At(locations.iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).unwrap_or_else(|err| panic!("{err}"))
    }

    #[test]
    fn a_store_sees_the_chain_and_its_own_places_and_nothing_unresolved() {
        let main = LocationId::parse("main").expect("an id");
        let annex = LocationId::parse("annex").expect("an id");
        let at_main = |place: &LocationId| place.as_str() == "main";
        assert!(Reach::Chain.seen_by(at_main));
        assert!(Reach::At(vec![&main]).seen_by(at_main));
        assert!(!Reach::At(vec![&annex]).seen_by(at_main));
        assert!(Reach::At(vec![&annex, &main]).seen_by(at_main), "a transfer to main");
        assert!(!Reach::At(vec![]).seen_by(at_main), "placed nowhere");
        assert!(!Reach::OfAggregate.seen_by(|_| true));
    }

    #[test]
    fn an_aggregate_is_where_its_latest_event_that_says_put_it() {
        let main = LocationId::parse("main").expect("an id");
        let annex = LocationId::parse("annex").expect("an id");
        let transfer = DomainEvent::StockTransferred(payload(serde_json::json!({"movement_id": "m-1",
            "sku": "A", "from_location": "main", "to_location": "annex", "quantity": 1})));
        assert_eq!(transfer.reach(), Reach::At(vec![&main, &annex]));
        assert!(!transfer.inherits_reach());
        let created = DomainEvent::PromotionCreated(payload(serde_json::json!({"promotion_id": "p",
            "details": {"name": "p", "currency": "USD",
                "rule": {"kind": "quantity_breaks", "sku": "A", "breaks": [{"min_quantity": 2, "unit_price_minor": 1}]},
                "starts_at": "2026-11-01T00:00:00Z", "locations": []}})));
        assert_eq!(
            created.reach(),
            Reach::Chain,
            "a promotion for no store listed is everywhere's"
        );
        let ended = DomainEvent::PromotionEnded(payload(serde_json::json!({"promotion_id": "p"})));
        assert_eq!(ended.reach(), Reach::OfAggregate);
        assert!(ended.inherits_reach());
        assert_eq!(of_aggregate([&created, &ended].into_iter()), Some(Reach::Chain));
        assert_eq!(of_aggregate(std::iter::empty()), None);
        let void = DomainEvent::SaleVoided(payload(serde_json::json!({"sale_id": "s", "reason": "x"})));
        assert_eq!(
            of_aggregate([&transfer, &void].into_iter()),
            Some(Reach::At(vec![&main, &annex]))
        );
    }
}
