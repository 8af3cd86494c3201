//! The NATS server list a process connects to: one URL, or several separated by commas
//! (the seed servers of a cluster; the client learns the rest from the cluster itself and
//! reconnects to a surviving node when one stops).

use async_nats::ServerAddr;

/// A server list that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("NATS_URL entry {entry:?} is not a NATS server URL: {message}")]
pub struct ServerListError {
    /// The entry at fault.
    pub entry: String,
    /// Why it does not parse.
    pub message: String,
}

/// Parses `nats://a:4222,nats://b:4222` (whitespace around entries ignored) into the
/// addresses `async_nats` connects to.
pub fn server_addrs(list: &str) -> Result<Vec<ServerAddr>, ServerListError> {
    let entries: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    if entries.is_empty() {
        return Err(ServerListError {
            entry: list.to_owned(),
            message: "no server given".to_owned(),
        });
    }
    entries
        .into_iter()
        .map(|entry| {
            entry.parse::<ServerAddr>().map_err(|err| ServerListError {
                entry: entry.to_owned(),
                message: err.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_url_or_a_comma_separated_cluster() {
        assert_eq!(server_addrs("nats://127.0.0.1:4222").map(|a| a.len()).ok(), Some(1));
        let cluster = server_addrs("nats://127.0.0.1:4222, nats://127.0.0.1:4223,nats://127.0.0.1:4224").ok();
        assert_eq!(cluster.as_ref().map(Vec::len), Some(3));
        assert_eq!(cluster.and_then(|c| c.get(1).map(|a| a.port())), Some(4223));
    }

    #[test]
    fn empty_or_malformed_entries_are_named() {
        assert!(server_addrs(" , ").is_err());
        let err = server_addrs("nats://127.0.0.1:4222,nats://host:notaport").err();
        assert_eq!(err.map(|e| e.entry), Some("nats://host:notaport".to_owned()));
    }
}
