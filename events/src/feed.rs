//! The public shape of an event as integrators see it (the event feed, later webhooks):
//! versioned, stable and without personal data, unlike the internal
//! [`EventEnvelope`], which may change with every build.
//!
//! ```json
//! {"sequence": 42, "id": "0190…", "type": "SaleCompleted", "version": 1,
//!  "occurred_at": "…", "recorded_at": "…", "aggregate": {"kind": "sale", "id": "s-1"},
//!  "data": {…}}
//! ```
//!
//! - `sequence` is the event's stream sequence: the feed's cursor. It grows with every
//!   message of the stream, so a tenant's sequences have gaps.
//! - `version` is the version of the *public* `data` shape of that `type`. Adding a field
//!   to `data` does not change it; removing, renaming or changing the meaning of one does.
//!   Every type is at version 1 today ([`PUBLIC_VERSIONS`]).
//! - `data` is the event's payload at the internal version this build writes, with the
//!   personal data listed in [`REDACTED`] removed. Who acted (the envelope's actor),
//!   correlation and idempotency keys are internal and left out.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::AggregateKind;
use crate::envelope::EventEnvelope;
use crate::event::{DomainEvent, EventType};

/// One event as the feed shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedEvent {
    /// The event's stream sequence: pass the last one seen as the next `after` cursor.
    pub sequence: u64,
    /// The event's unique id (UUIDv7); stable across re-deliveries, so consumers can
    /// de-duplicate by it.
    pub id: Uuid,
    /// The event type, e.g. `SaleCompleted`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The version of this type's public `data` shape.
    pub version: u32,
    /// When it happened, by the terminal's clock (what the receipt says).
    pub occurred_at: DateTime<Utc>,
    /// When the server accepted it.
    pub recorded_at: DateTime<Utc>,
    /// The aggregate (sale, product, user, ...) it belongs to.
    pub aggregate: FeedAggregate,
    /// The event's payload without personal data; its fields are those of the event type
    /// (see docs/feed.md).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

/// The aggregate an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedAggregate {
    /// `product`, `movement`, `sale`, `user`, `location`, `jurisdiction`, `drawer`,
    /// `settings` or `promotion`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: AggregateKind,
    /// Its id within the tenant (SKU, sale id, user id, ...).
    pub id: String,
}

/// The personal data left out of `data`: (event type, field). Its absence is the public
/// contract; an integration that needs it must get it another way.
pub const REDACTED: &[(EventType, &str)] = &[(EventType::UserJoined, "name"), (EventType::UserJoined, "email")];

/// For every event type: the version of its public shape and the internal schema version
/// that shape was written against. A unit test compares the latter with
/// [`EventType::current_version`], so changing an internal payload (or adding an event
/// type) forces a look at what the feed shows: bump the public version when a field
/// disappears or changes meaning, and add new personal data to [`REDACTED`].
pub const PUBLIC_VERSIONS: &[(EventType, u32, u32)] = &[
    (EventType::ProductRegistered, 1, 2),
    (EventType::ProductUpdated, 1, 1),
    (EventType::ProductPriceChanged, 1, 2),
    (EventType::ProductDiscontinued, 1, 1),
    (EventType::StockReceived, 1, 1),
    (EventType::StockAdjusted, 1, 2),
    (EventType::StockCounted, 1, 1),
    (EventType::StockTransferred, 1, 1),
    (EventType::SaleCompleted, 1, 3),
    (EventType::SaleVoided, 1, 2),
    (EventType::SaleRefunded, 1, 3),
    (EventType::UserJoined, 1, 1),
    (EventType::UserRoleChanged, 1, 1),
    (EventType::UserDeactivated, 1, 1),
    (EventType::LocationOpened, 1, 1),
    (EventType::LocationUpdated, 1, 1),
    (EventType::LocationClosed, 1, 1),
    (EventType::BusinessDayClosed, 1, 1),
    (EventType::TaxJurisdictionConfigured, 1, 1),
    (EventType::DrawerSessionOpened, 1, 1),
    (EventType::PaidInRecorded, 1, 1),
    (EventType::PaidOutRecorded, 1, 1),
    (EventType::SafeDropRecorded, 1, 1),
    (EventType::EmptiesReturned, 1, 1),
    (EventType::DrawerSessionClosed, 1, 1),
    (EventType::OverShortApproved, 1, 1),
    (EventType::CashSettingsConfigured, 1, 1),
    (EventType::SalesSettingsConfigured, 1, 1),
    (EventType::SupplierRegistered, 1, 1),
    (EventType::SupplierUpdated, 1, 1),
    (EventType::PurchaseOrderDrafted, 1, 1),
    (EventType::PurchaseOrderSubmitted, 1, 1),
    (EventType::PurchaseOrderReceived, 1, 1),
    (EventType::PurchaseOrderClosed, 1, 1),
    (EventType::PurchaseOrderCancelled, 1, 1),
    (EventType::ReorderLevelsChanged, 1, 1),
    (EventType::PromotionCreated, 1, 1),
    (EventType::PromotionUpdated, 1, 1),
    (EventType::PromotionEnded, 1, 1),
    (EventType::UserLocationsChanged, 1, 1),
];

/// The version of `event_type`'s public shape (1 for a type missing from
/// [`PUBLIC_VERSIONS`], which the unit test does not let happen).
pub fn public_version(event_type: EventType) -> u32 {
    PUBLIC_VERSIONS
        .iter()
        .find(|(t, _, _)| *t == event_type)
        .map_or(1, |(_, public, _)| *public)
}

impl FeedEvent {
    /// The public form of `envelope`, stored at stream sequence `sequence`, without the
    /// personal data of [`REDACTED`].
    pub fn from_envelope(sequence: u64, envelope: &EventEnvelope) -> Result<Self, serde_json::Error> {
        Self::build(sequence, envelope, true)
    }

    /// The public form of `envelope` with its personal data (the fields of [`REDACTED`]
    /// kept): only for a caller allowed to see it (an API key with the personal-data
    /// scope).
    pub fn with_personal_data(sequence: u64, envelope: &EventEnvelope) -> Result<Self, serde_json::Error> {
        Self::build(sequence, envelope, false)
    }

    fn build(sequence: u64, envelope: &EventEnvelope, redact: bool) -> Result<Self, serde_json::Error> {
        let aggregate = envelope.aggregate();
        Ok(Self {
            sequence,
            id: envelope.event_id,
            event_type: envelope.event_type().as_str().to_owned(),
            version: public_version(envelope.event_type()),
            occurred_at: envelope.occurred_at,
            recorded_at: envelope.recorded_at,
            aggregate: FeedAggregate {
                kind: aggregate.kind,
                id: aggregate.id,
            },
            data: public_data(&envelope.event, redact)?,
        })
    }
}

/// `event`'s payload, without the fields of [`REDACTED`] when `redact`.
fn public_data(event: &DomainEvent, redact: bool) -> Result<serde_json::Value, serde_json::Error> {
    let mut data = event.payload_json()?;
    let event_type = event.event_type();
    if redact && let Some(fields) = data.as_object_mut() {
        for (_, field) in REDACTED.iter().filter(|(t, _)| *t == event_type) {
            fields.remove(*field);
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Actor;
    use crate::event::{SaleVoided, UserJoined};
    use crate::{Role, SaleId, TenantId, UserId};

    fn envelope(event: DomainEvent) -> EventEnvelope {
        let at = DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("valid instant");
        EventEnvelope {
            event_id: Uuid::now_v7(),
            tenant_id: TenantId::parse("acme").expect("valid tenant"),
            occurred_at: at,
            recorded_at: at + chrono::Duration::seconds(5),
            actor: Actor {
                user_id: Some(UserId::parse("u-1").expect("valid user")),
                api_key_id: None,
                role: Role::Admin,
                terminal_id: None,
            },
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            idempotency_key: "secret-key-1".to_owned(),
            event,
        }
    }

    fn user_joined() -> DomainEvent {
        DomainEvent::UserJoined(UserJoined {
            user_id: UserId::parse("u-2").expect("valid user"),
            name: "Ada Lovelace".to_owned(),
            email: "ada@example.com".to_owned(),
            role: Role::Cashier,
        })
    }

    #[test]
    fn a_user_joined_event_shows_neither_the_email_nor_the_name() {
        let envelope = envelope(user_joined());
        let feed = FeedEvent::from_envelope(7, &envelope).expect("maps");
        let text = serde_json::to_string(&feed).expect("serializes");
        assert!(!text.contains("ada@example.com"), "{text}");
        assert!(!text.contains("Ada Lovelace"), "{text}");
        assert_eq!(feed.data, serde_json::json!({"user_id": "u-2", "role": "cashier"}));
    }

    #[test]
    fn with_personal_data_keeps_the_email_and_the_name() {
        let envelope = envelope(user_joined());
        let feed = FeedEvent::with_personal_data(7, &envelope).expect("maps");
        assert_eq!(feed.data["email"], "ada@example.com");
        assert_eq!(feed.data["name"], "Ada Lovelace");
        assert_eq!(feed.data["user_id"], "u-2");
    }

    #[test]
    fn the_public_shape_has_the_documented_fields_and_nothing_internal() {
        let envelope = envelope(DomainEvent::SaleVoided(SaleVoided {
            sale_id: SaleId::parse("s-1").expect("valid sale"),
            reason: "wrong items".to_owned(),
            business_date: None,
            drawer_session_id: None,
        }));
        let feed = FeedEvent::from_envelope(42, &envelope).expect("maps");
        let json = serde_json::to_value(&feed).expect("serializes");
        // Sorted: serde_json keeps insertion order only when some crate of the build enables
        // its `preserve_order` feature, so the order of a map's keys is not the test's business.
        let mut keys: Vec<&str> = json.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "aggregate",
                "data",
                "id",
                "occurred_at",
                "recorded_at",
                "sequence",
                "type",
                "version"
            ]
        );
        assert_eq!(json["sequence"], 42);
        assert_eq!(json["id"], envelope.event_id.to_string());
        assert_eq!(json["type"], "SaleVoided");
        assert_eq!(json["version"], 1);
        assert_eq!(json["occurred_at"], "2026-11-30T10:00:00Z");
        assert_eq!(json["recorded_at"], "2026-11-30T10:00:05Z");
        assert_eq!(json["aggregate"], serde_json::json!({"kind": "sale", "id": "s-1"}));
        assert_eq!(
            json["data"],
            serde_json::json!({"sale_id": "s-1", "reason": "wrong items"})
        );
        let text = json.to_string();
        assert!(!text.contains("secret-key-1"), "idempotency key leaked: {text}");
        assert!(!text.contains("u-1"), "actor leaked: {text}");
    }

    #[test]
    fn the_public_shape_round_trips() {
        let feed = FeedEvent::from_envelope(3, &envelope(user_joined())).expect("maps");
        let text = serde_json::to_string(&feed).expect("serializes");
        let back: FeedEvent = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, feed);
    }

    #[test]
    fn every_event_type_has_a_public_version_written_against_its_current_schema() {
        for event_type in EventType::ALL {
            let row = PUBLIC_VERSIONS.iter().find(|(t, _, _)| t == event_type);
            let Some((_, public, internal)) = row else {
                panic!("{event_type} has no row in feed::PUBLIC_VERSIONS: decide its public shape");
            };
            assert!(*public >= 1);
            assert_eq!(
                *internal,
                event_type.current_version(),
                "{event_type}'s internal schema changed: check what the feed shows (REDACTED, \
                 PUBLIC_VERSIONS) and update the row"
            );
        }
        assert_eq!(PUBLIC_VERSIONS.len(), EventType::ALL.len());
    }

    #[test]
    fn every_redacted_field_exists_in_its_payload() {
        // A renamed field would otherwise leak silently under its new name.
        let payload = user_joined().payload_json().expect("serializes");
        for (event_type, field) in REDACTED {
            assert_eq!(
                *event_type,
                EventType::UserJoined,
                "add a payload sample for {event_type}"
            );
            assert!(payload.get(*field).is_some(), "{event_type} has no field {field}");
        }
    }
}
