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

/// The projector configuration of a run: its stream and prefix, its own consumer names.
pub fn projector_config(setup: &Setup) -> projector::config::Config {
    projector::config::Cli::parse_from([
        "projector",
        "--nats-url",
        &setup.nats_url,
        "--mongodb-uri",
        &setup.mongodb_uri,
        "--stream-name",
        &setup.stream,
        "--subject-prefix",
        &setup.prefix,
        "--admin-addr",
        "127.0.0.1:0",
        "--consumer-prefix",
        &format!("bench-{}", setup.prefix),
    ])
    .config
}

impl System {
    /// Starts the API (and the projector unless `projector` is false).
    pub async fn start(setup: &Setup, projector: bool) -> anyhow::Result<Self> {
        let api = command_api::config::Cli::parse_from([
            "command-api",
            "--listen-addr",
            "127.0.0.1:0",
            "--nats-url",
            &setup.nats_url,
            "--mongodb-uri",
            &setup.mongodb_uri,
            "--stream-name",
            &setup.stream,
            "--subject-prefix",
            &setup.prefix,
            "--jwt-secret",
            &setup.secret,
        ]);
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
