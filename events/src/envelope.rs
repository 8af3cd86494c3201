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
    /// The authenticated user (the JWT's `userId`); absent when an integration's API key
    /// acted (then [`Actor::api_key_id`] says which). Every event before API keys could
    /// post commands has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// The integration's API key that posted the command (the `<id>` of `tsk_<id>_...`),
    /// when no user did. Never a user id: a key is not a user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_id: Option<String>,
    /// Their role when they acted (an API key acts as a manager).
    pub role: Role,
    /// The terminal they used, when the command came from one.
    #[serde(default)]
    pub terminal_id: Option<TerminalId>,
}

impl Actor {
    /// The actor of a user's command.
    pub fn user(user_id: UserId, role: Role, terminal_id: Option<TerminalId>) -> Self {
        Self {
            user_id: Some(user_id),
            api_key_id: None,
            role,
            terminal_id,
        }
    }

    /// Who acted, as the read model records it (`voided_by`, `recorded_by`): the user's
    /// id, or `key:<id>` for an API key (`:` is not allowed in a user id, so the two
    /// never collide).
    pub fn label(&self) -> String {
        match (&self.user_id, &self.api_key_id) {
            (Some(user), _) => user.to_string(),
            (None, Some(key)) => format!("{}{key}", Self::KEY_LABEL_PREFIX),
            (None, None) => String::new(),
        }
    }

    /// What [`Actor::label`] puts before an API key's id.
    pub const KEY_LABEL_PREFIX: &'static str = "key:";
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
