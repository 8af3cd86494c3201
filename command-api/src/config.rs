//! The command API's configuration: one typed struct, read from flags and the
//! environment. Nothing else in the crate reads `std::env`.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;

pub use telemetry::LogFormat;

/// The command line.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "command-api",
    version,
    about = "tillstream command API: POS commands in, events to JetStream out"
)]
pub struct Cli {
    /// Settings shared by every subcommand.
    #[command(flatten)]
    pub config: Config,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print an access token signed with `JWT_SECRET`, for development and smoke tests,
    /// creating the tenant and the user in the shared database if they do not exist (the
    /// API refuses tokens of unknown tenants and users). Production tokens come from the
    /// identity service.
    Token {
        /// The tenant (organizationId).
        #[arg(long)]
        tenant: String,
        /// The user (userId).
        #[arg(long, default_value = "dev-user")]
        user: String,
        /// admin, manager or cashier.
        #[arg(long, default_value = "manager")]
        role: String,
        /// Terminal the token is issued to.
        #[arg(long)]
        terminal: Option<String>,
        /// Lifetime in seconds (default and maximum: `ACCESS_TOKEN_TTL_SECS`).
        #[arg(long)]
        ttl_secs: Option<u64>,
    },
}

/// Configuration of the command API.
#[derive(Debug, Clone, clap::Args)]
// A query or login waits at most 2 s for MongoDB before answering 503 (the projector,
// which retries, waits longer).
#[command(mut_arg("server_selection_timeout_secs", |arg| arg.default_value("2")))]
pub struct Config {
    /// Address to listen on. Port 0 picks a free port (tests).
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    pub listen_addr: SocketAddr,

    /// The event stream.
    #[command(flatten)]
    pub stream: eventstore::StreamArgs,

    /// Longest wait for JetStream to acknowledge an append or answer a read, in
    /// milliseconds. Past it the client gets 503 with Retry-After, never a hang.
    #[arg(long, env = "PUBLISH_TIMEOUT_MS", default_value_t = 2000)]
    pub publish_timeout_ms: u64,

    /// The MongoDB deployment and its pool.
    #[command(flatten)]
    pub mongo: tenantdb::MongoArgs,

    /// Longest a query carrying `min_sequence` waits for the projection to reach it, in
    /// milliseconds, before answering 503 `projection_behind`.
    #[arg(long, env = "READ_YOUR_WRITES_TIMEOUT_MS", default_value_t = 2000)]
    pub read_your_writes_timeout_ms: u64,

    /// Longest a feed page (`GET /v1/feed?wait_ms=`) waits for a new event, in
    /// milliseconds, whatever the client asks for. The wait also ends one second before
    /// the query timeout (`QUERY_TIMEOUT_MS`), which bounds every GET.
    #[arg(long, env = "FEED_MAX_WAIT_MS", default_value_t = 25_000)]
    pub feed_max_wait_ms: u64,

    /// How long a feed event stream (`GET /v1/feed/stream`) stays open, in milliseconds,
    /// before the server ends it; `EventSource` clients reconnect with `Last-Event-ID` and
    /// miss nothing. Keeps connections from outliving deployments and proxies' limits.
    #[arg(long, env = "FEED_STREAM_MAX_MS", default_value_t = 300_000)]
    pub feed_stream_max_ms: u64,

    /// Allow webhook endpoints on loopback and private addresses, and plain http (tests, a
    /// receiver on the same machine); the webhook worker has the same flag. Off: endpoints
    /// must be https on public hosts.
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE_HOSTS", default_value_t = false)]
    pub webhook_allow_private_hosts: bool,

    /// `WEBHOOK_SECRET_KEY`: seals webhook signing secrets at rest (the worker needs the
    /// same key). Unset: stored plain, with a warning at start.
    #[command(flatten)]
    pub webhook_secret_key: webhooks::sealing::SecretKeyArgs,

    /// HMAC secret of the default signing key (HS256), used for tokens without `kid`
    /// and for `kid` = `JWT_DEFAULT_KID`.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: SecretString,

    /// Key id of `JWT_SECRET`.
    #[arg(long, env = "JWT_DEFAULT_KID", default_value = "default")]
    pub jwt_default_kid: String,

    /// More HMAC keys, as `kid=secret` pairs separated by commas, so secrets rotate
    /// without downtime (issue new tokens under a new kid, keep the old one until they
    /// expire).
    #[arg(long, env = "JWT_EXTRA_SECRETS", hide_env_values = true)]
    pub jwt_extra_secrets: Option<SecretString>,

    /// Public keys for asymmetric tokens, as `kid=path` pairs separated by commas. A PEM
    /// holding an RSA key accepts RS256; an Ed25519 key accepts EdDSA.
    #[arg(long, env = "JWT_PUBLIC_KEYS", value_delimiter = ',')]
    pub jwt_public_keys: Vec<String>,

    /// Required `iss` claim.
    #[arg(long, env = "JWT_ISSUER", default_value = "tillstream")]
    pub jwt_issuer: String,

    /// Required `aud` claim.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "tillstream-pos")]
    pub jwt_audience: String,

    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[arg(long, env = "JWT_LEEWAY_SECS", default_value_t = 30)]
    pub jwt_leeway_secs: u64,

    /// Key for hashing refresh and verification tokens before they are stored. Defaults
    /// to a key derived from `JWT_SECRET`; set it so that rotating `JWT_SECRET` does not
    /// log everyone out.
    #[arg(long, env = "JWT_REFRESH_SECRET", hide_env_values = true)]
    pub jwt_refresh_secret: Option<SecretString>,

    /// Lifetime of an access token, seconds. Tokens whose `exp - iat` is longer (plus
    /// `JWT_LEEWAY_SECS`) are refused, whoever signed them.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: u64,

    /// Seconds the API remembers that a token's tenant, user (active, role) and session
    /// exist before asking the database again: deactivation, demotion and logout take
    /// effect within this time.
    #[arg(long, env = "TOKEN_RECHECK_SECS", default_value_t = 5)]
    pub token_recheck_secs: u64,

    /// Lifetime of a refresh token, seconds (each use replaces it).
    #[arg(long, env = "REFRESH_TOKEN_TTL_SECS", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl_secs: u64,

    /// Seconds after its first use during which a refresh token may be exchanged again
    /// (parallel refreshes of one token all succeed); reuse after that revokes the whole
    /// login.
    #[arg(long, env = "REFRESH_REUSE_GRACE_SECS", default_value_t = 20)]
    pub refresh_reuse_grace_secs: u64,

    /// Lifetime of an email verification or invitation link, seconds.
    #[arg(long, env = "VERIFICATION_TTL_SECS", default_value_t = 24 * 3600)]
    pub verification_ttl_secs: u64,

    /// SMTP server for identity mail (verification, invitations, password reset), as
    /// lettre's URL: `smtps://user:pass@host:465` (TLS), or
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS, refused if the server does not
    /// offer it); user and password URL-encoded. Plain `smtp://host:port` is accepted only
    /// for a loopback host (a local mail catcher) or with `SMTP_ALLOW_PLAINTEXT`. Without
    /// it, mail goes to the development outbox (collection `outbox` of the main database).
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<SecretString>,

    /// Allow `SMTP_URL` to send mail, and credentials, unencrypted to a host that is not
    /// loopback (`smtp://` without `tls=required`, or `tls=opportunistic`).
    #[arg(long, env = "SMTP_ALLOW_PLAINTEXT")]
    pub smtp_allow_plaintext: bool,

    /// Sender of verification mail.
    #[arg(long, env = "MAIL_FROM", default_value = "tillstream <no-reply@tillstream.local>")]
    pub mail_from: String,

    /// Base URL of the back office, for links in mail.
    #[arg(long, env = "PUBLIC_URL", default_value = "http://localhost:8080")]
    pub public_url: String,

    /// Failed logins of one (email, client address) pair before it must wait between
    /// attempts: 1 s after this many, then 2 s, 4 s, ... The same email from another
    /// address is not slowed down, so nobody can lock a user out from elsewhere.
    #[arg(long, env = "LOGIN_FREE_ATTEMPTS", default_value_t = 5)]
    pub login_free_attempts: u32,

    /// Longest wait between two login attempts of one (email, address) pair, seconds.
    #[arg(long, env = "LOGIN_BACKOFF_MAX_SECS", default_value_t = 900)]
    pub login_backoff_max_secs: u64,

    /// Failed logins allowed per client address (IPv6: per /64), whatever the email, per
    /// `LOGIN_WINDOW_SECS`; then the address waits for the window's end.
    #[arg(long, env = "LOGIN_ATTEMPTS_PER_ADDRESS", default_value_t = 100)]
    pub login_attempts_per_address: u32,

    /// How long failed logins are remembered, seconds.
    #[arg(long, env = "LOGIN_WINDOW_SECS", default_value_t = 900)]
    pub login_window_secs: u64,

    /// Signups (each mails someone) allowed per email address per `SIGNUP_WINDOW_SECS`,
    /// counted by every replica together.
    #[arg(long, env = "SIGNUP_ATTEMPTS_PER_EMAIL", default_value_t = 3)]
    pub signup_attempts_per_email: u32,

    /// Signups allowed per client address (IPv6: per /64) per `SIGNUP_WINDOW_SECS`.
    #[arg(long, env = "SIGNUP_ATTEMPTS_PER_ADDRESS", default_value_t = 20)]
    pub signup_attempts_per_address: u32,

    /// The window of the signup and password-reset rate limits, seconds.
    #[arg(long, env = "SIGNUP_WINDOW_SECS", default_value_t = 3600)]
    pub signup_window_secs: u64,

    /// Password-reset requests (each may mail someone) allowed per email address per
    /// `SIGNUP_WINDOW_SECS`, counted by every replica together.
    #[arg(long, env = "PASSWORD_RESET_ATTEMPTS_PER_EMAIL", default_value_t = 3)]
    pub password_reset_attempts_per_email: u32,

    /// Password-reset requests allowed per client address per `SIGNUP_WINDOW_SECS`.
    #[arg(long, env = "PASSWORD_RESET_ATTEMPTS_PER_ADDRESS", default_value_t = 20)]
    pub password_reset_attempts_per_address: u32,

    /// Lifetime of a password-reset link, seconds (it also works only once).
    #[arg(long, env = "PASSWORD_RESET_TTL_SECS", default_value_t = 1800)]
    pub password_reset_ttl_secs: u64,

    /// Addresses of load balancers in front of the API, comma-separated. From them, the
    /// client address (for per-address limits) is the right-most `X-Forwarded-For` entry
    /// that is not one of them; from anyone else the header is ignored.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Password hashes and checks (argon2id: tens of milliseconds of a core and 19 MiB
    /// each) run at the same time, on the blocking pool; 0 means one per core.
    #[arg(long, env = "PASSWORD_HASH_WORKERS", default_value_t = 0)]
    pub password_hash_workers: usize,

    /// Requests that may wait for a password-hashing slot; past them signup, login and
    /// the other password routes answer 503 `overloaded` with `Retry-After` at once.
    #[arg(long, env = "PASSWORD_HASH_QUEUE", default_value_t = 32)]
    pub password_hash_queue: usize,

    /// Largest accepted request body, in bytes. A request announcing more in
    /// `Content-Length` is refused (413) before any of its body is read.
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 256 * 1024)]
    pub body_limit_bytes: usize,

    /// Largest accepted body of `POST /v1/batches`, in bytes: a batch carries up to 1,000
    /// commands (a sale is 0.4–2 KB of JSON), so it has its own limit. Refused the same
    /// way (413) when announced or when the body grows past it.
    #[arg(long, env = "BATCH_BODY_LIMIT_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub batch_body_limit_bytes: usize,

    /// Timeouts and caps of the HTTP server.
    #[command(flatten)]
    pub http: HttpLimits,

    /// Bearer token that `GET /metrics` requires. Without one, `/metrics` is refused (401)
    /// to everyone: metrics name routes, counts and latencies, not for the public.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<SecretString>,

    /// Seconds a folded location, product, tax jurisdiction or sales settings is trusted
    /// before it is read again from the stream (a change made through this process is seen
    /// at once, one made through another within this time).
    #[arg(long, env = "CATALOG_CACHE_TTL_SECS", default_value_t = 30)]
    pub catalog_cache_ttl_secs: u64,

    /// Most folded aggregates kept per kind (locations, products, jurisdictions, settings),
    /// over all tenants; the least used go first.
    #[arg(long, env = "CATALOG_CACHE_CAPACITY", default_value_t = 100_000)]
    pub catalog_cache_capacity: u64,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,

    /// OTLP export of spans (`OTEL_EXPORTER_OTLP_ENDPOINT`; none by default). Traces
    /// are propagated and logged either way; see docs/tracing.md.
    #[command(flatten)]
    pub traces: telemetry::TraceExport,
}

impl Config {
    /// The JetStream timeout as a duration.
    pub fn publish_timeout(&self) -> Duration {
        Duration::from_millis(self.publish_timeout_ms)
    }
}

/// What a client may hold of the server, and for how long. Every bound has an answer: a
/// closed connection for a client too slow to say what it wants, 408 for a body too slow,
/// 503 with `Retry-After` beyond a cap or past the query timeout.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpLimits {
    /// Longest a client may take to send a request's headers, in milliseconds: from the
    /// moment a new connection opens, or from the first byte of a later request on a
    /// kept-alive connection. A client that sends nothing or drips its headers is
    /// disconnected.
    #[arg(long, env = "HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,

    /// Longest a kept-alive connection may wait idle for its next request, in
    /// milliseconds. Keep it above the idle timeout of whatever keeps connections for
    /// reuse in front (load balancers: 60 s on most; client pools: 90 s in reqwest and
    /// Go), so that side closes first and never sends a request on a connection the API
    /// is closing at that moment.
    #[arg(long, env = "IDLE_TIMEOUT_MS", default_value_t = 120_000)]
    pub idle_timeout_ms: u64,

    /// Longest a client may take to send a whole request body once its headers are in, in
    /// milliseconds. Past it the answer is 408 `request_timeout` and the connection closes.
    #[arg(long, env = "BODY_TIMEOUT_MS", default_value_t = 30_000)]
    pub body_timeout_ms: u64,

    /// Longest a query (any GET) may run, in milliseconds, before it is abandoned with 503
    /// `unavailable` and `Retry-After`. Keep it above `READ_YOUR_WRITES_TIMEOUT_MS`.
    #[arg(long, env = "QUERY_TIMEOUT_MS", default_value_t = 10_000)]
    pub query_timeout_ms: u64,

    /// Most open client connections. One more is answered 503 with `Retry-After` and
    /// closed. Keep it below the process's file-descriptor limit (`ulimit -n`).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,

    /// Most requests handled at once; one more is answered 503 with `Retry-After`.
    #[arg(long, env = "MAX_CONCURRENT_REQUESTS", default_value_t = 1024)]
    pub max_concurrent_requests: usize,
}

impl HttpLimits {
    /// The header timeout as a duration.
    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }

    /// The keep-alive idle timeout as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_ms)
    }

    /// The body timeout as a duration.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.body_timeout_ms)
    }

    /// The query timeout as a duration.
    pub fn query_timeout(&self) -> Duration {
        Duration::from_millis(self.query_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_shared_flags_are_flattened_with_the_api_s_own_defaults() {
        let cli = Cli::try_parse_from([
            "command-api",
            "--jwt-secret",
            "x",
            "--nats-url",
            "nats://a:1,nats://b:2",
        ])
        .expect("a valid command line");
        assert_eq!(cli.config.stream.nats_url, "nats://a:1,nats://b:2");
        assert_eq!(cli.config.stream.stream_name, "POS");
        assert_eq!(cli.config.mongo.main_db, "liquor_pos_main");
        // The API answers 503 after 2 s without MongoDB; the projector waits 5 s.
        assert_eq!(cli.config.mongo.server_selection_timeout_secs, 2);
    }
}
