//! Applying events to a tenant's documents, in memory and deterministically.
//!
//! The writer loads the documents a batch of events touches into a [`Snapshot`], this
//! module applies the events in stream order, and the writer stores what changed. An
//! event is applied to a document only if the document's `last_seq` is below the event's
//! sequence; so a redelivered event, or a batch that was half written before a crash, is
//! applied exactly to the documents that have not seen it yet.
//!
//! Each event is staged on copies of the documents it touches and committed only if all of
//! it applies, so an event that breaks an invariant (a refund of more than was sold, a
//! void of an unknown sale) leaves nothing behind and is reported for parking.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use events::business_day::legacy_business_date;
use events::event::{
    BusinessDayClosed, EmptiesReturned, PurchaseOrderDrafted, PurchaseOrderReceived, PurchaseOrderStatus,
    SaleCompleted, SaleRefunded, SaleVoided, StockAdjusted, StockCounted, StockReceived, StockTransferred,
};
use events::{DomainEvent, EventEnvelope};

use events::event::{LocationDetails, PromotionDetails};
use tenantdb::collections;
use tenantdb::docs::{
    AddressDoc, AgeVerificationDoc, AmendmentDoc, AmendmentKind, ApprovalStatus, CashMovementDoc, CashMovementKind,
    DailySalesDoc, DenominationDoc, DrawerFlag, DrawerSessionDoc, DrawerSessionStatus, FlaggedSaleDoc,
    InventoryTransactionDoc, LinePromotionDoc, LocationDoc, LocationStatus, MoneyDoc, PackDoc, PriceChangeDoc,
    ProductDoc, ProductStatus, PromotionDoc, PromotionStatus, PurchaseOrderDoc, PurchaseOrderLineDoc,
    PurchaseReceiptDoc, RefundDoc, RefundLineDoc, ReorderLevelsDoc, SaleDoc, SaleLineDoc, SalePricingDoc, SaleStatus,
    SupplierDoc, SupplierItemDoc, SupplierLineDoc, TaxLiabilityDoc, TenderDoc, TenderKind, TenderTotals,
    TransactionKind, UserDoc, VoidDoc,
};

/// An event with its stream sequence.
#[derive(Debug, Clone)]
pub struct Sequenced {
    /// Stream sequence.
    pub sequence: u64,
    /// The decoded event.
    pub envelope: EventEnvelope,
}

/// Why an event cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    /// The event contradicts the read model: it is poison and gets parked.
    #[error("invariant broken: {0}")]
    Invariant(String),
    /// A document the event needs was not loaded: a bug in the loader, never parked.
    #[error("document {collection}/{id} was not loaded")]
    NotLoaded {
        /// Collection.
        collection: &'static str,
        /// Document id.
        id: String,
    },
}

fn invariant(message: impl Into<String>) -> FoldError {
    FoldError::Invariant(message.into())
}

/// The documents of one tenant that a batch touches, as loaded (absent ones included).
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Products by SKU.
    pub products: HashMap<String, ProductDoc>,
    /// Sales by id.
    pub sales: HashMap<String, SaleDoc>,
    /// Daily figures by `date|location`.
    pub daily: HashMap<String, DailySalesDoc>,
    /// Users by id.
    pub users: HashMap<String, UserDoc>,
    /// Locations by id.
    pub locations: HashMap<String, LocationDoc>,
    /// Drawer sessions by id.
    pub drawers: HashMap<String, DrawerSessionDoc>,
    /// Promotions by id.
    pub promotions: HashMap<String, PromotionDoc>,
    /// Suppliers by id.
    pub suppliers: HashMap<String, SupplierDoc>,
    /// Purchase orders by id.
    pub purchase_orders: HashMap<String, PurchaseOrderDoc>,
    /// Inventory transactions by id, read only to recover the cost of goods of a sale
    /// whose products were written before a crash and whose sale was not (see
    /// [`derived_needs`]).
    pub transactions: HashMap<String, InventoryTransactionDoc>,
    /// Every (collection, id) that was looked up, found or not.
    pub loaded: HashSet<(&'static str, String)>,
    /// True when the snapshot holds every document there is (a fold from scratch): a
    /// document that is absent does not exist.
    pub complete: bool,
    /// Read the target's checkpoint along with the first documents loaded (the live
    /// projector asks the first time it meets a tenant, to learn whether the tenant's
    /// indexes exist: `projection::set_up`).
    pub wants_checkpoint: bool,
    /// The checkpoint read that way (`None`: not asked for, or there is none).
    pub checkpoint: Option<tenantdb::checkpoint::Checkpoint>,
}

impl Snapshot {
    /// Prepares the snapshot for a tenant's next batch when this process is the target's
    /// only writer (a replay) and the batch just folded may still be being written.
    ///
    /// Products, days and users are a tenant's hot documents (every sale touches some):
    /// they stay, so the next batch need not read them back, up to `max_hot` of them; past
    /// that only the ones this batch changed stay. Sales stay only if this batch changed
    /// them: their write may still be in flight, so a void or refund in the next batch must
    /// see them here; the others were written before this batch was folded and are read
    /// back when needed. Everything forgotten is also forgotten as looked up.
    pub fn keep_for_next(&mut self, changes: &Changes, max_hot: usize) {
        self.sales.retain(|id, _| changes.sales.contains(id));
        let over = self.products.len()
            + self.daily.len()
            + self.users.len()
            + self.locations.len()
            + self.drawers.len()
            + self.promotions.len()
            + self.suppliers.len()
            + self.purchase_orders.len()
            > max_hot;
        if over {
            self.drawers.retain(|id, _| changes.drawers.contains(id));
            self.products.retain(|id, _| changes.products.contains(id));
            self.daily.retain(|id, _| changes.daily.contains(id));
            self.users.retain(|id, _| changes.users.contains(id));
            self.locations.retain(|id, _| changes.locations.contains(id));
            self.promotions.retain(|id, _| changes.promotions.contains(id));
            self.suppliers.retain(|id, _| changes.suppliers.contains(id));
            self.purchase_orders
                .retain(|id, _| changes.purchase_orders.contains(id));
        }
        let Snapshot {
            products,
            sales,
            daily,
            users,
            locations,
            drawers,
            promotions,
            suppliers,
            purchase_orders,
            loaded,
            ..
        } = self;
        loaded.retain(|(collection, id)| match *collection {
            collections::SALES => sales.contains_key(id),
            collections::PRODUCTS if over => products.contains_key(id),
            collections::DAILY_SALES if over => daily.contains_key(id),
            collections::USERS if over => users.contains_key(id),
            collections::LOCATIONS if over => locations.contains_key(id),
            collections::DRAWER_SESSIONS if over => drawers.contains_key(id),
            collections::PROMOTIONS if over => promotions.contains_key(id),
            collections::SUPPLIERS if over => suppliers.contains_key(id),
            collections::PURCHASE_ORDERS if over => purchase_orders.contains_key(id),
            _ => true,
        });
    }
}

/// What applying a batch changed.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    /// Products to write.
    pub products: BTreeSet<String>,
    /// Sales to write.
    pub sales: BTreeSet<String>,
    /// Daily figures to write.
    pub daily: BTreeSet<String>,
    /// Users to write.
    pub users: BTreeSet<String>,
    /// Locations to write.
    pub locations: BTreeSet<String>,
    /// Drawer sessions to write.
    pub drawers: BTreeSet<String>,
    /// Promotions to write.
    pub promotions: BTreeSet<String>,
    /// Suppliers to write.
    pub suppliers: BTreeSet<String>,
    /// Purchase orders to write.
    pub purchase_orders: BTreeSet<String>,
    /// Inventory transactions to insert.
    pub transactions: Vec<InventoryTransactionDoc>,
    /// Events that broke an invariant: (sequence, error).
    pub parked: Vec<(u64, String)>,
    /// Highest sequence seen, applied or parked.
    pub last_sequence: u64,
    /// When the last event happened.
    pub last_occurred_at: Option<DateTime<Utc>>,
}

/// The ids a batch needs, in the order they can be known.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Needs {
    /// Product SKUs.
    pub products: BTreeSet<String>,
    /// Sale ids.
    pub sales: BTreeSet<String>,
    /// Daily `date|location` ids.
    pub daily: BTreeSet<String>,
    /// User ids.
    pub users: BTreeSet<String>,
    /// Location ids.
    pub locations: BTreeSet<String>,
    /// Drawer session ids.
    pub drawers: BTreeSet<String>,
    /// Promotion ids.
    pub promotions: BTreeSet<String>,
    /// Supplier ids.
    pub suppliers: BTreeSet<String>,
    /// Purchase order ids.
    pub purchase_orders: BTreeSet<String>,
    /// Inventory transaction ids.
    pub transactions: BTreeSet<String>,
}

/// The business day of an event: the date the command side stamped on it from the
/// location's time zone and day start, or, for events recorded before locations had time
/// zones, the UTC date of the event (see [`events::business_day`]).
pub fn business_date(stamped: Option<NaiveDate>, at: DateTime<Utc>) -> String {
    stamped
        .unwrap_or_else(|| legacy_business_date(at))
        .format("%Y-%m-%d")
        .to_string()
}

/// The id of the `index`th inventory transaction of the event at stream sequence `seq`:
/// `<sequence, 20 digits>:<index, 2 digits>`, unique and in stream order. A sale's line
/// `i` moves stock in its transaction `i`.
pub fn transaction_id(seq: i64, index: usize) -> String {
    format!("{seq:020}:{index:02}")
}

/// First round: ids named by the events themselves.
pub fn direct_needs(events: &[Sequenced]) -> Needs {
    let mut needs = Needs::default();
    for event in events {
        match &event.envelope.event {
            DomainEvent::ProductRegistered(e) => {
                needs.products.insert(e.sku.to_string());
            }
            DomainEvent::ProductUpdated(e) => {
                needs.products.insert(e.sku.to_string());
            }
            DomainEvent::ProductPriceChanged(e) => {
                needs.products.insert(e.sku.to_string());
            }
            DomainEvent::ProductDiscontinued(e) => {
                needs.products.insert(e.sku.to_string());
            }
            DomainEvent::StockReceived(e) => {
                needs.products.insert(e.sku.to_string());
                needs.products.extend(e.pack.as_ref().map(|p| p.base_sku.to_string()));
            }
            DomainEvent::StockAdjusted(e) => {
                needs.products.insert(e.sku.to_string());
            }
            DomainEvent::StockCounted(e) => {
                needs.products.insert(e.sku.to_string());
            }
            DomainEvent::StockTransferred(e) => {
                needs.products.insert(e.sku.to_string());
            }
            DomainEvent::SaleCompleted(e) => {
                needs
                    .drawers
                    .extend(e.drawer_session_id.as_ref().map(ToString::to_string));
                needs.sales.insert(e.sale_id.to_string());
                needs.products.extend(e.lines.iter().map(|l| l.sku.to_string()));
                needs.products.extend(
                    e.lines
                        .iter()
                        .filter_map(|l| l.pack.as_ref())
                        .map(|p| p.base_sku.to_string()),
                );
                needs.daily.insert(DailySalesDoc::id_of(
                    &business_date(e.business_date, event.envelope.occurred_at),
                    e.location.as_str(),
                ));
            }
            DomainEvent::SaleVoided(e) => {
                needs
                    .drawers
                    .extend(e.drawer_session_id.as_ref().map(ToString::to_string));
                needs.sales.insert(e.sale_id.to_string());
            }
            DomainEvent::SaleRefunded(e) => {
                needs
                    .drawers
                    .extend(e.drawer_session_id.as_ref().map(ToString::to_string));
                needs.sales.insert(e.sale_id.to_string());
                needs.products.extend(e.lines.iter().map(|l| l.sku.to_string()));
                needs.daily.insert(DailySalesDoc::id_of(
                    &business_date(e.business_date, event.envelope.occurred_at),
                    e.location.as_str(),
                ));
            }
            DomainEvent::SupplierRegistered(e) => {
                needs.suppliers.insert(e.supplier_id.to_string());
                needs.products.extend(e.items.iter().map(|i| i.sku.to_string()));
            }
            DomainEvent::SupplierUpdated(e) => {
                needs.suppliers.insert(e.supplier_id.to_string());
                needs.products.extend(e.items.iter().map(|i| i.sku.to_string()));
                needs.products.extend(e.removed.iter().map(ToString::to_string));
            }
            DomainEvent::PurchaseOrderDrafted(e) => {
                needs.purchase_orders.insert(e.po_id.to_string());
            }
            DomainEvent::PurchaseOrderSubmitted(e) => {
                needs.purchase_orders.insert(e.po_id.to_string());
                needs.products.extend(e.on_order.iter().map(|u| u.sku.to_string()));
            }
            DomainEvent::PurchaseOrderReceived(e) => {
                needs.purchase_orders.insert(e.po_id.to_string());
                needs.products.extend(e.lines.iter().map(|l| l.sku.to_string()));
            }
            DomainEvent::PurchaseOrderClosed(e) => {
                needs.purchase_orders.insert(e.po_id.to_string());
                needs.products.extend(e.released.iter().map(|u| u.sku.to_string()));
            }
            DomainEvent::PurchaseOrderCancelled(e) => {
                needs.purchase_orders.insert(e.po_id.to_string());
                needs.products.extend(e.released.iter().map(|u| u.sku.to_string()));
            }
            DomainEvent::ReorderLevelsChanged(e) => {
                needs.products.insert(e.sku.to_string());
            }
            DomainEvent::LocationOpened(e) => {
                needs.locations.insert(e.location_id.to_string());
            }
            DomainEvent::LocationUpdated(e) => {
                needs.locations.insert(e.location_id.to_string());
            }
            DomainEvent::LocationClosed(e) => {
                needs.locations.insert(e.location_id.to_string());
            }
            DomainEvent::BusinessDayClosed(e) => {
                needs.locations.insert(e.location_id.to_string());
                needs.daily.insert(DailySalesDoc::id_of(
                    &e.business_date.format("%Y-%m-%d").to_string(),
                    e.location_id.as_str(),
                ));
            }
            // Read by the command side from the stream; no document yet.
            DomainEvent::TaxJurisdictionConfigured(_)
            | DomainEvent::CashSettingsConfigured(_)
            | DomainEvent::SalesSettingsConfigured(_) => {}
            DomainEvent::DrawerSessionOpened(e) => {
                needs.drawers.insert(e.session_id.to_string());
            }
            DomainEvent::PaidInRecorded(e) => {
                needs.drawers.insert(e.session_id.to_string());
            }
            DomainEvent::PaidOutRecorded(e) => {
                needs.drawers.insert(e.session_id.to_string());
            }
            DomainEvent::SafeDropRecorded(e) => {
                needs.drawers.insert(e.session_id.to_string());
            }
            DomainEvent::EmptiesReturned(e) => {
                needs.drawers.insert(e.session_id.to_string());
                needs.daily.insert(DailySalesDoc::id_of(
                    &e.business_date.format("%Y-%m-%d").to_string(),
                    e.location.as_str(),
                ));
            }
            DomainEvent::DrawerSessionClosed(e) => {
                needs.drawers.insert(e.session_id.to_string());
            }
            DomainEvent::OverShortApproved(e) => {
                needs.drawers.insert(e.session_id.to_string());
            }
            DomainEvent::UserJoined(e) => {
                needs.users.insert(e.user_id.to_string());
            }
            DomainEvent::UserRoleChanged(e) => {
                needs.users.insert(e.user_id.to_string());
            }
            DomainEvent::UserLocationsChanged(e) => {
                needs.users.insert(e.user_id.to_string());
            }
            DomainEvent::UserDeactivated(e) => {
                needs.users.insert(e.user_id.to_string());
            }
            DomainEvent::PromotionCreated(e) => {
                needs.promotions.insert(e.promotion_id.to_string());
            }
            DomainEvent::PromotionUpdated(e) => {
                needs.promotions.insert(e.promotion_id.to_string());
            }
            DomainEvent::PromotionEnded(e) => {
                needs.promotions.insert(e.promotion_id.to_string());
            }
        }
    }
    needs
}

/// Second round: ids that only the loaded sales reveal (a void's products and location,
/// the base products of a refund's packs).
pub fn derived_needs(events: &[Sequenced], snapshot: &Snapshot) -> Needs {
    let mut needs = Needs::default();
    let mut in_batch: HashMap<&str, &SaleCompleted> = HashMap::new();
    for event in events {
        match &event.envelope.event {
            DomainEvent::SaleCompleted(e) => {
                in_batch.insert(e.sale_id.as_str(), e);
                // A sale redelivered after a crash that stored its products but not the
                // sale: the products no longer say what the units cost, the sale's own
                // inventory transactions (stored before any document) do.
                let seq = event.sequence as i64;
                let applied = e.lines.iter().any(|l| {
                    let sku = l.pack.as_ref().map_or(&l.sku, |p| &p.base_sku);
                    snapshot
                        .products
                        .get(sku.as_str())
                        .is_some_and(|doc| doc.last_seq >= seq)
                });
                let sale_stored = snapshot
                    .sales
                    .get(e.sale_id.as_str())
                    .is_some_and(|doc| doc.last_seq >= seq);
                if applied && !sale_stored {
                    needs
                        .transactions
                        .extend((0..e.lines.len()).map(|index| transaction_id(seq, index)));
                }
            }
            DomainEvent::SaleVoided(e) => {
                let (location, skus): (String, Vec<String>) = match in_batch.get(e.sale_id.as_str()) {
                    Some(sale) => (
                        sale.location.to_string(),
                        sale.lines
                            .iter()
                            .map(|l| l.pack.as_ref().map_or(&l.sku, |p| &p.base_sku).to_string())
                            .collect(),
                    ),
                    None => match snapshot.sales.get(e.sale_id.as_str()) {
                        Some(sale) => (
                            sale.location.clone(),
                            sale.lines
                                .iter()
                                .map(|l| PackDoc::stock_of(l.pack.as_ref(), &l.sku, 0).0.to_owned())
                                .collect(),
                        ),
                        None => continue,
                    },
                };
                needs.products.extend(skus);
                needs.daily.insert(DailySalesDoc::id_of(
                    &business_date(e.business_date, event.envelope.occurred_at),
                    &location,
                ));
            }
            DomainEvent::SaleRefunded(e) => {
                let refunded = |line_no: i64| e.lines.iter().any(|l| i64::from(l.line_no) == line_no);
                match in_batch.get(e.sale_id.as_str()) {
                    Some(sale) => needs.products.extend(
                        sale.lines
                            .iter()
                            .filter(|l| refunded(i64::from(l.line_no)))
                            .filter_map(|l| l.pack.as_ref())
                            .map(|p| p.base_sku.to_string()),
                    ),
                    None => {
                        if let Some(sale) = snapshot.sales.get(e.sale_id.as_str()) {
                            needs.products.extend(
                                sale.lines
                                    .iter()
                                    .filter(|l| refunded(l.line_no))
                                    .filter_map(|l| l.pack.as_ref())
                                    .map(|p| p.base_sku.clone()),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
    needs
}

/// Applies `events` (one tenant's, in stream order) to `snapshot`.
pub fn apply_all(snapshot: &mut Snapshot, events: &[Sequenced]) -> Result<Changes, FoldError> {
    apply_all_in(snapshot, events, |_| tracing::Span::none())
}

/// [`apply_all`], applying each event inside the span `span_of` gives it (the live
/// projector's `apply_event` span, in the trace the event was appended under).
pub fn apply_all_in(
    snapshot: &mut Snapshot,
    events: &[Sequenced],
    span_of: impl Fn(&Sequenced) -> tracing::Span,
) -> Result<Changes, FoldError> {
    let mut changes = Changes::default();
    for event in events {
        let span = span_of(event);
        let _entered = span.enter();
        changes.last_sequence = changes.last_sequence.max(event.sequence);
        changes.last_occurred_at = Some(event.envelope.occurred_at);
        let mut staging = Staging::new(snapshot, event);
        match staging.apply() {
            Ok(()) => staging.commit(&mut changes),
            Err(FoldError::Invariant(message)) => changes.parked.push((event.sequence, message)),
            Err(other) => return Err(other),
        }
    }
    Ok(changes)
}

/// One event's changes, on copies of the documents it touches.
struct Staging<'s> {
    snapshot: &'s mut Snapshot,
    event: &'s Sequenced,
    seq: i64,
    products: BTreeMap<String, ProductDoc>,
    sales: BTreeMap<String, SaleDoc>,
    daily: BTreeMap<String, DailySalesDoc>,
    users: BTreeMap<String, UserDoc>,
    locations: BTreeMap<String, LocationDoc>,
    drawers: BTreeMap<String, DrawerSessionDoc>,
    promotions: BTreeMap<String, PromotionDoc>,
    suppliers: BTreeMap<String, SupplierDoc>,
    purchase_orders: BTreeMap<String, PurchaseOrderDoc>,
    transactions: Vec<InventoryTransactionDoc>,
}

impl<'s> Staging<'s> {
    fn new(snapshot: &'s mut Snapshot, event: &'s Sequenced) -> Self {
        Self {
            snapshot,
            event,
            seq: event.sequence as i64,
            products: BTreeMap::new(),
            sales: BTreeMap::new(),
            daily: BTreeMap::new(),
            users: BTreeMap::new(),
            locations: BTreeMap::new(),
            drawers: BTreeMap::new(),
            promotions: BTreeMap::new(),
            suppliers: BTreeMap::new(),
            purchase_orders: BTreeMap::new(),
            transactions: Vec::new(),
        }
    }

    fn at(&self) -> DateTime<Utc> {
        self.event.envelope.occurred_at
    }

    fn check_loaded(&self, collection: &'static str, id: &str) -> Result<(), FoldError> {
        if self.snapshot.complete || self.snapshot.loaded.contains(&(collection, id.to_owned())) {
            Ok(())
        } else {
            Err(FoldError::NotLoaded {
                collection,
                id: id.to_owned(),
            })
        }
    }

    /// The product, staged for change, if this event has not been applied to it yet.
    fn product(&mut self, sku: &str) -> Result<Option<&mut ProductDoc>, FoldError> {
        if !self.products.contains_key(sku) {
            self.check_loaded(collections::PRODUCTS, sku)?;
            let current = self.snapshot.products.get(sku);
            if current.is_some_and(|doc| doc.last_seq >= self.seq) {
                return Ok(None);
            }
            let doc = current
                .cloned()
                .unwrap_or_else(|| ProductDoc::unregistered(sku, self.at()));
            self.products.insert(sku.to_owned(), doc);
        }
        Ok(self.products.get_mut(sku))
    }

    /// The sale as it stands (staged or loaded), for reading.
    fn sale_view(&self, sale_id: &str) -> Result<Option<SaleDoc>, FoldError> {
        if let Some(doc) = self.sales.get(sale_id) {
            return Ok(Some(doc.clone()));
        }
        self.check_loaded(collections::SALES, sale_id)?;
        Ok(self.snapshot.sales.get(sale_id).cloned())
    }

    /// Whether this event still has to be applied to the sale document.
    fn sale_pending(&self, sale_id: &str) -> bool {
        self.snapshot
            .sales
            .get(sale_id)
            .is_none_or(|doc| doc.last_seq < self.seq)
    }

    /// The day's figures, staged for change, if this event has not been applied to them yet.
    fn daily(&mut self, date: &str, location: &str, currency: &str) -> Result<Option<&mut DailySalesDoc>, FoldError> {
        let id = DailySalesDoc::id_of(date, location);
        if !self.daily.contains_key(&id) {
            self.check_loaded(collections::DAILY_SALES, &id)?;
            let current = self.snapshot.daily.get(&id);
            if current.is_some_and(|doc| doc.last_seq >= self.seq) {
                return Ok(None);
            }
            let doc = current
                .cloned()
                .unwrap_or_else(|| DailySalesDoc::empty(date, location, currency));
            if doc.currency != currency {
                return Err(invariant(format!(
                    "{id} is kept in {} but the event is in {currency}",
                    doc.currency
                )));
            }
            self.daily.insert(id.clone(), doc);
        }
        Ok(self.daily.get_mut(&id))
    }

    /// The user, staged for change, if this event has not been applied yet; `None` also
    /// when already applied.
    fn user(&mut self, user_id: &str) -> Result<(Option<&mut UserDoc>, bool), FoldError> {
        if !self.users.contains_key(user_id) {
            self.check_loaded(collections::USERS, user_id)?;
            match self.snapshot.users.get(user_id) {
                Some(doc) if doc.last_seq >= self.seq => return Ok((None, true)),
                Some(doc) => {
                    self.users.insert(user_id.to_owned(), doc.clone());
                }
                None => return Ok((None, false)),
            }
        }
        Ok((self.users.get_mut(user_id), true))
    }

    /// The location as it stands (staged or loaded), if this event has not been applied
    /// to it yet; `Err` when it was not loaded. The outer `Option` is `None` when the event
    /// was applied already.
    fn location(&mut self, location_id: &str) -> Result<Option<Option<&mut LocationDoc>>, FoldError> {
        if !self.locations.contains_key(location_id) {
            self.check_loaded(collections::LOCATIONS, location_id)?;
            match self.snapshot.locations.get(location_id) {
                Some(doc) if doc.last_seq >= self.seq => return Ok(None),
                Some(doc) => {
                    self.locations.insert(location_id.to_owned(), doc.clone());
                }
                None => return Ok(Some(None)),
            }
        }
        Ok(Some(self.locations.get_mut(location_id)))
    }

    fn location_event(&mut self, id: &str, details: Option<&LocationDetails>, closed: bool) -> Result<(), FoldError> {
        let at = self.at();
        let Some(current) = self.location(id)? else {
            return Ok(());
        };
        match (current, details) {
            (None, Some(details)) if !closed => {
                let mut doc = LocationDoc {
                    location_id: id.to_owned(),
                    name: String::new(),
                    address: None,
                    time_zone: String::new(),
                    business_day_start: String::new(),
                    currency: String::new(),
                    tax_jurisdiction: None,
                    prices_include_tax: false,
                    status: LocationStatus::Open,
                    opened_at: at,
                    closed_at: None,
                    version: 0,
                    last_seq: 0,
                };
                set_location_details(&mut doc, details);
                self.locations.insert(id.to_owned(), doc);
            }
            (None, _) => return Err(invariant(format!("location {id} was never opened"))),
            (Some(doc), Some(details)) if !closed => {
                if doc.status == LocationStatus::Closed {
                    return Err(invariant(format!("location {id} is closed")));
                }
                set_location_details(doc, details);
            }
            (Some(doc), _) => {
                doc.status = LocationStatus::Closed;
                doc.closed_at = Some(at);
            }
        }
        Ok(())
    }

    /// A promotion created (`created`), changed (`details`) or ended (`ended`).
    fn promotion_event(
        &mut self,
        id: &str,
        details: Option<&PromotionDetails>,
        ended: Option<Option<String>>,
        created: bool,
    ) -> Result<(), FoldError> {
        let at = self.at();
        if !self.promotions.contains_key(id) {
            self.check_loaded(collections::PROMOTIONS, id)?;
            match self.snapshot.promotions.get(id) {
                Some(doc) if doc.last_seq >= self.seq => return Ok(()),
                Some(doc) => {
                    self.promotions.insert(id.to_owned(), doc.clone());
                }
                None => {}
            }
        }
        match (self.promotions.get_mut(id), details) {
            (None, Some(details)) if created => {
                let mut doc = PromotionDoc {
                    promotion_id: id.to_owned(),
                    name: String::new(),
                    currency: String::new(),
                    rule: details.rule.clone(),
                    starts_at: details.starts_at,
                    ends_at: None,
                    locations: Vec::new(),
                    stackable: false,
                    status: PromotionStatus::Active,
                    ended_at: None,
                    ended_reason: None,
                    created_at: at,
                    version: 0,
                    last_seq: 0,
                };
                set_promotion_details(&mut doc, details);
                self.promotions.insert(id.to_owned(), doc);
            }
            (None, _) => return Err(invariant(format!("promotion {id} was never created"))),
            (Some(_), _) if created => return Err(invariant(format!("promotion {id} was already created"))),
            (Some(doc), Some(details)) => {
                if doc.status == PromotionStatus::Ended {
                    return Err(invariant(format!("promotion {id} has ended")));
                }
                set_promotion_details(doc, details);
            }
            (Some(doc), None) => {
                doc.status = PromotionStatus::Ended;
                doc.ended_at = Some(at);
                doc.ended_reason = ended.flatten();
            }
        }
        Ok(())
    }

    /// The drawer session as it stands (staged or loaded), for reading.
    fn drawer_view(&self, session_id: &str) -> Result<Option<&DrawerSessionDoc>, FoldError> {
        if let Some(doc) = self.drawers.get(session_id) {
            return Ok(Some(doc));
        }
        self.check_loaded(collections::DRAWER_SESSIONS, session_id)?;
        Ok(self.snapshot.drawers.get(session_id))
    }

    /// The drawer session, staged for change, if this event has not been applied to it
    /// yet: `None` when applied already, `Some(None)` when it does not exist.
    fn drawer(&mut self, session_id: &str) -> Result<Option<Option<&mut DrawerSessionDoc>>, FoldError> {
        if !self.drawers.contains_key(session_id) {
            self.check_loaded(collections::DRAWER_SESSIONS, session_id)?;
            match self.snapshot.drawers.get(session_id) {
                Some(doc) if doc.last_seq >= self.seq => return Ok(None),
                Some(doc) => {
                    self.drawers.insert(session_id.to_owned(), doc.clone());
                }
                None => return Ok(Some(None)),
            }
        }
        Ok(Some(self.drawers.get_mut(session_id)))
    }

    /// The open-or-closed session an event of its own names; it must have been opened.
    fn existing_drawer(&mut self, session_id: &str) -> Result<Option<&mut DrawerSessionDoc>, FoldError> {
        match self.drawer(session_id)? {
            None => Ok(None),
            Some(None) => Err(invariant(format!("drawer session {session_id} was never opened"))),
            Some(Some(doc)) => Ok(Some(doc)),
        }
    }

    /// Applies a change to a session that a sale, void or refund names, if it exists and
    /// has not seen this event yet (the command side refuses voids and refunds naming an
    /// unknown session; a sale is flagged instead).
    fn on_drawer(&mut self, session_id: &str, change: impl FnOnce(&mut DrawerSessionDoc)) -> Result<(), FoldError> {
        if let Some(Some(doc)) = self.drawer(session_id)? {
            change(doc);
            doc.settle();
        }
        Ok(())
    }

    fn drawer_event(&mut self) -> Result<(), FoldError> {
        let envelope = &self.event.envelope;
        let (at, seq, by) = (envelope.occurred_at, self.seq, envelope.actor.label());
        let movement = |movement_id: &events::CashMovementId,
                        kind: CashMovementKind,
                        amount_minor: i64,
                        reason: Option<events::event::CashReason>,
                        note: &Option<String>| CashMovementDoc {
            movement_id: movement_id.to_string(),
            kind,
            amount_minor,
            reason: reason.map(Into::into),
            note: note.clone(),
            recorded_by: by.clone(),
            occurred_at: at,
        };
        match &envelope.event {
            DomainEvent::DrawerSessionOpened(e) => {
                let id = e.session_id.as_str();
                match self.drawer(id)? {
                    None => {}
                    Some(Some(_)) => return Err(invariant(format!("drawer session {id} was already opened"))),
                    Some(None) => {
                        let mut doc = DrawerSessionDoc {
                            session_id: id.to_owned(),
                            terminal_id: e.terminal_id.to_string(),
                            location: e.location.to_string(),
                            cashier_id: e.cashier_id.to_string(),
                            currency: e.currency.code().to_owned(),
                            business_date: e.business_date.format("%Y-%m-%d").to_string(),
                            status: DrawerSessionStatus::Open,
                            blind_close: e.blind_close,
                            opened_at: at,
                            closed_at: None,
                            closed_by: None,
                            opening_float_minor: e.opening_float_minor,
                            cash_sale_count: 0,
                            cash_sales_minor: 0,
                            cash_refund_count: 0,
                            cash_refunds_minor: 0,
                            cash_void_count: 0,
                            cash_voids_minor: 0,
                            paid_in_minor: 0,
                            paid_out_minor: 0,
                            safe_drops_minor: 0,
                            empties_paid_minor: 0,
                            movements: Vec::new(),
                            expected_cash_minor: 0,
                            counted_cash_minor: None,
                            denominations: None,
                            over_short_minor: None,
                            approval_threshold_minor: None,
                            approval: None,
                            approved_by: None,
                            approval_note: None,
                            flagged_sales: Vec::new(),
                            opened_seq: seq,
                            closed_seq: None,
                            last_seq: 0,
                        };
                        doc.settle();
                        self.drawers.insert(id.to_owned(), doc);
                    }
                }
            }
            DomainEvent::PaidInRecorded(e) => {
                let moved = movement(
                    &e.movement_id,
                    CashMovementKind::PaidIn,
                    e.amount_minor,
                    Some(e.reason),
                    &e.note,
                );
                if let Some(doc) = self.existing_drawer(e.session_id.as_str())? {
                    doc.paid_in_minor += e.amount_minor;
                    doc.movements.push(moved);
                    doc.settle();
                }
            }
            DomainEvent::PaidOutRecorded(e) => {
                let moved = movement(
                    &e.movement_id,
                    CashMovementKind::PaidOut,
                    e.amount_minor,
                    Some(e.reason),
                    &e.note,
                );
                if let Some(doc) = self.existing_drawer(e.session_id.as_str())? {
                    doc.paid_out_minor += e.amount_minor;
                    doc.movements.push(moved);
                    doc.settle();
                }
            }
            DomainEvent::SafeDropRecorded(e) => {
                let moved = movement(
                    &e.movement_id,
                    CashMovementKind::SafeDrop,
                    e.amount_minor,
                    None,
                    &e.note,
                );
                if let Some(doc) = self.existing_drawer(e.session_id.as_str())? {
                    doc.safe_drops_minor += e.amount_minor;
                    doc.movements.push(moved);
                    doc.settle();
                }
            }
            DomainEvent::DrawerSessionClosed(e) => {
                if let Some(doc) = self.existing_drawer(e.session_id.as_str())? {
                    if doc.status == DrawerSessionStatus::Closed {
                        return Err(invariant(format!("drawer session {} is already closed", e.session_id)));
                    }
                    doc.status = DrawerSessionStatus::Closed;
                    doc.closed_at = Some(at);
                    doc.closed_by = Some(by.clone());
                    doc.counted_cash_minor = Some(e.counted_cash_minor);
                    doc.denominations = e.denominations.as_ref().map(|d| {
                        d.iter()
                            .map(|c| DenominationDoc {
                                value_minor: c.value_minor,
                                count: c.count,
                            })
                            .collect()
                    });
                    doc.approval_threshold_minor = Some(e.approval_threshold_minor);
                    doc.closed_seq = Some(seq);
                    doc.settle();
                }
            }
            DomainEvent::OverShortApproved(e) => {
                if let Some(doc) = self.existing_drawer(e.session_id.as_str())? {
                    if doc.status != DrawerSessionStatus::Closed {
                        return Err(invariant(format!("drawer session {} is not closed", e.session_id)));
                    }
                    doc.approval = Some(ApprovalStatus::Approved);
                    doc.approved_by = Some(by.clone());
                    doc.approval_note = Some(e.note.clone());
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Moves `delta` units of `sku` at `location`, with their value at moving average
    /// cost, and records the transaction, if the product has not seen this event yet.
    /// Returns the change of the stock's value (negative when stock leaves), or `None`
    /// when the product had seen the event already.
    fn move_stock(&mut self, sku: &str, location: &str, delta: Delta<'_>) -> Result<Option<i64>, FoldError> {
        let (seq, at, event_id) = (self.seq, self.at(), self.event.envelope.event_id.to_string());
        let index = self.transactions.len();
        let Some(product) = self.product(sku)? else {
            return Ok(None);
        };
        let before = product.stock.get(location).copied().unwrap_or(0);
        let quantity = match delta.amount {
            Amount::By(quantity) => quantity,
            Amount::SetTo(counted) => counted - before,
        };
        let after = before + quantity;
        product.stock.insert(location.to_owned(), after);
        let value_before = product.stock_value.get(location).copied().unwrap_or(0);
        let unit_cost = product.unit_cost.get(location).copied().unwrap_or(0);
        let value = match delta.value {
            Valued::Known(value) => value,
            Valued::AtAverage => at_average(quantity, before, value_before, unit_cost),
        };
        let value_after = value_before + value;
        if value_after != 0 || product.stock_value.contains_key(location) {
            product.stock_value.insert(location.to_owned(), value_after);
        }
        if after > 0 && (value_after != 0 || product.unit_cost.contains_key(location)) {
            product
                .unit_cost
                .insert(location.to_owned(), divide_half_up(value_after, after));
        }
        self.transactions.push(InventoryTransactionDoc {
            id: transaction_id(seq, index),
            kind: delta.kind,
            sku: sku.to_owned(),
            location: location.to_owned(),
            quantity,
            quantity_before: before,
            quantity_after: after,
            reference: delta.reference.to_owned(),
            reason: delta.reason.map(str::to_owned),
            occurred_at: at,
            event_id,
            sequence: seq,
            value_minor: value,
        });
        Ok(Some(value))
    }

    /// Adds `units` to what is on order of `sku` at `location` (negative: delivered or
    /// written off), if the product has not seen this event yet.
    fn on_order(&mut self, sku: &str, location: &str, units: i64) -> Result<(), FoldError> {
        if let Some(product) = self.product(sku)? {
            let now = product.on_order.get(location).copied().unwrap_or(0) + units;
            if now == 0 {
                product.on_order.remove(location);
            } else {
                product.on_order.insert(location.to_owned(), now);
            }
        }
        Ok(())
    }

    /// Records on each product what `supplier` sells of it, and forgets the `removed`.
    /// The supplier registered (`registered`) or changed: its own document.
    fn supplier_event(
        &mut self,
        id: &str,
        name: &str,
        items: &[events::event::SupplierItem],
        registered: bool,
    ) -> Result<(), FoldError> {
        let at = self.at();
        if !self.suppliers.contains_key(id) {
            self.check_loaded(collections::SUPPLIERS, id)?;
            match self.snapshot.suppliers.get(id) {
                Some(doc) if doc.last_seq >= self.seq => return Ok(()),
                Some(doc) => {
                    self.suppliers.insert(id.to_owned(), doc.clone());
                }
                None => {}
            }
        }
        let lines = items.iter().map(supplier_line).collect();
        match self.suppliers.get_mut(id) {
            Some(_) if registered => Err(invariant(format!("supplier {id} was already registered"))),
            None if !registered => Err(invariant(format!("supplier {id} was never registered"))),
            Some(doc) => {
                doc.name = name.to_owned();
                doc.items = lines;
                doc.updated_at = at;
                Ok(())
            }
            None => {
                let doc = SupplierDoc {
                    supplier_id: id.to_owned(),
                    name: name.to_owned(),
                    items: lines,
                    registered_at: at,
                    updated_at: at,
                    version: 0,
                    last_seq: 0,
                };
                self.suppliers.insert(id.to_owned(), doc);
                Ok(())
            }
        }
    }

    /// Stages the purchase order `id` if it exists; false when this event was already
    /// applied to it.
    fn stage_order(&mut self, id: &str) -> Result<bool, FoldError> {
        if self.purchase_orders.contains_key(id) {
            return Ok(true);
        }
        self.check_loaded(collections::PURCHASE_ORDERS, id)?;
        match self.snapshot.purchase_orders.get(id) {
            Some(doc) if doc.last_seq >= self.seq => Ok(false),
            Some(doc) => {
                self.purchase_orders.insert(id.to_owned(), doc.clone());
                Ok(true)
            }
            None => Ok(true),
        }
    }

    /// Changes the drafted purchase order `id` with `change`, unless already applied.
    fn order_event(
        &mut self,
        id: &str,
        change: impl FnOnce(&mut PurchaseOrderDoc) -> Result<(), FoldError>,
    ) -> Result<(), FoldError> {
        let at = self.at();
        if !self.stage_order(id)? {
            return Ok(());
        }
        let doc = self
            .purchase_orders
            .get_mut(id)
            .ok_or_else(|| invariant(format!("purchase order {id} was never drafted")))?;
        change(doc)?;
        doc.updated_at = at;
        Ok(())
    }

    fn supplier_items(
        &mut self,
        supplier: &str,
        name: &str,
        items: &[events::event::SupplierItem],
        removed: &[events::Sku],
    ) -> Result<(), FoldError> {
        for item in items {
            if let Some(product) = self.product(item.sku.as_str())? {
                product.suppliers.insert(
                    supplier.to_owned(),
                    SupplierItemDoc {
                        supplier_name: name.to_owned(),
                        supplier_code: item.supplier_code.clone(),
                        case_size: item.case_size,
                        case_cost: MoneyDoc::from(item.case_cost),
                        lead_time_days: item.lead_time_days,
                    },
                );
            }
        }
        for sku in removed {
            if let Some(product) = self.product(sku.as_str())? {
                product.suppliers.remove(supplier);
            }
        }
        Ok(())
    }

    fn apply(&mut self) -> Result<(), FoldError> {
        let event = &self.event.envelope.event;
        match event {
            DomainEvent::ProductRegistered(e) => {
                let (seq, price) = (self.seq, MoneyDoc::from(e.price));
                if let Some(product) = self.product(e.sku.as_str())? {
                    if product.status != ProductStatus::Unregistered {
                        return Err(invariant(format!("product {} is already registered", e.sku)));
                    }
                    set_details(product, &e.details);
                    product.price = Some(price);
                    product.status = ProductStatus::Active;
                    product.version = seq;
                }
            }
            DomainEvent::ProductUpdated(e) => {
                let seq = self.seq;
                if let Some(product) = self.product(e.sku.as_str())? {
                    registered(product)?;
                    set_details(product, &e.details);
                    product.version = seq;
                }
            }
            DomainEvent::ProductPriceChanged(e) => {
                let (seq, happened) = (self.seq, self.at());
                if let Some(product) = self.product(e.sku.as_str())? {
                    registered(product)?;
                    let effective = e.effective_from.unwrap_or(happened);
                    if e.location.is_none() && effective <= happened {
                        product.price = Some(MoneyDoc::from(e.price));
                    } else {
                        product.price_changes.push(PriceChangeDoc {
                            location: e.location.as_ref().map(ToString::to_string),
                            effective_from: effective,
                            price: MoneyDoc::from(e.price),
                        });
                    }
                    product.version = seq;
                }
            }
            DomainEvent::ProductDiscontinued(e) => {
                let seq = self.seq;
                if let Some(product) = self.product(e.sku.as_str())? {
                    registered(product)?;
                    product.status = ProductStatus::Discontinued;
                    product.version = seq;
                }
            }
            DomainEvent::StockReceived(StockReceived {
                movement_id,
                sku,
                location,
                quantity,
                pack,
                unit_cost,
                ..
            }) => {
                // A pack (a case) lands as its base product's units, at the case's cost.
                let pack = pack.as_ref().map(PackDoc::from);
                let (sku, units) = PackDoc::stock_of(pack.as_ref(), sku.as_str(), *quantity);
                let value = quantity.saturating_mul(unit_cost.amount_minor);
                self.move_stock(
                    sku,
                    location.as_str(),
                    Delta::by(TransactionKind::Receipt, units, movement_id.as_str(), None).valued(value),
                )?;
            }
            DomainEvent::StockAdjusted(StockAdjusted {
                movement_id,
                sku,
                location,
                quantity_delta,
                reason,
                ..
            }) => {
                let delta = Delta::by(
                    TransactionKind::Adjustment,
                    *quantity_delta,
                    movement_id.as_str(),
                    Some(reason.as_str()),
                );
                self.move_stock(sku.as_str(), location.as_str(), delta)?;
            }
            DomainEvent::StockCounted(StockCounted {
                movement_id,
                sku,
                location,
                counted_quantity,
                ..
            }) => {
                let delta = Delta {
                    kind: TransactionKind::CountCorrection,
                    amount: Amount::SetTo(*counted_quantity),
                    reference: movement_id.as_str(),
                    reason: None,
                    value: Valued::AtAverage,
                };
                self.move_stock(sku.as_str(), location.as_str(), delta)?;
            }
            DomainEvent::StockTransferred(StockTransferred {
                movement_id,
                sku,
                from_location,
                to_location,
                quantity,
                ..
            }) => {
                // The units arrive with the value they left with (the source's average).
                let left = self.move_stock(
                    sku.as_str(),
                    from_location.as_str(),
                    Delta::by(TransactionKind::TransferOut, -quantity, movement_id.as_str(), None),
                )?;
                if let Some(left) = left {
                    self.move_stock(
                        sku.as_str(),
                        to_location.as_str(),
                        Delta::by(TransactionKind::TransferIn, *quantity, movement_id.as_str(), None).valued(-left),
                    )?;
                }
            }
            DomainEvent::SupplierRegistered(e) => {
                self.supplier_event(e.supplier_id.as_str(), &e.name, &e.items, true)?;
                self.supplier_items(e.supplier_id.as_str(), &e.name, &e.items, &[])?;
            }
            DomainEvent::SupplierUpdated(e) => {
                self.supplier_event(e.supplier_id.as_str(), &e.name, &e.items, false)?;
                self.supplier_items(e.supplier_id.as_str(), &e.name, &e.items, &e.removed)?;
            }
            DomainEvent::PurchaseOrderDrafted(e) => {
                let at = self.at();
                if self.stage_order(e.po_id.as_str())? {
                    if self.purchase_orders.contains_key(e.po_id.as_str()) {
                        return Err(invariant(format!("purchase order {} was already drafted", e.po_id)));
                    }
                    self.purchase_orders.insert(e.po_id.to_string(), drafted_order(e, at));
                }
            }
            DomainEvent::PurchaseOrderSubmitted(e) => {
                self.order_event(e.po_id.as_str(), |doc| {
                    doc.status = PurchaseOrderStatus::Submitted;
                    Ok(())
                })?;
                for units in &e.on_order {
                    self.on_order(units.sku.as_str(), e.location.as_str(), units.units)?;
                }
            }
            DomainEvent::PurchaseOrderReceived(e) => {
                let at = self.at();
                self.order_event(e.po_id.as_str(), |doc| order_received(doc, e, at))?;
                for line in &e.lines {
                    if line.units_accepted > 0 {
                        let delta = Delta::by(
                            TransactionKind::Receipt,
                            line.units_accepted,
                            e.receipt_id.as_str(),
                            None,
                        )
                        .valued(line.value.amount_minor);
                        self.move_stock(line.sku.as_str(), e.location.as_str(), delta)?;
                    }
                    self.on_order(line.sku.as_str(), e.location.as_str(), -line.on_order_released)?;
                }
            }
            DomainEvent::PurchaseOrderClosed(e) => {
                self.order_event(e.po_id.as_str(), |doc| {
                    doc.status = PurchaseOrderStatus::Closed;
                    Ok(())
                })?;
                for units in &e.released {
                    self.on_order(units.sku.as_str(), e.location.as_str(), -units.units)?;
                }
            }
            DomainEvent::PurchaseOrderCancelled(e) => {
                self.order_event(e.po_id.as_str(), |doc| {
                    doc.status = PurchaseOrderStatus::Cancelled;
                    doc.cancel_reason = Some(e.reason.clone());
                    Ok(())
                })?;
                for units in &e.released {
                    self.on_order(units.sku.as_str(), e.location.as_str(), -units.units)?;
                }
            }
            DomainEvent::ReorderLevelsChanged(e) => {
                if let Some(product) = self.product(e.sku.as_str())? {
                    product.reorder.insert(
                        e.location.to_string(),
                        ReorderLevelsDoc {
                            reorder_point: e.reorder_point,
                            par_level: e.par_level,
                        },
                    );
                }
            }
            DomainEvent::LocationOpened(e) => {
                if self
                    .snapshot
                    .locations
                    .get(e.location_id.as_str())
                    .is_some_and(|doc| doc.last_seq < self.seq)
                {
                    return Err(invariant(format!("location {} was already opened", e.location_id)));
                }
                self.location_event(e.location_id.as_str(), Some(&e.details), false)?;
            }
            DomainEvent::LocationUpdated(e) => {
                let id = e.location_id.as_str();
                if !self.snapshot.locations.contains_key(id) && !self.locations.contains_key(id) {
                    self.check_loaded(collections::LOCATIONS, id)?;
                    return Err(invariant(format!("location {id} was never opened")));
                }
                self.location_event(id, Some(&e.details), false)?;
            }
            DomainEvent::LocationClosed(e) => self.location_event(e.location_id.as_str(), None, true)?,
            DomainEvent::BusinessDayClosed(e) => self.day_closed(e)?,
            DomainEvent::TaxJurisdictionConfigured(_)
            | DomainEvent::CashSettingsConfigured(_)
            | DomainEvent::SalesSettingsConfigured(_) => {}
            DomainEvent::DrawerSessionOpened(_)
            | DomainEvent::PaidInRecorded(_)
            | DomainEvent::PaidOutRecorded(_)
            | DomainEvent::SafeDropRecorded(_)
            | DomainEvent::DrawerSessionClosed(_)
            | DomainEvent::OverShortApproved(_) => self.drawer_event()?,
            DomainEvent::EmptiesReturned(e) => self.empties_returned(e)?,
            DomainEvent::PromotionCreated(e) => {
                self.promotion_event(e.promotion_id.as_str(), Some(&e.details), None, true)?
            }
            DomainEvent::PromotionUpdated(e) => {
                self.promotion_event(e.promotion_id.as_str(), Some(&e.details), None, false)?
            }
            DomainEvent::PromotionEnded(e) => {
                self.promotion_event(e.promotion_id.as_str(), None, Some(e.reason.clone()), false)?
            }
            DomainEvent::SaleCompleted(e) => self.sale_completed(e)?,
            DomainEvent::SaleVoided(e) => self.sale_voided(e)?,
            DomainEvent::SaleRefunded(e) => self.sale_refunded(e)?,
            DomainEvent::UserJoined(e) => {
                let (user, exists) = self.user(e.user_id.as_str())?;
                if exists && user.is_some() {
                    return Err(invariant(format!("user {} already joined", e.user_id)));
                }
                if !exists {
                    let doc = UserDoc {
                        user_id: e.user_id.to_string(),
                        name: e.name.clone(),
                        email: e.email.clone(),
                        role: e.role,
                        active: true,
                        joined_at: self.at(),
                        deactivated_at: None,
                        locations: Vec::new(),
                        last_seq: 0,
                    };
                    self.users.insert(doc.user_id.clone(), doc);
                }
            }
            DomainEvent::UserRoleChanged(e) => match self.user(e.user_id.as_str())? {
                (Some(user), _) => user.role = e.role,
                (None, true) => {}
                (None, false) => {
                    return Err(invariant(format!("user {} does not exist", e.user_id)));
                }
            },
            DomainEvent::UserLocationsChanged(e) => match self.user(e.user_id.as_str())? {
                (Some(user), _) => user.locations = e.locations.iter().map(ToString::to_string).collect(),
                (None, true) => {}
                (None, false) => {
                    return Err(invariant(format!("user {} does not exist", e.user_id)));
                }
            },
            DomainEvent::UserDeactivated(e) => {
                let at = self.at();
                match self.user(e.user_id.as_str())? {
                    (Some(user), _) => {
                        user.active = false;
                        user.deactivated_at = Some(at);
                    }
                    (None, true) => {}
                    (None, false) => {
                        return Err(invariant(format!("user {} does not exist", e.user_id)));
                    }
                }
            }
        }
        Ok(())
    }

    /// An amendment of a day by the current event, if the day was closed before it.
    fn amendment(&self, kind: AmendmentKind, reference: &str, total_minor: i64, cash_minor: i64) -> AmendmentDoc {
        AmendmentDoc {
            kind,
            reference: reference.to_owned(),
            total_minor,
            cash_minor,
            occurred_at: self.event.envelope.occurred_at,
            recorded_at: self.event.envelope.recorded_at,
        }
    }

    /// Empties brought back: the cash paid leaves the session's drawer and the day's
    /// deposits and expected cash.
    fn empties_returned(&mut self, e: &EmptiesReturned) -> Result<(), FoldError> {
        let envelope = &self.event.envelope;
        let moved = CashMovementDoc {
            movement_id: e.movement_id.to_string(),
            kind: CashMovementKind::EmptiesReturn,
            amount_minor: e.paid_minor,
            reason: None,
            note: e.note.clone(),
            recorded_by: envelope.actor.label(),
            occurred_at: envelope.occurred_at,
        };
        if let Some(doc) = self.existing_drawer(e.session_id.as_str())? {
            doc.empties_paid_minor += e.paid_minor;
            doc.movements.push(moved);
            doc.settle();
        }
        let amendment = self.amendment(
            AmendmentKind::EmptiesReturn,
            e.movement_id.as_str(),
            -e.paid_minor,
            -e.paid_minor,
        );
        let seq = self.seq;
        let date = e.business_date.format("%Y-%m-%d").to_string();
        if let Some(day) = self.daily(&date, e.location.as_str(), e.currency.code())? {
            if day.closed_before(seq) {
                day.amendments.push(amendment);
            }
            day.empties.count += 1;
            day.empties.containers += e.lines.iter().map(|l| i64::from(l.count)).sum::<i64>();
            day.empties.deposit_minor += e.deposit_minor;
            day.empties.paid_minor += e.paid_minor;
            if e.paid_minor != e.deposit_minor {
                day.empties.differing_count += 1;
            }
            day.settle();
        }
        Ok(())
    }

    fn day_closed(&mut self, e: &BusinessDayClosed) -> Result<(), FoldError> {
        let location = e.location_id.as_str();
        let currency = match self.locations.get(location) {
            Some(doc) => Some(doc.currency.clone()),
            None => {
                self.check_loaded(collections::LOCATIONS, location)?;
                self.snapshot.locations.get(location).map(|doc| doc.currency.clone())
            }
        };
        let Some(currency) = currency else {
            return Err(invariant(format!("location {location} was never opened")));
        };
        let (seq, at, by) = (self.seq, self.at(), self.event.envelope.actor.label());
        let date = e.business_date.format("%Y-%m-%d").to_string();
        if let Some(day) = self.daily(&date, location, &currency)? {
            if day.closed_seq.is_some() {
                return Err(invariant(format!("{} was already closed", day.id)));
            }
            day.closed_at = Some(at);
            day.closed_by = Some(by);
            day.closed_seq = Some(seq);
        }
        Ok(())
    }

    fn sale_completed(&mut self, e: &SaleCompleted) -> Result<(), FoldError> {
        let sale_id = e.sale_id.as_str();
        let existing = self.sale_view(sale_id)?;
        let cash = cash_of(&e.tenders) - e.change_minor;
        let drawer_flag = match &e.drawer_session_id {
            None => None,
            Some(session) => match self.drawer_view(session.as_str())? {
                None => Some(DrawerFlag::UnknownSession),
                Some(doc) => doc.flag_for_sale(self.seq, e.location.as_str()),
            },
        };
        // Cost of goods: what the units took out of the stock's value, in stream order.
        let mut costs = Vec::with_capacity(e.lines.len());
        for line in &e.lines {
            // A pack takes its base product's units.
            let pack = line.pack.as_ref().map(PackDoc::from);
            let (sku, units) = PackDoc::stock_of(pack.as_ref(), line.sku.as_str(), line.quantity);
            let moved = self.move_stock(
                sku,
                e.location.as_str(),
                Delta::by(TransactionKind::Sale, -units, sale_id, None),
            )?;
            let index = costs.len();
            costs.push(match moved {
                Some(value) => -value,
                // The product has this sale already (a crash between the two writes): the
                // line's transaction, stored first, kept what the units took out.
                None => self
                    .snapshot
                    .transactions
                    .get(&transaction_id(self.seq, index))
                    .map_or(0, |tx| -tx.value_minor),
            });
        }
        if self.sale_pending(sale_id) {
            if existing.is_some() {
                return Err(invariant(format!("sale {sale_id} was already completed")));
            }
            let doc = SaleDoc {
                sale_id: sale_id.to_owned(),
                status: SaleStatus::Completed,
                terminal_id: e.terminal_id.to_string(),
                location: e.location.to_string(),
                cashier_id: e.cashier_id.to_string(),
                currency: e.currency.code().to_owned(),
                lines: e
                    .lines
                    .iter()
                    .zip(&costs)
                    .map(|(l, cost)| {
                        let priced = priced_line(e, l.line_no);
                        SaleLineDoc {
                            line_no: i64::from(l.line_no),
                            sku: l.sku.to_string(),
                            quantity: l.quantity,
                            unit_price_minor: l.unit_price_minor,
                            discount_minor: l.discount_minor,
                            tax_minor: l.tax_minor,
                            deposit_minor: l.deposit_minor,
                            total_minor: l.total_minor,
                            list_price_minor: priced.and_then(|p| p.list_price_minor),
                            taxes: priced.map(|p| p.taxes.clone()).unwrap_or_default(),
                            minimum_age: l.minimum_age.map(i32::from),
                            pack: l.pack.as_ref().map(PackDoc::from),
                            refunded_quantity: 0,
                            refunded_amount_minor: 0,
                            refunded_tax_minor: 0,
                            refunded_deposit_minor: 0,
                            cost_minor: *cost,
                            promotions: priced
                                .map(|p| {
                                    p.promotions
                                        .iter()
                                        .map(|a| LinePromotionDoc {
                                            promotion_id: a.promotion_id.to_string(),
                                            amount_minor: a.amount_minor,
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        }
                    })
                    .collect(),
                subtotal_minor: e.subtotal_minor,
                discount_total_minor: e.discount_total_minor,
                tax_total_minor: e.tax_total_minor,
                deposit_total_minor: e.deposit_total_minor,
                total_minor: e.total_minor,
                tenders: e.tenders.iter().map(tender_doc).collect(),
                change_minor: e.change_minor,
                age_verification: e.age_verification.as_ref().map(|a| AgeVerificationDoc {
                    method: a.method.into(),
                    customer_age: i32::from(a.customer_age),
                    verified_by: a.verified_by.to_string(),
                }),
                occurred_at: self.at(),
                business_date: business_date(e.business_date, self.at()),
                void: None,
                refunds: Vec::new(),
                refunded_total_minor: 0,
                pricing: e.pricing.as_ref().map(|p| SalePricingDoc {
                    jurisdiction: p.jurisdiction.to_string(),
                    date: p.date.format("%Y-%m-%d").to_string(),
                    prices_include_tax: p.prices_include_tax,
                    exceptions: p.exceptions.clone(),
                }),
                backdate_reason: e.backdate_reason.clone(),
                drawer_session_id: e.drawer_session_id.as_ref().map(ToString::to_string),
                drawer_flag,
                sequence: self.seq,
                last_seq: 0,
            };
            self.sales.insert(sale_id.to_owned(), doc);
        }
        let date = business_date(e.business_date, self.at());
        let amendment = self.amendment(AmendmentKind::Sale, sale_id, e.total_minor, cash);
        let seq = self.seq;
        if let Some(day) = self.daily(&date, e.location.as_str(), e.currency.code())? {
            if day.closed_before(seq) {
                day.amendments.push(amendment);
            }
            day.sale_count += 1;
            day.gross_minor += e.subtotal_minor;
            day.discounts_minor += e.discount_total_minor;
            day.net_minor += e.subtotal_minor - e.discount_total_minor;
            day.tax_minor += e.tax_total_minor;
            day.deposits_minor += e.deposit_total_minor;
            day.total_minor += e.total_minor;
            for tender in &e.tenders {
                day.tenders.add(tender.kind.into(), tender.amount_minor);
            }
            day.tenders.cash -= e.change_minor;
            if let Some(pricing) = &e.pricing {
                for tax in pricing.lines.iter().flat_map(|l| &l.taxes) {
                    TaxLiabilityDoc::add(&mut day.tax_liability, tax, 1, false);
                }
                if !pricing.exceptions.is_empty() {
                    day.exception_sale_count += 1;
                }
            }
            if e.backdate_reason.is_some() {
                day.backdated_sale_count += 1;
            }
            day.settle();
        }
        if let Some(session) = &e.drawer_session_id {
            let envelope = &self.event.envelope;
            let (occurred_at, recorded_at) = (envelope.occurred_at, envelope.recorded_at);
            self.on_drawer(session.as_str(), |doc| match drawer_flag {
                None => {
                    doc.cash_sale_count += 1;
                    doc.cash_sales_minor += cash;
                }
                Some(DrawerFlag::UnknownSession) => {}
                Some(flag) => doc.flagged_sales.push(FlaggedSaleDoc {
                    sale_id: sale_id.to_owned(),
                    flag,
                    cash_minor: cash,
                    occurred_at,
                    recorded_at,
                }),
            })?;
        }
        Ok(())
    }

    fn sale_voided(&mut self, e: &SaleVoided) -> Result<(), FoldError> {
        let sale_id = e.sale_id.as_str();
        let Some(sale) = self.sale_view(sale_id)? else {
            return Err(invariant(format!("void of unknown sale {sale_id}")));
        };
        if self.sale_pending(sale_id) {
            if sale.void.is_some() {
                return Err(invariant(format!("sale {sale_id} is already voided")));
            }
            if !sale.refunds.is_empty() {
                return Err(invariant(format!("sale {sale_id} has refunds and cannot be voided")));
            }
            let mut doc = sale.clone();
            doc.status = SaleStatus::Voided;
            doc.void = Some(VoidDoc {
                reason: e.reason.clone(),
                voided_by: self.event.envelope.actor.label(),
                voided_at: self.at(),
                business_date: business_date(e.business_date, self.at()),
                sequence: self.seq,
            });
            self.sales.insert(sale_id.to_owned(), doc);
        }
        for line in &sale.lines {
            let (sku, units) = PackDoc::stock_of(line.pack.as_ref(), &line.sku, line.quantity);
            self.move_stock(
                sku,
                &sale.location,
                Delta::by(TransactionKind::Void, units, sale_id, None).valued(line.cost_minor),
            )?;
        }
        let date = business_date(e.business_date, self.at());
        let voided_cash = sale
            .tenders
            .iter()
            .filter(|t| t.kind == TenderKind::Cash)
            .map(|t| t.amount_minor)
            .sum::<i64>()
            - sale.change_minor;
        let amendment = self.amendment(AmendmentKind::Void, sale_id, -sale.total_minor, -voided_cash);
        let seq = self.seq;
        if let Some(day) = self.daily(&date, &sale.location, &sale.currency)? {
            if day.closed_before(seq) {
                day.amendments.push(amendment);
            }
            let net = sale.subtotal_minor - sale.discount_total_minor;
            let mut tenders = TenderTotals::default();
            for tender in &sale.tenders {
                tenders.add(tender.kind, tender.amount_minor);
            }
            tenders.cash -= sale.change_minor;
            day.voids
                .add(net, sale.tax_total_minor, sale.deposit_total_minor, &tenders);
            let taxes = sale.lines.iter().flat_map(|l| &l.taxes);
            if date == sale.business_date {
                // Voided on its own day: it never was takings of that day.
                day.sale_count -= 1;
                day.gross_minor -= sale.subtotal_minor;
                day.discounts_minor -= sale.discount_total_minor;
                day.net_minor -= net;
                day.tax_minor -= sale.tax_total_minor;
                day.deposits_minor -= sale.deposit_total_minor;
                day.total_minor -= sale.total_minor;
                day.tenders.add_all(&tenders, -1);
                for tax in taxes {
                    TaxLiabilityDoc::add(&mut day.tax_liability, tax, -1, false);
                }
                if sale.pricing.as_ref().is_some_and(|p| !p.exceptions.is_empty()) {
                    day.exception_sale_count -= 1;
                }
                if sale.backdate_reason.is_some() {
                    day.backdated_sale_count -= 1;
                }
            } else {
                // A sale of an earlier day: that day keeps it; this day pays it back.
                day.earlier_day_voids
                    .add(net, sale.tax_total_minor, sale.deposit_total_minor, &tenders);
                for tax in taxes {
                    TaxLiabilityDoc::add(&mut day.tax_liability, tax, 1, true);
                }
            }
            day.settle();
        }
        if let Some(session) = &e.drawer_session_id {
            self.on_drawer(session.as_str(), |doc| {
                doc.cash_void_count += 1;
                doc.cash_voids_minor += voided_cash;
            })?;
        }
        Ok(())
    }

    fn sale_refunded(&mut self, e: &SaleRefunded) -> Result<(), FoldError> {
        let sale_id = e.sale_id.as_str();
        let Some(sale) = self.sale_view(sale_id)? else {
            return Err(invariant(format!("refund of unknown sale {sale_id}")));
        };
        if self.sale_pending(sale_id) {
            if sale.void.is_some() {
                return Err(invariant(format!("refund of voided sale {sale_id}")));
            }
            if sale.refunds.iter().any(|r| r.refund_id == e.refund_id.as_str()) {
                return Err(invariant(format!("refund {} of sale {sale_id} exists", e.refund_id)));
            }
            let mut doc = sale.clone();
            for line in &e.lines {
                let sold = doc
                    .lines
                    .iter_mut()
                    .find(|l| l.line_no == i64::from(line.line_no))
                    .ok_or_else(|| invariant(format!("sale {sale_id} has no line {}", line.line_no)))?;
                if sold.sku != line.sku.as_str()
                    || sold.refunded_quantity + line.quantity > sold.quantity
                    || line.quantity <= 0
                {
                    return Err(invariant(format!(
                        "refund line {} does not fit sale {sale_id}",
                        line.line_no
                    )));
                }
                sold.refunded_quantity += line.quantity;
                sold.refunded_amount_minor += line.amount_minor;
                sold.refunded_tax_minor += line.tax_minor;
                sold.refunded_deposit_minor += line.deposit_minor;
            }
            doc.refunds.push(RefundDoc {
                refund_id: e.refund_id.to_string(),
                location: e.location.to_string(),
                lines: e
                    .lines
                    .iter()
                    .map(|l| RefundLineDoc {
                        line_no: i64::from(l.line_no),
                        sku: l.sku.to_string(),
                        quantity: l.quantity,
                        amount_minor: l.amount_minor,
                        tax_minor: l.tax_minor,
                        deposit_minor: l.deposit_minor,
                    })
                    .collect(),
                total_minor: e.total_minor,
                tenders: e.tenders.iter().map(tender_doc).collect(),
                restock: e.restock,
                reason: e.reason.clone(),
                refunded_by: self.event.envelope.actor.label(),
                refunded_at: self.at(),
                business_date: business_date(e.business_date, self.at()),
                sequence: self.seq,
            });
            doc.refunded_total_minor += e.total_minor;
            let fully = doc.lines.iter().all(|l| l.refunded_quantity == l.quantity);
            doc.status = if fully {
                SaleStatus::Refunded
            } else {
                SaleStatus::PartiallyRefunded
            };
            self.sales.insert(sale_id.to_owned(), doc);
        }
        let already_applied = !self.sale_pending(sale_id);
        if e.restock {
            for line in &e.lines {
                // The items come back, in the base product's units, with their share of
                // the line's cost of goods.
                let sold = sale.lines.iter().find(|l| l.line_no == i64::from(line.line_no));
                let (sku, units) =
                    PackDoc::stock_of(sold.and_then(|l| l.pack.as_ref()), line.sku.as_str(), line.quantity);
                let cost = sold.map_or(0, |sold| {
                    let before = if already_applied {
                        sold.refunded_quantity - line.quantity
                    } else {
                        sold.refunded_quantity
                    };
                    refunded_share(sold.cost_minor, sold.quantity, before, line.quantity)
                });
                self.move_stock(
                    sku,
                    e.location.as_str(),
                    Delta::by(TransactionKind::Refund, units, e.refund_id.as_str(), None).valued(cost),
                )?;
            }
        }
        let date = business_date(e.business_date, self.at());
        let refunded_cash = cash_of(&e.tenders);
        let amendment = self.amendment(
            AmendmentKind::Refund,
            e.refund_id.as_str(),
            -e.total_minor,
            -refunded_cash,
        );
        let seq = self.seq;
        if let Some(day) = self.daily(&date, e.location.as_str(), e.currency.code())? {
            if day.closed_before(seq) {
                day.amendments.push(amendment);
            }
            let tax: i64 = e.lines.iter().map(|l| l.tax_minor).sum();
            let deposit: i64 = e.lines.iter().map(|l| l.deposit_minor).sum();
            let mut tenders = TenderTotals::default();
            for tender in &e.tenders {
                tenders.add(tender.kind.into(), tender.amount_minor);
            }
            day.refunds.add(e.total_minor - tax - deposit, tax, deposit, &tenders);
            // The taxes the refunded items carried go back in the shares of
            // `refunded_share`; `sale` is the document before this refund unless the
            // refund was applied to it already (a redelivery).
            for line in &e.lines {
                let Some(sold) = sale.lines.iter().find(|l| l.line_no == i64::from(line.line_no)) else {
                    continue;
                };
                let before = if already_applied {
                    sold.refunded_quantity - line.quantity
                } else {
                    sold.refunded_quantity
                };
                for tax in &sold.taxes {
                    let mut back = tax.clone();
                    back.amount_minor = refunded_share(tax.amount_minor, sold.quantity, before, line.quantity);
                    TaxLiabilityDoc::add(&mut day.tax_liability, &back, 1, true);
                }
            }
            day.settle();
        }
        if let Some(session) = &e.drawer_session_id {
            self.on_drawer(session.as_str(), |doc| {
                doc.cash_refund_count += 1;
                doc.cash_refunds_minor += refunded_cash;
            })?;
        }
        Ok(())
    }

    /// Moves the staged documents into the snapshot and records what changed.
    fn commit(self, changes: &mut Changes) {
        let (seq, at) = (self.seq, self.at());
        for (id, mut doc) in self.products {
            doc.refresh_flags();
            doc.last_seq = seq;
            doc.updated_at = at;
            self.snapshot.products.insert(id.clone(), doc);
            changes.products.insert(id);
        }
        for (id, mut doc) in self.sales {
            doc.last_seq = seq;
            self.snapshot.sales.insert(id.clone(), doc);
            changes.sales.insert(id);
        }
        for (id, mut doc) in self.daily {
            doc.last_seq = seq;
            self.snapshot.daily.insert(id.clone(), doc);
            changes.daily.insert(id);
        }
        for (id, mut doc) in self.users {
            doc.last_seq = seq;
            self.snapshot.users.insert(id.clone(), doc);
            changes.users.insert(id);
        }
        for (id, mut doc) in self.drawers {
            doc.last_seq = seq;
            self.snapshot.drawers.insert(id.clone(), doc);
            changes.drawers.insert(id);
        }
        for (id, mut doc) in self.locations {
            doc.last_seq = seq;
            doc.version = seq;
            self.snapshot.locations.insert(id.clone(), doc);
            changes.locations.insert(id);
        }
        for (id, mut doc) in self.promotions {
            doc.last_seq = seq;
            doc.version = seq;
            self.snapshot.promotions.insert(id.clone(), doc);
            changes.promotions.insert(id);
        }
        for (id, mut doc) in self.suppliers {
            doc.last_seq = seq;
            doc.version = seq;
            self.snapshot.suppliers.insert(id.clone(), doc);
            changes.suppliers.insert(id);
        }
        for (id, mut doc) in self.purchase_orders {
            doc.last_seq = seq;
            doc.version = seq;
            self.snapshot.purchase_orders.insert(id.clone(), doc);
            changes.purchase_orders.insert(id);
        }
        changes.transactions.extend(self.transactions);
    }
}

/// How many units move.
enum Amount {
    /// By a signed quantity.
    By(i64),
    /// To an absolute quantity (a count).
    SetTo(i64),
}

/// What the units of a movement are worth.
enum Valued {
    /// The location's moving average cost (see [`at_average`]).
    AtAverage,
    /// This much, minor units, signed like the quantity (a receipt's cost, a void's cost
    /// of goods coming back, a transfer's value from its source).
    Known(i64),
}

/// A stock movement to record.
struct Delta<'a> {
    kind: TransactionKind,
    amount: Amount,
    reference: &'a str,
    reason: Option<&'a str>,
    value: Valued,
}

impl<'a> Delta<'a> {
    fn by(kind: TransactionKind, quantity: i64, reference: &'a str, reason: Option<&'a str>) -> Self {
        Self {
            kind,
            amount: Amount::By(quantity),
            reference,
            reason,
            value: Valued::AtAverage,
        }
    }

    /// The movement's units are worth `value` rather than the average.
    fn valued(self, value: i64) -> Self {
        Self {
            value: Valued::Known(value),
            ..self
        }
    }
}

/// The change of value when `quantity` units move at moving average cost, from `before`
/// units worth `value_before` whose last average was `unit_cost`.
///
/// Units leaving positive stock take their proportional share of its value, rounded half
/// up (`value_before × out / before`), and all of it when the stock is emptied, so the
/// value never drifts from the units; units beyond the stock (selling into negative) and
/// units arriving without a cost of their own (an adjustment or count upwards) are valued
/// at the last average.
fn at_average(quantity: i64, before: i64, value_before: i64, unit_cost: i64) -> i64 {
    if quantity >= 0 {
        return quantity.saturating_mul(unit_cost);
    }
    let out = -quantity;
    if before <= 0 {
        return -out.saturating_mul(unit_cost);
    }
    if out >= before {
        return -(value_before + (out - before).saturating_mul(unit_cost));
    }
    -divide_half_up_wide(i128::from(value_before) * i128::from(out), i128::from(before))
}

/// `value / units` (units > 0), rounded half up.
fn divide_half_up(value: i64, units: i64) -> i64 {
    divide_half_up_wide(i128::from(value), i128::from(units))
}

fn divide_half_up_wide(numerator: i128, denominator: i128) -> i64 {
    i64::try_from(events::tax::RoundingMode::HalfUp.divide(numerator, denominator)).unwrap_or(0)
}

fn registered(product: &ProductDoc) -> Result<(), FoldError> {
    if product.status == ProductStatus::Unregistered {
        Err(invariant(format!("product {} is not registered", product.sku)))
    } else {
        Ok(())
    }
}

/// A supplier item as its document stores it.
fn supplier_line(item: &events::event::SupplierItem) -> SupplierLineDoc {
    SupplierLineDoc {
        sku: item.sku.to_string(),
        supplier_code: item.supplier_code.clone(),
        case_size: item.case_size,
        case_cost: MoneyDoc::from(item.case_cost),
        lead_time_days: item.lead_time_days,
        pack_sku: item.pack_sku.as_ref().map(ToString::to_string),
    }
}

/// A purchase order as drafted, nothing arrived.
fn drafted_order(e: &PurchaseOrderDrafted, at: DateTime<Utc>) -> PurchaseOrderDoc {
    PurchaseOrderDoc {
        po_id: e.po_id.to_string(),
        supplier_id: e.supplier_id.to_string(),
        location: e.location.to_string(),
        status: PurchaseOrderStatus::Draft,
        expected_on: e.expected_on.map(|d| d.format("%Y-%m-%d").to_string()),
        lines: e
            .lines
            .iter()
            .map(|line| PurchaseOrderLineDoc {
                line_no: i64::from(line.line_no),
                sku: line.sku.to_string(),
                supplier_code: line.supplier_code.clone(),
                cases: line.cases,
                case_size: line.case_size,
                case_cost: MoneyDoc::from(line.case_cost),
                pack_sku: line.pack_sku.as_ref().map(ToString::to_string),
                cases_delivered: 0,
                cases_damaged: 0,
                cases_over: 0,
                units_accepted: 0,
            })
            .collect(),
        receipts: Vec::new(),
        cancel_reason: None,
        drafted_at: at,
        updated_at: at,
        version: 0,
        last_seq: 0,
    }
}

/// A delivery against `doc`: what arrived of each line, the delivery, the new status.
fn order_received(doc: &mut PurchaseOrderDoc, e: &PurchaseOrderReceived, at: DateTime<Utc>) -> Result<(), FoldError> {
    let mut receipt = PurchaseReceiptDoc {
        receipt_id: e.receipt_id.to_string(),
        reference: e.reference.clone(),
        cases_received: 0,
        cases_damaged: 0,
        units_accepted: 0,
        received_at: at,
    };
    for received in &e.lines {
        let line = doc
            .lines
            .iter_mut()
            .find(|l| l.line_no == i64::from(received.line_no))
            .ok_or_else(|| invariant(format!("purchase order {} has no line {}", e.po_id, received.line_no)))?;
        line.cases_delivered += received.cases_received;
        line.cases_damaged += received.cases_damaged;
        line.cases_over += received.cases_over;
        line.units_accepted += received.units_accepted;
        receipt.cases_received += received.cases_received;
        receipt.cases_damaged += received.cases_damaged;
        receipt.units_accepted += received.units_accepted;
    }
    doc.receipts.push(receipt);
    doc.status = e.status;
    Ok(())
}

fn set_promotion_details(doc: &mut PromotionDoc, details: &PromotionDetails) {
    doc.name = details.name.clone();
    doc.currency = details.currency.code().to_owned();
    doc.rule = details.rule.clone();
    doc.starts_at = details.starts_at;
    doc.ends_at = details.ends_at;
    doc.locations = details.locations.iter().map(ToString::to_string).collect();
    doc.stackable = details.stackable;
}

fn set_location_details(doc: &mut LocationDoc, details: &LocationDetails) {
    doc.name = details.name.clone();
    doc.address = details.address.as_ref().map(|a| AddressDoc {
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        region: a.region.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
    });
    doc.time_zone = details.time_zone.to_string();
    doc.business_day_start = details.business_day_start.to_string();
    doc.currency = details.currency.code().to_owned();
    doc.tax_jurisdiction = details.tax_jurisdiction.as_ref().map(ToString::to_string);
    doc.prices_include_tax = details.prices_include_tax;
}

fn set_details(product: &mut ProductDoc, details: &events::event::ProductDetails) {
    product.name = Some(details.name.clone());
    product.category = Some(details.category.clone());
    product.tax_class = Some(details.tax_class.clone());
    product.barcodes = details.barcodes.clone();
    product.minimum_age = details.age_restriction.map(|a| i32::from(a.minimum_age));
    product.reorder_point = details.reorder_point;
    product.base_unit = details.base_unit.clone();
    product.volume_ml = details.container.as_ref().map(|c| i64::from(c.volume_ml));
    product.container_type = details.container.as_ref().map(|c| c.container_type.to_string());
    product.containers_per_item = details.container.as_ref().map(|c| i64::from(c.units));
    product.abv_basis_points = details.abv_basis_points.map(i32::from);
    product.pack = details.pack.as_ref().map(PackDoc::from);
}

/// The cash tendered among `tenders` (before change).
fn cash_of(tenders: &[events::event::Tender]) -> i64 {
    tenders
        .iter()
        .filter(|t| t.kind == events::event::TenderKind::Cash)
        .map(|t| t.amount_minor)
        .sum()
}

fn tender_doc(tender: &events::event::Tender) -> TenderDoc {
    TenderDoc {
        kind: TenderKind::from(tender.kind),
        amount_minor: tender.amount_minor,
        reference: tender.reference.clone(),
    }
}

/// The server's pricing of line `line_no` of `sale`, if it priced it.
fn priced_line(sale: &SaleCompleted, line_no: u32) -> Option<&events::event::LinePricing> {
    sale.pricing.as_ref()?.lines.iter().find(|l| l.line_no == line_no)
}

/// The part of `amount` (of a line of `quantity` items) that returning `returned` more
/// items after `before` gives back: shared cumulatively, rounded half up, so the parts of
/// a line returned in any number of refunds add up to `amount` exactly (the rule of
/// `pricing::refund_share`).
fn refunded_share(amount: i64, quantity: i64, before: i64, returned: i64) -> i64 {
    if quantity <= 0 {
        return 0;
    }
    let after =
        |k: i64| events::tax::RoundingMode::HalfUp.divide(i128::from(amount) * i128::from(k), i128::from(quantity));
    i64::try_from(after(before + returned) - after(before)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_leave_with_their_share_of_the_value_and_arrive_at_the_last_average() {
        // 60 units worth 72000: 10 leave with 72000 × 10 / 60 = 12000.
        assert_eq!(at_average(-10, 60, 72_000, 1200), -12_000);
        // 118 worth 147600: 18 leave with 22515.25 → 22515.
        assert_eq!(at_average(-18, 118, 147_600, 1251), -22_515);
        // Emptying the stock takes all of its value, whatever the rounding.
        assert_eq!(at_average(-7, 7, 1001, 143), -1001);
        // Beyond the stock, and from nothing, at the last average.
        assert_eq!(at_average(-5, 2, 300, 150), -(300 + 3 * 150));
        assert_eq!(at_average(-2, 0, 0, 150), -300);
        // An adjustment upwards at the last average.
        assert_eq!(at_average(3, 10, 1500, 150), 450);
        assert_eq!(divide_half_up(147_600, 118), 1251);
        assert_eq!(divide_half_up(90_000, 70), 1286);
    }
}
