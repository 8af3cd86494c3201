//! From recorded deliveries to HTTP requests: the dispatcher.
//!
//! It loops: take the due pending deliveries (next attempt at or before now), oldest event
//! first; keep one per (endpoint, aggregate), and only if no older event of that endpoint
//! and aggregate is still pending (it may be waiting for a retry): so **each endpoint gets
//! the events of one aggregate in stream order**, while different aggregates go out
//! concurrently and in any order. A dead-lettered delivery no longer holds the ones after
//! it (re-sent later, it arrives out of order). Each kept delivery is leased (so a second
//! worker process does not send it too), its endpoint's resolved addresses are checked,
//! and it is POSTed with its signature. A 2xx answer delivers it; anything else (another
//! status, a timeout, a refused connection) schedules the next attempt with backoff and
//! jitter ([`crate::backoff`]), or dead-letters it after the last. An endpoint whose every
//! attempt has failed for `WEBHOOK_DISABLE_AFTER_SECS` is disabled, and its pending
//! deliveries dead-lettered, which the API shows.
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
    async fn round(self: &Arc<Self>) -> Result<usize, mongodb::error::Error> {
        let now = Utc::now();
        let due = self.webhooks.due(now, ROUND).await?;
        if due.is_empty() {
            return Ok(0);
        }
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
        let mut groups = HashSet::new();
        let mut ready = Vec::new();
        for delivery in due {
            if !groups.insert((delivery.endpoint_id.clone(), delivery.aggregate.clone())) {
                continue;
            }
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
            if self.webhooks.blocked(&delivery).await? {
                continue;
            }
            let until = now + chrono::Duration::from_std(self.request_timeout * 2).unwrap_or_default();
            if self.webhooks.lease(&delivery, now, until).await? {
                ready.push((delivery, endpoint.clone()));
            }
        }
        let attempted = ready.len();
        let results: Vec<Result<(), mongodb::error::Error>> = futures::stream::iter(ready)
            .map(|(delivery, endpoint)| {
                let this = Arc::clone(self);
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
                async move { this.attempt(delivery, endpoint, trace).await }.instrument(span)
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        for result in results {
            result?;
        }
        Ok(attempted)
    }

    /// Sends one delivery and records how it went, in its `webhook_delivery` span (a step
    /// of the trace the event was appended under; `trace` is that span's position).
    async fn attempt(
        &self,
        delivery: Delivery,
        endpoint: Endpoint,
        trace: TraceContext,
    ) -> Result<(), mongodb::error::Error> {
        let outcome = self.send(&delivery, &endpoint, &trace).await;
        let now = Utc::now();
        match outcome {
            Outcome::Delivered(status) => {
                tracing::debug!(status, "delivered");
                self.webhooks.delivered(&delivery, status, now).await
            }
            Outcome::Failed(status, error) => {
                let failures = delivery.attempts + 1;
                let retry_at = (!self.backoff.exhausted(failures))
                    .then(|| now + chrono::Duration::from_std(self.backoff.delay(failures)).unwrap_or_default());
                if retry_at.is_none() {
                    tracing::warn!(%error, failures, "delivery dead-lettered");
                } else {
                    tracing::info!(%error, failures, "delivery failed; will retry");
                }
                self.webhooks.failed(&delivery, status, &error, retry_at, now).await?;
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
                    tracing::warn!(%reason, "endpoint disabled");
                }
                Ok(())
            }
        }
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
        let request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                signature::HEADER,
                signature::header_value(&endpoint.secret, timestamp, &body),
            )
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
