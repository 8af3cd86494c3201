//! [`StreamArgs`]: where the event stream is, as command-line flags (each with its
//! environment variable), declared once and flattened into every binary's configuration,
//! with the one way to connect to it.

use std::time::Duration;

use events::SubjectScheme;
use secrecy::{ExposeSecret, SecretString};

use crate::{EventStore, ServerListError, SetupError, StreamSettings};

/// The NATS servers and the stream's settings.
#[derive(Debug, Clone, clap::Args)]
pub struct StreamArgs {
    /// NATS server(s), comma-separated (a cluster's seeds).
    #[arg(long, global = true, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,

    /// NATS user of this service (a server with users: scripts/nats-users, compose.yaml);
    /// unset connects without credentials.
    #[arg(long, global = true, env = "NATS_USER", requires = "nats_password")]
    pub nats_user: Option<String>,

    /// Password of `NATS_USER`.
    #[arg(
        long,
        global = true,
        env = "NATS_PASSWORD",
        hide_env_values = true,
        requires = "nats_user"
    )]
    pub nats_password: Option<SecretString>,

    /// Name of the JetStream stream holding the events.
    #[arg(long, global = true, env = "NATS_STREAM", default_value = "POS")]
    pub stream_name: String,

    /// First token(s) of every event subject: `<prefix>.<partition>.<tenant>.<aggregate>.<id>`.
    #[arg(long, global = true, env = "SUBJECT_PREFIX", default_value = "pos")]
    pub subject_prefix: String,

    /// Partitions tenants are spread over, used only when this process creates the stream
    /// (an existing stream keeps the count it was created with).
    #[arg(long, global = true, env = "STREAM_PARTITIONS", default_value_t = SubjectScheme::DEFAULT_PARTITIONS)]
    pub stream_partitions: u32,

    /// Replicas of the stream (3 on a cluster); applied when this process creates or
    /// updates the stream at start (keep it the same on every service).
    #[arg(long, global = true, env = "NATS_STREAM_REPLICAS", default_value_t = 1)]
    pub stream_replicas: usize,

    /// Days a client's `Idempotency-Key` stays bound to its first request across a
    /// tenant's aggregates (a reuse with another body is 409 during that time).
    #[arg(long, global = true, env = "IDEMPOTENCY_KEY_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub idempotency_key_retention_days: u64,

    /// Most consumers the stream may have, applied when this process creates or updates
    /// the stream (-1: no limit). Each open feed stream or page is one; NATS's own default
    /// of 1,000 per stream would cap every tenant's readers together.
    #[arg(long, global = true, env = "STREAM_MAX_CONSUMERS", default_value_t = StreamSettings::DEFAULT_MAX_CONSUMERS,
          value_parser = clap::value_parser!(i32).range(-1..))]
    pub stream_max_consumers: i32,
}

/// Connecting to the stream failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// `SUBJECT_PREFIX` or `STREAM_PARTITIONS` is not usable.
    #[error("SUBJECT_PREFIX / STREAM_PARTITIONS")]
    Scheme(#[source] events::SubjectError),
    /// `NATS_URL` is not a list of server addresses.
    #[error("NATS_URL")]
    Servers(#[from] ServerListError),
    /// No NATS server answered.
    #[error("connecting to NATS at {url}")]
    Connect {
        /// The configured servers.
        url: String,
        /// Why.
        #[source]
        source: async_nats::ConnectError,
    },
    /// The stream could not be created, updated or opened.
    #[error("opening stream {stream}")]
    Open {
        /// The stream's name.
        stream: String,
        /// Why.
        #[source]
        source: SetupError,
    },
}

impl StreamArgs {
    /// The stream's settings these flags describe.
    pub fn settings(&self) -> Result<StreamSettings, ConnectError> {
        let scheme = SubjectScheme::with_partitions(self.subject_prefix.clone(), self.stream_partitions)
            .map_err(ConnectError::Scheme)?;
        let mut settings = StreamSettings::new(self.stream_name.clone(), scheme);
        settings.replicas = self.stream_replicas;
        settings.max_consumers = self.stream_max_consumers;
        settings.key_retention = Duration::from_secs(self.idempotency_key_retention_days * 24 * 3600);
        Ok(settings)
    }

    /// Connects as `client_name` (shown in the server's connection list), creating or
    /// updating the stream, with `timeout` bounding the connection and every JetStream
    /// request.
    pub async fn connect(&self, client_name: &str, timeout: Duration) -> Result<EventStore, ConnectError> {
        let settings = self.settings()?;
        let options = match (&self.nats_user, &self.nats_password) {
            (Some(user), Some(password)) => {
                async_nats::ConnectOptions::with_user_and_password(user.clone(), password.expose_secret().to_owned())
            }
            _ => async_nats::ConnectOptions::new(),
        };
        let nats = options
            .name(client_name)
            .connection_timeout(timeout)
            .connect(crate::server_addrs(&self.nats_url)?)
            .await
            .map_err(|source| ConnectError::Connect {
                url: self.nats_url.clone(),
                source,
            })?;
        EventStore::open(nats, &settings, timeout)
            .await
            .map_err(|source| ConnectError::Open {
                stream: self.stream_name.clone(),
                source,
            })
    }
}
