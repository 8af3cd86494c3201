//! [`ClientAddress`]: who is asking, for per-address limits.
//!
//! The peer of the TCP connection is the client unless it is one of `TRUSTED_PROXIES` (a
//! load balancer in front of the replicas): then the client is the right-most address of
//! `X-Forwarded-For` that is not a trusted proxy itself. Entries further left were written
//! by the client and are never believed. Without trusted proxies the header is ignored,
//! so nobody can pick their own address.
//!
//! IPv6 clients are counted per /64 (what one subscriber usually gets), so rotating through
//! the addresses of one network does not buy a fresh budget each time.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;

/// The client's address, as far as it can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The bucket a limit counts this address in: the IPv4 address, or the IPv6 /64.
    pub fn bucket(&self) -> String {
        match self.0 {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        }
    }
}

/// The client address behind `peer`, given the `X-Forwarded-For` values and the trusted
/// proxies.
pub fn resolve<'a>(peer: IpAddr, forwarded: impl Iterator<Item = &'a str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|value| value.split(',')).map(str::trim).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(address) => {
                client = address;
                if !trusted.contains(&address) {
                    break;
                }
            }
            // Garbage: stop at the last address a trusted proxy vouched for.
            Err(_) => break,
        }
    }
    client
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok());
        Ok(ClientAddress(resolve(peer, forwarded, &state.identity.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn the_header_counts_only_behind_a_trusted_proxy_and_only_its_right_end() {
        let proxy = ip("10.0.0.1");
        let trusted = [proxy];
        assert_eq!(
            resolve(ip("203.0.113.9"), ["198.51.100.1"].into_iter(), &trusted),
            ip("203.0.113.9"),
            "an untrusted peer cannot name its address"
        );
        assert_eq!(
            resolve(proxy, ["1.2.3.4, 198.51.100.7"].into_iter(), &trusted),
            ip("198.51.100.7"),
            "the client's own entries (left) are not believed"
        );
        assert_eq!(
            resolve(proxy, ["198.51.100.7", "10.0.0.1"].into_iter(), &trusted),
            ip("198.51.100.7"),
            "trusted hops are skipped"
        );
        assert_eq!(resolve(proxy, ["junk"].into_iter(), &trusted), proxy);
        assert_eq!(resolve(proxy, std::iter::empty(), &trusted), proxy);
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        assert_eq!(
            ClientAddress(ip("2001:db8:1:2:aaaa::1")).bucket(),
            ClientAddress(ip("2001:db8:1:2:bbbb::9")).bucket()
        );
        assert_eq!(ClientAddress(ip("::ffff:192.0.2.1")).bucket(), "192.0.2.1");
    }
}
