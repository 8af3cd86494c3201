//! Webhook deliveries: a receiver in this process (axum on a free loopback port) that
//! checks every signature, an endpoint registered through the API, the webhook worker
//! started in-process on the run's stream, and N events recorded through batches. With
//! an outage, the receiver answers 503 for its first seconds; afterwards every event must
//! arrive, in order per aggregate.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use clap::Parser;
use serde::Serialize;
use serde_json::json;

use crate::client::{Connection, bearer};
use crate::system::Setup;
use crate::workload::Tenant;

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    /// Event ids received with a good signature (a redelivery is counted once).
    events: HashSet<String>,
    /// Per aggregate, the stream sequences in the order they first arrived.
    order: HashMap<String, Vec<u64>>,
}

struct Receiver {
    secret: Mutex<String>,
    down_until: Mutex<Option<Instant>>,
    seen: Mutex<Seen>,
    requests: AtomicU64,
    refused: AtomicU64,
    bad_signatures: AtomicU64,
}

#[derive(serde::Deserialize)]
struct Delivered {
    id: String,
    sequence: u64,
    aggregate: Aggregate,
}

#[derive(serde::Deserialize)]
struct Aggregate {
    kind: String,
    id: String,
}

async fn receive(State(receiver): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    receiver.requests.fetch_add(1, Ordering::Relaxed);
    let down = receiver
        .down_until
        .lock()
        .map(|d| d.is_some_and(|until| Instant::now() < until))
        .unwrap_or(false);
    if down {
        receiver.refused.fetch_add(1, Ordering::Relaxed);
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let secret = receiver.secret.lock().map(|s| s.clone()).unwrap_or_default();
    let signature = headers
        .get("tillstream-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    if webhooks::signature::verify(&secret, signature, &body, now, 300).is_err() {
        receiver.bad_signatures.fetch_add(1, Ordering::Relaxed);
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(event) = serde_json::from_slice::<Delivered>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    if let Ok(mut seen) = receiver.seen.lock()
        && seen.events.insert(event.id)
    {
        seen.order
            .entry(format!("{}:{}", event.aggregate.kind, event.aggregate.id))
            .or_default()
            .push(event.sequence);
    }
    StatusCode::NO_CONTENT
}

/// A webhook run.
#[derive(Debug, Clone)]
pub struct WebhookLoad {
    /// Base URL of the API (started with `--webhook-allow-private-hosts`).
    pub base_url: String,
    /// The tenant whose events are delivered.
    pub tenant: Tenant,
    /// Unique prefix of the run's ids.
    pub run: String,
    /// Sales to record; one in ten is then voided (a second event of its aggregate).
    pub sales: u64,
    /// The receiver answers 503 for this long from the first sale on.
    pub outage: Duration,
    /// Worker settings: requests in flight.
    pub concurrency: usize,
    /// Worker settings: first retry after this long (doubling, with jitter).
    pub retry_base: Duration,
    /// Worker settings: longest wait between two attempts.
    pub retry_max: Duration,
    /// Register the endpoint as the store's (`locations: ["main"]`, where the sales are
    /// made): the worker then places every event, each void by its sale's history.
    pub store: bool,
}

/// What a webhook run measured.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookReport {
    /// Events recorded (sales and voids).
    pub events: u64,
    /// Events the receiver accepted, each counted once.
    pub delivered: u64,
    /// Requests the receiver got (retries and refusals included).
    pub requests: u64,
    /// Requests it refused during the outage.
    pub refused_in_outage: u64,
    /// Requests with a signature that did not verify (must be 0).
    pub bad_signatures: u64,
    /// Aggregates whose events arrived out of stream order (must be 0).
    pub out_of_order_aggregates: u64,
    /// From the first recorded event (or the outage's end) to the last delivery, seconds.
    pub seconds: f64,
    /// Deliveries per second over that time.
    pub per_second: f64,
}

impl WebhookLoad {
    /// Registers the endpoint, starts the worker, records the events and waits for them.
    pub async fn run(self, setup: &Setup) -> anyhow::Result<WebhookReport> {
        let receiver = Arc::new(Receiver {
            secret: Mutex::new(String::new()),
            down_until: Mutex::new(None),
            seen: Mutex::new(Seen::default()),
            requests: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            bad_signatures: AtomicU64::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let http = reqwest::Client::new();
        let mut endpoint =
            json!({"url": url, "event_types": ["SaleCompleted", "SaleVoided"], "description": "bench receiver"});
        if self.store {
            endpoint["locations"] = json!(["main"]);
        }
        let created: serde_json::Value = http
            .post(format!("{}/v1/webhooks", self.base_url))
            .bearer_auth(&self.tenant.admin_token)
            .json(&endpoint)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let secret = created["secret"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("the endpoint's answer has no secret: {created}"))?;
        *receiver.secret.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = secret.to_owned();

        let consumer_prefix = format!("bench-webhooks-{}", setup.prefix);
        let concurrency = self.concurrency.to_string();
        let retry_base = self.retry_base.as_millis().to_string();
        let retry_max = self.retry_max.as_millis().to_string();
        let flags = [
            "--consumer-prefix",
            consumer_prefix.as_str(),
            "--allow-private-hosts",
            "--concurrency",
            concurrency.as_str(),
            "--retry-base-ms",
            retry_base.as_str(),
            "--retry-max-ms",
            retry_max.as_str(),
            "--poll-ms",
            "50",
            "--endpoint-cache-ms",
            "500",
        ];
        let config = webhooks::config::Cli::try_parse_from(setup.args("webhooks", &flags))?.config;
        let worker = webhooks::Worker::build(config).await?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = tokio::spawn(worker.run_until(async move {
            let _ = stopped.await;
        }));
        // Let the worker read the new endpoint before the first event.
        tokio::time::sleep(Duration::from_millis(700)).await;

        let started = Instant::now();
        if !self.outage.is_zero() {
            *receiver.down_until.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = Some(started + self.outage);
        }
        let authorization = bearer(&self.tenant.token)?;
        let mut connection = Connection::new(&self.base_url)?;
        let mut recorded = 0;
        for first in (0..self.sales).step_by(1000) {
            let last = (first + 1000).min(self.sales);
            let body = super::sales_batch((first..last).map(|k| (format!("{}-w{k}", self.run), k)));
            let answer = connection
                .post_reading("/v1/batches", &authorization, Bytes::from(serde_json::to_vec(&body)?))
                .await;
            match answer {
                Some((200, a)) => recorded += super::count_status(&a, 201),
                Some((status, a)) => anyhow::bail!("a batch of sales: {status} {}", String::from_utf8_lossy(&a)),
                None => anyhow::bail!("a batch of sales: no answer"),
            }
        }
        let voids: Vec<u64> = (0..self.sales).step_by(10).collect();
        for chunk in voids.chunks(1000) {
            let commands: Vec<_> = chunk
                .iter()
                .map(|k| json!({"command": "void_sale", "path": format!("{}-w{k}", self.run), "body": {"reason": "bench"}}))
                .collect();
            let answer = connection
                .post_reading(
                    "/v1/batches",
                    &authorization,
                    Bytes::from(serde_json::to_vec(&json!({"commands": commands}))?),
                )
                .await;
            recorded += answer.map_or(0, |(_, a)| super::count_status(&a, 201));
        }
        let expected = self.sales + voids.len() as u64;
        anyhow::ensure!(recorded == expected, "recorded {recorded} of {expected} events");
        tracing::info!(
            events = expected,
            seconds = started.elapsed().as_secs_f64(),
            "webhooks: events recorded"
        );

        let from = started + self.outage;
        let mut last_progress = Instant::now();
        let mut last_count = 0;
        let mut last_report = Instant::now();
        loop {
            let delivered = receiver.seen.lock().map(|s| s.events.len() as u64).unwrap_or(0);
            if delivered >= expected {
                break;
            }
            if delivered != last_count {
                last_count = delivered;
                last_progress = Instant::now();
            }
            anyhow::ensure!(
                last_progress.elapsed()
                    < self.outage + self.retry_max.min(self.retry_base * 64) + Duration::from_secs(60),
                "deliveries stalled at {delivered} of {expected}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
            if last_report.elapsed() >= Duration::from_secs(5) {
                last_report = Instant::now();
                tracing::info!(delivered, of = expected, "webhooks: delivered");
            }
        }
        let done = Instant::now();
        let _ = stop.send(());
        worker.await??;
        let seconds = done.saturating_duration_since(from.min(done)).as_secs_f64();
        let seen = receiver.seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        let out_of_order = seen
            .order
            .values()
            .filter(|sequences| sequences.windows(2).any(|w| w[0] >= w[1]))
            .count() as u64;
        Ok(WebhookReport {
            events: expected,
            delivered: seen.events.len() as u64,
            requests: receiver.requests.load(Ordering::Relaxed),
            refused_in_outage: receiver.refused.load(Ordering::Relaxed),
            bad_signatures: receiver.bad_signatures.load(Ordering::Relaxed),
            out_of_order_aggregates: out_of_order,
            seconds,
            per_second: seen.events.len() as f64 / seconds.max(f64::EPSILON),
        })
    }
}
