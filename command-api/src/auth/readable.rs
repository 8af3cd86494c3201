//! [`Readable`]: the locations whose sales, drawers, stock movements, purchase orders and
//! reports a caller may read.
//!
//! A user or API key limited to locations (docs/identity.md, docs/webhooks.md) acts only
//! there ([`crate::auth::TenantContext::may_reach`]) and reads only there:
//! - a report or list with a `location` parameter is held to one of the caller's
//!   locations: the one named (403 `location_forbidden` for another), or, when none is
//!   named, the caller's only location; a caller limited to several must name one (422
//!   naming `location`);
//! - one sale, drawer session or purchase order of another location is 403
//!   `location_forbidden`;
//! - the event feed shows the events that act on the whole chain or at one of the
//!   caller's locations ([`Readable::sees`]; `crate::feed`).
//!
//! The chain's reference data (products, prices, stock levels, promotions, locations,
//! tax rules) stays readable by every user: a till looks up the other store's stock for
//! a customer.

use std::sync::Arc;

use events::LocationId;
use events::event::reach::Reach;

use crate::error::ApiError;

/// Where a caller may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readable {
    /// Every location (admins, and users and keys without a limit).
    Everywhere,
    /// Only these locations.
    Only(Arc<[LocationId]>),
}

impl Readable {
    /// From a caller's limit (`None`: every location).
    pub fn of(locations: Option<Arc<[LocationId]>>) -> Self {
        match locations {
            None => Readable::Everywhere,
            Some(locations) => Readable::Only(locations),
        }
    }

    /// Holds a report's or list's `location` parameter to the caller's locations: kept
    /// when the caller may read there (403 `location_forbidden` when not), set to the
    /// caller's only location when absent, 422 naming `location` when absent and the
    /// caller has several.
    pub fn hold(&self, location: &mut Option<String>) -> Result<(), ApiError> {
        let Readable::Only(allowed) = self else {
            return Ok(());
        };
        match (location.as_deref(), &allowed[..]) {
            (Some(named), _) => self.check(named),
            (None, [only]) => {
                *location = Some(only.to_string());
                Ok(())
            }
            (None, several) => Err(ApiError::invalid(
                "location",
                format!(
                    "required: the caller reads only at {}; name one",
                    several.iter().map(LocationId::as_str).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    /// 403 `location_forbidden` unless the caller may read what happened at `location`
    /// (one sale, drawer session or purchase order).
    pub fn check(&self, location: &str) -> Result<(), ApiError> {
        match self {
            Readable::Everywhere => Ok(()),
            Readable::Only(allowed) if allowed.iter().any(|allowed| allowed.as_str() == location) => Ok(()),
            Readable::Only(_) => Err(ApiError::LocationForbidden {
                location: Some(location.to_owned()),
            }),
        }
    }

    /// Whether the caller sees an event that acts at `reach` (the event feed): every
    /// event when not limited; else one that acts on the whole chain or at one of the
    /// caller's locations (a transfer, at either of its two). [`Reach::OfAggregate`] is
    /// not an answer: the caller resolves it from the aggregate's earlier events first
    /// (`events::event::reach::of_aggregate`), and an unresolved one is not seen.
    pub fn sees(&self, reach: &Reach<'_>) -> bool {
        match self {
            Readable::Everywhere => true,
            Readable::Only(allowed) => reach.seen_by(|place| allowed.contains(place)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::ErrorCode;

    fn only(ids: &[&str]) -> Readable {
        Readable::Only(
            ids.iter()
                .map(|id| LocationId::parse(*id).expect("a valid location id"))
                .collect::<Vec<_>>()
                .into(),
        )
    }

    #[test]
    fn everywhere_keeps_what_was_asked() {
        let mut none = None;
        Readable::Everywhere.hold(&mut none).expect("no limit");
        assert_eq!(none, None, "no location stays every location");
        let mut annex = Some("annex".to_owned());
        Readable::Everywhere.hold(&mut annex).expect("no limit");
        assert_eq!(annex.as_deref(), Some("annex"));
        Readable::Everywhere.check("annex").expect("no limit");
        assert!(Readable::Everywhere.sees(&Reach::OfAggregate));
    }

    #[test]
    fn one_location_is_the_default_and_others_are_refused() {
        let main = only(&["main"]);
        let mut none = None;
        main.hold(&mut none).expect("defaulted");
        assert_eq!(none.as_deref(), Some("main"));
        let mut named = Some("main".to_owned());
        main.hold(&mut named).expect("its own location");
        assert_eq!(named.as_deref(), Some("main"));
        let mut other = Some("annex".to_owned());
        let err = main.hold(&mut other).expect_err("another location");
        assert_eq!(err.code(), ErrorCode::LocationForbidden);
        assert_eq!(other.as_deref(), Some("annex"), "a refused parameter is not rewritten");
        assert_eq!(
            main.check("annex").expect_err("another").code(),
            ErrorCode::LocationForbidden
        );
        main.check("main").expect("its own");
    }

    #[test]
    fn a_limited_caller_sees_the_chain_and_its_own_locations_in_the_feed() {
        let (main_id, annex_id) = (
            LocationId::parse("main").expect("id"),
            LocationId::parse("annex").expect("id"),
        );
        let main = only(&["main"]);
        assert!(main.sees(&Reach::Chain), "the catalog, users, settings");
        assert!(main.sees(&Reach::At(vec![&main_id])));
        assert!(!main.sees(&Reach::At(vec![&annex_id])));
        assert!(main.sees(&Reach::At(vec![&annex_id, &main_id])), "a transfer to main");
        assert!(!main.sees(&Reach::OfAggregate), "unresolved is not seen");
        assert!(Readable::Everywhere.sees(&Reach::At(vec![&annex_id])));
    }

    #[test]
    fn several_locations_must_be_named() {
        let two = only(&["annex", "main"]);
        let mut none = None;
        let err = two.hold(&mut none).expect_err("ambiguous");
        assert_eq!(err.code(), ErrorCode::InvalidField);
        match err {
            ApiError::InvalidField { field, message } => {
                assert_eq!(field, "location");
                assert!(message.contains("annex, main"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(none, None);
        let mut annex = Some("annex".to_owned());
        two.hold(&mut annex).expect("one of its locations");
        let mut third = Some("north".to_owned());
        assert_eq!(
            two.hold(&mut third).expect_err("a third").code(),
            ErrorCode::LocationForbidden
        );
    }
}
