//! The NATS server list a process connects to: one URL, or several separated by commas
//! (the seed servers of a cluster; the client learns the rest from the cluster itself and
//! reconnects to a surviving node when one stops).

use async_nats::ServerAddr;

/// A server list that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum ServerListError {
    /// The list names no server at all.
    #[error("NATS_URL {list:?} names no server")]
    Empty {
        /// The list as given.
        list: String,
    },
    /// One entry is not a NATS server URL.
    #[error("NATS_URL entry {entry:?} is not a NATS server URL")]
    Invalid {
        /// The entry at fault.
        entry: String,
        /// Why it does not parse.
        #[source]
        source: std::io::Error,
    },
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
        return Err(ServerListError::Empty { list: list.to_owned() });
    }
    entries
        .into_iter()
        .map(|entry| {
            entry.parse::<ServerAddr>().map_err(|source| ServerListError::Invalid {
                entry: entry.to_owned(),
                source,
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
        assert!(matches!(server_addrs(" , "), Err(ServerListError::Empty { .. })));
        match server_addrs("nats://127.0.0.1:4222,nats://host:notaport") {
            Err(ServerListError::Invalid { entry, source }) => {
                assert_eq!(entry, "nats://host:notaport");
                assert!(
                    !source.to_string().is_empty(),
                    "the parser's reason is kept as the source"
                );
            }
            other => panic!("expected the second entry to be named, got {other:?}"),
        }
    }
}
