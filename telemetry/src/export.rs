//! OTLP export of spans: configured by [`TraceExport`] (flattened into each service's
//! configuration), installed by [`crate::init_traced`], flushed by [`Tracing`].
//!
//! The exporter speaks OTLP over HTTP with protobuf bodies (`http/protobuf`), posting
//! batches to `<endpoint>/v1/traces` from the batch processor's own thread (a blocking
//! HTTP client there, so no runtime of the service is involved). Without an endpoint no
//! exporter, processor or OpenTelemetry layer exists.

use std::time::Duration;

use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Where and how spans are exported. Every field has an `OTEL_*` variable as the
/// OpenTelemetry specification names it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TraceExport {
    /// Base URL of an OTLP/HTTP receiver (e.g. `http://collector:4318`); spans are posted
    /// to `<base>/v1/traces` as protobuf. Unset or empty: nothing is exported.
    #[arg(long = "otlp-endpoint", env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// Time limit of one export request, in milliseconds.
    #[arg(
        long = "otlp-timeout-ms",
        env = "OTEL_EXPORTER_OTLP_TIMEOUT",
        default_value_t = 10_000
    )]
    pub otlp_timeout_ms: u64,
    /// The `service.name` of the exported spans (default: the service's own name).
    #[arg(long = "otel-service-name", env = "OTEL_SERVICE_NAME")]
    pub service_name: Option<String>,
}

/// Why the exporter could not be built.
#[derive(Debug, thiserror::Error)]
#[error("building the OTLP span exporter for {endpoint}")]
pub struct ExportError {
    endpoint: String,
    #[source]
    source: opentelemetry_otlp::ExporterBuildError,
}

impl TraceExport {
    /// The URL spans are posted to, if export is configured.
    pub fn traces_url(&self) -> Option<String> {
        let base = self.otlp_endpoint.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        let base = base.trim_end_matches('/');
        Some(if base.ends_with("/v1/traces") {
            base.to_owned()
        } else {
            format!("{base}/v1/traces")
        })
    }

    /// The tracer provider exporting to the endpoint, or `None` when none is configured.
    pub(crate) fn provider(&self, service: &str) -> Result<Option<SdkTracerProvider>, ExportError> {
        let Some(url) = self.traces_url() else {
            return Ok(None);
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(url.clone())
            .with_timeout(Duration::from_millis(self.otlp_timeout_ms))
            .build()
            .map_err(|source| ExportError { endpoint: url, source })?;
        let name = self
            .service_name
            .clone()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| service.to_owned());
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name(name).build())
            .build();
        Ok(Some(provider))
    }
}

/// The installed exporter, if any. [`Tracing::flush`] sends what is buffered; dropping it
/// flushes and shuts the exporter down.
#[derive(Default)]
pub struct Tracing {
    provider: Option<SdkTracerProvider>,
}

impl std::fmt::Debug for Tracing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracing")
            .field("exporting", &self.provider.is_some())
            .finish()
    }
}

impl Tracing {
    pub(crate) fn new(provider: Option<SdkTracerProvider>) -> Self {
        Self { provider }
    }

    /// Whether spans are exported.
    pub fn is_exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Sends the spans ended so far and waits for the receiver's answer (blocking; call it
    /// from a blocking context or a thread of its own).
    pub fn flush(&self) {
        if let Some(provider) = &self.provider
            && let Err(err) = provider.force_flush()
        {
            tracing::warn!(error = %err, "flushing the OTLP span exporter failed");
        }
    }
}

impl Drop for Tracing {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(err) = provider.shutdown()
        {
            eprintln!("telemetry: shutting the OTLP span exporter down failed: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_appended_once() {
        let export = |endpoint: Option<&str>| TraceExport {
            otlp_endpoint: endpoint.map(str::to_owned),
            ..TraceExport::default()
        };
        assert_eq!(export(None).traces_url(), None);
        assert_eq!(export(Some(" ")).traces_url(), None);
        assert_eq!(
            export(Some("http://collector:4318")).traces_url().as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        assert_eq!(
            export(Some("http://collector:4318/")).traces_url().as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        assert_eq!(
            export(Some("http://c:4318/v1/traces")).traces_url().as_deref(),
            Some("http://c:4318/v1/traces")
        );
    }
}
