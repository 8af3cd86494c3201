//! The pricing engine's behaviour, with every expected number worked out by hand in the
//! test's comments. `worked_receipt` is the receipt of `docs/taxes.md`.

mod compare;
mod engine;
mod fixtures;
mod properties;
mod refunds;
mod validation;
mod worked_receipt;
