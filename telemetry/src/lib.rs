//! What every tillstream service sets up the same way.
//!
//! # Layout
//! - [`LogFormat`] and [`init`]: `tracing` to stderr, filtered by `RUST_LOG` (default
//!   `info`), pretty for development or one JSON object per line for log shippers.
//! - [`trace`]: W3C `traceparent` across the API, the event headers, the projector and the
//!   webhook worker; [`TraceExport`] and [`init_traced`]: OTLP export when configured.
//! - [`metrics_recorder`]: the process-wide Prometheus recorder.
//! - [`shutdown_signal`]: completes on ctrl-c or SIGTERM.
//! - [`OpsToken`]: the bearer credential of operator endpoints (metrics, admin).

mod export;
mod ops_token;
pub mod trace;

pub use export::{ExportError, TraceExport, Tracing};
pub use ops_token::OpsToken;

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable, for development.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Installs the global subscriber (`RUST_LOG`, else `info`), exporting nothing. Call
/// once, from `main`.
pub fn init(format: LogFormat) {
    init_with_default(format, "info");
}

/// Installs the global subscriber with `RUST_LOG`, else the `default` directives (a
/// tool that hosts the services in-process keeps their per-request lines out).
pub fn init_with_default(format: LogFormat, default: &str) {
    if let Err(err) = install(format, default, None) {
        eprintln!("telemetry: {err}");
    }
}

/// Installs the global subscriber (`RUST_LOG`, else `info`) and, when `export` names an
/// OTLP endpoint, an OpenTelemetry layer sending spans there as `service` (unless
/// `OTEL_SERVICE_NAME` names another). Keep the answer until the process ends: dropping
/// it flushes the spans not yet sent. A failure to build the exporter is logged and
/// leaves the logs working without export.
pub fn init_traced(format: LogFormat, export: &TraceExport, service: &str) -> Tracing {
    let provider = match export.provider(service) {
        Ok(provider) => provider,
        Err(err) => {
            let _ = install(format, "info", None);
            tracing::error!(error = %err, "OTLP export is off");
            return Tracing::default();
        }
    };
    match install(format, "info", provider.as_ref()) {
        Ok(()) => {
            if provider.is_some() {
                trace::set_exporting();
                tracing::info!(
                    endpoint = export.traces_url().unwrap_or_default(),
                    "exporting spans over OTLP"
                );
            }
            Tracing::new(provider)
        }
        Err(err) => {
            eprintln!("telemetry: {err}");
            Tracing::default()
        }
    }
}

/// The subscriber: env filter, the formatter, and the OpenTelemetry layer if `provider`.
fn install(
    format: LogFormat,
    default: &str,
    provider: Option<&opentelemetry_sdk::trace::SdkTracerProvider>,
) -> Result<(), tracing_subscriber::util::TryInitError> {
    use opentelemetry::trace::TracerProvider as _;

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let otel = provider.map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("tillstream")));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let fmt = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => registry
            .with(fmt.json().flatten_event(true).with_current_span(true))
            .try_init(),
        LogFormat::Pretty => registry.with(fmt).try_init(),
    }
}

/// Latency buckets in seconds, from 100 µs to 10 s, for every `*_seconds` histogram.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder, installed on first use. Tests run several
/// services in one process; they share it.
pub fn metrics_recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let builder = match builder.set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS) {
                Ok(with_buckets) => with_buckets,
                Err(err) => {
                    tracing::warn!(%err, "histogram buckets refused; using summaries");
                    PrometheusBuilder::new()
                }
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder was installed first; /metrics shows only this one's");
            }
            handle
        })
        .clone()
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}
