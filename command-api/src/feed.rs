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

use std::collections::BTreeSet;
use std::time::Duration;

use events::{AggregateKind, EventType, FeedEvent, TenantId};
use eventstore::{Delivery, EventStore, TenantReader};
use futures::Stream;
use serde::Serialize;
use tokio::time::Instant;

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
        if let Some(event) = public_event(store, tenant, &delivery, request.types.as_ref(), request.personal_data) {
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
    }
    let state = Live {
        store,
        tenant,
        types,
        reader,
        personal_data,
    };
    Ok(futures::stream::unfold(state, |mut live| async move {
        loop {
            match live.reader.next().await? {
                Ok(delivery) => {
                    if let Some(event) = public_event(
                        &live.store,
                        &live.tenant,
                        &delivery,
                        live.types.as_ref(),
                        live.personal_data,
                    ) {
                        return Some((event, live));
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

/// The public form of `delivery` if it is an event of `tenant` of a wanted type, with its
/// personal data only when `personal_data`.
fn public_event(
    store: &EventStore,
    tenant: &TenantId,
    delivery: &Delivery,
    types: Option<&BTreeSet<EventType>>,
    personal_data: bool,
) -> Option<FeedEvent> {
    let sequence = delivery.sequence();
    match store.scheme().parse(delivery.subject()) {
        Ok((_, aggregate)) if aggregate.kind == AggregateKind::Control => return None,
        Ok(_) => {}
        Err(err) => {
            tracing::warn!(sequence, error = %err, "feed: a message on an unparsable subject passed over");
            return None;
        }
    }
    let envelope = match events::decode(delivery.payload()) {
        Ok(envelope) => envelope,
        Err(err) => {
            tracing::warn!(sequence, error = %err, "feed: an undecodable event passed over");
            return None;
        }
    };
    if &envelope.tenant_id != tenant || types.is_some_and(|types| !types.contains(&envelope.event_type())) {
        return None;
    }
    let event = if personal_data {
        FeedEvent::with_personal_data(sequence, &envelope)
    } else {
        FeedEvent::from_envelope(sequence, &envelope)
    };
    match event {
        Ok(event) => Some(event),
        Err(err) => {
            tracing::warn!(sequence, error = %err, "feed: an event that cannot be shown passed over");
            None
        }
    }
}
