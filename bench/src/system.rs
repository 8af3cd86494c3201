//! The system under test, started in-process on a fresh stream: the command API on a free
//! port and a projector.

use clap::Parser;

/// A running API and projector.
pub struct System {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The projector's stopper.
    stop_projector: Option<tokio::sync::oneshot::Sender<()>>,
    projector: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Where the servers are and what to call things.
#[derive(Debug, Clone)]
pub struct Setup {
    /// NATS.
    pub nats_url: String,
    /// MongoDB.
    pub mongodb_uri: String,
    /// Stream name of this run.
    pub stream: String,
    /// Subject prefix of this run.
    pub prefix: String,
    /// JWT secret.
    pub secret: String,
}

impl Setup {
    /// `binary` followed by the flags both services share (servers, stream, prefix), then
    /// `extra`.
    pub fn args<'a>(&'a self, binary: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            binary,
            "--nats-url",
            &self.nats_url,
            "--mongodb-uri",
            &self.mongodb_uri,
            "--stream-name",
            &self.stream,
            "--subject-prefix",
            &self.prefix,
        ];
        args.extend_from_slice(extra);
        args
    }
}

/// The projector configuration of a run: its stream and prefix, its own consumer names.
pub fn projector_config(setup: &Setup) -> projector::config::Config {
    let consumer_prefix = format!("bench-{}", setup.prefix);
    let extra = ["--admin-addr", "127.0.0.1:0", "--consumer-prefix", &consumer_prefix];
    projector::config::Cli::parse_from(setup.args("projector", &extra)).config
}

impl System {
    /// Starts the API (and the projector unless `projector` is false).
    pub async fn start(setup: &Setup, projector: bool) -> anyhow::Result<Self> {
        Self::start_with(setup, projector, &[]).await
    }

    /// [`System::start`], with more flags for the API (`api_flags`).
    pub async fn start_with(setup: &Setup, projector: bool, api_flags: &[&str]) -> anyhow::Result<Self> {
        // The run's tokens live a day (see `workload::tenants`); the API refuses tokens that
        // live longer than its access tokens, so its access tokens live a day here.
        let mut extra = vec![
            "--listen-addr",
            "127.0.0.1:0",
            "--jwt-secret",
            &setup.secret,
            "--access-token-ttl-secs",
            "86400",
        ];
        extra.extend_from_slice(api_flags);
        let api = command_api::config::Cli::parse_from(setup.args("command-api", &extra));
        let app = command_api::Application::build(api.config).await?;
        let base_url = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until(std::future::pending()));
        let (stop_projector, projector) = if projector {
            Self::projector(setup).await?
        } else {
            (None, None)
        };
        Ok(Self {
            base_url,
            stop_projector,
            projector,
        })
    }

    async fn projector(
        setup: &Setup,
    ) -> anyhow::Result<(
        Option<tokio::sync::oneshot::Sender<()>>,
        Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    )> {
        let built = projector::Projector::build(projector_config(setup)).await?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(built.run_until(async move {
            let _ = stopped.await;
        }));
        Ok((Some(stop), Some(task)))
    }

    /// Starts a projector now (for drain measurements).
    pub async fn start_projector(&mut self, setup: &Setup) -> anyhow::Result<()> {
        let (stop, task) = Self::projector(setup).await?;
        self.stop_projector = stop;
        self.projector = task;
        Ok(())
    }

    /// Stops the projector gracefully and keeps the API running (the drain's fixture is
    /// then posted while nothing projects it).
    pub async fn stop_projector(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop_projector.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.projector.take() {
            task.await??;
        }
        Ok(())
    }

    /// Stops the projector gracefully.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop_projector.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.projector.take() {
            task.await??;
        }
        Ok(())
    }
}

/// Waits until the run's projector consumers (`bench-<prefix>-p<n>`) have acknowledged
/// everything in their partitions: a batch is acknowledged only after its writes are
/// durable, so every event posted before the call is then in the read model. Checks every
/// 20 ms with one request per partition, whatever the number of tenants (counting each
/// tenant's documents instead costs a sequential round trip per tenant, which timed
/// thousands of tenants' counts along with their drain).
pub async fn wait_projected(setup: &Setup) -> anyhow::Result<()> {
    use futures::TryStreamExt;
    let client = async_nats::connect(&setup.nats_url).await?;
    let stream = async_nats::jetstream::new(client).get_stream(&setup.stream).await?;
    let prefix = format!("bench-{}-p", setup.prefix);
    let names: Vec<String> = stream
        .consumer_names()
        .try_filter(|name| futures::future::ready(name.starts_with(&prefix)))
        .try_collect()
        .await?;
    anyhow::ensure!(!names.is_empty(), "no projector consumer named {prefix}<n>");
    loop {
        let mut drained = true;
        for name in &names {
            let info = stream.consumer_info(name).await?;
            if info.num_pending > 0 || info.num_ack_pending > 0 {
                drained = false;
                break;
            }
        }
        if drained {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
