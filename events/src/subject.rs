//! The subject scheme: the one place that turns (tenant, aggregate kind, aggregate id)
//! into a NATS subject, and back.
//!
//! `<prefix>.<partition>.<tenant>.<kind>.<id>`, e.g. `pos.5.acme.sale.0190c2d8-…`.
//!
//! - The **partition** is a pure function of the tenant ([`SubjectScheme::partition_of`]:
//!   FNV-1a of the tenant id modulo the partition count). One projector consumer per
//!   partition filters `<prefix>.<partition>.>`, so every tenant's events reach exactly one
//!   consumer, in stream order, and partitions spread over projector processes. The count is
//!   fixed when the stream is created and recorded in its metadata; every process reads it
//!   from there, so publishers and consumers cannot disagree.
//! - The **tenant** follows, so `<prefix>.<partition>.<tenant>.>` selects exactly one
//!   tenant's events (replay, export, delete, lag).
//! - Every aggregate instance has its own subject, for per-subject concurrency checks.
//!
//! Every token is validated before it gets here ([`TenantId`], [`AggregateRef`]), so no
//! wildcard or separator can be injected. The prefix is configurable (default `pos`) so
//! tests and several installations can share one NATS server.

use crate::aggregate::{AggregateKind, AggregateRef};
use crate::ids;
use crate::tenant::{TenantId, TenantIdError};

/// Why a prefix, partition count or subject is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// The configured prefix is empty or holds an invalid token.
    #[error(
        "invalid subject prefix {0:?}: tokens must be non-empty ASCII letters, digits, '-' or '_' separated by '.'"
    )]
    InvalidPrefix(String),
    /// The partition count is outside `1..=MAX_PARTITIONS`.
    #[error("partition count {0} is outside 1..={max}", max = SubjectScheme::MAX_PARTITIONS)]
    InvalidPartitions(u32),
    /// The subject does not start with this scheme's prefix.
    #[error("subject {0:?} is outside prefix {1:?}")]
    ForeignPrefix(String, String),
    /// The subject does not have the shape `<prefix>.<partition>.<tenant>.<kind>.<id>`.
    #[error("subject {0:?} is not <prefix>.<partition>.<tenant>.<kind>.<id>")]
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
    /// The partition token is not the tenant's partition.
    #[error("subject {0:?} is in the wrong partition for its tenant")]
    Partition(String),
    /// The aggregate kind token is unknown.
    #[error("subject {0:?} has an unknown aggregate kind")]
    Kind(String),
    /// The aggregate id token is invalid.
    #[error("subject {0:?} has an invalid aggregate id")]
    Id(String),
}

/// Builds and parses subjects under one prefix and partition count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectScheme {
    /// The leading tokens shared by every subject of this installation (e.g. `pos`).
    prefix: String,
    /// How many partitions tenants are spread over.
    partitions: u32,
}

impl Default for SubjectScheme {
    fn default() -> Self {
        Self {
            prefix: Self::DEFAULT_PREFIX.to_owned(),
            partitions: Self::DEFAULT_PARTITIONS,
        }
    }
}

impl SubjectScheme {
    /// The prefix used when none is configured.
    pub const DEFAULT_PREFIX: &'static str = "pos";
    /// The partition count used when none is configured: room for 8 projector processes.
    pub const DEFAULT_PARTITIONS: u32 = 8;
    /// Most partitions (one JetStream consumer each).
    pub const MAX_PARTITIONS: u32 = 1024;

    /// A scheme under `prefix` (one or more `.`-separated tokens, no wildcards) with the
    /// default partition count.
    pub fn new(prefix: impl Into<String>) -> Result<Self, SubjectError> {
        Self::with_partitions(prefix, Self::DEFAULT_PARTITIONS)
    }

    /// A scheme under `prefix` with `partitions` partitions.
    pub fn with_partitions(prefix: impl Into<String>, partitions: u32) -> Result<Self, SubjectError> {
        let prefix = prefix.into();
        let valid = !prefix.is_empty() && prefix.split('.').all(|token| ids::validate(token).is_ok());
        if !valid {
            return Err(SubjectError::InvalidPrefix(prefix));
        }
        if !(1..=Self::MAX_PARTITIONS).contains(&partitions) {
            return Err(SubjectError::InvalidPartitions(partitions));
        }
        Ok(Self { prefix, partitions })
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The partition count.
    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    /// The partition of `tenant`: 32-bit FNV-1a of its id, modulo the partition count.
    pub fn partition_of(&self, tenant: &TenantId) -> u32 {
        let hash = tenant.as_str().bytes().fold(0x811c_9dc5_u32, |hash, byte| {
            (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
        });
        hash % self.partitions
    }

    /// The subject of one aggregate instance of `tenant`.
    pub fn subject(&self, tenant: &TenantId, aggregate: &AggregateRef) -> String {
        // Built by hand rather than with `format!`: once per append, on the hot path.
        let kind = aggregate.kind.as_str();
        let mut subject =
            String::with_capacity(self.prefix.len() + 12 + tenant.as_str().len() + kind.len() + aggregate.id.len());
        subject.push_str(&self.prefix);
        subject.push('.');
        push_decimal(&mut subject, self.partition_of(tenant));
        subject.push('.');
        subject.push_str(tenant.as_str());
        subject.push('.');
        subject.push_str(kind);
        subject.push('.');
        subject.push_str(&aggregate.id);
        subject
    }

    /// Every event of `tenant`: `<prefix>.<partition>.<tenant>.>`.
    pub fn tenant_filter(&self, tenant: &TenantId) -> String {
        format!("{}.{}.{}.>", self.prefix, self.partition_of(tenant), tenant)
    }

    /// Every aggregate of one kind of `tenant`: `<prefix>.<partition>.<tenant>.<kind>.*`.
    pub fn kind_filter(&self, tenant: &TenantId, kind: AggregateKind) -> String {
        format!("{}.{}.{}.{}.*", self.prefix, self.partition_of(tenant), tenant, kind)
    }

    /// Every event of one partition: `<prefix>.<partition>.>`.
    pub fn partition_filter(&self, partition: u32) -> String {
        format!("{}.{}.>", self.prefix, partition)
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
        let (Some(partition), Some(tenant), Some(kind), Some(id), None) = (
            tokens.next(),
            tokens.next(),
            tokens.next(),
            tokens.next(),
            tokens.next(),
        ) else {
            return Err(SubjectError::Shape(subject.to_owned()));
        };
        let tenant = TenantId::parse(tenant).map_err(|source| SubjectError::Tenant {
            subject: subject.to_owned(),
            source,
        })?;
        if partition.parse::<u32>().ok() != Some(self.partition_of(&tenant)) {
            return Err(SubjectError::Partition(subject.to_owned()));
        }
        let kind = AggregateKind::from_token(kind).ok_or_else(|| SubjectError::Kind(subject.to_owned()))?;
        let aggregate = AggregateRef::new(kind, id).map_err(|_| SubjectError::Id(subject.to_owned()))?;
        Ok((tenant, aggregate))
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
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
    fn subjects_put_partition_then_tenant_after_the_prefix() {
        let scheme = SubjectScheme::default();
        let acme = tenant("acme");
        let p = scheme.partition_of(&acme);
        let sale = AggregateRef::sale(&SaleId::parse("s-1").expect("id"));
        assert_eq!(scheme.subject(&acme, &sale), format!("pos.{p}.acme.sale.s-1"));
        assert_eq!(scheme.tenant_filter(&acme), format!("pos.{p}.acme.>"));
        assert_eq!(
            scheme.kind_filter(&acme, AggregateKind::Movement),
            format!("pos.{p}.acme.movement.*")
        );
        assert_eq!(scheme.partition_filter(3), "pos.3.>");
        assert_eq!(scheme.all_filter(), "pos.>");
    }

    #[test]
    fn a_subject_is_the_same_as_the_formatted_one_for_every_partition() {
        for partitions in [1, 7, 64, 1000] {
            let scheme = SubjectScheme::with_partitions("pos", partitions).expect("scheme");
            for id in [
                "acme",
                "507f1f77bcf86cd799439011",
                "b",
                "tenant-with-a-long-name-0123456789",
            ] {
                let tenant = tenant(id);
                let sale = AggregateRef::sale(&SaleId::parse("0190c2d8-5b7e-7c1a").expect("id"));
                let expected = format!("pos.{}.{id}.sale.0190c2d8-5b7e-7c1a", scheme.partition_of(&tenant));
                assert_eq!(scheme.subject(&tenant, &sale), expected);
            }
        }
        for n in [0, 9, 10, 99, 100, 4_294_967_295] {
            let mut out = String::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn the_partition_is_stable_and_spreads_tenants() {
        let scheme = SubjectScheme::with_partitions("pos", 8).expect("scheme");
        // FNV-1a("acme") = 0x45fd71af, computed independently.
        assert_eq!(scheme.partition_of(&tenant("acme")), 0x45fd_71af % 8);
        let mut counts = [0u32; 8];
        for i in 0..8000 {
            counts[scheme.partition_of(&tenant(&format!("tenant-{i}"))) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "uneven spread {counts:?}"
        );
        let single = SubjectScheme::with_partitions("pos", 1).expect("scheme");
        assert_eq!(single.partition_of(&tenant("acme")), 0);
    }

    #[test]
    fn parse_inverts_subject() {
        let scheme = SubjectScheme::with_partitions("test.run1", 16).expect("prefix");
        let product = AggregateRef::product(&Sku::parse("JD-750").expect("sku"));
        let subject = scheme.subject(&tenant("t1"), &product);
        assert_eq!(scheme.parse(&subject), Ok((tenant("t1"), product)));
    }

    #[test]
    fn parse_rejects_foreign_and_malformed_subjects() {
        let scheme = SubjectScheme::default();
        let p = scheme.partition_of(&tenant("acme"));
        let wrong = (p + 1) % scheme.partitions();
        assert!(matches!(
            scheme.parse("other.0.acme.sale.1"),
            Err(SubjectError::ForeignPrefix(..))
        ));
        assert!(matches!(
            scheme.parse("posx.0.acme.sale.1"),
            Err(SubjectError::ForeignPrefix(..))
        ));
        assert!(matches!(
            scheme.parse(&format!("pos.{p}.acme.sale")),
            Err(SubjectError::Shape(_))
        ));
        assert!(matches!(
            scheme.parse(&format!("pos.{p}.acme.sale.1.2")),
            Err(SubjectError::Shape(_))
        ));
        assert!(matches!(
            scheme.parse(&format!("pos.{p}.ACME.sale.1")),
            Err(SubjectError::Tenant { .. })
        ));
        assert!(matches!(
            scheme.parse(&format!("pos.{wrong}.acme.sale.1")),
            Err(SubjectError::Partition(_))
        ));
        assert!(matches!(
            scheme.parse("pos.x.acme.sale.1"),
            Err(SubjectError::Partition(_))
        ));
        assert!(matches!(
            scheme.parse(&format!("pos.{p}.acme.basket.1")),
            Err(SubjectError::Kind(_))
        ));
        assert!(matches!(
            scheme.parse(&format!("pos.{p}.acme.sale.*")),
            Err(SubjectError::Id(_))
        ));
    }

    #[test]
    fn prefixes_with_wildcards_or_empty_tokens_and_bad_counts_are_rejected() {
        for bad in ["", "a..b", "a.*", ">", "a b", ".a", "a."] {
            assert!(SubjectScheme::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            SubjectScheme::with_partitions("pos", 0),
            Err(SubjectError::InvalidPartitions(0))
        );
        assert!(SubjectScheme::with_partitions("pos", 2048).is_err());
    }
}
