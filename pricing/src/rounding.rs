//! The rounding rule and the largest-remainder split, defined with the events that carry
//! the rule ([`events::tax::rounding`]).

pub use events::tax::rounding::*;
