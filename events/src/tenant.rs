//! The tenant identifier (`organizationId` in the seed), validated in exactly one place.
//!
//! A tenant id ends up in three places where a stray character would break isolation:
//! a NATS subject token (`pos.<tenant>.>`), a MongoDB database name (`tenant_<id>`) and
//! log lines. It is therefore restricted to lowercase ASCII letters, digits, `-` and `_`:
//! no `.`, `*` or `>` (subject syntax), no `$`, `/`, `\`, `"` or spaces (database-name
//! syntax), no uppercase (MongoDB refuses two databases whose names differ only in case,
//! so `Acme` and `acme` would collide), and at most [`TenantId::MAX_LEN`] bytes so that
//! `tenant_<id>` fits MongoDB's 63-byte limit.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Why a string is not a valid tenant id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantIdError {
    /// The id is empty.
    #[error("tenant id must not be empty")]
    Empty,
    /// The id is longer than [`TenantId::MAX_LEN`] bytes.
    #[error("tenant id is {len} bytes long; at most {max} are allowed", max = TenantId::MAX_LEN)]
    TooLong {
        /// Length of the rejected id in bytes.
        len: usize,
    },
    /// The id holds a character outside `[a-z0-9_-]`.
    #[error(
        "tenant id contains {found:?} at byte {index}; only lowercase ASCII letters, digits, '-' and '_' are allowed"
    )]
    InvalidCharacter {
        /// The offending character.
        found: char,
        /// Its byte offset in the id.
        index: usize,
    },
}

/// A validated tenant (organization) id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// Prefix of every tenant database name.
    pub const DATABASE_PREFIX: &'static str = "tenant_";
    /// MongoDB's limit on database names, in bytes.
    pub const DATABASE_NAME_MAX: usize = 63;
    /// Longest accepted id: the database name `tenant_<id>` must fit in 63 bytes.
    pub const MAX_LEN: usize = Self::DATABASE_NAME_MAX - Self::DATABASE_PREFIX.len();

    /// Validates `id` and wraps it.
    pub fn parse(id: impl Into<String>) -> Result<Self, TenantIdError> {
        let id = id.into();
        if id.is_empty() {
            return Err(TenantIdError::Empty);
        }
        if id.len() > Self::MAX_LEN {
            return Err(TenantIdError::TooLong { len: id.len() });
        }
        if let Some((index, found)) = id
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
        {
            return Err(TenantIdError::InvalidCharacter { found, index });
        }
        Ok(Self(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Name of this tenant's MongoDB database: `tenant_<id>`.
    pub fn database_name(&self) -> String {
        format!("{}{}", Self::DATABASE_PREFIX, self.0)
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for TenantId {
    type Err = TenantIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_and_uuids_are_accepted() {
        for id in [
            "507f1f77bcf86cd799439011",
            "0190c2d8-5b7e-7c1a-9f00-1234567890ab",
            "acme_store-1",
        ] {
            let tenant = TenantId::parse(id).expect("valid id");
            assert_eq!(tenant.as_str(), id);
            assert_eq!(tenant.database_name(), format!("tenant_{id}"));
        }
    }

    #[test]
    fn subject_and_database_metacharacters_are_rejected() {
        for bad in [
            "a.b", "a*", ">", "a$b", "a/b", "a b", "a\\b", "a\"b", "a\0b", "Acme", "é", "a\tb",
        ] {
            let err = TenantId::parse(bad).expect_err(bad);
            assert!(matches!(err, TenantIdError::InvalidCharacter { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn empty_and_overlong_ids_are_rejected() {
        assert_eq!(TenantId::parse(""), Err(TenantIdError::Empty));
        let longest = "a".repeat(TenantId::MAX_LEN);
        assert_eq!(
            TenantId::parse(longest.clone()).map(|t| t.database_name().len()),
            Ok(63)
        );
        assert_eq!(
            TenantId::parse(format!("{longest}a")),
            Err(TenantIdError::TooLong {
                len: TenantId::MAX_LEN + 1
            })
        );
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<TenantId>("\"acme\"").is_ok());
        let err = serde_json::from_str::<TenantId>("\"a.b\"").expect_err("dot");
        assert!(err.to_string().contains("'.'"), "{err}");
    }
}
