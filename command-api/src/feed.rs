//! The integrators' event feed: a page of one tenant's events after a cursor (the stream
//! sequence), oldest first, in the public shape of [`events::FeedEvent`], optionally
//! waiting for new ones (long poll).
//!
//! A page is read like this:
//!
//! 1. open a reader of the tenant's subjects from `after + 1` (an ephemeral ordered
//!    consumer of the event store; the command API never touches JetStream itself), one
//!    that follows new events when the page may wait;
//! 2. take messages in stream order: control markers, events of other types than asked
//!    for and (logged) undecodable messages are passed over, but still move the cursor,
//!    so the next page does not scan them again;
//! 3. stop at `limit` events, after [`MAX_SCANNED`] messages, or once the reader has
//!    caught up with the stream: then, if the page is still empty, wait for a new event
//!    until the wait is over (the client's `wait_ms`, bounded by the server's).
//!
//! `next_after` is the last sequence looked at (or `after` when none was), so a client
//! that always passes it back sees every event once, without gap or duplicate.
//!
//! [`live`] is the same reader as an endless stream of matching events, for Server-Sent
//! Events.
//!
//! A caller limited to locations (a store's manager, a store's integration key) sees the
//! events that act on the whole chain (the catalog, chain-wide prices and promotions,
//! users, tax rules, settings) and those that act at one of its locations
//! ([`Readable::sees`]); the others are passed over like events of an unwanted type. An
//! event that acts where its aggregate is (a void, a drawer's paid-in, a promotion's end)
//! is seen when its aggregate's earlier events are ([`eventstore::Places`]). A page that cannot
//! tell (the event store does not answer) fails with 503 rather than skip the event.

use std::collections::BTreeSet;
use std::time::Duration;

use events::{AggregateKind, DomainEvent, EventType, FeedEvent, TenantId};
use eventstore::{Delivery, EventStore, Places, TenantReader};
use futures::Stream;
use serde::Serialize;
use tokio::time::Instant;

use crate::auth::Readable;
use crate::error::ApiError;

/// Most messages one page looks at, matching or not: a narrow type filter over a long
/// history answers a page with fewer events (maybe none) and a `next_after` further on,
/// rather than holding the request while it scans everything.
pub const MAX_SCANNED: usize = 10_000;

/// Longest the reader may go quiet before the stream is caught up; past it the page is
/// answered with what it has (the client continues from `next_after`).
const STALL: Duration = Duration::from_secs(2);

/// What a page asks for, validated.
#[derive(Debug, Clone)]
pub struct FeedRequest {
    /// Events after this stream sequence.
    pub after: u64,
    /// Only these types; `None`: every type.
    pub types: Option<BTreeSet<EventType>>,
    /// Most events in the page.
    pub limit: usize,
    /// How long to wait for a new event when there is none (already bounded).
    pub wait: Duration,
    /// Whether events keep their personal data (an API key with `feed_personal_data`).
    pub personal_data: bool,
    /// The locations the caller reads (a limited caller sees only theirs and the chain's).
    pub readable: Readable,
}

/// One page of the feed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedPage {
    /// The events, oldest first.
    pub events: Vec<FeedEvent>,
    /// The cursor for the next page: the last stream sequence this page looked at (events
    /// filtered out included), or the request's `after` when it looked at none.
    pub next_after: u64,
    /// Whether the page reached the newest event stored when it was read: `false` means
    /// more is waiting, ask again at once with `next_after`.
    pub caught_up: bool,
}

/// Reads one page of `tenant`'s feed.
#[tracing::instrument(skip_all, fields(tenant = %tenant, after = request.after))]
pub async fn page(store: &EventStore, tenant: &TenantId, request: &FeedRequest) -> Result<FeedPage, ApiError> {
    let deadline = Instant::now() + request.wait;
    let from = request.after.saturating_add(1);
    // A page that will not wait need not subscribe when there is nothing to read.
    let reader = if request.wait.is_zero() {
        store.tenant_reader(tenant, from).await
    } else {
        store.tenant_follower(tenant, from).await
    };
    let mut reader = reader.map_err(|e| ApiError::Unavailable(anyhow::Error::new(e)))?;
    let mut page = FeedPage {
        events: Vec::new(),
        next_after: request.after,
        caught_up: reader.pending() == 0,
    };
    let mut visibility = Visibility::new(request.readable.clone());
    let mut scanned = 0;
    while page.events.len() < request.limit && scanned < MAX_SCANNED {
        let until = if page.caught_up {
            if !page.events.is_empty() {
                break;
            }
            deadline
        } else {
            Instant::now() + STALL
        };
        let delivery = match tokio::time::timeout_at(until, reader.next()).await {
            Err(_) | Ok(None) => break,
            Ok(Some(Err(e))) => return Err(ApiError::Unavailable(anyhow::Error::new(e))),
            Ok(Some(Ok(delivery))) => delivery,
        };
        scanned += 1;
        page.next_after = delivery.sequence();
        page.caught_up = delivery.pending() == 0;
        let wanted = Wanted {
            types: request.types.as_ref(),
            personal_data: request.personal_data,
        };
        if let Some(event) = public_event(store, tenant, &delivery, wanted, &mut visibility).await? {
            page.events.push(event);
        }
    }
    Ok(page)
}

/// `tenant`'s events after `after` of the wanted `types`, oldest first, then each new one
/// as it is stored. The reader is opened before this returns (so an unavailable event
/// store is an answer, not an empty stream); the stream ends when the reader fails or
/// stops (logged), and the client resumes from the last sequence it got.
pub async fn live(
    store: EventStore,
    tenant: TenantId,
    after: u64,
    types: Option<BTreeSet<EventType>>,
    personal_data: bool,
    readable: Readable,
) -> Result<impl Stream<Item = FeedEvent> + Send + 'static, ApiError> {
    let reader = store
        .tenant_follower(&tenant, after.saturating_add(1))
        .await
        .map_err(|e| ApiError::Unavailable(anyhow::Error::new(e)))?;
    struct Live {
        store: EventStore,
        tenant: TenantId,
        types: Option<BTreeSet<EventType>>,
        reader: TenantReader,
        personal_data: bool,
        visibility: Visibility,
    }
    let state = Live {
        store,
        tenant,
        types,
        reader,
        personal_data,
        visibility: Visibility::new(readable),
    };
    Ok(futures::stream::unfold(state, |mut live| async move {
        loop {
            match live.reader.next().await? {
                Ok(delivery) => {
                    let wanted = Wanted {
                        types: live.types.as_ref(),
                        personal_data: live.personal_data,
                    };
                    match public_event(&live.store, &live.tenant, &delivery, wanted, &mut live.visibility).await {
                        Ok(Some(event)) => return Some((event, live)),
                        Ok(None) => {}
                        // The client reconnects with the last id it got and this event is
                        // looked at again: nothing is skipped.
                        Err(err) => {
                            tracing::warn!(tenant = %live.tenant, sequence = delivery.sequence(), error = %err, "feed stream: cannot tell whether the caller sees an event; closing");
                            return None;
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(tenant = %live.tenant, error = %err, "feed stream: the reader failed; closing");
                    return None;
                }
            }
        }
    }))
}

/// What a page or stream asks of each event besides where it acts.
#[derive(Clone, Copy)]
struct Wanted<'a> {
    /// Only these types; `None`: every type.
    types: Option<&'a BTreeSet<EventType>>,
    /// Whether events keep their personal data.
    personal_data: bool,
}

/// The public form of `delivery` if it is an event of `tenant` of a wanted type that the
/// caller sees, with its personal data only when asked. Err only when whether the caller
/// sees it cannot be told (503: the event is not skipped).
async fn public_event(
    store: &EventStore,
    tenant: &TenantId,
    delivery: &Delivery,
    wanted: Wanted<'_>,
    visibility: &mut Visibility,
) -> Result<Option<FeedEvent>, ApiError> {
    let sequence = delivery.sequence();
    match store.scheme().parse(delivery.subject()) {
        Ok((_, aggregate)) if aggregate.kind == AggregateKind::Control => return Ok(None),
        Ok(_) => {}
        Err(err) => {
            tracing::warn!(sequence, error = %err, "feed: a message on an unparsable subject passed over");
            return Ok(None);
        }
    }
    let envelope = match events::decode(delivery.payload()) {
        Ok(envelope) => envelope,
        Err(err) => {
            tracing::warn!(sequence, error = %err, "feed: an undecodable event passed over");
            return Ok(None);
        }
    };
    if &envelope.tenant_id != tenant
        || wanted
            .types
            .is_some_and(|types| !types.contains(&envelope.event_type()))
    {
        return Ok(None);
    }
    if !visibility.sees(store, tenant, sequence, &envelope.event).await? {
        return Ok(None);
    }
    let event = if wanted.personal_data {
        FeedEvent::with_personal_data(sequence, &envelope)
    } else {
        FeedEvent::from_envelope(sequence, &envelope)
    };
    match event {
        Ok(event) => Ok(Some(event)),
        Err(err) => {
            tracing::warn!(sequence, error = %err, "feed: an event that cannot be shown passed over");
            Ok(None)
        }
    }
}

/// Which events a caller limited to locations sees, for one page or stream: where each
/// event acts ([`Places`], which places a void or a drawer's cash movement by its
/// aggregate's earlier events) against the caller's locations ([`Readable::sees`]).
struct Visibility {
    readable: Readable,
    places: Places,
}

impl Visibility {
    fn new(readable: Readable) -> Self {
        Self {
            readable,
            places: Places::new(),
        }
    }

    /// Whether the caller sees `event`, stored at `sequence`.
    async fn sees(
        &mut self,
        store: &EventStore,
        tenant: &TenantId,
        sequence: u64,
        event: &DomainEvent,
    ) -> Result<bool, ApiError> {
        if self.readable == Readable::Everywhere {
            return Ok(true);
        }
        let reach = self.places.of(store, tenant, sequence, event).await?;
        Ok(self.readable.sees(&reach))
    }
}
