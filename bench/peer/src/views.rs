//! The peer's read model, updated in the request after the event is committed (cqrs-es
//! dispatches every query once the append succeeded):
//! - `sale_view`: one JSON document per sale, through cqrs-es's `GenericQuery` over
//!   postgres-es's `PostgresViewRepository` (select, then insert or versioned update);
//! - `stock`: units sold and on hand per tenant and SKU, one upsert per sale for all its
//!   lines.
//!
//! Tillstream's projector writes more per sale (the day's totals, the transactions); the
//! peer's read model is the smaller one.

use async_trait::async_trait;
use cqrs_es::{EventEnvelope, Query, View};
use serde::{Deserialize, Serialize};
use sqlx::{Pool, Postgres};

use crate::sale::{Sale, SaleEvent, SaleLine};

/// The schema: postgres-es's `events` and `snapshots` tables (from its `db/init.sql`) and
/// the two read-model tables.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS events (
        aggregate_type text NOT NULL,
        aggregate_id text NOT NULL,
        sequence bigint CHECK (sequence >= 0) NOT NULL,
        event_type text NOT NULL,
        event_version text NOT NULL,
        payload json NOT NULL,
        metadata json NOT NULL,
        PRIMARY KEY (aggregate_type, aggregate_id, sequence))",
    "CREATE TABLE IF NOT EXISTS snapshots (
        aggregate_type text NOT NULL,
        aggregate_id text NOT NULL,
        last_sequence bigint CHECK (last_sequence >= 0) NOT NULL,
        current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
        payload json NOT NULL,
        PRIMARY KEY (aggregate_type, aggregate_id, last_sequence))",
    "CREATE TABLE IF NOT EXISTS sale_view (
        view_id text NOT NULL PRIMARY KEY,
        version bigint CHECK (version >= 0) NOT NULL,
        payload json NOT NULL)",
    "CREATE TABLE IF NOT EXISTS stock (
        tenant text NOT NULL,
        sku text NOT NULL,
        sold bigint NOT NULL,
        on_hand bigint NOT NULL,
        PRIMARY KEY (tenant, sku))",
];

/// A sale as `GET /v1/sales/{id}` shows it.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct SaleView {
    /// The sale.
    pub sale_id: String,
    /// The till.
    pub terminal_id: String,
    /// The store.
    pub location: String,
    /// The cashier.
    pub cashier_id: String,
    /// Currency.
    pub currency: String,
    /// Lines.
    pub lines: Vec<SaleLine>,
    /// Total.
    pub total_minor: i64,
    /// `completed`.
    pub status: String,
    /// When it happened (RFC 3339).
    pub occurred_at: String,
}

impl View<Sale> for SaleView {
    fn update(&mut self, event: &EventEnvelope<Sale>) {
        match &event.payload {
            SaleEvent::SaleCompleted(sale) => {
                *self = SaleView {
                    sale_id: sale.sale_id.clone(),
                    terminal_id: sale.terminal_id.clone(),
                    location: sale.location.clone(),
                    cashier_id: sale.cashier_id.clone(),
                    currency: sale.currency.clone(),
                    lines: sale.lines.clone(),
                    total_minor: sale.total_minor,
                    status: "completed".to_owned(),
                    occurred_at: sale.occurred_at.to_rfc3339(),
                };
            }
        }
    }
}

/// Stock per tenant and SKU: each sale takes its lines' units off hand in one statement.
pub struct StockQuery {
    pool: Pool<Postgres>,
}

impl StockQuery {
    /// Writes through `pool`.
    pub fn new(pool: Pool<Postgres>) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl Query<Sale> for StockQuery {
    async fn dispatch(&self, _aggregate_id: &str, events: &[EventEnvelope<Sale>]) {
        for event in events {
            let SaleEvent::SaleCompleted(sale) = &event.payload;
            let skus: Vec<&str> = sale.lines.iter().map(|l| l.sku.as_str()).collect();
            let units: Vec<i64> = sale.lines.iter().map(|l| l.quantity).collect();
            let result = sqlx::query(
                "INSERT INTO stock (tenant, sku, sold, on_hand)
                 SELECT $1, sku, sum(units), -sum(units) FROM unnest($2::text[], $3::bigint[]) AS l(sku, units)
                 GROUP BY sku ORDER BY sku
                 ON CONFLICT (tenant, sku) DO UPDATE
                 SET sold = stock.sold + excluded.sold, on_hand = stock.on_hand + excluded.on_hand",
            )
            .bind(&sale.tenant)
            .bind(&skus)
            .bind(&units)
            .execute(&self.pool)
            .await;
            if let Err(error) = result {
                tracing::error!(%error, sale = %sale.sale_id, "stock update failed");
            }
        }
    }
}
