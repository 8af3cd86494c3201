//! Building and running the projector: connections, the stream, one consumer task per
//! partition, the admin server, placement refresh and graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use eventstore::EventStore;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::http::{self, AdminState};
use crate::partition::{self, PartitionContext};
use crate::store::TenantDatabases;

/// A built projector, connected and bound, not yet consuming.
pub struct Projector {
    context: PartitionContext,
    listener: TcpListener,
    admin_port: u16,
    metrics: PrometheusHandle,
}

/// How often the placement map is re-read.
const PLACEMENT_REFRESH: Duration = Duration::from_secs(30);

/// Connects to MongoDB with the configured pool.
pub async fn databases(config: &Config) -> anyhow::Result<TenantDatabases> {
    let databases = config.mongo.connect().await.context("configuring the MongoDB client")?;
    // The projector creates a tenant's database, so it creates its indexes with it
    // (`projection::set_up`, the first time it meets the tenant).
    Ok(databases)
}

/// Connects to NATS and opens (or creates) the event stream.
pub async fn event_store(config: &Config) -> anyhow::Result<EventStore> {
    Ok(config
        .stream
        .connect("tillstream-projector", Duration::from_secs(10))
        .await?)
}

impl Projector {
    /// Connects to NATS (creating the stream if needed) and MongoDB, and binds the admin
    /// listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = event_store(&config).await?;
        let databases = Arc::new(databases(&config).await?);
        if let Err(err) = databases.refresh_placements().await {
            tracing::warn!(error = %err, "cannot read the placement map yet; using the main deployment");
        }
        let metrics = telemetry::metrics_recorder();
        let listener = TcpListener::bind(config.admin_addr)
            .await
            .with_context(|| format!("binding {}", config.admin_addr))?;
        let admin_port = listener.local_addr().context("reading the admin address")?.port();
        Ok(Self {
            context: PartitionContext {
                store,
                databases,
                config: Arc::new(config),
                cross_tenant: Arc::default(),
            },
            listener,
            admin_port,
            metrics,
        })
    }

    /// Port of the admin server.
    pub fn admin_port(&self) -> u16 {
        self.admin_port
    }

    /// Consumes until `shutdown` completes, then finishes the batches in hand and returns.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let partitions = self.context.store.scheme().partitions();
        tracing::info!(
            partitions,
            stream = self.context.store.stream_name(),
            admin_port = self.admin_port,
            "projector starting"
        );

        let mut tasks = tokio::task::JoinSet::new();
        for partition in 0..partitions {
            tasks.spawn(partition::run(self.context.clone(), partition, stop_rx.clone()));
        }
        let databases = Arc::clone(&self.context.databases);
        let mut placement_stop = stop_rx.clone();
        tasks.spawn(async move {
            databases
                .refresh_placements_until(PLACEMENT_REFRESH, crate::shutdown::requested(&mut placement_stop))
                .await;
        });
        let admin = http::router(AdminState {
            store: self.context.store.clone(),
            databases: Arc::clone(&self.context.databases),
            metrics: self.metrics.clone(),
            consumer_prefix: self.context.config.consumer_prefix.clone(),
            cross_tenant: Arc::clone(&self.context.cross_tenant),
            token: telemetry::OpsToken::new(self.context.config.admin_token.as_ref()),
        });
        let mut admin_stop = stop_rx.clone();
        let listener = self.listener;
        tasks.spawn(async move {
            let serve = axum::serve(listener, admin).with_graceful_shutdown(async move {
                crate::shutdown::requested(&mut admin_stop).await;
            });
            if let Err(err) = serve.await {
                tracing::error!(error = %err, "admin server failed");
            }
        });

        shutdown.await;
        tracing::info!("shutting down: finishing the batches in hand");
        let _ = stop_tx.send(true);
        while tasks.join_next().await.is_some() {}
        tracing::info!("projector stopped");
        Ok(())
    }
}
