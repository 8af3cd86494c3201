//! The real projector, in-process, on a test stream.

use std::time::Duration;

use anyhow::Context;
use events::TenantId;
use projector::Projector;
use projector::config::{Config, LogFormat};
use tenantdb::collections::Target;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::poll::eventually;
use crate::servers::{Servers, mongodb_uri, nats_url};
use crate::stream::TestStream;

/// A running projector.
pub struct ProjectorApp {
    /// Its admin server, `http://127.0.0.1:<port>`.
    pub admin: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl ProjectorApp {
    /// The configuration of a test projector on `stream` (fast failover timings).
    pub fn config(stream: &TestStream) -> Config {
        Config {
            nats_url: nats_url(),
            stream_name: stream.name.clone(),
            subject_prefix: stream.scheme.prefix().to_owned(),
            stream_partitions: stream.scheme.partitions(),
            stream_replicas: 1,
            mongodb_uri: mongodb_uri(),
            main_db: "liquor_pos_main".to_owned(),
            projector_db: format!("projector_{}", stream.name.to_lowercase()),
            max_pool_size: 10,
            min_pool_size: 0,
            socket_timeout_secs: 45,
            server_selection_timeout_secs: 5,
            consumer_prefix: "projector".to_owned(),
            batch_size: 200,
            tenant_concurrency: 8,
            max_ack_pending: 5000,
            ack_wait_secs: 30,
            max_deliver: 20,
            park_after_deliveries: 5,
            pinned_ttl_secs: 2,
            worker_index: None,
            worker_count: None,
            standby_delay_secs: 1,
            admin_addr: "127.0.0.1:0".parse().expect("literal address"),
            log_format: LogFormat::Pretty,
        }
    }

    /// Starts a projector with the default test configuration.
    pub async fn spawn(stream: &TestStream) -> anyhow::Result<Self> {
        Self::spawn_with(stream, |_| {}).await
    }

    /// Starts a projector after `adjust` changed its configuration.
    pub async fn spawn_with(stream: &TestStream, adjust: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        let mut config = Self::config(stream);
        adjust(&mut config);
        let projector = Projector::build(config).await.context("building the projector")?;
        let admin = format!("http://127.0.0.1:{}", projector.admin_port());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(projector.run_until(async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            admin,
            stop: Some(stop),
            task,
        })
    }

    /// Asks it to finish its batches and stop, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.context("projector task panicked")?
    }

    /// Stops it abruptly, wherever it is (the in-process equivalent of `kill -9`: pending
    /// writes and acks are simply never sent).
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Waits until `tenant`'s checkpoint reaches `sequence`.
pub async fn wait_for_checkpoint(
    servers: &Servers,
    tenant: &TenantId,
    sequence: u64,
    timeout: Duration,
) -> anyhow::Result<()> {
    let db = servers.mongo.database(&tenant.database_name());
    eventually(&format!("{tenant}'s checkpoint to reach {sequence}"), timeout, || {
        let db = db.clone();
        async move {
            let checkpoint = tenantdb::checkpoint::sequence(&db, &Target::live()).await?;
            Ok((checkpoint >= sequence).then_some(()))
        }
    })
    .await
}
