//! One SSE consumer following a tenant's sales while a producer records them at a fixed
//! rate through batches: does the feed keep up, and how long after the server accepted
//! an event does the consumer have it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::client::{Connection, bearer};
use crate::stats::{Latency, histogram};
use crate::workload::Tenant;

/// A feed run.
#[derive(Debug, Clone)]
pub struct FeedLoad {
    /// Base URL of the API.
    pub base_url: String,
    /// The tenant whose sales are recorded and followed.
    pub tenant: Tenant,
    /// Unique prefix of the run's sale ids.
    pub run: String,
    /// Sales per second the producer records.
    pub rate: u64,
    /// For how long.
    pub duration: Duration,
    /// Producer connections (each posts every `connections / 10` s a batch of
    /// `rate / 10` sales).
    pub connections: usize,
    /// The consumer reads with an API key limited to the sales' location (`main`), so
    /// each event goes through the check of where it acts.
    pub limited: bool,
    /// Void one sale in this many, in the same batch right after it (0: none); the feed
    /// then carries `SaleVoided` too. A void does not say where it happened, so a limited
    /// reader places it by its sale's history.
    pub void_every: u64,
}

/// What a feed run measured.
#[derive(Debug, Clone, Serialize)]
pub struct FeedReport {
    /// Sales (and voids) recorded by the producer.
    pub produced: u64,
    /// Of them per second, over the producer's time.
    pub produced_per_second: f64,
    /// Sales the consumer received.
    pub received: u64,
    /// Of them per second, over the producer's time plus the consumer's catching up.
    pub received_per_second: f64,
    /// From the server's `recorded_at` to the consumer reading the event.
    pub delay: Latency,
    /// The same over the last second of production: a consumer falling behind shows a
    /// growing delay here.
    pub delay_last_second: Latency,
    /// How long after the producer stopped the consumer had every sale, ms.
    pub caught_up_after_ms: f64,
}

/// Parses the `data:` lines of complete SSE events in `buffer`, leaving a partial event.
fn drain_events(buffer: &mut Vec<u8>, mut each: impl FnMut(&[u8])) {
    let mut start = 0;
    while let Some(end) = buffer[start..].windows(2).position(|w| w == b"\n\n") {
        let event = &buffer[start..start + end];
        for line in event.split(|b| *b == b'\n') {
            if let Some(data) = line.strip_prefix(b"data: ") {
                each(data);
            }
        }
        start += end + 2;
    }
    buffer.drain(..start);
}

/// When the server recorded the event of a `data:` line.
fn recorded_at(data: &[u8]) -> Option<DateTime<Utc>> {
    #[derive(serde::Deserialize)]
    struct Recorded {
        recorded_at: DateTime<Utc>,
    }
    serde_json::from_slice::<Recorded>(data).ok().map(|r| r.recorded_at)
}

impl FeedLoad {
    /// A new API key with `feed`, limited to the location the sales are made at.
    async fn limited_key(&self, http: &reqwest::Client) -> anyhow::Result<String> {
        let answer = http
            .post(format!("{}/v1/api-keys", self.base_url))
            .bearer_auth(&self.tenant.admin_token)
            .json(&serde_json::json!({"name": "feed bench", "scopes": ["feed"], "locations": ["main"]}))
            .send()
            .await?;
        anyhow::ensure!(
            answer.status().is_success(),
            "creating a limited key: {}",
            answer.status()
        );
        let created: serde_json::Value = answer.json().await?;
        created["key"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("the key's answer has no key: {created}"))
    }

    /// Runs the producer and the consumer and reports them.
    pub async fn run(self) -> anyhow::Result<FeedReport> {
        let per_tick = (self.rate / 10).max(1);
        let ticks = (self.duration.as_millis() / 100) as u64;
        anyhow::ensure!(
            self.void_every == 0 || per_tick.is_multiple_of(self.void_every),
            "--void-every must divide the sales of a batch ({per_tick})"
        );
        let voids_per_tick = per_tick.checked_div(self.void_every).unwrap_or(0);
        let expected = (per_tick + voids_per_tick) * ticks;
        let received = Arc::new(AtomicU64::new(0));
        let http = reqwest::Client::new();
        let reader = if self.limited {
            self.limited_key(&http).await?
        } else {
            self.tenant.token.clone()
        };
        let answer = http
            .get(format!(
                "{}/v1/feed/stream?types={}",
                self.base_url,
                if self.void_every == 0 {
                    "SaleCompleted"
                } else {
                    "SaleCompleted,SaleVoided"
                }
            ))
            .bearer_auth(&reader)
            .send()
            .await?;
        anyhow::ensure!(answer.status().is_success(), "opening the feed: {}", answer.status());
        let consumer = {
            let received = received.clone();
            tokio::spawn(async move {
                let mut answer = answer;
                let mut buffer = Vec::with_capacity(1 << 16);
                // (recorded at, delay in µs) of every sale, and when the last one arrived.
                let mut samples: Vec<(DateTime<Utc>, u64)> = Vec::with_capacity(expected as usize);
                let mut last_arrival = Utc::now();
                while received.load(Ordering::Relaxed) < expected {
                    let chunk = match tokio::time::timeout(Duration::from_secs(30), answer.chunk()).await {
                        Ok(Ok(Some(chunk))) => chunk,
                        Ok(Ok(None)) => anyhow::bail!("the feed ended"),
                        Ok(Err(err)) => return Err(err.into()),
                        Err(_) => anyhow::bail!("the feed was silent for 30 s"),
                    };
                    buffer.extend_from_slice(&chunk);
                    let now = Utc::now();
                    drain_events(&mut buffer, |data| {
                        if let Some(at) = recorded_at(data) {
                            let delay = (now - at).num_microseconds().unwrap_or(0).max(1) as u64;
                            samples.push((at, delay));
                            received.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                    last_arrival = now;
                }
                Ok::<_, anyhow::Error>((samples, last_arrival))
            })
        };
        let authorization = Arc::new(bearer(&self.tenant.token)?);
        let produced = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let connections = self.connections.max(1) as u64;
        let mut producers = Vec::new();
        for c in 0..connections {
            let (this, authorization, produced) = (self.clone(), authorization.clone(), produced.clone());
            producers.push(tokio::spawn(async move {
                let mut connection = Connection::new(&this.base_url)?;
                let mut tick = c;
                while tick < ticks {
                    let due = started + Duration::from_millis(100 * tick);
                    tokio::time::sleep_until(due.into()).await;
                    let first = tick * per_tick;
                    let mut batch =
                        super::sales_batch((first..first + per_tick).map(|k| (format!("{}-f{k}", this.run), k)));
                    if this.void_every > 0 {
                        for k in (first..first + per_tick).filter(|k| k.is_multiple_of(this.void_every)) {
                            batch.void(format!("{}-f{k}", this.run));
                        }
                    }
                    let body = serde_json::to_vec(&batch)?;
                    let body = bytes::Bytes::from(body);
                    if let Some((200, answer)) = connection.post_reading("/v1/batches", &authorization, body).await {
                        produced.fetch_add(super::count_status(&answer, 201), Ordering::Relaxed);
                    }
                    tick += connections;
                }
                Ok::<_, anyhow::Error>(())
            }));
        }
        for producer in producers {
            producer.await??;
        }
        let producing = started.elapsed();
        let production_ended = Utc::now();
        let produced = produced.load(Ordering::Relaxed);
        anyhow::ensure!(
            produced == expected,
            "the producer recorded {produced} of {expected} sales and voids"
        );
        let (samples, last_arrival) = consumer.await??;
        let received = received.load(Ordering::Relaxed);
        let total = started.elapsed();
        let (mut all, mut last) = (histogram(), histogram());
        let last_second = production_ended - chrono::Duration::seconds(1);
        for (at, delay) in &samples {
            all.saturating_record(*delay);
            if *at >= last_second {
                last.saturating_record(*delay);
            }
        }
        Ok(FeedReport {
            produced,
            produced_per_second: produced as f64 / producing.as_secs_f64(),
            received,
            received_per_second: received as f64 / total.as_secs_f64(),
            delay: Latency::of(&all),
            delay_last_second: Latency::of(&last),
            caught_up_after_ms: (last_arrival - production_ended).num_milliseconds().max(0) as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_events_are_read_and_a_partial_one_kept() {
        let mut buffer =
            b"id: 1\nevent: SaleCompleted\ndata: {\"a\":1}\n\n: keep-alive\n\nid: 2\ndata: {\"a\"".to_vec();
        let mut seen = Vec::new();
        drain_events(&mut buffer, |d| seen.push(d.to_vec()));
        assert_eq!(seen, vec![b"{\"a\":1}".to_vec()]);
        assert_eq!(buffer, b"id: 2\ndata: {\"a\"".to_vec());
    }

    #[test]
    fn the_recorded_time_is_read_from_the_public_shape() {
        let at = recorded_at(br#"{"sequence":3,"recorded_at":"2026-11-30T10:00:01.250Z","data":{}}"#);
        assert_eq!(at.map(|t| t.timestamp_millis()), Some(1_796_032_801_250));
        assert_eq!(recorded_at(b"not json"), None);
    }
}
