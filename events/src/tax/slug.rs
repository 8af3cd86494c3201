//! The names the tax configuration is written in: tax classes, tax ids, deposit ids,
//! jurisdiction ids and container types.
//!
//! They share one rule: 1 to [`SlugError::MAX_LEN`] bytes of lowercase ASCII letters,
//! digits, `_` or `-`, starting with a letter or digit (`spirits`, `us-ca-sales`,
//! `glass_bottle`). Lowercase only, so `Beer` and `beer` can never be two classes that a
//! manager believes are one; no dots or spaces, so a slug is safe as a MongoDB field
//! name or a report column.

use std::fmt;

/// Why a string is not a valid slug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// The slug is empty.
    #[error("must not be empty")]
    Empty,
    /// The slug is longer than [`SlugError::MAX_LEN`] bytes.
    #[error("is {len} bytes long; at most {max} are allowed", max = SlugError::MAX_LEN)]
    TooLong {
        /// Length of the rejected slug in bytes.
        len: usize,
    },
    /// The slug holds a character outside `[a-z0-9_-]`, or starts with `_` or `-`.
    #[error(
        "contains {found:?} at byte {index}; only lowercase ASCII letters, digits, '_' and '-' are allowed, and it must start with a letter or digit"
    )]
    InvalidCharacter {
        /// The offending character.
        found: char,
        /// Its byte offset.
        index: usize,
    },
}

impl SlugError {
    /// Longest accepted slug, in bytes.
    pub const MAX_LEN: usize = 64;
}

/// Checks the slug rule.
fn validate(slug: &str) -> Result<(), SlugError> {
    if slug.is_empty() {
        return Err(SlugError::Empty);
    }
    if slug.len() > SlugError::MAX_LEN {
        return Err(SlugError::TooLong { len: slug.len() });
    }
    let allowed =
        |index: usize, c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || (index > 0 && (c == '_' || c == '-'));
    match slug.char_indices().find(|&(index, c)| !allowed(index, c)) {
        Some((index, found)) => Err(SlugError::InvalidCharacter { found, index }),
        None => Ok(()),
    }
}

macro_rules! slug {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates `slug` and wraps it.
            pub fn parse(slug: impl Into<String>) -> Result<Self, SlugError> {
                let slug = slug.into();
                validate(&slug)?;
                Ok(Self(slug))
            }

            /// The slug as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = SlugError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

slug!(
    /// What kind of goods a product is for tax purposes: `spirits`, `wine`, `beer`,
    /// `non_alcoholic`, `food`, ... A product has exactly one; each tax and deposit rule
    /// lists the classes it applies to. The set of classes is the tenant's to choose.
    TaxClass
);
slug!(
    /// One tax within a jurisdiction (`ca-state`, `la-county`, `wa-spirits-liter`): the
    /// key of its rate history, of its line amounts and of the liability report.
    TaxId
);
slug!(
    /// A jurisdiction: the complete set of taxes, deposits and rounding rule in force at
    /// one store's address (`us-ca-los-angeles`, `de`).
    JurisdictionId
);
slug!(
    /// One container deposit scheme within a jurisdiction (`ca-crv`, `mi-deposit`,
    /// `de-pfand-einweg`): the key of its amount history and of the deposit report.
    DepositId
);
slug!(
    /// The kind of container goods are sold in (`can`, `glass_bottle`, `plastic_bottle`,
    /// `carton`, `keg`, `refillable_glass`, ...): deposits and per-container taxes are set
    /// per type. The set of types is the tenant's to choose.
    ContainerType
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_names_are_accepted() {
        for slug in ["spirits", "non_alcoholic", "us-ca-sales", "glass_bottle", "7up", "a"] {
            assert_eq!(TaxClass::parse(slug).map(|s| s.to_string()), Ok(slug.to_owned()));
        }
    }

    #[test]
    fn uppercase_separators_and_leading_punctuation_are_rejected() {
        for (bad, index) in [
            ("Beer", 0),
            ("be er", 2),
            ("a.b", 1),
            ("_beer", 0),
            ("-x", 0),
            ("bière", 2),
        ] {
            assert!(
                matches!(TaxId::parse(bad), Err(SlugError::InvalidCharacter { index: i, .. }) if i == index),
                "{bad}"
            );
        }
        assert_eq!(ContainerType::parse(""), Err(SlugError::Empty));
        assert_eq!(
            JurisdictionId::parse("a".repeat(SlugError::MAX_LEN + 1)),
            Err(SlugError::TooLong {
                len: SlugError::MAX_LEN + 1
            })
        );
        assert!(JurisdictionId::parse("a".repeat(SlugError::MAX_LEN)).is_ok());
    }

    #[test]
    fn serde_validates_on_the_way_in() {
        assert!(serde_json::from_str::<TaxClass>(r#""Wine""#).is_err());
        let class: TaxClass = serde_json::from_str(r#""wine""#).expect("valid");
        assert_eq!(serde_json::to_string(&class).expect("serialises"), r#""wine""#);
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn the_openapi_schema_of_a_slug_is_a_string() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(TaxClass::schema()).expect("serialises");
        assert_eq!(schema["type"], "string", "{schema}");
    }
}
