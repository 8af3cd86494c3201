//! Which URLs an endpoint may have: what keeps webhooks from becoming a way into our own
//! network (server-side request forgery).
//!
//! By default an endpoint must be `https` on a public host: not `localhost`, and not an
//! address (literal, or what its name resolves to at delivery) that is loopback, private,
//! link-local, unspecified, multicast or otherwise not globally routable. With
//! `WEBHOOK_ALLOW_PRIVATE_HOSTS` (tests, a development receiver on the same machine) any
//! host and plain `http` are allowed. The check runs when the endpoint is created (in the
//! command API) and again before each delivery (in the worker, on the resolved addresses),
//! so a name that later resolves to a private address is refused then. A name could still
//! resolve differently between the check and the connection (DNS rebinding within seconds);
//! closing that needs connecting to the checked address, which is not done.

use std::net::IpAddr;

use url::{Host, Url};

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Why a URL is refused (the command API answers 422 naming `url`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not a URL at all, or too long.
    #[error("not a valid absolute URL: {0}")]
    Malformed(String),
    /// A scheme other than https (or http where private hosts are allowed).
    #[error("the URL must use https")]
    Scheme,
    /// User name or password in the URL.
    #[error("the URL must not carry credentials")]
    Credentials,
    /// A host that is not public.
    #[error("the host {0} is not a public address")]
    PrivateHost(String),
}

/// Checks `text` as an endpoint URL.
pub fn check_url(text: &str, allow_private: bool) -> Result<Url, TargetError> {
    if text.len() > MAX_URL_LEN {
        return Err(TargetError::Malformed(format!("longer than {MAX_URL_LEN} characters")));
    }
    let url = Url::parse(text).map_err(|e| TargetError::Malformed(e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err(TargetError::Scheme),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    let host = url.host().ok_or_else(|| TargetError::Malformed("no host".to_owned()))?;
    if !allow_private {
        let public = match &host {
            Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name != "localhost" && !name.ends_with(".localhost") && name.contains('.')
            }
            Host::Ipv4(ip) => is_public(IpAddr::V4(*ip)),
            Host::Ipv6(ip) => is_public(IpAddr::V6(*ip)),
        };
        if !public {
            return Err(TargetError::PrivateHost(host.to_string()));
        }
    }
    Ok(url)
}

/// Whether `ip` is globally routable (not loopback, private, link-local, shared, documentation,
/// unspecified, broadcast or multicast; IPv4-mapped IPv6 judged as IPv4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Before a delivery: every address the URL's host resolves to must be public (unless
/// private hosts are allowed).
pub async fn check_resolved(url: &Url, allow_private: bool) -> Result<(), TargetError> {
    if allow_private {
        return Ok(());
    }
    let host = url
        .host_str()
        .ok_or_else(|| TargetError::Malformed("no host".to_owned()))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| TargetError::Malformed(format!("{host} does not resolve: {e}")))?;
    for address in addresses {
        if !is_public(address.ip()) {
            return Err(TargetError::PrivateHost(address.ip().to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_https_urls_pass_and_internal_ones_are_refused() {
        assert!(check_url("https://hooks.example.com/tillstream", false).is_ok());
        assert!(
            check_url("https://203.0.113.9/x", false).is_err(),
            "documentation range"
        );
        assert!(check_url("https://93.184.216.34/x", false).is_ok());
        for bad in [
            "http://hooks.example.com/",
            "ftp://hooks.example.com/",
            "https://localhost/x",
            "https://api.localhost/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://192.168.0.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://[fd00::1]/x",
            "https://intranet/x",
            "https://user:pw@hooks.example.com/",
            "not a url",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn private_hosts_and_http_pass_when_allowed() {
        assert!(check_url("http://127.0.0.1:8080/hook", true).is_ok());
        assert!(check_url("http://localhost:8080/hook", true).is_ok());
        assert!(check_url("ftp://127.0.0.1/hook", true).is_err());
    }
}
