//! Measuring tillstream against the servers it sits on, in one run on one machine, so
//! results are ratios that hold on a noisy machine.
//!
//! # Layout
//! - [`stats`]: latency histograms and the run report.
//! - [`workload`]: tenants, tokens and command bodies (mostly sales).
//! - [`client`]: the lean HTTP/1.1 connection each load worker owns.
//! - [`load`]: HTTP load with M concurrent connections, and projection-lag sampling.
//! - [`baselines`]: raw JetStream publishes, raw MongoDB bulk upserts, and a direct-write
//!   service shaped like the seed's design.
//! - [`peer`]: the side-by-side run with the cqrs-es + postgres-es peer (`bench/peer`).
//! - [`system`]: the command API and projector started in-process for a run.
//! - [`integrations`]: batch upload, the event feed and webhooks (issue 20).

pub mod baselines;
pub mod client;
pub mod integrations;
pub mod load;
pub mod peer;
pub mod replay;
pub mod stats;
pub mod system;
pub mod workload;
