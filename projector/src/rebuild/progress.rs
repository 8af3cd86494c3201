//! Progress of a long operation: a bar with events/s and ETA on a terminal, a log line
//! every few seconds otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Reports progress of one operation.
pub struct Progress {
    label: String,
    bar: Option<ProgressBar>,
    started: Instant,
    last_log: Instant,
    done: u64,
    total: u64,
}

impl Progress {
    /// A reporter for `label`; a bar only when stderr is a terminal and `interactive`.
    pub fn new(label: impl Into<String>, interactive: bool) -> Self {
        let bar = (interactive && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} events {per_sec} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        let label = label.into();
        if let Some(bar) = &bar {
            bar.set_message(label.clone());
        }
        Self {
            label,
            bar,
            started: Instant::now(),
            last_log: Instant::now(),
            done: 0,
            total: 0,
        }
    }

    /// `done` more events applied, `pending` still to come.
    pub fn advance(&mut self, done: u64, pending: u64) {
        self.done += done;
        self.total = self.done + pending;
        if let Some(bar) = &self.bar {
            bar.set_length(self.total);
            bar.set_position(self.done);
        } else if self.last_log.elapsed() >= Duration::from_secs(5) {
            self.last_log = Instant::now();
            let rate = self.rate();
            let eta = if rate > 0.0 {
                (pending as f64 / rate).round()
            } else {
                0.0
            };
            tracing::info!(operation = %self.label, done = self.done, pending, events_per_sec = rate.round(), eta_secs = eta, "progress");
        }
    }

    /// Events applied per second so far.
    pub fn rate(&self) -> f64 {
        self.done as f64 / self.started.elapsed().as_secs_f64().max(0.001)
    }

    /// Events applied so far.
    pub fn done(&self) -> u64 {
        self.done
    }

    /// Finishes the bar and logs the total.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
        tracing::info!(operation = %self.label, events = self.done, seconds = self.started.elapsed().as_secs_f64(), events_per_sec = self.rate().round(), "done");
    }
}
