//! Control markers: messages on `<prefix>.<p>.<tenant>.control.<job>` that tell the live
//! projector to do something at exactly that point of the tenant's stream (swap in a
//! rebuilt read model, move the tenant to another database deployment, re-drive one parked
//! event).
//!
//! A marker is not an event: it carries no envelope, is skipped by replays and exports,
//! and only the live projector acts on it. Its JSON body is described here so that the job
//! placing it and the projector reading it agree on one type.

use serde::{Deserialize, Serialize};

use crate::codec::EncodeError;
use crate::{AggregateKind, AggregateRef, IdError, SubjectScheme, TenantId};

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
    /// Apply the tenant's parked event at stream sequence `sequence` again, at this point
    /// of the tenant's stream (after every earlier event, before every later one), and
    /// take it off the parked list if it applies now.
    Redrive {
        /// The parked event's stream sequence.
        sequence: u64,
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
    /// The control "aggregate" this marker is stored under (its job id is the subject's
    /// last token, so it must be a valid identifier).
    pub fn aggregate(&self) -> Result<AggregateRef, IdError> {
        AggregateRef::new(AggregateKind::Control, self.job_id.clone())
    }

    /// The subject of this marker for `tenant`.
    pub fn subject(&self, scheme: &SubjectScheme, tenant: &TenantId) -> Result<String, IdError> {
        Ok(scheme.subject(tenant, &self.aggregate()?))
    }

    /// The marker's message body (JSON).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        Ok(serde_json::to_vec(self)?)
    }

    /// Reads a marker's message body.
    pub fn decode(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_survives_its_encoding_and_names_its_job_in_the_subject() -> Result<(), Box<dyn std::error::Error>> {
        let marker = ControlMarker {
            job_id: "0193job".to_owned(),
            operation: Operation::SwapShadow {
                prefix: "replay_".to_owned(),
            },
        };
        let body = marker.encode()?;
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body)?,
            serde_json::json!({"job_id": "0193job", "operation": {"operation": "swap_shadow", "prefix": "replay_"}})
        );
        assert_eq!(ControlMarker::decode(&body)?, marker);
        let scheme = SubjectScheme::new("pos")?;
        let tenant = TenantId::parse("acme")?;
        assert!(marker.subject(&scheme, &tenant)?.ends_with(".acme.control.0193job"));
        Ok(())
    }

    #[test]
    fn a_redrive_marker_names_the_parked_sequence() -> Result<(), Box<dyn std::error::Error>> {
        let marker = ControlMarker {
            job_id: "redrive-1".to_owned(),
            operation: Operation::Redrive { sequence: 42 },
        };
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&marker.encode()?)?,
            serde_json::json!({"job_id": "redrive-1", "operation": {"operation": "redrive", "sequence": 42}})
        );
        Ok(())
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(
            ControlMarker::decode(br#"{"job_id":"j","operation":{"operation":"move_to","uri":"x"},"extra":1}"#)
                .is_err()
        );
    }
}
