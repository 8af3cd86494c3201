//! `loadgen`: drives the command API with N tenants over M connections and measures, in
//! the same run, the raw servers underneath: JetStream publishes, MongoDB bulk upserts and
//! a direct-write service shaped like the seed's design. Also the projector's drain rate.
//!
//! ```sh
//! eval "$(scripts/services env)"
//! cargo run --release -p bench --bin loadgen -- --tenants 20 --connections 64 --duration-secs 20 --baselines
//! ```
//!
//! With `--peer-url`, the same sales also go, after tillstream's load in the same run, to the
//! cqrs-es + postgres-es peer of `bench/peer` (a separate workspace; `scripts/peer bench`
//! builds and starts it and PostgreSQL, and runs this).

use std::time::{Duration, Instant};

use bench::load::{Budget, Load};
use bench::stats::{LoadReport, Rate};
use bench::system::{Setup, System};
use bench::{baselines, peer, workload};
use bson::doc;
use clap::Parser;
use events::SubjectScheme;
use eventstore::StreamSettings;

/// Load generator and baselines.
#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "tillstream load generator with raw baselines in the same run"
)]
struct Args {
    /// NATS.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// MongoDB.
    #[arg(long, env = "MONGODB_URI", default_value = "mongodb://127.0.0.1:27017")]
    mongodb_uri: String,
    /// An already running API (its JWT secret must be `--jwt-secret`, its MongoDB
    /// `--mongodb-uri`, where the run's tenants and users are created, and its
    /// `ACCESS_TOKEN_TTL_SECS` at least 86400: the run's tokens live a day); without it the
    /// API and a projector are started in this process on a fresh stream.
    #[arg(long)]
    api_url: Option<String>,
    /// JWT secret of the API.
    #[arg(
        long,
        env = "JWT_SECRET",
        default_value = "loadgen-secret-that-is-long-enough-0123456789"
    )]
    jwt_secret: String,
    /// Tenants.
    #[arg(long, default_value_t = 10)]
    tenants: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Run for this long...
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// ...or send this many commands.
    #[arg(long)]
    count: Option<u64>,
    /// Measure projection lag on one sale in this many.
    #[arg(long, default_value_t = 50)]
    lag_every: u64,
    /// Also measure the raw baselines and the direct-write service.
    #[arg(long)]
    baselines: bool,
    /// Also measure how fast the projector drains this many events published while it was stopped.
    #[arg(long)]
    drain: Option<u64>,
    /// With `--drain`: also drain this many sparse tenants (`--sparse-events` sales each)
    /// in the same run, and report their rate against the dense drain's.
    #[arg(long, requires = "drain")]
    sparse_drain: Option<usize>,
    /// Sales per tenant of the sparse drain.
    #[arg(long, default_value_t = 10)]
    sparse_events: u64,
    /// Send at this many commands per second (open loop; latency counts from when each
    /// command was due) instead of as fast as answers come.
    #[arg(long)]
    rate: Option<f64>,
    /// Also measure replay: post this many commands for one fresh tenant (projector off),
    /// then rebuild it from the stream and compare with raw read + raw write.
    #[arg(long)]
    replay_events: Option<u64>,
    /// Run the in-process API without a projector (isolates the command path).
    #[arg(long)]
    no_projector: bool,
    /// Send only sales to the API (default: the mix, 90 % sales, stock and catalog).
    #[arg(long)]
    sales_only: bool,
    /// Also drive the cqrs-es + postgres-es peer (`bench/peer`) at this URL with the same
    /// sales, connections, budget and rate, right after tillstream's load (which then sends
    /// sales only, the one command the peer has), and report both side by side. The peer
    /// must verify tokens with `--jwt-secret` and accept a day-long token lifetime.
    #[arg(long)]
    peer_url: Option<String>,
    /// Keep the tenants' databases and the run's stream (the caller measures or drops them).
    #[arg(long)]
    keep: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn print_load(report: &LoadReport) {
    let lag = report.projection_lag.as_ref().map_or("-".to_owned(), |l| {
        format!("p50 {:.1} ms, p99 {:.1} ms (n={})", l.p50_ms, l.p99_ms, l.count)
    });
    eprintln!(
        "{:<42} {:>9.0}/s  p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  errors {:?}  lag {lag}",
        report.name,
        report.per_second,
        report.latency.p50_ms,
        report.latency.p90_ms,
        report.latency.p99_ms,
        report.latency.max_ms,
        report.errors
    );
}

/// What a drain measured: events applied and documents stored per second.
struct Drained {
    events: Rate,
    documents: Rate,
}

/// Posts `events` sales round-robin over `count` fresh tenants while the projector is
/// stopped, then starts one and measures how fast it applies them all; drops the tenants'
/// databases afterwards. The tenants' locations and products are projected first, so
/// their databases exist: the drain is a catch-up after an outage or a deploy, not the
/// creation of new tenants.
async fn drain(
    setup: &Setup,
    mongo: &mongodb::Client,
    http: &reqwest::Client,
    run: &str,
    count: usize,
    events: u64,
    connections: usize,
) -> anyhow::Result<Drained> {
    let drain_tenants = workload::tenants(count, &setup.secret, run);
    workload::provision(mongo, &drain_tenants).await?;
    let mut api_only = System::start(&Setup { ..setup.clone() }, true).await?;
    workload::prepare(http, &api_only.base_url, &drain_tenants).await?;
    for (done, tenant) in drain_tenants.iter().enumerate() {
        let products = mongo
            .database(&tenant.id.database_name())
            .collection::<bson::Document>("products");
        while products.count_documents(doc! {}).await? < workload::SKUS.len() as u64 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if done > 0 && done % 1000 == 0 {
            tracing::info!(tenants = done, of = count, "drain: tenants' catalogs projected");
        }
    }
    api_only.stop_projector().await?;
    let before = documents(mongo, &drain_tenants).await?;
    Load::fixture(
        &format!("drain fixture: {events} commands over {count} tenants, projector stopped"),
        &api_only.base_url,
        drain_tenants.clone(),
        run.to_owned(),
        events,
        connections,
        true,
    )
    .run()
    .await?;
    let mut projector = api_only;
    let started = Instant::now();
    projector.start_projector(setup).await?;
    // The drain ends when the projector's consumers have acknowledged everything (after
    // the writes); then, untimed, every tenant's sales are checked to be there.
    bench::system::wait_projected(setup).await?;
    let elapsed = started.elapsed();
    let expected = events / count as u64;
    for tenant in &drain_tenants {
        let sales = mongo
            .database(&tenant.id.database_name())
            .collection::<bson::Document>("sales")
            .count_documents(doc! {})
            .await?;
        anyhow::ensure!(
            sales == expected,
            "drain: tenant {} has {sales} sales projected, {expected} posted",
            tenant.id
        );
    }
    let applied = Rate::new("projector drain (events applied)", expected * count as u64, elapsed);
    projector.stop().await?;
    // What the drain stored, as documents per second: the unit of the raw bulk-write
    // baseline (a batch writes each touched product and day once, whatever the number
    // of its sales that touched them).
    let stored = documents(mongo, &drain_tenants).await? - before;
    let stored = Rate::new("projector drain (documents stored)", stored, elapsed);
    for tenant in &drain_tenants {
        mongo.database(&tenant.id.database_name()).drop().await?;
    }
    Ok(Drained {
        events: applied,
        documents: stored,
    })
}

/// Documents in the tenants' read models.
async fn documents(mongo: &mongodb::Client, tenants: &[workload::Tenant]) -> anyhow::Result<u64> {
    let mut documents = 0;
    for tenant in tenants {
        let db = mongo.database(&tenant.id.database_name());
        for collection in projector::model::docs::collections::READ_MODEL {
            documents += db
                .collection::<bson::Document>(collection)
                .estimated_document_count()
                .await?;
        }
    }
    Ok(documents)
}

fn print_rate(rate: &Rate) {
    eprintln!(
        "{:<42} {:>9.0}/s  ({} in {:.2} s)",
        rate.name, rate.per_second, rate.operations, rate.seconds
    );
}

/// mimalloc: measurably fewer cycles in allocation-heavy request handling than glibc malloc
/// (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // The API and projector run in this process: their per-request lines would cost the
    // measurement CPU. Warnings, and this tool's and the replay's progress, are shown.
    telemetry::init_with_default(telemetry::LogFormat::Pretty, "warn,bench=info,projector::replay=info");
    let run = format!("lg{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let setup = Setup {
        nats_url: args.nats_url.clone(),
        mongodb_uri: args.mongodb_uri.clone(),
        stream: run.to_uppercase(),
        prefix: run.clone(),
        secret: args.jwt_secret.clone(),
    };
    let mongo = mongodb::Client::with_uri_str(&args.mongodb_uri).await?;
    let system = match &args.api_url {
        Some(_) => None,
        None => Some(System::start(&setup, !args.no_projector).await?),
    };
    let base_url = args
        .api_url
        .clone()
        .or_else(|| system.as_ref().map(|s| s.base_url.clone()))
        .unwrap_or_default();
    let tenants = workload::tenants(args.tenants, &args.jwt_secret, &run);
    workload::provision(&mongo, &tenants).await?;
    let http = reqwest::Client::new();
    workload::prepare(&http, &base_url, &tenants).await?;
    let budget = match args.count {
        Some(count) => Budget::Count(count),
        None => Budget::Duration(Duration::from_secs(args.duration_secs)),
    };
    let mut loads = Vec::new();
    let mut rates = Vec::new();
    eprintln!(
        "[loadgen] run {run}: {} tenants, {} connections, {budget:?} against {base_url}",
        args.tenants, args.connections
    );
    let product = Load {
        name: "tillstream command API (event-sourced)".to_owned(),
        base_url: base_url.clone(),
        sales_path: "/v1/sales".to_owned(),
        sales_only: args.sales_only || args.peer_url.is_some(),
        connections: args.connections,
        budget,
        tenants: tenants.clone(),
        run: run.clone(),
        lag_every: if args.no_projector { 0 } else { args.lag_every },
        mongo: (!args.no_projector).then(|| mongo.clone()),
        lag_url: None,
        progress: true,
        rate: args.rate,
    }
    .run()
    .await?;
    print_load(&product);
    loads.push(product);

    if let Some(peer_url) = &args.peer_url {
        if system.is_some() && !args.no_projector {
            // The projector may still be applying tillstream's sales: let it finish, so the
            // peer gets the CPU tillstream had, and report how long catching up took.
            let caught_up = peer::wait_projected(&mongo, &tenants, loads[0].ok).await?;
            eprintln!(
                "{:<42} {:>9.2} s after the load ended",
                "tillstream projector caught up", caught_up
            );
        }
        let peer_run = format!("{run}p");
        let peer = Load {
            name: "peer: cqrs-es + postgres-es".to_owned(),
            base_url: peer_url.trim_end_matches('/').to_owned(),
            sales_path: "/v1/sales".to_owned(),
            sales_only: true,
            connections: args.connections,
            budget,
            tenants: workload::tenants(args.tenants, &args.jwt_secret, &peer_run),
            run: peer_run,
            lag_every: args.lag_every,
            mongo: None,
            lag_url: Some(peer_url.trim_end_matches('/').to_owned()),
            progress: true,
            rate: args.rate,
        }
        .run()
        .await?;
        print_load(&peer);
        eprintln!(
            "{:<42} {:>9.2}× the peer's sales/s; p99 {:.2} of the peer's ({:.2} vs {:.2} ms)",
            "tillstream / peer",
            loads[0].per_second / peer.per_second.max(f64::EPSILON),
            loads[0].latency.p99_ms / peer.latency.p99_ms.max(f64::EPSILON),
            loads[0].latency.p99_ms,
            peer.latency.p99_ms
        );
        loads.push(peer);
    }

    if args.baselines {
        let nats = async_nats::connect(&args.nats_url).await?;
        let js = async_nats::jetstream::new(nats);
        let scheme = SubjectScheme::new(run.clone())?;
        StreamSettings::new(setup.stream.clone(), scheme).ensure(&js).await?;
        // In the stream, but outside every partition (`<prefix>.<n>.>`): the projector
        // must not see the raw messages (it would park each one as unroutable and take
        // the CPU the baselines are measured with).
        let raw_subject = format!("{run}.baseline.raw");
        rates.push(baselines::nats_publish(&js, &raw_subject, 100_000, 700, 1024).await?);
        print_rate(&rates[rates.len() - 1]);
        let raw_db = mongo.database(&format!("{run}_raw"));
        rates.push(baselines::mongo_bulk_upserts(&raw_db, "sales", 50_000, 500, 8).await?);
        print_rate(&rates[rates.len() - 1]);
        raw_db.drop().await?;
        // Sales only, over fresh tenants, with the API's connections, budget and rate.
        let sales_load = |name: &str, address: std::net::SocketAddr, suffix: &str| Load {
            name: name.to_owned(),
            base_url: format!("http://{address}"),
            sales_path: "/sales".to_owned(),
            sales_only: true,
            connections: args.connections,
            budget,
            tenants: workload::tenants(args.tenants, &args.jwt_secret, &format!("{run}{suffix}")),
            run: format!("{run}{suffix}"),
            lag_every: 0,
            mongo: None,
            lag_url: None,
            progress: true,
            rate: args.rate,
        };
        let address = baselines::direct_write_service(mongo.clone(), &args.jwt_secret).await?;
        let direct = sales_load("direct write (seed design: handler → MongoDB)", address, "d")
            .run()
            .await?;
        print_load(&direct);
        loads.push(direct);
        let address = baselines::http_floor_service().await?;
        let floor = sales_load("HTTP floor (handler answers 201, no work)", address, "h")
            .run()
            .await?;
        print_load(&floor);
        let api = loads[0].per_second;
        eprintln!(
            "{:<42} {:>9.0} % of raw publish, {:.0} % of the HTTP floor",
            "command API",
            api / rates[0].per_second.max(f64::EPSILON) * 100.0,
            api / floor.per_second.max(f64::EPSILON) * 100.0
        );
        loads.push(floor);
    }

    if let Some(system) = system {
        system.stop().await?;
    }
    if let (Some(events), None) = (args.drain, &args.api_url) {
        let dense = drain(
            &setup,
            &mongo,
            &http,
            &format!("{run}x"),
            args.tenants,
            events,
            args.connections,
        )
        .await?;
        let documents_rate = dense.documents;
        print_rate(&dense.events);
        print_rate(&documents_rate);
        if let Some(raw) = rates.iter().find(|r| r.name.starts_with(baselines::BULK_UPSERTS)) {
            eprintln!(
                "{:<42} {:>9.0} %",
                "projector drain / raw bulk upserts",
                documents_rate.per_second / raw.per_second.max(f64::EPSILON) * 100.0
            );
        }
        let dense_rate = dense.events.per_second;
        rates.push(dense.events);
        rates.push(documents_rate);
        if let Some(sparse_tenants) = args.sparse_drain {
            let events = sparse_tenants as u64 * args.sparse_events;
            let mut sparse = drain(
                &setup,
                &mongo,
                &http,
                &format!("{run}s"),
                sparse_tenants,
                events,
                args.connections,
            )
            .await?;
            sparse.events.name = format!("sparse drain ({sparse_tenants} tenants × {})", args.sparse_events);
            sparse.documents.name = "sparse drain (documents stored)".to_owned();
            print_rate(&sparse.events);
            print_rate(&sparse.documents);
            eprintln!(
                "{:<42} {:>9.0} %",
                "sparse drain / dense drain (events)",
                sparse.events.per_second / dense_rate.max(f64::EPSILON) * 100.0
            );
            rates.push(sparse.events);
            rates.push(sparse.documents);
        }
    }

    let mut replay = None;
    if let (Some(events), None) = (args.replay_events, &args.api_url) {
        let tenant = workload::tenants(1, &args.jwt_secret, &format!("{run}r"));
        workload::provision(&mongo, &tenant).await?;
        let api_only = System::start(&setup, false).await?;
        workload::prepare(&http, &api_only.base_url, &tenant).await?;
        Load::fixture(
            "replay fixture: commands for one tenant",
            &api_only.base_url,
            tenant.clone(),
            format!("{run}r"),
            events,
            args.connections,
            false,
        )
        .run()
        .await?;
        api_only.stop().await?;
        let report = bench::replay::measure(&setup, &mongo, &tenant[0].id).await?;
        for rate in [&report.raw_read, &report.replay, &report.raw_write] {
            print_rate(rate);
        }
        eprintln!(
            "{:<42} {:>9.0}/s  ({} documents; replay is {:.0} % of raw read + raw write)",
            "raw read + raw write, combined",
            report.raw_combined_per_second,
            report.documents,
            report.ratio * 100.0
        );
        replay = Some(report);
    }

    if !args.keep {
        for tenant in &tenants {
            mongo.database(&tenant.id.database_name()).drop().await?;
        }
        // The run's stream too: runs add up (a 1 M-event replay keeps 1.5 GB), and a
        // JetStream that runs out of storage refuses every command with 503.
        if args.api_url.is_none() {
            let js = async_nats::jetstream::new(async_nats::connect(&args.nats_url).await?);
            js.delete_stream(&setup.stream).await?;
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"run": run, "loads": loads, "rates": rates, "replay": replay})
            )?
        );
    }
    Ok(())
}
