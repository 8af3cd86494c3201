//! What each NATS header of an append costs nats-server: publishes `COUNT` messages per
//! variant (one new subject each, 1,024 acknowledgements in flight) to a fresh stream, and
//! reports the rate and the server's CPU time per message (from `/proc/<pid>/stat`).
//!
//! ```sh
//! cargo build --release -p bench --example natscost
//! # a fresh server per variant, so no variant inherits another's state:
//! for v in none env5+msgid+trace+expect+fp expect+fp+trace; do
//!   rm -rf /tmp/nv && nats-server -a 127.0.0.1 -p 5333 -js -sd /tmp/nv & sleep 1
//!   NATS_URL=nats://127.0.0.1:5333 VARIANTS=$v target/release/examples/natscost $! 150000
//!   kill %1; wait
//! done
//! ```
//!
//! A variant is a `+`-joined list: `env5` (the five informational headers appends carried
//! until the tenth session: tenant, event type, schema version, correlation id, media
//! type), `msgid` (`Nats-Msg-Id`), `trace` (`traceparent`), `ttrace` (the same value under
//! `Tillstream-Trace`, a name nats-server does not read), `expect`
//! (`Nats-Expected-Last-Subject-Sequence: 0`), `fp` (the request fingerprint); `none` sends
//! no header. `SIZE` sets the body's bytes (default 1,100, a sale's envelope). A variant
//! with `atomic` sends its messages as JetStream atomic batches of 1,000 (ADR-50:
//! `Nats-Batch-Id`, `Nats-Batch-Sequence`, `Nats-Batch-Commit` on the last; only the
//! commit is acknowledged), `BATCHES` (default 4) of them in flight at once.
//! `CONSUMERS=n` adds n durable pull consumers, filtered `<prefix>.p<i>.>` like the
//! projector's partitions (one of them matches every message), that never pull: what the
//! consumers of the product's stream cost each append.

use std::time::Instant;

use anyhow::Context;
use async_nats::HeaderMap;
use futures::StreamExt;
use futures::stream::FuturesUnordered;

/// The process's user + system CPU seconds.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn headers(variant: &str) -> HeaderMap {
    let has = |feature: &str| variant.split('+').any(|part| part == feature);
    let mut headers = HeaderMap::new();
    if has("env5") {
        headers.insert("Tillstream-Tenant", "org_0123456789abcdef");
        headers.insert("Tillstream-Event-Type", "SaleCompleted");
        headers.insert("Tillstream-Schema-Version", "1");
        headers.insert("Tillstream-Correlation-Id", uuid::Uuid::now_v7().to_string().as_str());
        headers.insert("Content-Type", "application/vnd.tillstream.event+json");
    }
    if has("msgid") {
        headers.insert("Nats-Msg-Id", uuid::Uuid::now_v7().to_string().as_str());
    }
    if has("trace") {
        headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    }
    if has("ttrace") {
        headers.insert(
            "Tillstream-Trace",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
    }
    if has("expect") {
        headers.insert("Nats-Expected-Last-Subject-Sequence", "0");
    }
    if has("fp") {
        headers.insert(
            "Tillstream-Request-Fingerprint",
            "4bf92f3577b34da6a3ce929d0e0e47364bf92f3577b34da6a3ce929d0e0e4736",
        );
    }
    headers
}

/// Publishes one atomic batch of `size` messages and waits for its commit's acknowledgement.
async fn atomic_batch(
    client: async_nats::Client,
    round: usize,
    variant: &str,
    size: u64,
    payload: bytes::Bytes,
) -> anyhow::Result<()> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    for sequence in 1..=size {
        let subject = format!("natscost{round}.p3.org_0123456789abcdef.sale.{}", uuid::Uuid::now_v7());
        let mut headers = headers(variant);
        headers.insert("Nats-Batch-Id", id.as_str());
        headers.insert("Nats-Batch-Sequence", sequence.to_string().as_str());
        if sequence < size {
            client.publish_with_headers(subject, headers, payload.clone()).await?;
        } else {
            headers.insert("Nats-Batch-Commit", "1");
            let answer = client
                .request_with_headers(subject, headers, payload.clone())
                .await
                .context("committing the batch")?;
            let ack: serde_json::Value = serde_json::from_slice(&answer.payload)?;
            anyhow::ensure!(ack.get("error").is_none(), "batch refused: {ack}");
            anyhow::ensure!(
                ack.get("count").and_then(|c| c.as_u64()) == Some(size),
                "batch ack: {ack}"
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let pid = std::env::args()
        .nth(1)
        .context("usage: natscost <nats-server pid> [count]")?;
    let count: u64 = match std::env::args().nth(2) {
        Some(count) => count.parse().context("count: a number of messages")?,
        None => 100_000,
    };
    let size: usize = match std::env::var("SIZE") {
        Ok(size) => size.parse().context("SIZE: a number of bytes")?,
        Err(_) => 1100,
    };
    let variants =
        std::env::var("VARIANTS").unwrap_or_else(|_| "none,env5+msgid+trace+expect+fp,expect+fp+trace".into());
    let client = async_nats::connect(&url).await?;
    let js = async_nats::jetstream::new(client.clone());
    let in_flight: usize = match std::env::var("BATCHES") {
        Ok(batches) => batches.parse().context("BATCHES: a number")?,
        Err(_) => 4,
    };
    let consumers: usize = match std::env::var("CONSUMERS") {
        Ok(consumers) => consumers.parse().context("CONSUMERS: a number")?,
        Err(_) => 0,
    };
    let payload = bytes::Bytes::from(vec![b'x'; size]);
    for (round, variant) in variants.split(',').enumerate() {
        let name = format!("NATSCOST{round}");
        let _ = js.delete_stream(&name).await;
        js.create_stream(async_nats::jetstream::stream::Config {
            name: name.clone(),
            subjects: vec![format!("natscost{round}.>")],
            storage: async_nats::jetstream::stream::StorageType::File,
            allow_direct: true,
            allow_atomic_publish: true,
            ..Default::default()
        })
        .await?;
        let stream = js.get_stream(&name).await?;
        for partition in 0..consumers {
            stream
                .create_consumer(async_nats::jetstream::consumer::pull::Config {
                    durable_name: Some(format!("p{partition}")),
                    filter_subject: format!("natscost{round}.p{partition}.>"),
                    ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
                    ..Default::default()
                })
                .await?;
        }
        let cpu = cpu_seconds(&pid);
        let own = cpu_seconds("self");
        let started = Instant::now();
        let mut pending = FuturesUnordered::new();
        if variant.split('+').any(|part| part == "atomic") {
            let mut batches = FuturesUnordered::new();
            for batch in 0..count.div_ceil(1000) {
                let size = (count - batch * 1000).min(1000);
                batches.push(atomic_batch(client.clone(), round, variant, size, payload.clone()));
                while batches.len() >= in_flight {
                    if let Some(result) = batches.next().await {
                        result?;
                    }
                }
            }
            while let Some(result) = batches.next().await {
                result?;
            }
        }
        let singly = if variant.split('+').any(|part| part == "atomic") {
            0
        } else {
            count
        };
        for _ in 0..singly {
            let subject = format!("natscost{round}.p3.org_0123456789abcdef.sale.{}", uuid::Uuid::now_v7());
            let ack = if variant == "none" {
                js.publish(subject, payload.clone()).await?
            } else {
                js.publish_with_headers(subject, headers(variant), payload.clone())
                    .await?
            };
            pending.push(ack.into_future());
            while pending.len() >= 1024 {
                if let Some(result) = pending.next().await {
                    result?;
                }
            }
        }
        while let Some(result) = pending.next().await {
            result?;
        }
        let seconds = started.elapsed().as_secs_f64();
        let used = cpu_seconds(&pid) - cpu;
        let client_used = cpu_seconds("self") - own;
        println!(
            "{variant:32} {:>8.0}/s  server {:>5.1} µs/msg ({:.0} % of a core)  client {:>5.1} µs/msg",
            count as f64 / seconds,
            used / count as f64 * 1e6,
            used / seconds * 100.0,
            client_used / count as f64 * 1e6
        );
        js.delete_stream(&name).await?;
    }
    Ok(())
}
