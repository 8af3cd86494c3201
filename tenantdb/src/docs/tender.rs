//! How money was paid or paid back: tenders inside sale and refund documents, and the
//! totals per kind of the Z report.

use serde::{Deserialize, Serialize};

/// A kind of tender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TenderKind {
    /// Cash.
    Cash,
    /// Card.
    Card,
    /// Anything else (voucher, account, ...).
    Other,
}

impl From<events::event::sales::TenderKind> for TenderKind {
    fn from(kind: events::event::sales::TenderKind) -> Self {
        match kind {
            events::event::sales::TenderKind::Cash => Self::Cash,
            events::event::sales::TenderKind::Card => Self::Card,
            events::event::sales::TenderKind::Other => Self::Other,
        }
    }
}

/// A tender inside a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenderDoc {
    /// How it was paid.
    pub kind: TenderKind,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// Reference (card slip, voucher number), if any.
    pub reference: Option<String>,
}

/// Money per tender kind, in minor units.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TenderTotals {
    /// Cash, in minor units (for takings: tendered minus change).
    pub cash: i64,
    /// Card, in minor units.
    pub card: i64,
    /// Other tenders, in minor units.
    pub other: i64,
}

impl TenderTotals {
    /// Adds every kind of `other`, times `sign` (1 or −1).
    pub fn add_all(&mut self, other: &TenderTotals, sign: i64) {
        self.cash += sign * other.cash;
        self.card += sign * other.card;
        self.other += sign * other.other;
    }

    /// Adds `amount` to `kind`.
    pub fn add(&mut self, kind: TenderKind, amount: i64) {
        match kind {
            TenderKind::Cash => self.cash += amount,
            TenderKind::Card => self.card += amount,
            TenderKind::Other => self.other += amount,
        }
    }
}
