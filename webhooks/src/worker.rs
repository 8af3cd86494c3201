//! Building and running the worker: connections, one intake task per partition, the
//! dispatcher, and stopping on a signal.

use std::future::Future;
use std::time::Duration;

use anyhow::Context;
use eventstore::EventStore;

use crate::config::Config;
use crate::dispatch::{self, Dispatcher};
use crate::intake::Intake;
use crate::reseal::{self, ResealReport};
use crate::store::WebhookStore;

/// A built worker, connected but not yet running.
pub struct Worker {
    store: EventStore,
    intake: Intake,
    dispatcher: Dispatcher,
    /// Whether `run_until` starts with a re-sealing pass.
    reseal_at_start: bool,
}

/// `webhooks reseal`: one re-sealing pass over every endpoint (or one tenant's), with the
/// configured keys.
pub async fn reseal(config: &Config, tenant: Option<&str>) -> anyhow::Result<ResealReport> {
    let databases = config.mongo.connect().await.context("configuring the MongoDB client")?;
    let key = config.secret_key.key().context("reading WEBHOOK_SECRET_KEY")?;
    let webhooks = WebhookStore::new(databases.main_database()).with_secret_key(key);
    let report = reseal::reseal_all(&webhooks, tenant)
        .await
        .context("re-sealing webhook secrets")?;
    Ok(report)
}

/// The pass at start: logs what it did; a failure is logged, not fatal (the next start,
/// or `webhooks reseal`, tries again).
async fn reseal_in_background(webhooks: WebhookStore) {
    match reseal::reseal_all(&webhooks, None).await {
        Ok(report) if report.unopenable.is_empty() => tracing::info!(
            endpoints = report.endpoints,
            resealed = report.resealed,
            changed_meanwhile = report.changed_meanwhile,
            "every webhook signing secret is sealed under WEBHOOK_SECRET_KEY"
        ),
        Ok(report) => tracing::warn!(
            endpoints = report.endpoints,
            resealed = report.resealed,
            unopenable = report.unopenable.len(),
            "some webhook signing secrets open with no configured key; keep the old key or rotate those endpoints' secrets"
        ),
        Err(err) => tracing::warn!(error = ?err, "re-sealing webhook secrets failed; it runs again at the next start"),
    }
}

impl Worker {
    /// Connects to NATS (creating the stream if needed) and MongoDB; creates the indexes.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = config
            .stream
            .connect("tillstream-webhooks", Duration::from_secs(10))
            .await
            .context("connecting to the event store")?;
        let databases = config.mongo.connect().await.context("configuring the MongoDB client")?;
        let key = config.secret_key.key_or_warn().context("reading WEBHOOK_SECRET_KEY")?;
        let webhooks = WebhookStore::new(databases.main_database()).with_secret_key(key);
        if let Err(err) = webhooks.ensure_indexes().await {
            tracing::warn!(error = %err, "cannot create the webhook indexes yet");
        }
        let reseal_at_start = config.reseal_at_start && webhooks.keyring().is_some();
        let request_timeout = Duration::from_millis(config.request_timeout_ms);
        let dispatcher = Dispatcher {
            webhooks: webhooks.clone(),
            http: dispatch::http_client(request_timeout).context("building the HTTP client")?,
            backoff: config.backoff(),
            disable_after: Duration::from_secs(config.disable_after_secs),
            request_timeout,
            concurrency: config.concurrency,
            poll: Duration::from_millis(config.poll_ms),
            allow_private_hosts: config.allow_private_hosts,
        };
        let intake = Intake {
            store: store.clone(),
            webhooks,
            consumer_prefix: config.consumer_prefix.clone(),
            endpoint_cache: Duration::from_millis(config.endpoint_cache_ms),
        };
        Ok(Self {
            store,
            intake,
            dispatcher,
            reseal_at_start,
        })
    }

    /// Runs until `shutdown` completes. Stopping at any point loses nothing: unacknowledged
    /// events are read again, and a delivery interrupted mid-request is attempted again
    /// once its lease ends (the receiver may then see it twice: de-duplicate by
    /// `Tillstream-Event-Id`).
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        for partition in 0..self.store.scheme().partitions() {
            tasks.spawn(self.intake.clone().run(partition));
        }
        if self.reseal_at_start {
            tasks.spawn(reseal_in_background(self.dispatcher.webhooks.clone()));
        }
        tasks.spawn(self.dispatcher.run());
        tracing::info!(partitions = self.store.scheme().partitions(), "webhook worker running");
        shutdown.await;
        tracing::info!("webhook worker stopping");
        tasks.shutdown().await;
        Ok(())
    }

    /// Runs until SIGTERM or ctrl-c.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(telemetry::shutdown_signal()).await
    }
}
