//! [`Target`]: what a command's path and headers address besides its body, and how that
//! enters the request fingerprint.
//!
//! - `()`: nothing (`POST /v1/sales`); the fingerprint covers the body alone.
//! - [`SaleId`], [`UserId`]: `{sale_id}`, `{user_id}` in the path; the fingerprint
//!   covers `(id, body)`.
//! - [`ProductVersion`]: `{sku}` in the path and the version in `If-Match`; the
//!   fingerprint covers `(sku, version, body)`.
//! - [`Versioned`]: an aggregate's id in the path (`{location_id}`,
//!   `{jurisdiction_id}`) and the version in `If-Match`; the fingerprint covers
//!   `(id, version, body)`.
//!
//! The fingerprint shapes are part of what is stored with every event: changing one would
//! make retries of recorded commands look like new commands.

use axum::extract::{FromRequestParts, Path};
use events::tax::JurisdictionId;
use events::{LocationId, SaleId, Sku, UserId};
use eventstore::Expected;
use serde::Serialize;

use crate::error::ApiError;
use crate::extract::IfMatch;
use crate::state::AppState;

/// The part of a command that its URL and headers carry.
pub trait Target: Sized + Send + Sync + 'static {
    /// Extracted from the request after the `Idempotency-Key` and before the body, so
    /// rejections (428 without `If-Match`, ...) come in the order they always did.
    type Raw: FromRequestParts<AppState> + Send;
    /// The path parameters, in path order (documented as required strings).
    const PATH_PARAMS: &'static [&'static str];
    /// Whether `If-Match` is required.
    const IF_MATCH: bool;

    /// Checks what was extracted (after the body was read).
    fn parse(raw: Self::Raw) -> Result<Self, ApiError>;

    /// What the request fingerprint covers: the body together with this target.
    fn keyed<'a, B: Serialize>(&'a self, body: &'a B) -> impl Serialize + 'a;

    /// The target of a command inside a batch (`POST /v1/batches`), from the item's
    /// `path` (the one path parameter, e.g. the sale id). Targets that need headers
    /// (`If-Match`) cannot be batched.
    fn from_batch(path: Option<&str>) -> Result<Self, ApiError> {
        let _ = path;
        Err(ApiError::invalid(
            "command",
            "cannot be sent in a batch (it needs If-Match); send it on its own",
        ))
    }
}

impl Target for () {
    type Raw = ();
    const PATH_PARAMS: &'static [&'static str] = &[];
    const IF_MATCH: bool = false;

    fn parse((): ()) -> Result<Self, ApiError> {
        Ok(())
    }

    fn from_batch(path: Option<&str>) -> Result<Self, ApiError> {
        match path {
            None => Ok(()),
            Some(_) => Err(ApiError::invalid("path", "this command takes no path parameter")),
        }
    }

    fn keyed<'a, B: Serialize>(&'a self, body: &'a B) -> impl Serialize + 'a {
        body
    }
}

impl Target for SaleId {
    type Raw = Path<String>;
    const PATH_PARAMS: &'static [&'static str] = &["sale_id"];
    const IF_MATCH: bool = false;

    fn parse(Path(raw): Path<String>) -> Result<Self, ApiError> {
        SaleId::parse(raw).map_err(|err| ApiError::invalid("sale_id", err.to_string()))
    }

    fn from_batch(path: Option<&str>) -> Result<Self, ApiError> {
        let raw = path.ok_or_else(|| ApiError::MissingField {
            field: "path (the sale id)".to_owned(),
        })?;
        SaleId::parse(raw).map_err(|err| ApiError::invalid("path", err.to_string()))
    }

    fn keyed<'a, B: Serialize>(&'a self, body: &'a B) -> impl Serialize + 'a {
        (self, body)
    }
}

impl Target for UserId {
    type Raw = Path<String>;
    const PATH_PARAMS: &'static [&'static str] = &["user_id"];
    const IF_MATCH: bool = false;

    fn parse(Path(raw): Path<String>) -> Result<Self, ApiError> {
        UserId::parse(raw).map_err(|err| ApiError::invalid("user_id", err.to_string()))
    }

    fn keyed<'a, B: Serialize>(&'a self, body: &'a B) -> impl Serialize + 'a {
        (self, body)
    }
}

/// A product in the path and the version the client saw (`If-Match`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductVersion {
    /// The product.
    pub sku: Sku,
    /// The version (stream sequence of its last event) the change was made against.
    pub version: u64,
}

impl Target for ProductVersion {
    type Raw = (IfMatch, Path<String>);
    const PATH_PARAMS: &'static [&'static str] = &["sku"];
    const IF_MATCH: bool = true;

    fn parse((IfMatch(version), Path(raw)): Self::Raw) -> Result<Self, ApiError> {
        let sku = Sku::parse(raw).map_err(|err| ApiError::invalid("sku", err.to_string()))?;
        Ok(Self { sku, version })
    }

    fn keyed<'a, B: Serialize>(&'a self, body: &'a B) -> impl Serialize + 'a {
        (&self.sku, self.version, body)
    }
}

/// An id that a path carries as its one parameter.
pub trait PathId: Serialize + Clone + Send + Sync + 'static {
    /// The path parameter's name.
    const PARAM: &'static str;

    /// Checks the parameter.
    fn from_path(raw: String) -> Result<Self, ApiError>;
}

impl PathId for LocationId {
    const PARAM: &'static str = "location_id";

    fn from_path(raw: String) -> Result<Self, ApiError> {
        LocationId::parse(raw).map_err(|err| ApiError::invalid(Self::PARAM, err.to_string()))
    }
}

impl PathId for JurisdictionId {
    const PARAM: &'static str = "jurisdiction_id";

    fn from_path(raw: String) -> Result<Self, ApiError> {
        JurisdictionId::parse(raw).map_err(|err| ApiError::invalid(Self::PARAM, err.to_string()))
    }
}

/// An aggregate in the path and the version the client saw (`If-Match`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<I> {
    /// The aggregate.
    pub id: I,
    /// The version (stream sequence of its last event) the change was made against.
    pub version: u64,
}

/// A location and the version the change was made against.
pub type LocationVersion = Versioned<LocationId>;
/// A tax jurisdiction and the version the change was made against.
pub type JurisdictionVersion = Versioned<JurisdictionId>;

impl<I: PathId> Target for Versioned<I> {
    type Raw = (IfMatch, Path<String>);
    const PATH_PARAMS: &'static [&'static str] = &[I::PARAM];
    const IF_MATCH: bool = true;

    fn parse((IfMatch(version), Path(raw)): Self::Raw) -> Result<Self, ApiError> {
        Ok(Self {
            id: I::from_path(raw)?,
            version,
        })
    }

    fn keyed<'a, B: Serialize>(&'a self, body: &'a B) -> impl Serialize + 'a {
        (&self.id, self.version, body)
    }
}

/// The expectation for a change made against version `wanted` (`If-Match`) of an
/// aggregate that must exist: 404 when it does not, 409 with the current version when it
/// has moved on, else an append expecting that version to still be its last event.
pub fn expect_version(
    resource: &'static str,
    id: &impl std::fmt::Display,
    exists: bool,
    current: u64,
    wanted: u64,
) -> Result<Expected, ApiError> {
    if !exists {
        return Err(ApiError::NotFound {
            resource,
            id: id.to_string(),
        });
    }
    if current != wanted {
        return Err(ApiError::VersionConflict {
            expected: wanted,
            current,
        });
    }
    Ok(Expected::LastSequence(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::meta::fingerprint;

    #[test]
    fn fingerprints_cover_the_target_exactly_as_the_handlers_always_did() {
        #[derive(Serialize)]
        struct Body {
            reason: &'static str,
        }
        let body = Body { reason: "r" };
        assert_eq!(fingerprint("X", &().keyed(&body)), fingerprint("X", &body));
        let sale = SaleId::parse("s-1").expect("id");
        assert_eq!(fingerprint("X", &sale.keyed(&body)), fingerprint("X", &(&sale, &body)));
        let product = ProductVersion {
            sku: Sku::parse("SKU-1").expect("sku"),
            version: 7,
        };
        assert_eq!(
            fingerprint("X", &product.keyed(&body)),
            fingerprint("X", &(&product.sku, 7u64, &body))
        );
        // The bytes themselves: a stored fingerprint is SHA-256 of name, newline and these.
        assert_eq!(
            serde_json::to_string(&product.keyed(&body)).expect("json"),
            r#"["SKU-1",7,{"reason":"r"}]"#
        );
        assert_eq!(
            serde_json::to_string(&sale.keyed(&body)).expect("json"),
            r#"["s-1",{"reason":"r"}]"#
        );
    }
}
