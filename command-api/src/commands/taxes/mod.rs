//! Tax jurisdiction commands (admin): define one, replace its configuration.
//!
//! A jurisdiction holds its taxes with dated rates, its container deposits and its
//! rounding rule (`events::tax::Jurisdiction`; the rules in docs/taxes.md). Locations
//! name it as their `tax_jurisdiction`; quotes and sales are priced by it. A
//! configuration that does not validate is a 422 naming the problem, and nothing is
//! recorded.
//!
//! # Layout
//! - [`define`]: a new jurisdiction, [`DefineJurisdiction`].
//! - [`replace`]: a new configuration for an existing one, [`ReplaceJurisdiction`].
//! - [`state`]: [`JurisdictionState`], a jurisdiction folded from its history.

pub mod define;
pub mod replace;
pub mod state;

pub use define::DefineJurisdiction;
pub use replace::ReplaceJurisdiction;
pub use state::JurisdictionState;

use events::tax::{Jurisdiction, JurisdictionId};

use crate::commands::CommandMeta;
use crate::error::ApiError;
use crate::state::AppState;

/// Checks a configuration: valid by its own rules ([`Jurisdiction::validate`]) and
/// about the jurisdiction the path or body names.
pub fn valid(jurisdiction: &Jurisdiction, id: &JurisdictionId) -> Result<(), ApiError> {
    if &jurisdiction.id != id {
        return Err(ApiError::invalid("jurisdiction.id", format!("must be {id}")));
    }
    crate::commands::fields::text("jurisdiction.name", &jurisdiction.name)?;
    jurisdiction
        .validate()
        .map_err(|err| ApiError::invalid("jurisdiction", err.to_string()))
}

/// After any jurisdiction command: forget the cached configuration.
pub async fn invalidate(app: &AppState, meta: &CommandMeta, id: &JurisdictionId) {
    app.jurisdictions.invalidate(&meta.context.tenant, id);
}
