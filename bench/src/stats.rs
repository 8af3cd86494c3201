//! Latency histograms and the report of a run.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies in microseconds, 1 µs to 60 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("static histogram bounds are valid")
}

/// Percentiles of a latency histogram, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Latency {
    /// Summarizes `histogram` (microseconds).
    pub fn of(histogram: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: histogram.len(),
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p90_ms: ms(histogram.value_at_quantile(0.90)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
        }
    }
}

/// The outcome of an HTTP load run.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// What was measured.
    pub name: String,
    /// Requests answered 2xx.
    pub ok: u64,
    /// Answers by non-2xx status (0: transport error).
    pub errors: BTreeMap<u16, u64>,
    /// Wall time.
    pub seconds: f64,
    /// 2xx answers per second.
    pub per_second: f64,
    /// Latency of 2xx answers.
    pub latency: Latency,
    /// Time from a command's 2xx to the change visible in MongoDB (sampled).
    pub projection_lag: Option<Latency>,
}

impl LoadReport {
    /// Builds the report.
    pub fn new(
        name: &str,
        ok: u64,
        errors: BTreeMap<u16, u64>,
        elapsed: Duration,
        latency: &Histogram<u64>,
        lag: Option<&Histogram<u64>>,
    ) -> Self {
        let seconds = elapsed.as_secs_f64();
        Self {
            name: name.to_owned(),
            ok,
            errors,
            seconds,
            per_second: ok as f64 / seconds.max(0.001),
            latency: Latency::of(latency),
            projection_lag: lag.filter(|h| !h.is_empty()).map(Latency::of),
        }
    }
}

/// A raw baseline: operations per second.
#[derive(Debug, Clone, Serialize)]
pub struct Rate {
    /// What was measured.
    pub name: String,
    /// Operations done.
    pub operations: u64,
    /// Wall time.
    pub seconds: f64,
    /// Operations per second.
    pub per_second: f64,
}

impl Rate {
    /// Builds a rate.
    pub fn new(name: &str, operations: u64, elapsed: Duration) -> Self {
        let seconds = elapsed.as_secs_f64();
        Self {
            name: name.to_owned(),
            operations,
            seconds,
            per_second: operations as f64 / seconds.max(0.001),
        }
    }
}
