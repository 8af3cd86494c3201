//! The projector's configuration and command line: one typed struct from flags and the
//! environment. Nothing else in the crate reads `std::env`.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;

pub use telemetry::LogFormat;

/// The command line.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "projector",
    version,
    about = "tillstream projector: events in, per-tenant MongoDB read models out"
)]
pub struct Cli {
    /// Settings shared by every subcommand.
    #[command(flatten)]
    pub config: Config,
    /// What to do (default: run).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Consume the stream and keep the read models up to date (the default).
    Run,
    /// Inspect events that could not be applied.
    Parked {
        /// What to do with them.
        #[command(subcommand)]
        action: ParkedAction,
    },
    /// Rebuild read models from the stream, online; the live projector swaps them in.
    Replay {
        /// The tenant to rebuild.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        tenant: Option<String>,
        /// Rebuild every tenant.
        #[arg(long)]
        all: bool,
        /// Tenants rebuilt at once with `--all`.
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
        /// Swap in this process: only when no projector is running.
        #[arg(long)]
        offline: bool,
    },
    /// Rebuild a tenant into a scratch database and compare it with the live read model;
    /// exit status 1 when they differ.
    Verify {
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
    /// Move a tenant's database to another MongoDB deployment.
    Move {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The target deployment's URI.
        #[arg(long)]
        to: String,
        /// Hand over in this process: only when no projector is running.
        #[arg(long)]
        offline: bool,
    },
    /// Write a tenant's events to a JSON-lines file (zstd when it ends in `.zst`).
    Export {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The file.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Append the events of an export file to this installation's stream.
    Import {
        /// The file.
        #[arg(long = "in")]
        input: std::path::PathBuf,
        /// Import under this tenant id instead of the exported one (a copy for a test or
        /// training organization, or a tenant renamed on the way to another
        /// installation). The events get new event ids; everything else is kept.
        #[arg(long = "as-tenant")]
        as_tenant: Option<String>,
    },
    /// Erase a tenant: its events and its database (GDPR erasure).
    Delete {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The tenant id again, to confirm.
        #[arg(long)]
        confirm: String,
    },
}

/// Parked-event actions.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ParkedAction {
    /// List a tenant's parked events (or the unroutable ones with `--unroutable`).
    List {
        /// The tenant.
        #[arg(long, required_unless_present = "unroutable")]
        tenant: Option<String>,
        /// List events whose subject named no valid tenant.
        #[arg(long)]
        unroutable: bool,
    },
}

/// Configuration of the projector.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// The event stream.
    #[command(flatten)]
    pub stream: eventstore::StreamArgs,

    /// The MongoDB deployment and its pool.
    #[command(flatten)]
    pub mongo: tenantdb::MongoArgs,

    /// Database for events whose subject names no valid tenant.
    #[arg(long, global = true, env = "PROJECTOR_DB", default_value = "tillstream_projector")]
    pub projector_db: String,

    /// Durable consumer names are `<prefix>-p<partition>`.
    #[arg(long, global = true, env = "CONSUMER_PREFIX", default_value = "projector")]
    pub consumer_prefix: String,

    /// Most messages applied in one batch while the projector keeps up.
    #[arg(long, global = true, env = "BATCH_SIZE", default_value_t = 500)]
    pub batch_size: usize,

    /// Most messages applied in one batch while a backlog waits (after an outage or a
    /// deploy): a full batch keeps growing up to this many while the stream reports more.
    /// Catching up many small tenants then writes each tenant's documents once for several
    /// of its events. Only batches of small tenants grow (at most 4 events per tenant on
    /// average when the batch is full): a few large tenants' batches gain nothing and would
    /// only take memory. Capped at `MAX_ACK_PENDING`.
    #[arg(long, global = true, env = "BACKLOG_BATCH_SIZE", default_value_t = 5000)]
    pub backlog_batch_size: usize,

    /// Tenants of one batch applied concurrently.
    #[arg(long, global = true, env = "TENANT_CONCURRENCY", default_value_t = 8)]
    pub tenant_concurrency: usize,

    /// Write the batches of a batch's many tenants together, one `bulkWrite` per phase
    /// across their databases (MongoDB 8.0+), instead of each tenant's own round trips.
    /// A server without the command is detected and each tenant is written on its own.
    #[arg(long, global = true, env = "CROSS_TENANT_WRITES", default_value_t = true, action = clap::ArgAction::Set)]
    pub cross_tenant_writes: bool,

    /// Most tenants in one cross-tenant `bulkWrite` (two such writes of a batch run at
    /// once): a timed-out write sends each of its tenants back to the per-tenant path, so a
    /// write of 1,250 new tenants that ran past `MONGO_SOCKET_TIMEOUT_SECS` on the
    /// surrogate cost the whole batch twice (docs/performance.md, "Twelfth session").
    #[arg(long, global = true, env = "CROSS_TENANT_WRITE_TENANTS", default_value_t = 100,
        value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u64).range(1..), |n| n as usize))]
    pub cross_tenant_write_tenants: usize,

    /// Unacknowledged messages per partition before the server pauses delivery: bounds
    /// the memory a burst can take.
    #[arg(long, global = true, env = "MAX_ACK_PENDING", default_value_t = 10000)]
    pub max_ack_pending: i64,

    /// Seconds before an unacknowledged message is delivered again.
    #[arg(long, global = true, env = "ACK_WAIT_SECS", default_value_t = 60)]
    pub ack_wait_secs: u64,

    /// Deliveries after which JetStream stops delivering a message (a backstop; the
    /// projector parks it first).
    #[arg(long, global = true, env = "MAX_DELIVER", default_value_t = 20)]
    pub max_deliver: i64,

    /// Deliveries after which a message that keeps coming back is parked unapplied.
    #[arg(long, global = true, env = "PARK_AFTER_DELIVERIES", default_value_t = 5)]
    pub park_after_deliveries: i64,

    /// Seconds a partition stays pinned to a process that stopped pulling before another
    /// process takes it over.
    #[arg(long, global = true, env = "PINNED_TTL_SECS", default_value_t = 30)]
    pub pinned_ttl_secs: u64,

    /// This process's number among `WORKER_COUNT` processes: it claims partitions
    /// `p % WORKER_COUNT == WORKER_INDEX` at once and stands by for the others.
    #[arg(long, global = true, env = "WORKER_INDEX")]
    pub worker_index: Option<u32>,

    /// How many projector processes share the partitions.
    #[arg(long, global = true, env = "WORKER_COUNT")]
    pub worker_count: Option<u32>,

    /// Seconds a process waits before pulling partitions that are not its own.
    #[arg(long, global = true, env = "STANDBY_DELAY_SECS", default_value_t = 5)]
    pub standby_delay_secs: u64,

    /// Address of the admin HTTP server (health, metrics, stats, parked events). Keep it
    /// on a private interface.
    #[arg(long, global = true, env = "ADMIN_ADDR", default_value = "127.0.0.1:9090")]
    pub admin_addr: SocketAddr,

    /// Bearer token the admin server requires on everything but `/health` and `/ready`
    /// (metrics, stats, lag, parked events). Without one those are refused (401).
    #[arg(long, global = true, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<SecretString>,

    /// Log format.
    #[arg(long, global = true, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// OTLP export of spans (`OTEL_EXPORTER_OTLP_ENDPOINT`; none by default). Traces
    /// are propagated and logged either way; see docs/tracing.md.
    #[command(flatten)]
    pub traces: telemetry::TraceExport,
}

impl Config {
    /// Ack wait as a duration.
    pub fn ack_wait(&self) -> Duration {
        Duration::from_secs(self.ack_wait_secs)
    }

    /// Whether `partition` is one this process claims first.
    pub fn prefers(&self, partition: u32) -> bool {
        match (self.worker_index, self.worker_count) {
            (Some(index), Some(count)) if count > 0 => partition % count == index,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_shared_flags_are_flattened_with_their_defaults() {
        let cli = Cli::try_parse_from(["projector", "--stream-name", "S1", "--max-pool-size", "3"])
            .expect("a valid command line");
        assert_eq!(cli.config.stream.stream_name, "S1");
        assert_eq!(cli.config.stream.subject_prefix, "pos");
        assert_eq!(cli.config.mongo.max_pool_size, 3);
        assert_eq!(cli.config.mongo.server_selection_timeout_secs, 5);
    }

    #[test]
    fn every_subcommand_takes_and_lists_the_connection_settings() {
        use clap::CommandFactory;
        // After the subcommand too, where an operator types them.
        let cli = Cli::try_parse_from([
            "projector",
            "export",
            "--tenant",
            "t1",
            "--out",
            "f.jsonl",
            "--nats-url",
            "nats://10.0.0.9:4222",
            "--mongodb-uri",
            "mongodb://10.0.0.9:27017",
        ])
        .expect("a valid command line");
        assert_eq!(cli.config.stream.nats_url, "nats://10.0.0.9:4222");
        assert_eq!(cli.config.mongo.mongodb_uri, "mongodb://10.0.0.9:27017");
        let mut command = Cli::command();
        command.build();
        for sub in ["import", "export", "replay", "verify", "move", "delete", "parked"] {
            let help = command
                .find_subcommand_mut(sub)
                .map(|c| c.render_long_help().to_string())
                .unwrap_or_default();
            for flag in ["--nats-url", "--stream-name", "--mongodb-uri", "--main-db"] {
                assert!(help.contains(flag), "`projector {sub} --help` lacks {flag}");
            }
        }
    }
}
