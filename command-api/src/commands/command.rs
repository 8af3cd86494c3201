//! [`Command`]: the one shape every command has, so that one generic handler
//! ([`crate::routes::command`]) can run any of them and one function can describe any of
//! them in the OpenAPI document.
//!
//! A command says, as associated items:
//!
//! - what it is called in the request fingerprint ([`Command::NAME`]), its HTTP operation
//!   ([`Command::ROUTE`]) and the least role that may send it ([`Command::Role`]);
//! - what the URL and headers address besides the body ([`Command::Target`]: nothing, a
//!   sale id in the path, or a SKU in the path with `If-Match`);
//! - the aggregate it runs against ([`Command::Id`], an [`AggregateId`]) and its
//!   natural idempotency key ([`Command::natural_key`]);
//! - whether it creates that aggregate ([`Command::CREATES`]: appended at once, expecting
//!   an empty subject) or changes an existing one (decided against its folded
//!   [`Command::State`]);
//! - its pure [`Command::decide`].
//!
//! Commands that need something read before deciding ([`Command::load`]) or done after
//! recording ([`Command::recorded`]) override those hooks; the defaults do nothing.

use std::future::Future;

use chrono::{DateTime, Utc};
use events::{AggregateRef, DomainEvent, LocationId, MovementId, PromotionId, SaleId, Sku, UserId};
use eventstore::{Expected, StoredEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::auth::{MinimumRole, TenantContext};
use crate::codes::ErrorCode;
use crate::commands::CommandMeta;
use crate::commands::target::{PathId, ProductVersion, Target, Versioned};
use crate::error::ApiError;
use crate::execute;
use crate::state::AppState;
use events::tax::JurisdictionId;

/// The HTTP side of a command, as the OpenAPI document shows it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// `POST` or `PUT`.
    pub method: Method,
    /// The path, with `{name}` for the target's path parameters.
    pub path: &'static str,
    /// The OpenAPI `operationId` (what generated clients call the method).
    pub operation_id: &'static str,
    /// The OpenAPI tag (the area: `sales`, `inventory`, `catalog`).
    pub tag: &'static str,
    /// One line saying what the command does.
    pub summary: &'static str,
    /// Description of the `Idempotency-Key` header, when it says more than "optional".
    pub key: Option<&'static str>,
    /// Description of the 201 answer.
    pub created: &'static str,
}

impl Route {
    /// `POST path`, with the usual descriptions.
    pub const fn post(
        path: &'static str,
        operation_id: &'static str,
        tag: &'static str,
        summary: &'static str,
    ) -> Self {
        Self {
            method: Method::Post,
            path,
            operation_id,
            tag,
            summary,
            key: None,
            created: "Recorded (or recorded earlier: Idempotent-Replayed)",
        }
    }

    /// `PUT path`, with the usual descriptions.
    pub const fn put(path: &'static str, operation_id: &'static str, tag: &'static str, summary: &'static str) -> Self {
        Self {
            method: Method::Put,
            ..Self::post(path, operation_id, tag, summary)
        }
    }

    /// Describes the `Idempotency-Key` header.
    pub const fn key(self, description: &'static str) -> Self {
        Self {
            key: Some(description),
            ..self
        }
    }

    /// Describes the 201 answer.
    pub const fn created(self, description: &'static str) -> Self {
        Self {
            created: description,
            ..self
        }
    }
}

/// The HTTP methods commands use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `POST`: create something or act on it.
    Post,
    /// `PUT`: replace a part of it.
    Put,
}

/// What a command addresses: it names the aggregate whose subject the event goes to, and
/// how a command that creates it is refused when it exists already.
pub trait AggregateId: Send + Sync {
    /// The aggregate.
    fn aggregate(&self) -> AggregateRef;

    /// 409 for a command that would create this aggregate when its subject already holds
    /// events (and none of them is this very command).
    fn exists(&self, history: &[StoredEvent]) -> ApiError;

    /// The idempotency key of a command addressing this aggregate when the client sent
    /// none (`sale:{id}`, `movement:{id}`, `product:{sku}`, `product:{sku}:{version}`).
    fn natural_key(&self) -> String;
}

impl AggregateId for SaleId {
    fn natural_key(&self) -> String {
        format!("sale:{self}")
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::sale(self)
    }

    fn exists(&self, _: &[StoredEvent]) -> ApiError {
        ApiError::StateConflict {
            code: ErrorCode::SaleExists,
            message: format!("sale {self} was already recorded with different contents"),
        }
    }
}

impl AggregateId for MovementId {
    fn natural_key(&self) -> String {
        format!("movement:{self}")
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::movement(self)
    }

    fn exists(&self, _: &[StoredEvent]) -> ApiError {
        ApiError::StateConflict {
            code: ErrorCode::MovementExists,
            message: format!("movement {self} was already recorded with different contents"),
        }
    }
}

impl AggregateId for Sku {
    fn natural_key(&self) -> String {
        format!("product:{self}")
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::product(self)
    }

    fn exists(&self, history: &[StoredEvent]) -> ApiError {
        ApiError::StateConflict {
            code: ErrorCode::ProductExists,
            message: format!(
                "product {self} already exists at version {}",
                history.last().map_or(0, |e| e.sequence)
            ),
        }
    }
}

impl AggregateId for ProductVersion {
    fn natural_key(&self) -> String {
        format!("product:{}:{}", self.sku, self.version)
    }

    fn aggregate(&self) -> AggregateRef {
        self.sku.aggregate()
    }

    fn exists(&self, history: &[StoredEvent]) -> ApiError {
        self.sku.exists(history)
    }
}

impl AggregateId for LocationId {
    fn natural_key(&self) -> String {
        format!("location:{self}")
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::location(self)
    }

    fn exists(&self, _: &[StoredEvent]) -> ApiError {
        ApiError::StateConflict {
            code: ErrorCode::LocationExists,
            message: format!("location {self} was already opened"),
        }
    }
}

impl AggregateId for JurisdictionId {
    fn natural_key(&self) -> String {
        format!("jurisdiction:{self}")
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::jurisdiction(self)
    }

    fn exists(&self, _: &[StoredEvent]) -> ApiError {
        ApiError::StateConflict {
            code: ErrorCode::JurisdictionExists,
            message: format!("tax jurisdiction {self} was already defined; change it with PUT and If-Match"),
        }
    }
}

impl AggregateId for UserId {
    fn natural_key(&self) -> String {
        format!("user:{self}")
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::user(self)
    }

    fn exists(&self, _: &[StoredEvent]) -> ApiError {
        ApiError::StateConflict {
            code: ErrorCode::UserExists,
            message: format!("user {self} exists"),
        }
    }
}

impl AggregateId for PromotionId {
    fn natural_key(&self) -> String {
        format!("promotion:{self}")
    }

    fn aggregate(&self) -> AggregateRef {
        AggregateRef::promotion(self)
    }

    fn exists(&self, _: &[StoredEvent]) -> ApiError {
        ApiError::StateConflict {
            code: ErrorCode::PromotionExists,
            message: format!("promotion {self} was already created; change it with PUT and If-Match"),
        }
    }
}

/// A change of an aggregate made against the version the client saw: the aggregate's own
/// key with the version (`location:main:5`).
impl<I: AggregateId + PathId> AggregateId for Versioned<I> {
    fn natural_key(&self) -> String {
        format!("{}:{}", self.id.natural_key(), self.version)
    }

    fn aggregate(&self) -> AggregateRef {
        self.id.aggregate()
    }

    fn exists(&self, history: &[StoredEvent]) -> ApiError {
        self.id.exists(history)
    }
}

/// State of an aggregate folded from its history.
pub trait Fold: Sized + Send + Sync {
    /// Folds `history`, oldest first.
    fn fold(history: &[StoredEvent]) -> Self;
}

/// Commands that create their aggregate decide without a history.
impl Fold for () {
    fn fold(_: &[StoredEvent]) -> Self {}
}

/// What a decision is made on.
#[derive(Debug)]
pub struct Decision<'a, C: Command> {
    /// What the command addresses.
    pub id: &'a C::Id,
    /// The aggregate's folded state (`()` for a command that creates it).
    pub state: &'a C::State,
    /// What [`Command::load`] read.
    pub loaded: &'a C::Loaded,
    /// The verified caller.
    pub context: &'a TenantContext,
    /// When the server accepted the command.
    pub now: DateTime<Utc>,
}

/// A command: its body, its HTTP operation and its decision. See the [module](self).
pub trait Command: Serialize + DeserializeOwned + ToSchema + Send + Sync + 'static {
    /// The name in the request fingerprint (`CompleteSale`). Never rename it: a retry of
    /// a command recorded under the old name would no longer be recognised.
    const NAME: &'static str;
    /// The HTTP operation.
    const ROUTE: Route;
    /// Whether the command creates its aggregate: it is decided and appended at once,
    /// expecting the subject to be empty, and an aggregate that already exists without
    /// this very command in it is refused with [`AggregateId::exists`].
    const CREATES: bool = false;
    /// Whether the answer carries the aggregate's version as `ETag`.
    const ETAG: bool = false;
    /// Whether a command sent without an `Idempotency-Key` is a retry only when it is the
    /// aggregate's latest event. True for commands that set a value which later commands
    /// may set back (a role: manager → cashier → manager is three changes, and the third
    /// is not a retry of the first). A client's own key is recognised anywhere.
    const RETRY_ONLY_AS_LATEST: bool = false;

    /// The least role that may send it.
    type Role: MinimumRole;
    /// What the path and headers address besides the body.
    type Target: Target;
    /// What the command addresses (its aggregate), resolved from the target, the body
    /// and the `Idempotency-Key`.
    type Id: AggregateId;
    /// The aggregate's state the decision needs, folded from its history (`()` for
    /// commands that create their aggregate).
    type State: Fold;
    /// What [`Command::load`] reads before deciding (`()` for most).
    type Loaded: Default + Send + Sync;

    /// When it happened by the terminal's clock, if the body says.
    fn occurred_at(&self) -> Option<DateTime<Utc>>;

    /// What the command addresses; `key` is the client's `Idempotency-Key`.
    fn id(&self, target: &Self::Target, key: Option<&str>) -> Result<Self::Id, ApiError>;

    /// The idempotency key when the client sent none: by default the aggregate's own
    /// ([`AggregateId::natural_key`]); commands that are not the aggregate's first (a void,
    /// a refund) name themselves. Never change it: retries are recognised by it.
    fn natural_key(&self, id: &Self::Id) -> String {
        id.natural_key()
    }

    /// Reads what the decision needs besides the aggregate's history.
    fn load(
        &self,
        app: &AppState,
        id: &Self::Id,
        meta: &CommandMeta,
    ) -> impl Future<Output = Result<Self::Loaded, ApiError>> + Send {
        let _ = (app, id, meta);
        std::future::ready(Ok(Self::Loaded::default()))
    }

    /// For a command that changes an existing aggregate: the expectation to append
    /// with, or a refusal before deciding. By default, after the last event seen.
    fn expect(&self, id: &Self::Id, state: &Self::State, history: &[StoredEvent]) -> Result<Expected, ApiError> {
        let _ = (id, state);
        Ok(execute::after(history))
    }

    /// The decision: the event this command makes of the aggregate's state, or a
    /// refusal. Pure: no I/O.
    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError>;

    /// Runs after the event was recorded (or found recorded, for a retry), e.g. to
    /// invalidate a cache or to bring a store that follows the events up to date. An
    /// error answers 5xx with the event kept: the client's retry is recognised and runs
    /// this hook again, so what it does must be idempotent.
    fn recorded(
        &self,
        app: &AppState,
        id: &Self::Id,
        meta: &CommandMeta,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (app, id, meta);
        std::future::ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_keys_are_the_ones_stored_events_carry() {
        // Retries of commands sent without an Idempotency-Key are recognised by these exact
        // strings, which events already in the stream carry: they must never change.
        let sale = SaleId::parse("s-1").expect("a valid sale id");
        let movement = MovementId::parse("m-1").expect("a valid movement id");
        let sku = Sku::parse("WINE-1").expect("a valid SKU");
        let version = ProductVersion {
            sku: sku.clone(),
            version: 42,
        };
        assert_eq!(sale.natural_key(), "sale:s-1");
        assert_eq!(movement.natural_key(), "movement:m-1");
        assert_eq!(sku.natural_key(), "product:WINE-1");
        assert_eq!(version.natural_key(), "product:WINE-1:42");
    }
}
