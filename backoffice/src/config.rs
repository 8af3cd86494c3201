//! The back office's configuration: one typed struct, read from flags and the
//! environment. Nothing else in the crate reads `std::env`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use telemetry::LogFormat;

/// Configuration of the back office.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "backoffice",
    version,
    about = "tillstream back office: server-rendered pages over the command API"
)]
pub struct Config {
    /// Address to listen on. Port 0 picks a free port (tests).
    #[arg(long, env = "BACKOFFICE_LISTEN_ADDR", default_value = "127.0.0.1:8081")]
    pub listen_addr: SocketAddr,

    /// Base URL of the command API every page reads from and every form posts to.
    #[arg(long, env = "BACKOFFICE_API_URL", default_value = "http://127.0.0.1:8080")]
    pub api_url: String,

    /// Longest wait for one answer of the command API, in milliseconds.
    #[arg(long, env = "BACKOFFICE_API_TIMEOUT_MS", default_value_t = 10_000)]
    pub api_timeout_ms: u64,

    /// The projector's admin server, for the operator console (`/operator`); without it
    /// the console is off. Operators sign in with its `ADMIN_TOKEN`, not a tenant account.
    #[arg(long, env = "BACKOFFICE_PROJECTOR_ADMIN_URL")]
    pub projector_admin_url: Option<String>,

    /// Mark the session cookie `Secure` (and name it `__Host-…`). Set it whenever the back
    /// office is reached over TLS, directly or through a TLS-terminating proxy.
    #[arg(long, env = "BACKOFFICE_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// The origin browsers reach the back office at (`https://office.example.com`). Forms
    /// whose `Origin` differs are refused. Without it the `Origin` must match the `Host`
    /// header, which a proxy that rewrites `Host` breaks: set it behind such a proxy.
    #[arg(long, env = "BACKOFFICE_PUBLIC_ORIGIN")]
    pub public_origin: Option<String>,

    /// A session unused this long ends (seconds).
    #[arg(long, env = "BACKOFFICE_SESSION_IDLE_SECS", default_value_t = 1800)]
    pub session_idle_secs: u64,

    /// A session ends this long after sign-in whatever its use (seconds).
    #[arg(long, env = "BACKOFFICE_SESSION_MAX_SECS", default_value_t = 12 * 3600)]
    pub session_max_secs: u64,

    /// Most sessions (signed in or not) kept in memory; the least used go first.
    #[arg(long, env = "BACKOFFICE_MAX_SESSIONS", default_value_t = 100_000)]
    pub max_sessions: u64,

    /// Proxies in front of the back office whose `X-Forwarded-For` is believed when the
    /// client address is passed on to the API's login throttle (comma-separated).
    #[arg(long, env = "BACKOFFICE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,

    /// `pretty` or `json`; `RUST_LOG` filters.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
}

impl Config {
    /// The API's answer timeout.
    pub fn api_timeout(&self) -> Duration {
        Duration::from_millis(self.api_timeout_ms)
    }

    /// The API base URL without a trailing slash.
    pub fn api_base(&self) -> String {
        self.api_url.trim_end_matches('/').to_owned()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_defaults_form_a_valid_configuration() -> anyhow::Result<()> {
        let config = Config::try_parse_from(["backoffice"])?;
        assert_eq!(config.api_base(), "http://127.0.0.1:8080");
        assert!(!config.secure_cookies);
        assert_eq!(config.session_idle_secs, 1800);
        Ok(())
    }
}
