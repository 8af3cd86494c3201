//! One client connection: hyper's HTTP/1 over the socket, with the header and idle
//! timeouts.
//!
//! hyper's own `header_read_timeout` starts when the connection begins waiting for a
//! request, so on a kept-alive connection it would also be the idle timeout: a short
//! header timeout would close connections a load balancer keeps for reuse, a long one
//! would let a client drip headers for as long. Here the two are told apart by watching
//! the socket: `Activity` knows whether the connection is handling a request, waiting
//! idle for the next, or receiving one's headers (bytes arrived, no request dispatched
//! yet), and `Activity::expired` completes when the phase's deadline passes. The
//! connection is then dropped, which closes the socket. While a request is being handled
//! no connection deadline runs: the body deadline and the query timeout bound it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// The two connection deadlines.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From a new connection, or from the first byte of a later request, to its complete
    /// headers.
    pub header: Duration,
    /// From the end of a request to the first byte of the next.
    pub idle: Duration,
}

/// Serves one connection until it closes, times out, or (after `stop`) has finished the
/// request in hand. `permit` is its place under the connection cap.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    timeouts: Timeouts,
    mut stop: watch::Receiver<bool>,
    permit: OwnedSemaphorePermit,
) {
    let _open = OpenConnection::new(permit);
    // Answers are small and written whole: send them at once.
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new(timeouts));
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: Arc::clone(&activity),
    });
    let handling = Arc::clone(&activity);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let guard = handling.handling();
        let response = router.clone().oneshot(request);
        async move {
            let response = response.await;
            drop(guard);
            response
        }
    });
    let connection = http1::Builder::new()
        // The header timeout is ours (see the module's doc).
        .header_read_timeout(None)
        .serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(err) = served {
                    tracing::debug!(%peer, error = %err, "connection ended with an error");
                }
                return;
            }
            expired = activity.expired() => {
                tracing::debug!(%peer, phase = expired.as_str(), "connection timed out; closing it");
                metrics::counter!("http_connections_timed_out_total", "phase" => expired.as_str()).increment(1);
                return;
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Counts the connection in `http_connections_open` and holds its place under the cap
/// while it lives.
struct OpenConnection {
    _permit: OwnedSemaphorePermit,
}

impl OpenConnection {
    fn new(permit: OwnedSemaphorePermit) -> Self {
        metrics::gauge!("http_connections_open").increment(1.0);
        Self { _permit: permit }
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!("http_connections_open").decrement(1.0);
    }
}

/// Which deadline closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// The headers of a request did not arrive in time.
    Header,
    /// A kept-alive connection stayed silent too long.
    Idle,
}

impl Expired {
    /// The name used in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Expired::Header => "header",
            Expired::Idle => "idle",
        }
    }
}

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Receiving a request's headers (or, on a new connection, waiting for them).
    Header,
    /// Nothing of the next request has arrived since the last one ended.
    Idle,
    /// A request is being handled.
    Handling,
}

impl Phase {
    const ALL: [Phase; 3] = [Phase::Header, Phase::Idle, Phase::Handling];
}

/// What a connection is doing, updated by its socket and its service: the phase and when
/// it began, in one atomic word (the phase in the top two bits, microseconds since the
/// connection opened below), so a request's bytes, dispatch and end cost an atomic store
/// each and wake nobody. The watcher ([`Activity::expired`]) re-reads it whenever it
/// wakes and never sleeps past the header timeout, so a deadline that moved earlier (an
/// idle connection receiving its next request) is still met exactly: any wake-up planned
/// before the move is due before the new deadline.
#[derive(Debug)]
struct Activity {
    timeouts: Timeouts,
    origin: Instant,
    state: AtomicU64,
}

const PHASE_SHIFT: u32 = 62;
const SINCE_MASK: u64 = (1 << PHASE_SHIFT) - 1;

impl Activity {
    fn new(timeouts: Timeouts) -> Self {
        let origin = Instant::now();
        let activity = Self {
            timeouts,
            origin,
            state: AtomicU64::new(0),
        };
        activity
            .state
            .store(activity.encode(Phase::Header, origin), Ordering::Release);
        activity
    }

    fn encode(&self, phase: Phase, at: Instant) -> u64 {
        let micros = u64::try_from(at.saturating_duration_since(self.origin).as_micros()).unwrap_or(SINCE_MASK);
        ((phase as u64) << PHASE_SHIFT) | (micros & SINCE_MASK)
    }

    fn decode(&self, word: u64) -> (Phase, Instant) {
        let phase = Phase::ALL[((word >> PHASE_SHIFT) as usize).min(2)];
        (phase, self.origin + Duration::from_micros(word & SINCE_MASK))
    }

    fn set(&self, phase: Phase) {
        self.state.store(self.encode(phase, Instant::now()), Ordering::Release);
    }

    /// Bytes arrived: after an idle spell, a new request has begun.
    fn received(&self) {
        let word = self.state.load(Ordering::Acquire);
        if self.decode(word).0 == Phase::Idle {
            // Lost only to a dispatch or a close in between, which then stands.
            let _ = self.state.compare_exchange(
                word,
                self.encode(Phase::Header, Instant::now()),
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        }
    }

    /// A request was dispatched; the guard marks its end.
    fn handling(self: &Arc<Self>) -> Handling {
        self.set(Phase::Handling);
        Handling(Arc::clone(self))
    }

    /// Completes when the current phase's deadline passes.
    async fn expired(&self) -> Expired {
        loop {
            let now = Instant::now();
            let (phase, since) = self.decode(self.state.load(Ordering::Acquire));
            let deadline = match phase {
                Phase::Header => Some((since + self.timeouts.header, Expired::Header)),
                Phase::Idle => Some((since + self.timeouts.idle, Expired::Idle)),
                Phase::Handling => None,
            };
            if let Some((deadline, expiry)) = deadline
                && now >= deadline
            {
                return expiry;
            }
            let recheck = now + self.timeouts.header;
            let wake = deadline.map_or(recheck, |(deadline, _)| deadline.min(recheck));
            tokio::time::sleep_until(wake).await;
        }
    }
}

/// A request in hand; dropping it (answered or abandoned) starts the idle spell.
struct Handling(Arc<Activity>);

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.set(Phase::Idle);
    }
}

/// The socket, telling [`Activity`] when bytes arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.received();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity() -> Arc<Activity> {
        Arc::new(Activity::new(Timeouts {
            header: Duration::from_secs(10),
            idle: Duration::from_secs(60),
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_connection_has_the_header_timeout() {
        let activity = activity();
        let started = Instant::now();
        assert_eq!(activity.expired().await, Expired::Header);
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_has_the_idle_timeout_then_the_header_timeout_from_its_first_byte() {
        let activity = activity();
        drop(activity.handling());
        let started = Instant::now();
        let expired = tokio::spawn({
            let activity = Arc::clone(&activity);
            async move { activity.expired().await }
        });
        tokio::time::sleep(Duration::from_secs(30)).await;
        activity.received();
        assert_eq!(expired.await.ok(), Some(Expired::Header));
        assert_eq!(started.elapsed(), Duration::from_secs(40));

        drop(activity.handling());
        let started = Instant::now();
        assert_eq!(activity.expired().await, Expired::Idle);
        assert_eq!(started.elapsed(), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn no_deadline_runs_while_a_request_is_handled() {
        let activity = activity();
        let handling = activity.handling();
        let expired = tokio::spawn({
            let activity = Arc::clone(&activity);
            async move { activity.expired().await }
        });
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(!expired.is_finished());
        drop(handling);
        let started = Instant::now();
        assert_eq!(expired.await.ok(), Some(Expired::Idle));
        assert_eq!(started.elapsed(), Duration::from_secs(60));
    }
}
