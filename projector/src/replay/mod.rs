//! Tenant operations built on the stream being the source of truth: rebuilding a read
//! model online (replay), checking it (verify), moving a tenant to another MongoDB
//! deployment, exporting and importing its events, and erasing it.
//!
//! A rebuild folds the tenant's events, read back from the stream in order, through the
//! same code as the live projector ([`crate::projection::apply_to`]), into shadow
//! collections (`replay_products`, ...) or another database. Guarded writes make it
//! resumable: run it again after a crash and it continues from its own checkpoint.
//!
//! The switch-over happens **in stream order**: the job appends a control marker to the
//! tenant's subjects; the live projector, reaching the marker after every earlier event of
//! the tenant, brings the shadow up to the marker, renames each shadow collection over the
//! live one (`renameCollection` with `dropTarget`) and goes on with later events on the new
//! collections. No lock or pause is needed: the one reader of the tenant's partition does
//! the swap between two of its events.
//!
//! # Layout
//! - [`marker`]: the control marker and its subject.
//! - [`progress`]: a progress bar on a terminal, structured logs otherwise.
//! - [`rebuild`]: reading a tenant's events back and folding them into a target.
//! - [`swap`]: what the live projector does when it reaches a marker.
//! - [`jobs`]: the operator commands (replay, verify, move, export, import, delete).

pub mod jobs;
pub mod marker;
pub mod progress;
pub mod rebuild;
pub mod swap;

/// Prefix of the shadow collections a replay builds.
pub const SHADOW_PREFIX: &str = "replay_";

/// A failed tenant operation.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// NATS failed or refused.
    #[error("event stream: {0}")]
    Stream(String),
    /// MongoDB failed.
    #[error(transparent)]
    Store(#[from] crate::projection::ProjectionError),
    /// A file could not be read or written.
    #[error("{0}")]
    File(String),
    /// The operation cannot go on as asked.
    #[error("{0}")]
    Refused(String),
}

impl From<mongodb::error::Error> for ReplayError {
    fn from(err: mongodb::error::Error) -> Self {
        ReplayError::Store(err.into())
    }
}
