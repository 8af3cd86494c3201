//! A jurisdiction's taxes and deposits, defined with the events that carry them
//! ([`events::tax::jurisdiction`]).

pub use events::tax::jurisdiction::*;
