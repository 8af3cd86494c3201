//! What the tenant's settings commands share: each kind of settings (`cash`, `sales`) is
//! one aggregate per tenant (`settings.<kind>`), and a change names the version it
//! replaces (`version`: the stream sequence the previous change answered with, 0 for the
//! first), as `If-Match` does for catalog changes. A retried change is recognised by that
//! version; a change made against stale settings is 409 `version_conflict`.

use events::AggregateRef;
use eventstore::{Expected, StoredEvent};

use crate::commands::command::AggregateId;
use crate::error::ApiError;

/// The kinds of tenant settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SettingsKind {
    /// Blind close, over/short threshold, void window ([`crate::commands::cash`]).
    Cash,
    /// The back-dating window ([`crate::commands::sales::settings`]).
    Sales,
}

impl SettingsKind {
    /// The aggregate's id (`cash`, `sales`).
    pub fn as_str(self) -> &'static str {
        match self {
            SettingsKind::Cash => "cash",
            SettingsKind::Sales => "sales",
        }
    }

    /// The tenant's aggregate of this kind.
    pub fn aggregate(self) -> AggregateRef {
        match self {
            SettingsKind::Cash => AggregateRef::cash_settings(),
            SettingsKind::Sales => AggregateRef::sales_settings(),
        }
    }
}

/// A tenant's settings of one kind at the version a change replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingsVersion {
    /// Which settings.
    pub kind: SettingsKind,
    /// The version the change replaces (0: never set).
    pub version: u64,
}

impl AggregateId for SettingsVersion {
    fn natural_key(&self) -> String {
        format!("settings:{}:{}", self.kind.as_str(), self.version)
    }

    fn aggregate(&self) -> AggregateRef {
        self.kind.aggregate()
    }

    fn exists(&self, history: &[StoredEvent]) -> ApiError {
        ApiError::VersionConflict {
            expected: self.version,
            current: history.last().map_or(0, |e| e.sequence),
        }
    }
}

/// The append expectation of a change to settings now at version `current`: 409 when the
/// change was made against another version.
pub fn expect_version(id: &SettingsVersion, current: u64) -> Result<Expected, ApiError> {
    if current != id.version {
        return Err(ApiError::VersionConflict {
            expected: id.version,
            current,
        });
    }
    Ok(if id.version == 0 {
        Expected::NoEvents
    } else {
        Expected::LastSequence(id.version)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_keys_are_the_ones_stored_events_carry() {
        let cash = SettingsVersion {
            kind: SettingsKind::Cash,
            version: 12,
        };
        let sales = SettingsVersion {
            kind: SettingsKind::Sales,
            version: 0,
        };
        assert_eq!(cash.natural_key(), "settings:cash:12");
        assert_eq!(sales.natural_key(), "settings:sales:0");
        assert_eq!(expect_version(&sales, 0).ok(), Some(Expected::NoEvents));
        assert_eq!(expect_version(&cash, 12).ok(), Some(Expected::LastSequence(12)));
        assert!(expect_version(&cash, 13).is_err());
    }
}
