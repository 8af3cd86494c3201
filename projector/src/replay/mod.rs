//! The operator jobs built on the stream being the source of truth: rebuilding a tenant's
//! read model online (replay), checking it (verify), moving a tenant to another MongoDB
//! deployment, exporting and importing its events, and erasing it.
//!
//! A rebuild folds the tenant's events, read back from the stream in order, through the
//! same code as the live projector ([`crate::rebuild`]), into shadow collections
//! (`replay_products`, ...) or another database. Guarded writes make it resumable: run it
//! again after a crash and it continues from its own checkpoint.
//!
//! The switch-over happens **in stream order**: the job places a control marker
//! ([`events::ControlMarker`]) on the tenant's subjects; the live projector, reaching the
//! marker after every earlier event of the tenant, brings the shadow up to the marker,
//! renames each shadow collection over the live one (`renameCollection` with `dropTarget`)
//! and goes on with later events on the new collections ([`crate::partition::handover`]).
//! No lock or pause is needed: the one reader of the tenant's partition does the swap
//! between two of its events.
//!
//! # Layout
//! - [`jobs`]: the operator commands (replay, verify, move, export, import, delete).
//! - [`running`]: the records of replays and moves in progress, and their progress, for
//!   the admin server.

pub mod jobs;
pub mod running;

/// Prefix of the shadow collections a replay builds.
pub const SHADOW_PREFIX: &str = "replay_";

/// A failed tenant operation.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Reading from or maintaining the event stream failed.
    #[error(transparent)]
    Stream(#[from] eventstore::StreamError),
    /// Appending to the event stream (an import, a control marker) failed.
    #[error("appending to the event stream failed")]
    Append(#[from] eventstore::AppendError),
    /// Reading the event stream's head failed.
    #[error("reading the event stream failed")]
    Read(#[from] eventstore::ReadError),
    /// The stream stopped delivering a tenant's messages.
    #[error("the event stream stalled: {0}")]
    Stalled(&'static str),
    /// Rebuilding a read model, or handing it over, failed.
    #[error(transparent)]
    Rebuild(#[from] crate::rebuild::RebuildError),
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
