//! From recorded deliveries to HTTP requests: the dispatcher.
//!
//! It loops: take the due pending deliveries (next attempt at or before now), oldest event
//! first; group them per (endpoint, aggregate) into chains sent one delivery after
//! another, cut before any delivery that has an older one of its group still pending
//! (waiting for a retry, or in flight at another worker), and stopped at the first
//! failure: so **each endpoint gets the events of one aggregate in stream order**, while
//! different aggregates go out concurrently and in any order. A dead-lettered delivery no
//! longer holds the ones after it (re-sent later, it arrives out of order). The round's
//! deliveries are leased together (so a second worker process does not send them too);
//! each one's endpoint addresses are checked and it is POSTed with its signature. A 2xx
//! answer delivers it; anything else (another status, a timeout, a refused connection)
//! schedules the next attempt with backoff and jitter ([`crate::backoff`]), or
//! dead-letters it after the last. An endpoint whose every attempt has failed for
//! `WEBHOOK_DISABLE_AFTER_SECS` is disabled, and its pending deliveries dead-lettered,
//! which the API shows. Outcomes are written when the round ends; a worker stopped
//! mid-round sends those deliveries again once their lease ends (receivers de-duplicate
//! by event id, as documented).
//!
//! Each attempt runs in a `webhook_delivery` span continuing the trace the event was
//! appended under (its `traceparent`, kept on the delivery), and the request carries the
//! span's own `traceparent`, so a receiver that traces may continue it too.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use telemetry::trace::{TRACEPARENT, TraceContext};
use tracing::Instrument;

use crate::backoff::Backoff;
use crate::signature;
use crate::store::{Delivery, Endpoint, EndpointStatus, WebhookStore};
use crate::target;

/// Most due deliveries looked at per round.
const ROUND: i64 = 1_000;

/// What the dispatcher needs.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    /// Endpoints and deliveries.
    pub webhooks: WebhookStore,
    /// The HTTP client (no redirects followed, the request timeout set).
    pub http: reqwest::Client,
    /// The retry schedule.
    pub backoff: Backoff,
    /// An endpoint failing this long is disabled.
    pub disable_after: Duration,
    /// Longest a receiver may take.
    pub request_timeout: Duration,
    /// Deliveries sent at once.
    pub concurrency: usize,
    /// The wait between rounds that found nothing to do.
    pub poll: Duration,
    /// Whether private and loopback hosts are allowed.
    pub allow_private_hosts: bool,
}

/// The HTTP client deliveries are sent with.
pub fn http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tillstream-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// What a chain's sends came to.
#[derive(Default)]
struct ChainResult {
    /// Accepted by the receiver, with the HTTP status.
    delivered: Vec<(Delivery, u16)>,
    /// The attempt that failed (the chain stopped there): its endpoint, status and error.
    failed: Option<(Delivery, Endpoint, Option<u16>, String)>,
    /// Ids of the deliveries taken but not sent, after the failure.
    unsent: Vec<String>,
}

/// How one attempt ended.
enum Outcome {
    Delivered(u16),
    Failed(Option<u16>, String),
}

impl Dispatcher {
    /// Runs rounds until the process stops.
    pub async fn run(self) {
        let this = Arc::new(self);
        loop {
            match this.round().await {
                Ok(sent) if sent > 0 => {}
                Ok(_) => tokio::time::sleep(this.poll).await,
                Err(err) => {
                    tracing::warn!(error = %err, "webhook dispatch round failed; retrying");
                    tokio::time::sleep(this.poll.max(Duration::from_millis(500))).await;
                }
            }
        }
    }

    /// One round: answers how many deliveries were attempted.
    ///
    /// A round costs the database a fixed number of commands, not a few per delivery: the
    /// due query, the endpoints, one query for older deliveries still waiting for a retry,
    /// one lease and its read-back, and the outcomes written together. Each (endpoint,
    /// aggregate) gets a **chain**: its due deliveries in sequence order, sent one after
    /// another (so an aggregate with many events is not held to one per round), stopping at
    /// the first that fails; the chains run concurrently.
    async fn round(self: &Arc<Self>) -> Result<usize, mongodb::error::Error> {
        let started = std::time::Instant::now();
        let now = Utc::now();
        let due = self.webhooks.due(now, ROUND).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let found = due.len();
        let due_ms = started.elapsed().as_millis();
        let ids: Vec<&str> = due
            .iter()
            .map(|d| d.endpoint_id.as_str())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let endpoints: HashMap<String, Endpoint> = {
            let mut cursor = self.webhooks.endpoints().find(bson::doc! {"_id": {"$in": ids}}).await?;
            let mut map = HashMap::new();
            while let Some(endpoint) = cursor.next().await {
                let endpoint = endpoint?;
                map.insert(endpoint.id.clone(), endpoint);
            }
            map
        };
        // Chains in the order of their first (oldest) event.
        let mut chains: Vec<((String, String), Vec<Delivery>)> = Vec::new();
        let mut chain_of: HashMap<(String, String), usize> = HashMap::new();
        for delivery in due {
            let Some(endpoint) = endpoints.get(&delivery.endpoint_id) else {
                self.webhooks
                    .failed(&delivery, None, "the endpoint no longer exists", None, now)
                    .await?;
                continue;
            };
            if endpoint.status != EndpointStatus::Active {
                self.webhooks
                    .failed(&delivery, None, "the endpoint is disabled", None, now)
                    .await?;
                continue;
            }
            let key = (delivery.endpoint_id.clone(), delivery.aggregate.clone());
            let index = *chain_of.entry(key.clone()).or_insert_with(|| {
                chains.push((key, Vec::new()));
                chains.len() - 1
            });
            chains[index].1.push(delivery);
        }
        // An older delivery of the group waiting for its retry holds the later ones.
        let groups: HashSet<(String, String)> = chain_of.into_keys().collect();
        let waiting = self.webhooks.waiting(&groups, now).await?;
        let waiting_ms = started.elapsed().as_millis();
        for (key, chain) in &mut chains {
            if let Some(&oldest) = waiting.get(key) {
                chain.retain(|d| d.sequence < oldest);
            }
        }
        chains.retain(|(_, chain)| !chain.is_empty());
        let longest = chains.iter().map(|(_, chain)| chain.len()).max().unwrap_or(0);
        let token = uuid::Uuid::new_v4().simple().to_string();
        let hold = self.request_timeout * u32::try_from(longest + 1).unwrap_or(u32::MAX);
        let until = now + chrono::Duration::from_std(hold).unwrap_or_default();
        let wanted: Vec<&str> = chains
            .iter()
            .flat_map(|(_, c)| c.iter().map(|d| d.id.as_str()))
            .collect();
        let mut leased: HashMap<String, Delivery> = self
            .webhooks
            .lease(&wanted, &token, now, until)
            .await?
            .into_iter()
            .map(|d| (d.id.clone(), d))
            .collect();
        let leased_ms = started.elapsed().as_millis();
        // A chain goes as far as its deliveries were taken: one held by another worker
        // (in flight there) stops it.
        let mut unsent: Vec<String> = Vec::new();
        let mut runs: Vec<(Endpoint, Vec<Delivery>)> = Vec::new();
        for ((endpoint_id, _), chain) in chains {
            let mut run = Vec::new();
            let mut broken = false;
            for delivery in chain {
                match leased.remove(&delivery.id) {
                    Some(fresh) if !broken => run.push(fresh),
                    Some(fresh) => unsent.push(fresh.id),
                    None => broken = true,
                }
            }
            if let (false, Some(endpoint)) = (run.is_empty(), endpoints.get(&endpoint_id)) {
                runs.push((endpoint.clone(), run));
            }
        }
        let results: Vec<ChainResult> = futures::stream::iter(runs)
            .map(|(endpoint, chain)| {
                let this = Arc::clone(self);
                async move { this.send_chain(endpoint, chain).await }
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        let sent_ms = started.elapsed().as_millis();
        let mut delivered: Vec<(&Delivery, u16)> = Vec::new();
        let mut attempted = 0;
        for result in &results {
            attempted += result.delivered.len() + usize::from(result.failed.is_some());
            delivered.extend(result.delivered.iter().map(|(d, s)| (d, *s)));
            unsent.extend(result.unsent.iter().cloned());
        }
        self.webhooks.delivered(&delivered, &token, Utc::now()).await?;
        for result in &results {
            if let Some((delivery, endpoint, status, error)) = &result.failed {
                self.record_failure(delivery, endpoint, *status, error).await?;
            }
        }
        let unsent: Vec<&str> = unsent.iter().map(String::as_str).collect();
        self.webhooks.release(&unsent, &token).await?;
        tracing::debug!(
            found,
            attempted,
            due_ms,
            waiting_ms,
            leased_ms,
            sent_ms,
            recorded_ms = started.elapsed().as_millis(),
            "dispatch round (milliseconds since its start)"
        );
        Ok(attempted)
    }

    /// Sends a chain of one endpoint and aggregate in order, stopping at the first failure.
    async fn send_chain(&self, endpoint: Endpoint, chain: Vec<Delivery>) -> ChainResult {
        let mut result = ChainResult::default();
        let mut rest = chain.into_iter();
        for delivery in rest.by_ref() {
            let span = tracing::info_span!(
                "webhook_delivery",
                tenant = %delivery.organization_id,
                endpoint = %endpoint.id,
                delivery = %delivery.id,
                attempt = delivery.attempts + 1,
                trace_id = tracing::field::Empty,
            );
            let parent = delivery.traceparent.as_deref().and_then(TraceContext::parse);
            let trace = telemetry::trace::link(&span, parent.as_ref());
            let outcome = self.send(&delivery, &endpoint, &trace).instrument(span.clone()).await;
            match outcome {
                Outcome::Delivered(status) => {
                    span.in_scope(|| tracing::debug!(status, "delivered"));
                    result.delivered.push((delivery, status));
                }
                Outcome::Failed(status, error) => {
                    result.failed = Some((delivery, endpoint.clone(), status, error));
                    break;
                }
            }
        }
        result.unsent = rest.map(|delivery| delivery.id).collect();
        result
    }

    /// Records a failed attempt: the next attempt with backoff, or dead-lettered after the
    /// last; the endpoint disabled when it has failed for too long.
    async fn record_failure(
        &self,
        delivery: &Delivery,
        endpoint: &Endpoint,
        status: Option<u16>,
        error: &str,
    ) -> Result<(), mongodb::error::Error> {
        let now = Utc::now();
        let failures = delivery.attempts + 1;
        let retry_at = (!self.backoff.exhausted(failures))
            .then(|| now + chrono::Duration::from_std(self.backoff.delay(failures)).unwrap_or_default());
        if retry_at.is_none() {
            tracing::warn!(%error, failures, delivery = %delivery.id, "delivery dead-lettered");
        } else {
            tracing::info!(%error, failures, delivery = %delivery.id, "delivery failed; will retry");
        }
        self.webhooks.failed(delivery, status, error, retry_at, now).await?;
        let since = now - chrono::Duration::from_std(self.disable_after).unwrap_or_default();
        let reason = format!(
            "every delivery failed for more than {} s; last error: {error}",
            self.disable_after.as_secs()
        );
        if self
            .webhooks
            .disable(
                &endpoint.id,
                &reason,
                bson::doc! {"failing_since": {"$lte": bson::DateTime::from_chrono(since)}},
            )
            .await?
        {
            tracing::warn!(%reason, endpoint = %endpoint.id, "endpoint disabled");
        }
        Ok(())
    }

    async fn send(&self, delivery: &Delivery, endpoint: &Endpoint, trace: &TraceContext) -> Outcome {
        let url = match target::check_url(&endpoint.url, self.allow_private_hosts) {
            Ok(url) => url,
            Err(err) => return Outcome::Failed(None, err.to_string()),
        };
        if let Err(err) = target::check_resolved(&url, self.allow_private_hosts).await {
            return Outcome::Failed(None, err.to_string());
        }
        let timestamp = Utc::now().timestamp();
        let body = delivery.body.clone().into_bytes();
        let signed = match self.webhooks.signature_header(endpoint, timestamp, &body) {
            Ok(value) => value,
            Err(err) => return Outcome::Failed(None, err.to_string()),
        };
        let request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::HEADER, signed)
            .header(signature::EVENT_ID_HEADER, &delivery.event_id)
            .header(signature::EVENT_TYPE_HEADER, &delivery.event_type)
            .header(signature::DELIVERY_ID_HEADER, &delivery.id)
            .header(TRACEPARENT, trace.header_value())
            .body(body);
        match request.send().await {
            Ok(response) if response.status().is_success() => Outcome::Delivered(response.status().as_u16()),
            Ok(response) => {
                let status = response.status().as_u16();
                Outcome::Failed(Some(status), format!("the receiver answered {status}"))
            }
            Err(err) => Outcome::Failed(None, without_url(&err)),
        }
    }
}

/// A transport error without the URL (which may carry a token in its query).
fn without_url(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
