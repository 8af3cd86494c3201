//! The HTTP server: the accept loop and what bounds every client.
//!
//! `axum::serve` has no timeouts and no caps: a client that opens a connection and sends
//! nothing, drips its headers a byte at a time, or announces a body and never sends it,
//! holds a connection, a task and its buffers for as long as it likes, and thousands of
//! them exhaust file descriptors and memory. This module runs the accept loop itself, over
//! hyper's HTTP/1 connection, and bounds each stage of a request:
//!
//! 1. **Connections** ([`serve`]): at most `MAX_CONNECTIONS` open. The next one is answered
//!    503 with `Retry-After` and closed ([`refusal`]) without reaching the router.
//! 2. **Headers** ([`connection`]): a new connection must deliver a request's complete
//!    headers within `HEADER_TIMEOUT_MS`; between requests a kept-alive connection may
//!    stay silent for `IDLE_TIMEOUT_MS`, and once the next request's first byte arrives its
//!    headers are due within `HEADER_TIMEOUT_MS`. Past either the connection is closed.
//! 3. **Requests** ([`requests`], a middleware in front of every route): at most
//!    `MAX_CONCURRENT_REQUESTS` handled at once (503 with `Retry-After` beyond); a
//!    `Content-Length` above `BODY_LIMIT_BYTES` is answered 413 before any of the body is
//!    read, so a client that sent `Expect: 100-continue` never gets `100 Continue` (hyper
//!    sends it only when the body is first read); the body must arrive within
//!    `BODY_TIMEOUT_MS` ([`body`], 408 and the connection closed); a query (any GET) that
//!    runs past `QUERY_TIMEOUT_MS` is abandoned with 503.
//! 4. **Answers** ([`headers`]): every answer carries `nosniff`, `no-store`, a `default-src
//!    'none'` content security policy and `no-referrer`.
//!
//! Shutdown stops accepting, lets each connection finish the request in hand (idle ones
//! close at once), and returns when every connection has closed.
//!
//! # Layout
//! - [`bind`] and [`serve`]: the listener, the accept loop, the connection cap and graceful
//!   shutdown.
//! - [`connection`]: one connection: hyper's HTTP/1, the header and idle timeouts.
//! - [`refusal`]: the 503 written to a connection over the cap.
//! - [`requests`]: the per-request middleware (request cap, announced length, body
//!   deadline, query timeout).
//! - [`body`]: [`body::DeadlineBody`], a request body that fails once its deadline passes.
//! - [`headers`]: the security headers of every answer.
//! - [`trace`]: the request span, under the client's `traceparent`.

pub mod body;
pub mod connection;
pub mod headers;
pub mod refusal;
pub mod requests;
pub mod trace;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Semaphore, watch};

use crate::config::HttpLimits;
use connection::Timeouts;

/// Pause after an accept error other than a connection reset (such as running out of file
/// descriptors), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// A listener on `addr` whose kernel queue holds up to `backlog` connections not yet
/// accepted (capped by `net.core.somaxconn`). tokio's default, 1024, overflows under a
/// burst of connections while the accept loop waits for a busy CPU; each connection the
/// kernel then drops waits a second or more for its handshake to be retried.
pub fn bind(addr: SocketAddr, backlog: usize) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(u32::try_from(backlog).unwrap_or(u32::MAX).max(1024))
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then waits
/// for the connections to finish their requests and close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &HttpLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = refusal::Refusals::new();
    let timeouts = Timeouts {
        header: limits.header_timeout(),
        idle: limits.idle_timeout(),
    };
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) if is_connection_error(&err) => continue,
                Err(err) => {
                    tracing::error!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        match Arc::clone(&connections).try_acquire_owned() {
            Ok(permit) => {
                tokio::spawn(connection::serve(
                    stream,
                    peer,
                    router.clone(),
                    timeouts,
                    stopping.clone(),
                    permit,
                ));
            }
            Err(_) => refusals.refuse(stream),
        }
    }
    drop(listener);
    drop(stopping);
    tracing::info!("stopped accepting; finishing the requests in flight");
    let _ = stop.send(true);
    // Each connection holds a receiver until it has closed.
    stop.closed().await;
}

/// Errors of one connection that came and went before it was accepted: not the
/// listener's fault, so the next accept follows at once.
fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        err.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}
