//! Batch upload: M connections each posting `POST /v1/batches` of N queued sales for the
//! run's tenants in turn, for a time or a number of batches, with progress every second.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::{Connection, bearer};
use crate::load::Budget;
use crate::stats::{Latency, histogram};
use crate::workload::Tenant;

/// A batch-upload run.
#[derive(Debug, Clone)]
pub struct BatchLoad {
    /// Base URL of the API.
    pub base_url: String,
    /// Tenants the batches go to, in turn.
    pub tenants: Vec<Tenant>,
    /// Unique prefix of the run's sale ids.
    pub run: String,
    /// Concurrent connections.
    pub connections: usize,
    /// Sales per batch.
    pub batch_size: u64,
    /// How long, or how many batches.
    pub budget: Budget,
}

/// What a batch-upload run measured.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    /// Batches answered 200.
    pub batches: u64,
    /// Batches answered otherwise, or not at all.
    pub failed_batches: u64,
    /// Sales recorded (`201` items).
    pub recorded: u64,
    /// Items refused or not run.
    pub refused: u64,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Sales recorded per second.
    pub commands_per_second: f64,
    /// Latency of a whole batch.
    pub batch_latency: Latency,
}

struct Shared {
    next: AtomicU64,
    batches: AtomicU64,
    failed: AtomicU64,
    recorded: AtomicU64,
    refused: AtomicU64,
}

impl BatchLoad {
    /// Runs the load and reports it.
    pub async fn run(self) -> anyhow::Result<BatchReport> {
        anyhow::ensure!(!self.tenants.is_empty(), "a batch load needs tenants");
        let shared = Arc::new(Shared {
            next: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            recorded: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        let authorizations = self
            .tenants
            .iter()
            .map(|t| bearer(&t.token))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let authorizations = Arc::new(authorizations);
        let started = Instant::now();
        let deadline = match self.budget {
            Budget::Duration(d) => Some(started + d),
            Budget::Count(_) => None,
        };
        let limit = match self.budget {
            Budget::Count(n) => n,
            Budget::Duration(_) => u64::MAX,
        };
        let progress = {
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                tick.tick().await;
                let mut last = 0;
                loop {
                    tick.tick().await;
                    let now = shared.recorded.load(Ordering::Relaxed);
                    tracing::info!(
                        recorded = now,
                        per_second = now - last,
                        batches = shared.batches.load(Ordering::Relaxed),
                        "batch upload"
                    );
                    last = now;
                }
            })
        };
        let mut workers = Vec::with_capacity(self.connections);
        for _ in 0..self.connections.max(1) {
            let (shared, authorizations, this) = (shared.clone(), authorizations.clone(), self.clone());
            workers.push(tokio::spawn(async move {
                let mut connection = Connection::new(&this.base_url)?;
                let mut latency = histogram();
                // Each body is written into room for the last one (a thousand sales are
                // ~0.5 MB: grown from nothing, serde_json copies it a dozen times).
                let mut room = 0;
                loop {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break;
                    }
                    let n = shared.next.fetch_add(1, Ordering::Relaxed);
                    if n >= limit {
                        break;
                    }
                    let tenant = (n as usize) % this.tenants.len();
                    let first = n * this.batch_size;
                    let body =
                        super::sales_batch((first..first + this.batch_size).map(|k| (format!("{}-b{k}", this.run), k)));
                    let mut bytes = Vec::with_capacity(room + room / 8);
                    serde_json::to_writer(&mut bytes, &body)?;
                    room = bytes.len();
                    let body = bytes::Bytes::from(bytes);
                    let sent = Instant::now();
                    match connection
                        .post_reading("/v1/batches", &authorizations[tenant], body)
                        .await
                    {
                        Some((200, answer)) => {
                            latency.saturating_record(sent.elapsed().as_micros() as u64);
                            let recorded = super::count_status(&answer, 201);
                            shared.batches.fetch_add(1, Ordering::Relaxed);
                            shared.recorded.fetch_add(recorded, Ordering::Relaxed);
                            shared.refused.fetch_add(this.batch_size - recorded, Ordering::Relaxed);
                        }
                        _ => {
                            shared.failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Ok::<_, anyhow::Error>(latency)
            }));
        }
        let mut latency = histogram();
        for worker in workers {
            latency.add(worker.await??)?;
        }
        progress.abort();
        let elapsed = started.elapsed();
        let recorded = shared.recorded.load(Ordering::Relaxed);
        Ok(BatchReport {
            batches: shared.batches.load(Ordering::Relaxed),
            failed_batches: shared.failed.load(Ordering::Relaxed),
            recorded,
            refused: shared.refused.load(Ordering::Relaxed),
            seconds: elapsed.as_secs_f64(),
            commands_per_second: recorded as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
            batch_latency: Latency::of(&latency),
        })
    }
}
