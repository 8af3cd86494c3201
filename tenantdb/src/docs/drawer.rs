//! A drawer session (`drawer_sessions`): one cashier's shift on one terminal's cash
//! drawer, with every figure a manager needs to count it (docs/cash.md).
//!
//! ```text
//! expected = opening float + cash sales − cash refunds − cash voids
//!            + paid in − paid out − safe drops
//! over/short = counted − expected        (> 0 over: more cash than expected; < 0 short)
//! ```
//!
//! Cash sales are the cash tendered net of change. Sales, refunds and voids count on the
//! session they name; a sale naming a session that is unknown, already closed or at
//! another location is still recorded but leaves the session's figures alone: it is
//! flagged on the sale and listed under the session's `flagged_sales` (docs/cash.md).

use bson::serde_helpers::{chrono_datetime_as_bson_datetime, chrono_datetime_as_bson_datetime_optional};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Whether a session's drawer is still in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DrawerSessionStatus {
    /// Opened, not counted yet: `GET` answers the X report.
    Open,
    /// Counted and closed: `GET` answers the session's Z report.
    Closed,
}

/// Whether a closed session's over/short needs a manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// The over/short is within the threshold.
    NotNeeded,
    /// The over/short exceeds the threshold and waits for a manager.
    Pending,
    /// A manager approved it.
    Approved,
}

/// What kind of cash movement that is not a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CashMovementKind {
    /// Cash put into the drawer.
    PaidIn,
    /// Cash taken out for an expense.
    PaidOut,
    /// Cash moved into the safe.
    SafeDrop,
    /// Container deposits paid out for empties brought back (the amount is the cash
    /// handed out).
    EmptiesReturn,
}

/// Why cash was paid in or out (the fixed list of [`events::event::CashReason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CashReason {
    /// More change brought in.
    ChangeFund,
    /// A supplier paid from the drawer.
    VendorPayment,
    /// Store supplies.
    Supplies,
    /// A container deposit handed back.
    DepositRefund,
    /// A tip paid out.
    Tip,
    /// A correction.
    Correction,
    /// Anything else (see the note).
    Other,
}

impl From<events::event::CashReason> for CashReason {
    fn from(reason: events::event::CashReason) -> Self {
        use events::event::CashReason as E;
        match reason {
            E::ChangeFund => Self::ChangeFund,
            E::VendorPayment => Self::VendorPayment,
            E::Supplies => Self::Supplies,
            E::DepositRefund => Self::DepositRefund,
            E::Tip => Self::Tip,
            E::Correction => Self::Correction,
            E::Other => Self::Other,
        }
    }
}

/// Why a sale naming a drawer session was not counted on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DrawerFlag {
    /// No session with that id was ever opened.
    UnknownSession,
    /// The session was closed when the sale arrived (an offline till uploading late).
    SessionClosed,
    /// The session belongs to another location.
    OtherLocation,
}

/// One paid-in, paid-out or safe drop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CashMovementDoc {
    /// The terminal-generated id.
    pub movement_id: String,
    /// Paid in, paid out or safe drop.
    pub kind: CashMovementKind,
    /// Amount, minor units (> 0).
    pub amount_minor: i64,
    /// Why (absent for safe drops).
    pub reason: Option<CashReason>,
    /// Free text.
    pub note: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When (terminal clock), RFC 3339 in answers.
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub occurred_at: DateTime<Utc>,
}

/// A sale that named this session but was not counted on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlaggedSaleDoc {
    /// The sale.
    pub sale_id: String,
    /// Why it was not counted.
    pub flag: DrawerFlag,
    /// Its cash, net of change, minor units.
    pub cash_minor: i64,
    /// When it happened (terminal clock).
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub occurred_at: DateTime<Utc>,
    /// When the server recorded it (after the close, for a late upload).
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub recorded_at: DateTime<Utc>,
}

/// One count by face value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DenominationDoc {
    /// Face value, minor units.
    pub value_minor: i64,
    /// How many.
    pub count: i64,
}

/// A drawer session (`drawer_sessions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawerSessionDoc {
    /// The session id.
    #[serde(rename = "_id")]
    pub session_id: String,
    /// The till.
    pub terminal_id: String,
    /// The store.
    pub location: String,
    /// The cashier who opened it and answers for the drawer.
    pub cashier_id: String,
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// The location's business day it opened on, `YYYY-MM-DD`.
    pub business_date: String,
    /// Open or closed.
    pub status: DrawerSessionStatus,
    /// Whether cashiers may not see the expected cash and the over/short.
    pub blind_close: bool,
    /// When it opened (terminal clock).
    #[serde(with = "chrono_datetime_as_bson_datetime")]
    pub opened_at: DateTime<Utc>,
    /// When it closed.
    #[serde(default, with = "chrono_datetime_as_bson_datetime_optional")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it (the cashier or a manager).
    pub closed_by: Option<String>,
    /// The float counted in at the start.
    pub opening_float_minor: i64,
    /// Sales counted on it.
    pub cash_sale_count: i64,
    /// Their cash, net of change.
    pub cash_sales_minor: i64,
    /// Refunds paid back from it.
    pub cash_refund_count: i64,
    /// Their cash.
    pub cash_refunds_minor: i64,
    /// Voids whose cash it handed back.
    pub cash_void_count: i64,
    /// That cash (the voided sales' cash net of change).
    pub cash_voids_minor: i64,
    /// Σ paid in.
    pub paid_in_minor: i64,
    /// Σ paid out.
    pub paid_out_minor: i64,
    /// Σ safe drops.
    pub safe_drops_minor: i64,
    /// Σ cash paid out for empties brought back (container deposits).
    #[serde(default)]
    pub empties_paid_minor: i64,
    /// Every paid-in, paid-out, safe drop and empties return, in order.
    pub movements: Vec<CashMovementDoc>,
    /// float + cash sales − cash refunds − cash voids + paid in − paid out − safe drops
    /// − empties paid.
    pub expected_cash_minor: i64,
    /// The cash counted at the close.
    pub counted_cash_minor: Option<i64>,
    /// The count by face value, if it was counted that way.
    pub denominations: Option<Vec<DenominationDoc>>,
    /// counted − expected: positive over, negative short (once closed).
    pub over_short_minor: Option<i64>,
    /// The tenant's threshold when it closed.
    pub approval_threshold_minor: Option<i64>,
    /// Whether the over/short needs or got a manager's approval (once closed).
    pub approval: Option<ApprovalStatus>,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// Why.
    pub approval_note: Option<String>,
    /// Sales that named it but were not counted on it.
    pub flagged_sales: Vec<FlaggedSaleDoc>,
    /// Stream sequence of the opening: a sale recorded before it named a session that
    /// did not exist yet.
    pub opened_seq: i64,
    /// Stream sequence of the close: a sale recorded after it arrived too late.
    pub closed_seq: Option<i64>,
    /// Stream sequence of the last event applied to this document.
    pub last_seq: i64,
}

impl DrawerSessionDoc {
    /// Field `location`.
    pub const LOCATION: &'static str = "location";
    /// Field `business_date`.
    pub const BUSINESS_DATE: &'static str = "business_date";
    /// Field `status`.
    pub const STATUS: &'static str = "status";
    /// Field `terminal_id`.
    pub const TERMINAL_ID: &'static str = "terminal_id";

    /// Why a sale recorded at stream sequence `sequence` at `location` would not be
    /// counted on this session, if it would not. Reads only facts that never change once
    /// written (the opening and closing sequences, the location), so a redelivered sale
    /// gets the same answer.
    pub fn flag_for_sale(&self, sequence: i64, location: &str) -> Option<DrawerFlag> {
        if self.opened_seq > sequence {
            Some(DrawerFlag::UnknownSession)
        } else if self.closed_seq.is_some_and(|closed| closed < sequence) {
            Some(DrawerFlag::SessionClosed)
        } else if self.location != location {
            Some(DrawerFlag::OtherLocation)
        } else {
            None
        }
    }

    /// Recomputes the derived figures (expected, over/short, approval) from the others.
    pub fn settle(&mut self) {
        self.expected_cash_minor =
            self.opening_float_minor + self.cash_sales_minor - self.cash_refunds_minor - self.cash_voids_minor
                + self.paid_in_minor
                - self.paid_out_minor
                - self.safe_drops_minor
                - self.empties_paid_minor;
        if let Some(counted) = self.counted_cash_minor {
            let over_short = counted - self.expected_cash_minor;
            self.over_short_minor = Some(over_short);
            if self.approval != Some(ApprovalStatus::Approved) {
                let threshold = self.approval_threshold_minor.unwrap_or(0);
                self.approval = Some(if over_short.abs() > threshold {
                    ApprovalStatus::Pending
                } else {
                    ApprovalStatus::NotNeeded
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_short_is_counted_minus_expected_and_needs_approval_past_the_threshold() {
        let at = DateTime::UNIX_EPOCH;
        let mut doc = DrawerSessionDoc {
            session_id: "s".into(),
            terminal_id: "t".into(),
            location: "main".into(),
            cashier_id: "c".into(),
            currency: "USD".into(),
            business_date: "2026-11-29".into(),
            status: DrawerSessionStatus::Closed,
            blind_close: false,
            opened_at: at,
            closed_at: Some(at),
            closed_by: None,
            opening_float_minor: 10_000,
            cash_sale_count: 1,
            cash_sales_minor: 2_000,
            cash_refund_count: 0,
            cash_refunds_minor: 500,
            cash_void_count: 0,
            cash_voids_minor: 0,
            paid_in_minor: 100,
            paid_out_minor: 300,
            safe_drops_minor: 5_000,
            empties_paid_minor: 0,
            movements: Vec::new(),
            expected_cash_minor: 0,
            counted_cash_minor: Some(6_250),
            denominations: None,
            over_short_minor: None,
            approval_threshold_minor: Some(40),
            approval: None,
            approved_by: None,
            approval_note: None,
            flagged_sales: Vec::new(),
            opened_seq: 1,
            closed_seq: Some(2),
            last_seq: 0,
        };
        doc.settle();
        // 10000 + 2000 − 500 + 100 − 300 − 5000 = 6300; 6250 − 6300 = −50 (short).
        assert_eq!(doc.expected_cash_minor, 6_300);
        assert_eq!(doc.over_short_minor, Some(-50));
        assert_eq!(doc.approval, Some(ApprovalStatus::Pending));
        doc.approval_threshold_minor = Some(50);
        doc.settle();
        assert_eq!(doc.approval, Some(ApprovalStatus::NotNeeded));
    }
}
