//! `integrations`: the benchmarks of issue 20, one subcommand each, every one on a fresh
//! stream and fresh tenants against the servers of `scripts/services`.
//!
//! ```sh
//! eval "$(scripts/services env)"
//! cargo build --release -p bench -p command-api
//! target/release/integrations batch --tenants 10 --connections 4 --batch-size 1000 --duration-secs 20
//! target/release/integrations feed --rate 5000 --duration-secs 20
//! target/release/integrations idle --connections 1000
//! target/release/integrations webhooks --sales 20000
//! target/release/integrations webhooks --sales 5000 --outage-secs 600
//! ```

use std::time::Duration;

use bench::integrations::batch::BatchLoad;
use bench::integrations::feed::FeedLoad;
use bench::integrations::webhooks::WebhookLoad;
use bench::integrations::{batch, idle};
use bench::load::Budget;
use bench::stats::Rate;
use bench::system::{Setup, System};
use bench::{baselines, workload};
use bson::doc;
use clap::{Parser, Subcommand};
use events::SubjectScheme;
use eventstore::StreamSettings;

/// Benchmarks of batch upload, the feed and webhooks.
#[derive(Debug, Parser)]
#[command(name = "integrations", about = "tillstream integration benchmarks (issue 20)")]
struct Args {
    /// NATS.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222", global = true)]
    nats_url: String,
    /// MongoDB.
    #[arg(
        long,
        env = "MONGODB_URI",
        default_value = "mongodb://127.0.0.1:27017",
        global = true
    )]
    mongodb_uri: String,
    /// Print the report as JSON too.
    #[arg(long, global = true)]
    json: bool,
    /// What to measure.
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Subcommand)]
enum What {
    /// Batch upload of queued sales against the raw JetStream publish rate of the same run.
    Batch {
        /// Tenants the batches go to, in turn.
        #[arg(long, default_value_t = 10)]
        tenants: usize,
        /// Concurrent connections.
        #[arg(long, default_value_t = 4)]
        connections: usize,
        /// Sales per batch (the API's limit is 1,000).
        #[arg(long, default_value_t = 1000)]
        batch_size: u64,
        /// For this long.
        #[arg(long, default_value_t = 20)]
        duration_secs: u64,
    },
    /// One SSE consumer following its tenant's sales recorded at `--rate`.
    Feed {
        /// Sales per second.
        #[arg(long, default_value_t = 5000)]
        rate: u64,
        /// For this long.
        #[arg(long, default_value_t = 20)]
        duration_secs: u64,
        /// Producer connections.
        #[arg(long, default_value_t = 4)]
        connections: usize,
        /// Read with an API key limited to the sales' location.
        #[arg(long)]
        limited: bool,
        /// Void one sale in this many as well, in the same batch (0: none; must divide
        /// `rate / 10`).
        #[arg(long, default_value_t = 0)]
        void_every: u64,
    },
    /// Memory of a release `command-api` process holding idle feed connections.
    Idle {
        /// Connections to hold.
        #[arg(long, default_value_t = 1000)]
        connections: usize,
    },
    /// Webhook deliveries to a receiver in this process.
    Webhooks {
        /// Sales to record (one in ten is also voided).
        #[arg(long, default_value_t = 20_000)]
        sales: u64,
        /// The receiver refuses everything (503) for this long first.
        #[arg(long, default_value_t = 0)]
        outage_secs: u64,
        /// Worker requests in flight.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Worker's first retry, ms (the product's default).
        #[arg(long, default_value_t = 30_000)]
        retry_base_ms: u64,
        /// Worker's longest wait between attempts, ms (the product's default).
        #[arg(long, default_value_t = 7_200_000)]
        retry_max_ms: u64,
        /// Deliver to an endpoint of the sales' store (`locations`), not the chain's.
        #[arg(long)]
        store: bool,
    },
}

/// Starts an API (and, until its catalog is projected, a projector) for `tenants`.
async fn system(
    setup: &Setup,
    mongo: &mongodb::Client,
    tenants: &[workload::Tenant],
    api_flags: &[&str],
) -> anyhow::Result<System> {
    workload::provision(mongo, tenants).await?;
    let mut system = System::start_with(setup, true, api_flags).await?;
    workload::prepare(&reqwest::Client::new(), &system.base_url, tenants).await?;
    for tenant in tenants {
        let products = mongo
            .database(&tenant.id.database_name())
            .collection::<bson::Document>("products");
        while products.count_documents(doc! {}).await? < workload::SKUS.len() as u64 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Nothing projects during the measurement: it takes the CPU from the path measured.
    system.stop_projector().await?;
    Ok(system)
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    telemetry::init_with_default(telemetry::LogFormat::Pretty, "warn,bench=info,integrations=info");
    let run = format!("ig{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let setup = Setup {
        nats_url: args.nats_url.clone(),
        mongodb_uri: args.mongodb_uri.clone(),
        stream: run.to_uppercase(),
        prefix: run.clone(),
        secret: "integrations-bench-secret-that-is-long-enough-0123".to_owned(),
    };
    let mongo = mongodb::Client::with_uri_str(&args.mongodb_uri).await?;
    eprintln!("[integrations] run {run}");
    let tenants: Vec<workload::Tenant>;
    let report = match args.what {
        What::Batch {
            tenants: count,
            connections,
            batch_size,
            duration_secs,
        } => {
            tenants = workload::tenants(count, &setup.secret, &run);
            let system = system(&setup, &mongo, &tenants, &[]).await?;
            let report = BatchLoad {
                base_url: system.base_url.clone(),
                tenants: tenants.clone(),
                run: run.clone(),
                connections,
                batch_size,
                budget: Budget::Duration(Duration::from_secs(duration_secs)),
            }
            .run()
            .await?;
            system.stop().await?;
            let raw = raw_publish(&args.nats_url, &setup).await?;
            let events = baselines::nats_republish_events(
                &async_nats::jetstream::new(async_nats::connect(&args.nats_url).await?),
                &setup.stream,
                &setup.prefix,
                100_000,
                1024,
            )
            .await?;
            print_batch(&report, &raw, &events);
            serde_json::json!({"batch": report, "raw_publish": raw, "raw_publish_of_the_events": events})
        }
        What::Feed {
            rate,
            duration_secs,
            connections,
            limited,
            void_every,
        } => {
            tenants = workload::tenants(1, &setup.secret, &run);
            let system = system(&setup, &mongo, &tenants, &[]).await?;
            let report = FeedLoad {
                base_url: system.base_url.clone(),
                tenant: tenants[0].clone(),
                run: run.clone(),
                rate,
                duration: Duration::from_secs(duration_secs),
                connections,
                limited,
                void_every,
            }
            .run()
            .await?;
            system.stop().await?;
            eprintln!(
                "feed: produced {} ({:.0}/s), received {} ({:.0}/s); delay p50 {:.1} ms p99 {:.1} ms max {:.1} ms; last second p99 {:.1} ms; caught up {:.0} ms after the producer stopped",
                report.produced,
                report.produced_per_second,
                report.received,
                report.received_per_second,
                report.delay.p50_ms,
                report.delay.p99_ms,
                report.delay.max_ms,
                report.delay_last_second.p99_ms,
                report.caught_up_after_ms
            );
            serde_json::json!({"feed": report, "limited": limited, "void_every": void_every})
        }
        What::Idle { connections } => {
            tenants = workload::tenants(1, &setup.secret, &run);
            workload::provision(&mongo, &tenants).await?;
            // The stream must exist before the API follows it.
            let js = async_nats::jetstream::new(async_nats::connect(&args.nats_url).await?);
            StreamSettings::new(setup.stream.clone(), SubjectScheme::new(run.clone())?)
                .ensure(&js)
                .await?;
            let binary = idle::sibling_binary("command-api")?;
            let report = idle::measure(&setup, &binary, &tenants[0], connections).await?;
            eprintln!(
                "idle feed connections: {} held; API RSS {:.1} → {:.1} MiB ({:.1} KiB each, {:.1} MiB per 1,000); /health p50 {:.2} ms p99 {:.2} ms meanwhile",
                report.connections,
                report.rss_before_mib,
                report.rss_held_mib,
                report.per_connection_kib,
                report.per_connection_kib * 1000.0 / 1024.0,
                report.health.p50_ms,
                report.health.p99_ms
            );
            serde_json::json!({"idle": report})
        }
        What::Webhooks {
            sales,
            outage_secs,
            concurrency,
            retry_base_ms,
            retry_max_ms,
            store,
        } => {
            tenants = workload::tenants(1, &setup.secret, &run);
            let system = system(&setup, &mongo, &tenants, &["--webhook-allow-private-hosts"]).await?;
            let report = WebhookLoad {
                base_url: system.base_url.clone(),
                tenant: tenants[0].clone(),
                run: run.clone(),
                sales,
                outage: Duration::from_secs(outage_secs),
                concurrency,
                retry_base: Duration::from_millis(retry_base_ms),
                retry_max: Duration::from_millis(retry_max_ms),
                store,
            }
            .run(&setup)
            .await?;
            system.stop().await?;
            eprintln!(
                "webhooks ({} endpoint): {} of {} events delivered in {:.1} s after {} ({:.0}/s); {} requests, {} refused in the outage, {} bad signatures, {} aggregates out of order",
                if store { "the store's" } else { "the chain's" },
                report.delivered,
                report.events,
                report.seconds,
                if outage_secs > 0 {
                    "the outage"
                } else {
                    "the first event"
                },
                report.per_second,
                report.requests,
                report.refused_in_outage,
                report.bad_signatures,
                report.out_of_order_aggregates
            );
            serde_json::json!({"webhooks": report, "store_endpoint": store})
        }
    };
    for tenant in &tenants {
        mongo.database(&tenant.id.database_name()).drop().await?;
    }
    let js = async_nats::jetstream::new(async_nats::connect(&args.nats_url).await?);
    let _ = js.delete_stream(&setup.stream).await;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"run": run, "report": report}))?
        );
    }
    Ok(())
}

/// The raw JetStream publish rate of this run, outside every partition's subjects.
async fn raw_publish(nats_url: &str, setup: &Setup) -> anyhow::Result<Rate> {
    let js = async_nats::jetstream::new(async_nats::connect(nats_url).await?);
    StreamSettings::new(setup.stream.clone(), SubjectScheme::new(setup.prefix.clone())?)
        .ensure(&js)
        .await?;
    baselines::nats_publish(&js, &format!("{}.baseline.raw", setup.prefix), 100_000, 700, 1024).await
}

fn print_batch(report: &batch::BatchReport, raw: &Rate, events: &Rate) {
    eprintln!(
        "batch upload: {} sales recorded in {} batches ({} failed, {} items refused) in {:.1} s: {:.0}/s; batch p50 {:.0} ms p99 {:.0} ms",
        report.recorded,
        report.batches,
        report.failed_batches,
        report.refused,
        report.seconds,
        report.commands_per_second,
        report.batch_latency.p50_ms,
        report.batch_latency.p99_ms
    );
    eprintln!(
        "raw JetStream publish (same run): {:.0}/s → batch upload is {:.0} % of it",
        raw.per_second,
        report.commands_per_second / raw.per_second.max(f64::EPSILON) * 100.0
    );
    eprintln!(
        "raw JetStream publish of {} of the run's own events, same headers and size (same run): {:.0}/s → batch upload is {:.0} % of it",
        events.operations,
        events.per_second,
        report.commands_per_second / events.per_second.max(f64::EPSILON) * 100.0
    );
}
