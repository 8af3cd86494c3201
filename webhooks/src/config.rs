//! The webhook worker's configuration: one typed struct from flags and the environment.
//! Nothing else in the crate reads `std::env`.

use std::time::Duration;

pub use telemetry::LogFormat;

use crate::backoff::Backoff;

/// The command line.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "webhooks",
    version,
    about = "tillstream webhook worker: events in, signed HTTP deliveries out"
)]
pub struct Cli {
    /// The settings.
    #[command(flatten)]
    pub config: Config,

    /// What to do; without one, run the worker.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A one-off task instead of the worker.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Re-seal every endpoint's signing secrets under WEBHOOK_SECRET_KEY (plain ones, and
    /// those sealed with a key of WEBHOOK_SECRET_KEY_PREVIOUS), print what was done as JSON,
    /// and exit; exit status 2 when a secret opens with no configured key.
    Reseal {
        /// Only this tenant's endpoints (its organization id); all when absent.
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// Configuration of the webhook worker.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// The event stream.
    #[command(flatten)]
    pub stream: eventstore::StreamArgs,

    /// The MongoDB deployment (endpoints and deliveries live in its main database).
    #[command(flatten)]
    pub mongo: tenantdb::MongoArgs,

    /// Durable consumer names are `<prefix>-p<partition>`.
    #[arg(long, env = "WEBHOOK_CONSUMER_PREFIX", default_value = "webhooks")]
    pub consumer_prefix: String,

    /// Nominal wait after a delivery's first failure, milliseconds; doubles with each
    /// further failure.
    #[arg(long, env = "WEBHOOK_RETRY_BASE_MS", default_value_t = 30_000)]
    pub retry_base_ms: u64,

    /// Longest nominal wait between attempts, milliseconds.
    #[arg(long, env = "WEBHOOK_RETRY_MAX_MS", default_value_t = 7_200_000)]
    pub retry_max_ms: u64,

    /// Attempts of one delivery, the first included, before it is dead-lettered.
    #[arg(long, env = "WEBHOOK_MAX_ATTEMPTS", default_value_t = 12)]
    pub max_attempts: u32,

    /// An endpoint whose every attempt has failed for this long is disabled, seconds.
    #[arg(long, env = "WEBHOOK_DISABLE_AFTER_SECS", default_value_t = 3 * 24 * 3600)]
    pub disable_after_secs: u64,

    /// Longest a receiver may take to answer, milliseconds.
    #[arg(long, env = "WEBHOOK_REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub request_timeout_ms: u64,

    /// Deliveries sent at once.
    #[arg(long, env = "WEBHOOK_CONCURRENCY", default_value_t = 64)]
    pub concurrency: usize,

    /// How often the dispatcher looks for due deliveries when it found none, milliseconds.
    #[arg(long, env = "WEBHOOK_POLL_MS", default_value_t = 250)]
    pub poll_ms: u64,

    /// How long a tenant's endpoint list is reused before it is read again, milliseconds
    /// (a new endpoint receives events recorded after at most this long).
    #[arg(long, env = "WEBHOOK_ENDPOINT_CACHE_MS", default_value_t = 5_000)]
    pub endpoint_cache_ms: u64,

    /// Allow endpoints on loopback and private addresses, and plain http (tests, a
    /// receiver on the same machine). The command API has the same flag; set both alike.
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE_HOSTS", default_value_t = false)]
    pub allow_private_hosts: bool,

    /// `WEBHOOK_SECRET_KEY`: opens the signing secrets sealed at rest.
    #[command(flatten)]
    pub secret_key: crate::sealing::SecretKeyArgs,

    /// At start, re-seal in the background every endpoint's secrets that are plain or
    /// sealed with a retired key (`WEBHOOK_SECRET_KEY_PREVIOUS`), when a key is set.
    #[arg(long, env = "WEBHOOK_RESEAL_AT_START", default_value_t = true, action = clap::ArgAction::Set)]
    pub reseal_at_start: bool,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// OTLP export of spans (`OTEL_EXPORTER_OTLP_ENDPOINT`; none by default). Traces
    /// are propagated and logged either way; see docs/tracing.md.
    #[command(flatten)]
    pub traces: telemetry::TraceExport,
}

impl Config {
    /// The retry schedule.
    pub fn backoff(&self) -> Backoff {
        Backoff {
            base: Duration::from_millis(self.retry_base_ms),
            max: Duration::from_millis(self.retry_max_ms.max(self.retry_base_ms)),
            max_attempts: self.max_attempts.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_defaults_retry_for_hours_and_refuse_private_hosts() {
        let cli = Cli::try_parse_from(["webhooks"]).expect("a valid command line");
        let backoff = cli.config.backoff();
        assert_eq!(backoff.base, Duration::from_secs(30));
        assert_eq!(backoff.max_attempts, 12);
        assert!(!cli.config.allow_private_hosts);
        assert_eq!(cli.config.stream.stream_name, "POS");
    }
}
