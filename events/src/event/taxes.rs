//! Tax events: a tax jurisdiction's configuration (its dated rates, container deposits and
//! rounding rule) is set. They belong to the jurisdiction aggregate, keyed by its id,
//! which locations name as their `tax_jurisdiction`.

use serde::{Deserialize, Serialize};

use crate::tax::Jurisdiction;

/// A jurisdiction's whole configuration was set (first defined, or replaced). Rates carry
/// their own effective dates, so a sale priced again at its own date finds the rate of
/// that date whatever was set later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxJurisdictionConfigured {
    /// The configuration, valid ([`Jurisdiction::validate`]).
    pub jurisdiction: Jurisdiction,
}
