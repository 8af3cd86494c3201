//! Taxes as data: the names (tax classes, taxes, deposits, jurisdictions, container types),
//! a jurisdiction's dated rates and container deposits, and its rounding rule. Events
//! carry them (a jurisdiction's configuration, a sale line's tax breakdown); the `pricing`
//! crate computes with them. The rules are in docs/taxes.md.
//!
//! # Layout
//! - [`slug`]: the validated names: [`TaxClass`], [`TaxId`], [`DepositId`],
//!   [`JurisdictionId`], [`ContainerType`].
//! - [`jurisdiction`]: a [`Jurisdiction`]'s taxes ([`TaxDefinition`] with dated
//!   [`TaxVersion`]s of a [`TaxRate`]), deposits ([`DepositRule`]) and its validation.
//! - [`breakdown`]: a sale line's taxes ([`LineTax`], [`TaxBasis`], [`TaxedPart`]) and
//!   deposit ([`LineDeposit`]), as priced and as recorded.
//! - [`container`]: [`Container`], what an item is sold in (type, volume, units).
//! - [`rounding`]: the [`Rounding`] rule and the exact integer division and
//!   largest-remainder split it is applied with.

pub mod breakdown;
pub mod container;
pub mod jurisdiction;
pub mod rounding;
pub mod slug;

pub use breakdown::{Difference, LineDeposit, LineDifference, LineTax, TaxBasis, TaxedPart};
pub use container::Container;
pub use jurisdiction::{
    DepositRule, DepositVersion, Jurisdiction, JurisdictionError, MAX_RATE_PPM, MILLION, TaxDefinition, TaxRate,
    TaxVersion,
};
pub use rounding::{Rounding, RoundingMode, RoundingScope, split_proportionally};
pub use slug::{ContainerType, DepositId, JurisdictionId, SlugError, TaxClass, TaxId};
