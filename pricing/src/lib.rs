//! The tax and pricing engine: given a basket, the store's jurisdiction and the date,
//! what each line costs, which taxes it carries at which rates, what deposit it pays, and
//! what the receipt owes each tax authority.
//!
//! The engine is pure: no I/O, no clock, no randomness, no floats. The same inputs give
//! the same result byte for byte, so the server can price a sale again at its
//! `occurred_at` long after the terminal did and flag where they differ, and a refund
//! next month gives back exactly what the sale took. The rules (rates in parts per
//! million, rounding per line or per receipt, tax-inclusive prices, per-unit excise,
//! deposits outside revenue, refunds) are described with a worked receipt in
//! `docs/taxes.md`.
//!
//! ```
//! use chrono::NaiveDate;
//! use events::{Currency, Sku};
//! use pricing::*;
//!
//! let beer = TaxClass::parse("beer")?;
//! let jurisdiction = Jurisdiction {
//!     id: JurisdictionId::parse("us-ny-nyc")?,
//!     name: "New York City".into(),
//!     currency: Currency::USD,
//!     rounding: Rounding { scope: RoundingScope::PerLine, mode: RoundingMode::HalfUp },
//!     taxes: vec![TaxDefinition {
//!         tax_id: TaxId::parse("ny-sales")?,
//!         name: "NY sales tax".into(),
//!         applies_to: vec![beer.clone()],
//!         versions: vec![TaxVersion {
//!             effective_from: NaiveDate::from_ymd_opt(2009, 8, 1).expect("date"),
//!             rate: TaxRate::Percentage { rate_ppm: 88_750 }, // 8.875 %
//!         }],
//!         taxable: false,
//!     }],
//!     deposits: vec![],
//! };
//! let basket = Basket {
//!     currency: Currency::USD,
//!     lines: vec![BasketLine {
//!         line_no: 1,
//!         sku: Sku::parse("IPA-6PK")?,
//!         quantity: 1,
//!         unit_price_minor: 1299,
//!         list_price_minor: None,
//!         discount_minor: 0,
//!         tax_class: beer,
//!         container: None,
//!     }],
//! };
//! let context = PricingContext {
//!     date: NaiveDate::from_ymd_opt(2026, 3, 14).expect("date"),
//!     price_mode: PriceMode::Additive,
//! };
//! let priced = price_basket(&jurisdiction, &basket, context)?;
//! // 12.99 × 8.875 % = 1.1528625 -> 1.15
//! assert_eq!(priced.tax_minor, 115);
//! assert_eq!(priced.total_minor, 1414);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//! - [`slug`]: the validated names of the configuration: [`TaxClass`], [`TaxId`],
//!   [`DepositId`], [`JurisdictionId`], [`ContainerType`].
//! - [`jurisdiction`]: a [`Jurisdiction`]'s taxes ([`TaxDefinition`] with dated
//!   [`TaxVersion`]s of a [`TaxRate`]), deposits ([`DepositRule`]) and its validation.
//! - [`rounding`]: the [`Rounding`] rule (per line or per receipt, half up or half even),
//!   the largest-remainder split, and [`split_proportionally`] for receipt discounts.
//! - [`basket`]: the input, a [`Basket`] of [`BasketLine`]s, and the
//!   [`PricingContext`] (date, [`PriceMode`]).
//! - [`engine`]: [`price_basket`], step by step.
//! - [`priced`]: the output, a [`PricedBasket`] of [`PricedLine`]s with their [`LineTax`]
//!   breakdown, [`LineDeposit`], and the [`TaxLiability`] / [`DepositLiability`] summary.
//! - [`refund`]: [`refund_share`], refunds in parts that add up to the line.
//! - [`compare`]: [`compare_line`] / [`compare_sale`], the [`Difference`]s between what a
//!   terminal recorded and the server's pricing.
//! - [`price_book`]: [`PriceSchedule`], per-location prices and scheduled price changes.
//! - [`promotion`]: [`apply_promotions`], the promotions a basket gets (stacking rule,
//!   allocation of each discount to lines).
//! - [`error`]: [`PricingError`] and [`LineError`].

pub mod basket;
pub mod compare;
pub mod engine;
pub mod error;
pub mod jurisdiction;
pub mod price_book;
pub mod priced;
pub mod promotion;
pub mod refund;
pub mod rounding;
pub mod slug;

pub use basket::{Basket, BasketLine, Container, PriceMode, PricingContext};
pub use compare::{Difference, LineDifference, RecordedLine, added_tax, compare_line, compare_sale, deposit_charged};
pub use engine::price_basket;
pub use error::{LineError, PricingError};
pub use jurisdiction::{
    DepositRule, DepositVersion, Jurisdiction, JurisdictionError, MAX_RATE_PPM, TaxDefinition, TaxRate, TaxVersion,
};
pub use price_book::{PriceSchedule, PriceScheduleError, ScheduledPrice};
pub use priced::{DepositLiability, LineDeposit, LineTax, PricedBasket, PricedLine, TaxBasis, TaxLiability, TaxedPart};
pub use promotion::{ActivePromotion, LinePromotions, PromotionLine, apply_promotions};
pub use refund::{RefundError, RefundShare, RefundTax, refund_share};
pub use rounding::{Rounding, RoundingMode, RoundingScope, split_proportionally};
pub use slug::{ContainerType, DepositId, JurisdictionId, SlugError, TaxClass, TaxId};
