//! HTTP load: M connections sending the command mix as fast as answers come (or at a fixed
//! open-loop rate), for a fixed time or count, with progress every second and sampled
//! projection lag.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bson::doc;
use hdrhistogram::Histogram;
use hyper::header::HeaderValue;

use crate::client::{self, Connection};
use crate::stats::{LoadReport, histogram};
use crate::workload::{self, Tenant};

/// First pause between two looks for a sampled sale in the read model; each next pause is
/// half as long again, up to [`LAG_POLL_LONGEST`].
const LAG_POLL_FIRST: Duration = Duration::from_millis(2);
/// Longest pause between two looks. Polling every 2 ms for as long as the lag lasts put
/// hundreds of finds per second per pending sample on the server being measured: with a
/// lag of seconds, tens of thousands per second on the MongoDB surrogate, slowing the
/// projector whose lag it measured. Backing off bounds a sample's error by this pause.
const LAG_POLL_LONGEST: Duration = Duration::from_millis(25);

/// How long or how much to run.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// For this long.
    Duration(Duration),
    /// This many commands.
    Count(u64),
}

/// A load run.
#[derive(Clone)]
pub struct Load {
    /// Name in the report.
    pub name: String,
    /// Base URL of the API under load.
    pub base_url: String,
    /// Path the sales go to (the direct-write baseline has its own).
    pub sales_path: String,
    /// Send only sales (the direct-write baseline knows nothing else).
    pub sales_only: bool,
    /// Concurrent connections.
    pub connections: usize,
    /// How long or how much.
    pub budget: Budget,
    /// Tenants and their tokens.
    pub tenants: Vec<Tenant>,
    /// Unique prefix of ids in this run.
    pub run: String,
    /// Measure lag on one sale in this many (0: never), polling this MongoDB client.
    pub lag_every: u64,
    /// Where to look for projected sales.
    pub mongo: Option<mongodb::Client>,
    /// Or: a server whose `GET <lag_url>/v1/sales/{sale_id}` (with the tenant's token)
    /// answers 200 once the sale is in its read model (the peer of issue 22).
    pub lag_url: Option<String>,
    /// Print progress every second.
    pub progress: bool,
    /// Open-loop arrival rate in commands per second (None: as fast as answers come).
    /// Command n is due at start + n / rate; its latency counts from when it was due, so
    /// time spent waiting for a free connection is charged to the system (no coordinated
    /// omission).
    pub rate: Option<f64>,
}

struct Shared {
    next: AtomicU64,
    ok: AtomicU64,
    stop: AtomicBool,
    latency: Mutex<Histogram<u64>>,
    lag: Mutex<Histogram<u64>>,
    errors: Mutex<BTreeMap<u16, u64>>,
}

impl Load {
    /// `count` commands (only sales, or the mix) as fast as answers come, with progress,
    /// no lag sampling and no rate: the stream fixtures of the drain and replay measurements.
    pub fn fixture(
        name: &str,
        base_url: &str,
        tenants: Vec<Tenant>,
        run: String,
        count: u64,
        connections: usize,
        sales_only: bool,
    ) -> Self {
        Self {
            name: name.to_owned(),
            base_url: base_url.to_owned(),
            sales_path: "/v1/sales".to_owned(),
            sales_only,
            connections,
            budget: Budget::Count(count),
            tenants,
            run,
            lag_every: 0,
            mongo: None,
            lag_url: None,
            progress: true,
            rate: None,
        }
    }

    /// Runs the load and reports.
    pub async fn run(self) -> anyhow::Result<LoadReport> {
        let authorizations = self
            .tenants
            .iter()
            .map(|tenant| client::bearer(&tenant.token))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let authorizations = Arc::new(authorizations);
        let lag_client = reqwest::Client::new();
        let shared = Arc::new(Shared {
            next: AtomicU64::new(0),
            ok: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            latency: Mutex::new(histogram()),
            lag: Mutex::new(histogram()),
            errors: Mutex::new(BTreeMap::new()),
        });
        let load = Arc::new(self);
        let started = Instant::now();
        let ticker = load.progress.then(|| {
            let (shared, budget) = (Arc::clone(&shared), load.budget);
            tokio::spawn(async move {
                let mut last = 0;
                while !shared.stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let ok = shared.ok.load(Ordering::Relaxed);
                    let errors: u64 = shared.errors.lock().map(|e| e.values().sum()).unwrap_or_default();
                    let left = match budget {
                        Budget::Duration(d) => {
                            format!("{:.0}s left", d.saturating_sub(started.elapsed()).as_secs_f64())
                        }
                        Budget::Count(n) => format!("{} left", n.saturating_sub(ok + errors)),
                    };
                    eprintln!("[loadgen] {ok} ok, {errors} errors, {}/s, {left}", ok - last);
                    last = ok;
                }
            })
        });
        let mut workers = Vec::with_capacity(load.connections);
        for _ in 0..load.connections {
            let connection = Connection::new(&load.base_url)?;
            let (load, shared, authorizations) = (Arc::clone(&load), Arc::clone(&shared), Arc::clone(&authorizations));
            let lag_client = lag_client.clone();
            workers.push(tokio::spawn(async move {
                load.worker(&shared, connection, &authorizations, &lag_client, started)
                    .await
            }));
        }
        let mut lag_tasks = Vec::new();
        for worker in workers {
            lag_tasks.extend(worker.await?);
        }
        let elapsed = started.elapsed();
        shared.stop.store(true, Ordering::Relaxed);
        for task in lag_tasks {
            let _ = task.await;
        }
        if let Some(ticker) = ticker {
            let _ = ticker.await;
        }
        let latency = shared.latency.lock().map(|h| h.clone()).unwrap_or_else(|_| histogram());
        let lag = shared.lag.lock().map(|h| h.clone()).unwrap_or_else(|_| histogram());
        let errors = shared.errors.lock().map(|e| e.clone()).unwrap_or_default();
        Ok(LoadReport::new(
            &load.name,
            shared.ok.load(Ordering::Relaxed),
            errors,
            elapsed,
            &latency,
            (load.mongo.is_some() || load.lag_url.is_some()).then_some(&lag),
        ))
    }

    async fn worker(
        &self,
        shared: &Arc<Shared>,
        mut connection: Connection,
        authorizations: &[HeaderValue],
        lag_client: &reqwest::Client,
        started: Instant,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let mut lag_tasks = Vec::new();
        let mut local = histogram();
        loop {
            let n = shared.next.fetch_add(1, Ordering::Relaxed);
            let done = match self.budget {
                Budget::Duration(d) => started.elapsed() >= d,
                Budget::Count(count) => n >= count,
            };
            if done || shared.stop.load(Ordering::Relaxed) {
                break;
            }
            let index = (n % self.tenants.len() as u64) as usize;
            let tenant = &self.tenants[index];
            let (path, body, sale) = if self.sales_only {
                let id = format!("{}-{n}", self.run);
                (self.sales_path.as_str(), workload::sale(&id, n), Some(id))
            } else {
                let (path, body, sale) = workload::command(n, &self.run);
                (if sale.is_some() { self.sales_path.as_str() } else { path }, body, sale)
            };
            let sent = match self.rate {
                Some(rate) => {
                    let due = started + Duration::from_secs_f64(n as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                    due
                }
                None => Instant::now(),
            };
            let Ok(body) = serde_json::to_vec(&body) else {
                continue;
            };
            let status = connection
                .post(path, &authorizations[index], body.into())
                .await
                .unwrap_or(0);
            if (200..300).contains(&status) {
                let answered = Instant::now();
                let _ = local.record(answered.duration_since(sent).as_micros().max(1) as u64);
                shared.ok.fetch_add(1, Ordering::Relaxed);
                if let Some(sale) = sale
                    && self.lag_every > 0
                    && n % self.lag_every == self.lag_every / 2
                {
                    let probe = match (&self.mongo, &self.lag_url) {
                        (Some(mongo), _) => Some(LagProbe::Mongo(
                            mongo
                                .database(&tenant.id.database_name())
                                .collection::<bson::Document>("sales"),
                        )),
                        (None, Some(url)) => Some(LagProbe::Http {
                            client: lag_client.clone(),
                            url: format!("{url}/v1/sales/{sale}"),
                            authorization: authorizations[index].clone(),
                        }),
                        (None, None) => None,
                    };
                    if let Some(probe) = probe {
                        let shared = Arc::clone(shared);
                        lag_tasks.push(tokio::spawn(async move {
                            let deadline = answered + Duration::from_secs(60);
                            let mut pause = LAG_POLL_FIRST;
                            while Instant::now() < deadline {
                                if probe.visible(&sale).await {
                                    if let Ok(mut lag) = shared.lag.lock() {
                                        let _ = lag.record(answered.elapsed().as_micros().max(1) as u64);
                                    }
                                    return;
                                }
                                tokio::time::sleep(pause).await;
                                pause = (pause * 3 / 2).min(LAG_POLL_LONGEST);
                            }
                        }));
                    }
                }
            } else if let Ok(mut errors) = shared.errors.lock() {
                *errors.entry(status).or_default() += 1;
            }
        }
        if let Ok(mut latency) = shared.latency.lock() {
            let _ = latency.add(&local);
        }
        lag_tasks
    }
}

/// Where a sampled sale's projection is looked for.
enum LagProbe {
    /// tillstream: the tenant's `sales` collection.
    Mongo(mongodb::Collection<bson::Document>),
    /// A server's read endpoint (the peer): 200 once the sale is there.
    Http {
        client: reqwest::Client,
        url: String,
        authorization: HeaderValue,
    },
}

impl LagProbe {
    async fn visible(&self, sale: &str) -> bool {
        match self {
            LagProbe::Mongo(sales) => matches!(sales.find_one(doc! {"_id": sale}).await, Ok(Some(_))),
            LagProbe::Http {
                client,
                url,
                authorization,
            } => client
                .get(url)
                .header(hyper::header::AUTHORIZATION, authorization.clone())
                .send()
                .await
                .is_ok_and(|answer| answer.status().is_success()),
        }
    }
}
