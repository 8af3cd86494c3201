//! The real webhook worker, in-process, on a test stream; and [`Receiver`], a real local
//! HTTP receiver (an axum server on a random port) that fails a chosen number of requests
//! and records the others.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use clap::Parser;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use webhooks::Worker;
use webhooks::config::{Cli, Config, LogFormat};

use crate::servers::mongodb_uri;
use crate::stream::TestStream;

/// The `WEBHOOK_SECRET_KEY` of every test worker (64 hex digits). A test app that seals
/// secrets sets the same key; apps without it store them plain, which the worker reads too.
pub const TEST_WEBHOOK_SECRET_KEY: &str = "5d1f0c3a9b7e4d2c8a6f1e0b3c5d7e9f2a4c6e8b0d1f3a5c7e9b1d3f5a7c9e0b";

/// A running webhook worker.
pub struct WebhookApp {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl WebhookApp {
    /// The configuration of a test worker on `stream`: the binary's own defaults with the
    /// test servers, the per-test stream, private hosts allowed (the receiver is on
    /// 127.0.0.1) and quick retries (20 ms doubling to 100 ms, 8 attempts), endpoints
    /// disabled after failing for 6 s (8 quick attempts fit well inside it on a loaded
    /// machine), [`TEST_WEBHOOK_SECRET_KEY`], and no re-sealing pass at start. Every test worker
    /// uses these, because the deliveries of all tests share one collection and any worker
    /// may send any of them.
    pub fn config(stream: &TestStream) -> Config {
        let mut config = Cli::try_parse_from(["webhooks"])
            .expect("the defaults form a valid command line")
            .config;
        config.stream = stream.args();
        config.mongo.mongodb_uri = mongodb_uri();
        config.mongo.min_pool_size = 0;
        config.consumer_prefix = "webhooks".to_owned();
        config.retry_base_ms = 20;
        config.retry_max_ms = 100;
        config.max_attempts = 8;
        config.disable_after_secs = 6;
        config.request_timeout_ms = 2_000;
        config.poll_ms = 20;
        config.endpoint_cache_ms = 0;
        config.allow_private_hosts = true;
        config.log_format = LogFormat::Pretty;
        config.secret_key.webhook_secret_key = Some(TEST_WEBHOOK_SECRET_KEY.into());
        // Every test's endpoints share one collection: a pass at start would seal the
        // secrets of tests whose API stores them plain. The re-sealing test runs its own.
        config.reseal_at_start = false;
        config
    }

    /// Starts a worker on `stream`.
    pub async fn spawn(stream: &TestStream) -> anyhow::Result<Self> {
        Self::spawn_with(stream, |_| {}).await
    }

    /// Starts a worker on `stream` after `adjust` changed its configuration.
    pub async fn spawn_with(stream: &TestStream, adjust: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        let mut config = Self::config(stream);
        adjust(&mut config);
        let worker = Worker::build(config).await.context("building the webhook worker")?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(worker.run_until(async move {
            let _ = stopped.await;
        }));
        Ok(Self { stop: Some(stop), task })
    }

    /// Stops it and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.context("webhook worker task panicked")?
    }
}

/// One request the receiver accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body, as sent.
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Log {
    /// Requests answered so far, failed or not.
    requests: usize,
    /// Answer 500 to the first this many.
    fail_first: usize,
    /// Answer 500 to every request while set.
    down: bool,
    accepted: Vec<Received>,
}

/// A local HTTP receiver: `POST /hook` answers 500 to its first `fail_first` requests (or to
/// all while [`Receiver::set_down`]), then 200, recording what it accepted.
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    log: Arc<Mutex<Log>>,
    server: JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver that fails its first `fail_first` requests.
    pub async fn start(fail_first: usize) -> anyhow::Result<Self> {
        let log = Arc::new(Mutex::new(Log {
            fail_first,
            ..Log::default()
        }));
        async fn hook(State(log): State<Arc<Mutex<Log>>>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
            let mut log = log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            log.requests += 1;
            if log.down || log.requests <= log.fail_first {
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
            log.accepted.push(Received {
                headers,
                body: body.to_vec(),
            });
            StatusCode::OK
        }
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(Arc::clone(&log));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the receiver")?;
        let url = format!("http://127.0.0.1:{}/hook", listener.local_addr()?.port());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, log, server })
    }

    /// Makes every request fail (`true`) or succeed (`false`).
    pub fn set_down(&self, down: bool) {
        self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).down = down;
    }

    /// Requests answered so far, failed ones included.
    pub fn requests(&self) -> usize {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .requests
    }

    /// What it accepted, in arrival order.
    pub fn accepted(&self) -> Vec<Received> {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .accepted
            .clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}
