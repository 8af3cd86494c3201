//! The real projector, in-process, on a test stream.

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use events::TenantId;
use projector::Projector;
use projector::config::{Cli, Config, LogFormat};
use tenantdb::collections::Target;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::poll::eventually;
use crate::servers::{Servers, mongodb_uri};
use crate::stream::TestStream;

/// The admin token test projectors are configured with.
pub const ADMIN_TOKEN: &str = "test-projector-admin-token";

/// A running projector.
pub struct ProjectorApp {
    /// Its admin server, `http://127.0.0.1:<port>`.
    pub admin: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl ProjectorApp {
    /// The configuration of a test projector on `stream`: the real command line's
    /// defaults (parsed by the binary's own parser, so they cannot drift) with the test
    /// servers, the per-test stream and fast failover timings.
    pub fn config(stream: &TestStream) -> Config {
        let mut config = Cli::try_parse_from(["projector"])
            .expect("the defaults form a valid command line")
            .config;
        config.stream = stream.args();
        config.mongo.mongodb_uri = mongodb_uri();
        config.projector_db = format!("projector_{}", stream.name.to_lowercase());
        // Many projectors run at once in a test run; none keeps idle connections.
        config.mongo.min_pool_size = 0;
        config.batch_size = 200;
        // Redeliveries and hand-overs within seconds, so failover tests stay short.
        config.ack_wait_secs = 30;
        config.pinned_ttl_secs = 2;
        config.standby_delay_secs = 1;
        config.worker_index = None;
        config.worker_count = None;
        config.admin_addr = "127.0.0.1:0".parse().expect("literal address");
        config.admin_token = Some(ADMIN_TOKEN.into());
        config.log_format = LogFormat::Pretty;
        config
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

    /// GETs `path` of the admin server with the admin token, as JSON.
    pub async fn admin_get(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.admin))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?
            .error_for_status()
            .with_context(|| format!("GET {path}"))?;
        response.json().await.with_context(|| format!("GET {path}: not JSON"))
    }

    /// POSTs `path` of the admin server with the admin token: the status and the JSON body.
    pub async fn admin_post(&self, path: &str) -> anyhow::Result<(reqwest::StatusCode, serde_json::Value)> {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", self.admin))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status();
        let body = response
            .json()
            .await
            .with_context(|| format!("POST {path}: not JSON"))?;
        Ok((status, body))
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
