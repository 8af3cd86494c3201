//! Control markers: messages on `<prefix>.<p>.<tenant>.control.<job>` that tell the live
//! projector to do something at exactly that point of the tenant's stream.

use events::{AggregateKind, AggregateRef, SubjectScheme, TenantId};
use serde::{Deserialize, Serialize};

/// What to do at the marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "snake_case")]
pub enum Operation {
    /// Bring the shadow collections with this prefix up to the marker and rename them
    /// over the live ones.
    SwapShadow {
        /// Shadow collection prefix.
        prefix: String,
    },
    /// Bring the tenant's database on the deployment `uri` up to the marker, point the
    /// placement map at it and drop the old database.
    MoveTo {
        /// Target MongoDB deployment.
        uri: String,
    },
}

/// A control marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlMarker {
    /// The job that placed it (also the last subject token).
    pub job_id: String,
    /// What to do.
    pub operation: Operation,
}

impl ControlMarker {
    /// The subject of this marker for `tenant`.
    pub fn subject(&self, scheme: &SubjectScheme, tenant: &TenantId) -> Result<String, events::IdError> {
        Ok(scheme.subject(tenant, &AggregateRef::new(AggregateKind::Control, self.job_id.clone())?))
    }
}
