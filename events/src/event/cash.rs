//! Cash-management events: a cashier's **drawer session** (a shift on one terminal's
//! cash drawer) is opened with a counted float, cash is paid in and out with a reason,
//! dropped into the safe, and the drawer is counted at the close; an over/short beyond
//! the tenant's threshold is approved by a manager. They belong to the drawer-session
//! aggregate, keyed by the terminal-generated session id. The tenant's cash settings
//! (blind close, approval threshold) are their own aggregate (`settings.cash`).
//!
//! Sales, voids and refunds name the session their cash went through
//! (`drawer_session_id` on [`crate::event::SaleCompleted`] and the others); the expected
//! cash of a session is folded by the projector from all of them (docs/cash.md).
//!
//! Amounts are integer minor units of the session's `currency` (its location's).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{CashMovementId, DrawerSessionId, LocationId, TerminalId, UserId};
use crate::money::Currency;
use crate::tax::slug::DepositId;

/// Why cash was paid into or out of a drawer. The list is fixed so that reports can
/// group by it; `note` on the event says the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CashReason {
    /// More change brought from the safe or the bank (paid in).
    ChangeFund,
    /// A supplier or delivery paid from the drawer (paid out).
    VendorPayment,
    /// Store supplies bought with drawer cash (paid out).
    Supplies,
    /// A bottle or can deposit handed back (paid out).
    DepositRefund,
    /// A tip paid out to staff (paid out).
    Tip,
    /// A customer's earlier overpayment or a correction.
    Correction,
    /// Anything else; the note says what.
    Other,
}

impl CashReason {
    /// Every reason, in a fixed order.
    pub const ALL: [CashReason; 7] = [
        CashReason::ChangeFund,
        CashReason::VendorPayment,
        CashReason::Supplies,
        CashReason::DepositRefund,
        CashReason::Tip,
        CashReason::Correction,
        CashReason::Other,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CashReason::ChangeFund => "change_fund",
            CashReason::VendorPayment => "vendor_payment",
            CashReason::Supplies => "supplies",
            CashReason::DepositRefund => "deposit_refund",
            CashReason::Tip => "tip",
            CashReason::Correction => "correction",
            CashReason::Other => "other",
        }
    }
}

/// How many notes or coins of one face value were counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenominationCount {
    /// Face value of one note or coin, minor units (> 0).
    pub value_minor: i64,
    /// How many (>= 0).
    pub count: i64,
}

/// A cashier opened a drawer session on a terminal with a counted opening float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawerSessionOpened {
    /// The terminal-generated session id.
    pub session_id: DrawerSessionId,
    /// The till whose drawer it is.
    pub terminal_id: TerminalId,
    /// The store.
    pub location: LocationId,
    /// The cashier (the token's user), who answers for the drawer.
    pub cashier_id: UserId,
    /// The location's currency.
    pub currency: Currency,
    /// The float counted into the drawer, minor units (>= 0).
    pub opening_float_minor: i64,
    /// The location's business day the session opened on.
    pub business_date: NaiveDate,
    /// Whether the tenant closes drawers blind (cashiers do not see the expected cash),
    /// as set when the session opened.
    pub blind_close: bool,
}

/// Cash was put into an open drawer (not a sale).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaidInRecorded {
    /// The session.
    pub session_id: DrawerSessionId,
    /// The terminal-generated id of this paid-in.
    pub movement_id: CashMovementId,
    /// Amount, minor units (> 0).
    pub amount_minor: i64,
    /// Why.
    pub reason: CashReason,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Cash was taken out of an open drawer for an expense (not a refund).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaidOutRecorded {
    /// The session.
    pub session_id: DrawerSessionId,
    /// The terminal-generated id of this paid-out.
    pub movement_id: CashMovementId,
    /// Amount, minor units (> 0).
    pub amount_minor: i64,
    /// Why.
    pub reason: CashReason,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Empty containers brought back to the counter and their deposits paid out in cash from
/// an open drawer (docs/cash.md, "Empties"). The server prices each line with the
/// deposit scheme of the store's tax jurisdiction in force on the business date; the
/// cash the till actually handed out is `paid_minor`, which an offline till may have
/// computed with an older amount: it is recorded as paid, never refused, and the
/// difference is visible (`paid_minor != deposit_minor`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptiesReturned {
    /// The session whose drawer paid.
    pub session_id: DrawerSessionId,
    /// The terminal-generated id of this return.
    pub movement_id: CashMovementId,
    /// The store (the session's).
    pub location: LocationId,
    /// The store's business day the return happened on (stamped when recorded).
    pub business_date: NaiveDate,
    /// The session's currency.
    pub currency: Currency,
    /// What came back, one line per deposit scheme.
    pub lines: Vec<EmptiesLine>,
    /// Σ line amounts: the deposits the server would pay, minor units.
    pub deposit_minor: i64,
    /// The cash handed out, minor units (>= 0).
    pub paid_minor: i64,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Containers of one deposit scheme brought back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptiesLine {
    /// The jurisdiction's deposit scheme ("crv-small", "pfand-mehrweg").
    pub deposit_id: DepositId,
    /// Containers (> 0).
    pub count: u32,
    /// The scheme's amount per container on the business date, minor units.
    pub amount_each_minor: i64,
    /// count × amount_each.
    pub amount_minor: i64,
}

/// Cash was moved from an open drawer into the safe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeDropRecorded {
    /// The session.
    pub session_id: DrawerSessionId,
    /// The terminal-generated id of this drop.
    pub movement_id: CashMovementId,
    /// Amount, minor units (> 0).
    pub amount_minor: i64,
    /// Free text (bag number, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The drawer was counted and the session closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawerSessionClosed {
    /// The session.
    pub session_id: DrawerSessionId,
    /// The cash counted in the drawer, minor units (>= 0).
    pub counted_cash_minor: i64,
    /// The count by face value, when the cashier counted that way; it adds up to
    /// `counted_cash_minor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominations: Option<Vec<DenominationCount>>,
    /// The tenant's over/short approval threshold when the session closed, minor units:
    /// an over/short whose size exceeds it needs a manager's approval.
    pub approval_threshold_minor: i64,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A manager approved a closed session's over/short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverShortApproved {
    /// The session.
    pub session_id: DrawerSessionId,
    /// The over/short approved, minor units (what the manager saw).
    pub over_short_minor: i64,
    /// Why it is accepted.
    pub note: String,
}

/// How long after a sale it may still be voided; after that it is undone by a refund,
/// which lands on the day the money goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoidWindow {
    /// While the drawer session the sale named is open, from that same session.
    SameSession,
    /// On the sale's own business day at its location.
    SameBusinessDay,
}

/// The tenant's cash settings were set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CashSettingsConfigured {
    /// Cashiers do not see the expected cash or the over/short of their sessions;
    /// managers do. Applies to sessions opened afterwards.
    pub blind_close: bool,
    /// An over/short whose size exceeds this needs a manager's approval, minor units
    /// (>= 0). Applies to sessions closed afterwards.
    pub approval_threshold_minor: i64,
    /// How long a sale may be voided; absent: any time (as before the setting existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub void_window: Option<VoidWindow>,
}

/// The settings a tenant has before it configures any.
impl Default for CashSettingsConfigured {
    fn default() -> Self {
        Self {
            blind_close: false,
            approval_threshold_minor: DEFAULT_APPROVAL_THRESHOLD_MINOR,
            void_window: None,
        }
    }
}

/// The approval threshold of a tenant that never set one: 5.00 in its currency.
pub const DEFAULT_APPROVAL_THRESHOLD_MINOR: i64 = 500;
