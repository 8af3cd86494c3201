//! The validated names of the configuration, defined with the events that carry them
//! ([`events::tax::slug`]).

pub use events::tax::slug::*;
