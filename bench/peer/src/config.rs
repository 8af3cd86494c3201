//! The peer's configuration. The JWT variables are tillstream's own (`JWT_SECRET`,
//! `JWT_DEFAULT_KID`, `JWT_ISSUER`, `JWT_AUDIENCE`, `JWT_LEEWAY_SECS`,
//! `ACCESS_TOKEN_TTL_SECS`), so one environment configures both sides of a comparison.

use secrecy::SecretString;

/// Flags and environment of the `peer` binary.
#[derive(Debug, clap::Parser)]
#[command(
    name = "peer",
    about = "cqrs-es + postgres-es peer of tillstream's sale command (benchmark fixture)"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "PEER_LISTEN_ADDR", default_value = "127.0.0.1:8090")]
    pub listen_addr: std::net::SocketAddr,
    /// PostgreSQL connection string.
    #[arg(
        long,
        env = "PEER_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:55432/peer"
    )]
    pub database_url: SecretString,
    /// Most PostgreSQL connections in the pool.
    #[arg(long, env = "PEER_POOL_SIZE", default_value_t = 32)]
    pub pool_size: u32,
    /// HS256 secret of the access tokens (tillstream's `JWT_SECRET`).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: SecretString,
    /// Key id of `JWT_SECRET`; a token without a `kid` uses it too.
    #[arg(long, env = "JWT_DEFAULT_KID", default_value = "default")]
    pub jwt_default_kid: String,
    /// Expected `iss`.
    #[arg(long, env = "JWT_ISSUER", default_value = "tillstream")]
    pub jwt_issuer: String,
    /// Expected `aud`.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "tillstream-pos")]
    pub jwt_audience: String,
    /// Clock leeway in seconds.
    #[arg(long, env = "JWT_LEEWAY_SECS", default_value_t = 30)]
    pub jwt_leeway_secs: u64,
    /// Longest token lifetime (`exp - iat`) accepted, as tillstream's access tokens.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_token_ttl_secs: u64,
}
