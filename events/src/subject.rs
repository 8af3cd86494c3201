//! The subject scheme: the one place that turns (tenant, aggregate kind, aggregate id)
//! into a NATS subject, and back.
//!
//! `<prefix>.<tenant>.<kind>.<id>`, e.g. `pos.acme.sale.0190c2d8-…`. The tenant sits right
//! after the prefix so that one filter, `<prefix>.<tenant>.>`, selects exactly that tenant's
//! events (replay, export, delete, per-tenant lag), and every aggregate instance has its
//! own subject for per-subject concurrency checks. Every token is validated before it gets
//! here ([`TenantId`], [`AggregateRef`]), so no wildcard or separator can be injected.
//!
//! The prefix is configurable (default `pos`) so tests and several installations can share
//! one NATS server without seeing each other's subjects.

use crate::aggregate::{AggregateKind, AggregateRef};
use crate::ids;
use crate::tenant::{TenantId, TenantIdError};

/// Why a prefix or subject is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// The configured prefix is empty or holds an invalid token.
    #[error(
        "invalid subject prefix {0:?}: tokens must be non-empty ASCII letters, digits, '-' or '_' separated by '.'"
    )]
    InvalidPrefix(String),
    /// The subject does not start with this scheme's prefix.
    #[error("subject {0:?} is outside prefix {1:?}")]
    ForeignPrefix(String, String),
    /// The subject does not have the shape `<prefix>.<tenant>.<kind>.<id>`.
    #[error("subject {0:?} is not <prefix>.<tenant>.<kind>.<id>")]
    Shape(String),
    /// The tenant token is invalid.
    #[error("subject {subject:?} has an invalid tenant: {source}")]
    Tenant {
        /// The subject.
        subject: String,
        /// Why the tenant token was refused.
        #[source]
        source: TenantIdError,
    },
    /// The aggregate kind token is unknown.
    #[error("subject {0:?} has an unknown aggregate kind")]
    Kind(String),
    /// The aggregate id token is invalid.
    #[error("subject {0:?} has an invalid aggregate id")]
    Id(String),
}

/// Builds and parses subjects under one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectScheme {
    /// The leading tokens shared by every subject of this installation (e.g. `pos`).
    prefix: String,
}

impl Default for SubjectScheme {
    fn default() -> Self {
        Self {
            prefix: Self::DEFAULT_PREFIX.to_owned(),
        }
    }
}

impl SubjectScheme {
    /// The prefix used when none is configured.
    pub const DEFAULT_PREFIX: &'static str = "pos";

    /// A scheme under `prefix` (one or more `.`-separated tokens, no wildcards).
    pub fn new(prefix: impl Into<String>) -> Result<Self, SubjectError> {
        let prefix = prefix.into();
        let valid =
            !prefix.is_empty() && prefix.split('.').all(|token| ids::validate(token).is_ok());
        if valid {
            Ok(Self { prefix })
        } else {
            Err(SubjectError::InvalidPrefix(prefix))
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The subject of one aggregate instance of `tenant`.
    pub fn subject(&self, tenant: &TenantId, aggregate: &AggregateRef) -> String {
        format!(
            "{}.{}.{}.{}",
            self.prefix, tenant, aggregate.kind, aggregate.id
        )
    }

    /// Every event of `tenant`: `<prefix>.<tenant>.>`.
    pub fn tenant_filter(&self, tenant: &TenantId) -> String {
        format!("{}.{}.>", self.prefix, tenant)
    }

    /// Every aggregate of one kind of `tenant`: `<prefix>.<tenant>.<kind>.*`.
    pub fn kind_filter(&self, tenant: &TenantId, kind: AggregateKind) -> String {
        format!("{}.{}.{}.*", self.prefix, tenant, kind)
    }

    /// Every subject of this installation, for the stream's subject list: `<prefix>.>`.
    pub fn all_filter(&self) -> String {
        format!("{}.>", self.prefix)
    }

    /// Splits a subject built by [`SubjectScheme::subject`] into tenant and aggregate.
    pub fn parse(&self, subject: &str) -> Result<(TenantId, AggregateRef), SubjectError> {
        let rest = subject
            .strip_prefix(self.prefix.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .ok_or_else(|| SubjectError::ForeignPrefix(subject.to_owned(), self.prefix.clone()))?;
        let mut tokens = rest.split('.');
        let (Some(tenant), Some(kind), Some(id), None) =
            (tokens.next(), tokens.next(), tokens.next(), tokens.next())
        else {
            return Err(SubjectError::Shape(subject.to_owned()));
        };
        let tenant = TenantId::parse(tenant).map_err(|source| SubjectError::Tenant {
            subject: subject.to_owned(),
            source,
        })?;
        let kind = AggregateKind::from_token(kind)
            .ok_or_else(|| SubjectError::Kind(subject.to_owned()))?;
        let aggregate =
            AggregateRef::new(kind, id).map_err(|_| SubjectError::Id(subject.to_owned()))?;
        Ok((tenant, aggregate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{SaleId, Sku};

    fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).expect("valid tenant")
    }

    #[test]
    fn subjects_put_the_tenant_right_after_the_prefix() {
        let scheme = SubjectScheme::default();
        let sale = AggregateRef::sale(&SaleId::parse("s-1").expect("id"));
        assert_eq!(scheme.subject(&tenant("acme"), &sale), "pos.acme.sale.s-1");
        assert_eq!(scheme.tenant_filter(&tenant("acme")), "pos.acme.>");
        assert_eq!(
            scheme.kind_filter(&tenant("acme"), AggregateKind::Movement),
            "pos.acme.movement.*"
        );
        assert_eq!(scheme.all_filter(), "pos.>");
    }

    #[test]
    fn parse_inverts_subject() {
        let scheme = SubjectScheme::new("test.run1").expect("prefix");
        let product = AggregateRef::product(&Sku::parse("JD-750").expect("sku"));
        let subject = scheme.subject(&tenant("t1"), &product);
        assert_eq!(scheme.parse(&subject), Ok((tenant("t1"), product)));
    }

    #[test]
    fn parse_rejects_foreign_and_malformed_subjects() {
        let scheme = SubjectScheme::default();
        assert!(matches!(
            scheme.parse("other.acme.sale.1"),
            Err(SubjectError::ForeignPrefix(..))
        ));
        assert!(matches!(
            scheme.parse("posx.acme.sale.1"),
            Err(SubjectError::ForeignPrefix(..))
        ));
        assert!(matches!(
            scheme.parse("pos.acme.sale"),
            Err(SubjectError::Shape(_))
        ));
        assert!(matches!(
            scheme.parse("pos.acme.sale.1.2"),
            Err(SubjectError::Shape(_))
        ));
        assert!(matches!(
            scheme.parse("pos.ACME.sale.1"),
            Err(SubjectError::Tenant { .. })
        ));
        assert!(matches!(
            scheme.parse("pos.acme.basket.1"),
            Err(SubjectError::Kind(_))
        ));
        assert!(matches!(
            scheme.parse("pos.acme.sale.*"),
            Err(SubjectError::Id(_))
        ));
    }

    #[test]
    fn prefixes_with_wildcards_or_empty_tokens_are_rejected() {
        for bad in ["", "a..b", "a.*", ">", "a b", ".a", "a."] {
            assert!(SubjectScheme::new(bad).is_err(), "{bad:?}");
        }
    }
}
