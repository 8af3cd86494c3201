//! The envelope every event travels in: who, when, which tenant and aggregate, why
//! (correlation and causation) and under which idempotency key.
//!
//! Two clocks are kept on purpose: `occurred_at` is the terminal's clock (what the
//! receipt says, possibly hours old when a terminal comes back online) and `recorded_at`
//! is the server's clock when the command was accepted. Reports bucket by `occurred_at`;
//! operations look at `recorded_at`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::aggregate::AggregateRef;
use crate::event::{DomainEvent, EventType};
use crate::ids::{TerminalId, UserId};
use crate::role::Role;
use crate::tenant::TenantId;

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// The authenticated user (the JWT's `userId`).
    pub user_id: UserId,
    /// Their role when they acted.
    pub role: Role,
    /// The terminal they used, when the command came from one.
    #[serde(default)]
    pub terminal_id: Option<TerminalId>,
}

/// One event with its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    /// Unique id of this event (UUIDv7: time-ordered). Also the `Nats-Msg-Id`.
    pub event_id: Uuid,
    /// The tenant the event belongs to; its subject and database follow from it.
    pub tenant_id: TenantId,
    /// When it happened, by the terminal's clock.
    pub occurred_at: DateTime<Utc>,
    /// When the server accepted the command that produced it.
    pub recorded_at: DateTime<Utc>,
    /// Who caused it.
    pub actor: Actor,
    /// Groups every event that stems from one user action (e.g. one HTTP request).
    pub correlation_id: Uuid,
    /// The event or command that directly caused this one, if any.
    pub causation_id: Option<Uuid>,
    /// The client's idempotency key of the command that produced this event.
    pub idempotency_key: String,
    /// What happened.
    pub event: DomainEvent,
}

impl EventEnvelope {
    /// The aggregate the event belongs to (derived from the payload, so it cannot disagree).
    pub fn aggregate(&self) -> AggregateRef {
        self.event.aggregate()
    }

    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.event.event_type()
    }

    /// The schema version this envelope is written with (always the current one).
    pub fn schema_version(&self) -> u32 {
        self.event.event_type().current_version()
    }
}
