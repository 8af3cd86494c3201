//! Running a command: decide against the aggregate's history, append with an expectation
//! on its subject, and recognise retries.
//!
//! The loop is optimistic concurrency over JetStream's per-subject sequence:
//!
//! 1. A command that creates its aggregate (a sale, a stock movement, a product) is
//!    appended straight away, expecting the subject to be empty: one round trip.
//! 2. Otherwise, or when that expectation fails, the aggregate's history is read. If it
//!    already holds this command (same fingerprint), the original answer is returned,
//!    however long ago it was appended (for commands that set a value back and forth, such
//!    as a role, and were sent without a key: only as the latest event); the client's `Idempotency-Key` on an event with
//!    another fingerprint is 409 `idempotency_key_reused`.
//! 3. Else the command is decided against the history and appended expecting the last
//!    sequence seen. If someone appended in between, JetStream refuses (10071) and the loop
//!    starts over from 2.
//!
//! Before any append, a caller limited to some locations is held to them: the event must
//! act only there (`events::event::reach`), and, for an event that acts where its aggregate
//! is, the aggregate must be there too; else 403 `location_forbidden`, nothing appended.

use std::time::Instant;

use events::event::reach::{self, Reach};
use events::{AggregateRef, DomainEvent};
use eventstore::{AppendError, EventStore, Expected, StoredEvent};
use uuid::Uuid;

use crate::commands::CommandMeta;
use crate::error::ApiError;

/// Attempts before giving up under contention on one aggregate.
const MAX_ATTEMPTS: usize = 5;

/// The result of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The event's id.
    pub event_id: Uuid,
    /// Its stream sequence: the read-your-writes token, and the aggregate's new version.
    pub sequence: u64,
    /// The aggregate it belongs to.
    pub aggregate: AggregateRef,
    /// True when this is the original answer to an earlier, identical command.
    pub replayed: bool,
}

impl Outcome {
    fn replay(stored: &StoredEvent) -> Self {
        Self {
            event_id: stored.envelope.event_id,
            sequence: stored.sequence,
            aggregate: stored.envelope.aggregate(),
            replayed: true,
        }
    }
}

/// Runs a command against `aggregate`. `create` is the event of a command that creates the
/// aggregate (tried first, expecting an empty subject); `decide` builds the event and its
/// expectation from the history.
pub async fn run<D>(
    store: &EventStore,
    meta: &CommandMeta,
    aggregate: AggregateRef,
    create: Option<DomainEvent>,
    mut decide: D,
) -> Result<Outcome, ApiError>
where
    D: FnMut(&[StoredEvent]) -> Result<(DomainEvent, Expected), ApiError>,
{
    let mut pending = create.map(|event| (event, Expected::NoEvents));
    for _ in 0..MAX_ATTEMPTS {
        let (event, expected) = match pending.take() {
            Some((event, expected)) => {
                if held_to_locations(meta) {
                    meta.context.may_reach(&event.reach(), None)?;
                }
                (event, expected)
            }
            None => {
                let history = store.history(&meta.context.tenant, &aggregate).await?;
                if let Some(previous) = previous_attempt(&history, meta)? {
                    metrics::counter!("commands_replayed_total").increment(1);
                    return Ok(Outcome::replay(previous));
                }
                let (event, expected) = decide(&history)?;
                check_reach(meta, &event, &history)?;
                (event, expected)
            }
        };
        let envelope = meta.envelope(event);
        let started = Instant::now();
        let appended = store
            .append(&envelope, expected, Some(&meta.fingerprint), meta.trace.as_ref())
            .await;
        metrics::histogram!("event_append_seconds").record(started.elapsed().as_secs_f64());
        match appended {
            Ok(appended) => {
                // No tenant label: /metrics would list every tenant with its sale count, and
                // one series per tenant and event type does not scale to thousands of tenants.
                metrics::counter!("commands_total", "event_type" => envelope.event_type().as_str()).increment(1);
                tracing::info!(event_id = %envelope.event_id, sequence = appended.sequence, subject = %appended.subject, event_type = %envelope.event_type(), "event appended");
                return Ok(Outcome {
                    event_id: envelope.event_id,
                    sequence: appended.sequence,
                    aggregate,
                    replayed: false,
                });
            }
            Err(AppendError::Conflict { expected }) => {
                tracing::debug!(expected, %aggregate, "aggregate moved on; deciding again");
            }
            Err(err @ AppendError::Unavailable(_)) => {
                return Err(ApiError::Unavailable(
                    anyhow::Error::new(err).context("appending the event"),
                ));
            }
            Err(other) => {
                return Err(ApiError::Internal(
                    anyhow::Error::new(other).context("appending the event"),
                ));
            }
        }
    }
    Err(ApiError::Unavailable(anyhow::anyhow!(
        "{aggregate} changed {MAX_ATTEMPTS} times while the command was decided"
    )))
}

/// 403 `location_forbidden` when the caller is limited to some locations and `event` acts
/// elsewhere, or, for an event that acts where its aggregate is, the aggregate was
/// elsewhere (`history`). An aggregate with no event saying where it is counts as
/// chain-wide.
fn check_reach(meta: &CommandMeta, event: &DomainEvent, history: &[StoredEvent]) -> Result<(), ApiError> {
    if !held_to_locations(meta) {
        return Ok(());
    }
    let was = event
        .inherits_reach()
        .then(|| reach::of_aggregate(history.iter().map(|stored| &stored.envelope.event)).unwrap_or(Reach::Chain));
    meta.context.may_reach(&event.reach(), was.as_ref())
}

/// Whether the command is held to the caller's locations: the caller is limited, and the
/// command did not happen (by the terminal's clock) before the limit was set. A sale rung
/// up at an offline till while the cashier could still sell there is recorded, like any
/// sale that already happened.
fn held_to_locations(meta: &CommandMeta) -> bool {
    meta.context.locations.is_some() && meta.context.limited_since.is_none_or(|since| meta.occurred_at >= since)
}

/// The earlier run of this same command in `history`, if any. A command that may set a
/// value back to what it was (a role) is a retry only as the latest event when sent
/// without a key, and only under the same key when sent with one.
fn previous_attempt<'h>(history: &'h [StoredEvent], meta: &CommandMeta) -> Result<Option<&'h StoredEvent>, ApiError> {
    let searched = if meta.latest_only && !meta.client_key {
        history.len().saturating_sub(1)
    } else {
        0
    };
    // For those commands the body alone does not tell two changes apart: a client's key
    // must match too.
    let key_must_match = meta.latest_only && meta.client_key;
    for stored in history[searched..].iter().rev() {
        let same_fingerprint = stored.request_fingerprint.as_deref() == Some(meta.fingerprint.as_str());
        let same_key = stored.envelope.idempotency_key == meta.idempotency_key;
        if same_fingerprint && (same_key || !key_must_match) {
            return Ok(Some(stored));
        }
        if meta.client_key && stored.envelope.idempotency_key == meta.idempotency_key {
            return Err(ApiError::IdempotencyKeyReused);
        }
    }
    Ok(None)
}

/// The expectation for appending after `history`.
pub fn after(history: &[StoredEvent]) -> Expected {
    match history.last() {
        Some(last) => Expected::LastSequence(last.sequence),
        None => Expected::NoEvents,
    }
}
