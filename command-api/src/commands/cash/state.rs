//! A drawer session and the tenant's cash settings, folded from their histories.

use std::collections::HashSet;

use events::DomainEvent;
use events::event::{CashSettingsConfigured, DrawerSessionOpened};
use eventstore::StoredEvent;

use crate::commands::Fold;

/// What the command side knows of a drawer session from its events.
#[derive(Debug, Clone, Default)]
pub struct DrawerSessionState {
    /// The opening, once opened.
    pub opened: Option<DrawerSessionOpened>,
    /// Whether it was closed.
    pub closed: bool,
    /// Whether its over/short was approved.
    pub approved: bool,
    /// Paid-in, paid-out, safe-drop and empties-return ids used so far.
    pub movement_ids: HashSet<String>,
}

impl Fold for DrawerSessionState {
    fn fold(history: &[StoredEvent]) -> Self {
        let mut state = Self::default();
        for stored in history {
            match &stored.envelope.event {
                DomainEvent::DrawerSessionOpened(e) => state.opened = Some(e.clone()),
                DomainEvent::PaidInRecorded(e) => {
                    state.movement_ids.insert(e.movement_id.to_string());
                }
                DomainEvent::PaidOutRecorded(e) => {
                    state.movement_ids.insert(e.movement_id.to_string());
                }
                DomainEvent::SafeDropRecorded(e) => {
                    state.movement_ids.insert(e.movement_id.to_string());
                }
                DomainEvent::EmptiesReturned(e) => {
                    state.movement_ids.insert(e.movement_id.to_string());
                }
                DomainEvent::DrawerSessionClosed(_) => state.closed = true,
                DomainEvent::OverShortApproved(_) => state.approved = true,
                _ => {}
            }
        }
        state
    }
}

/// The tenant's cash settings and their version (stream sequence of the last change; 0
/// when never set).
#[derive(Debug, Clone, Default)]
pub struct CashSettingsState {
    /// The settings in force.
    pub settings: CashSettingsConfigured,
    /// The version `If-Match` must name to change them.
    pub version: u64,
}

impl Fold for CashSettingsState {
    fn fold(history: &[StoredEvent]) -> Self {
        let mut state = Self::default();
        for stored in history {
            if let DomainEvent::CashSettingsConfigured(e) = &stored.envelope.event {
                state.settings = e.clone();
                state.version = stored.sequence;
            }
        }
        state
    }
}
