//! Encoding and decoding an envelope: done once per command (API) and once per event
//! applied (projector, replay). `cargo bench -p events`.

#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use chrono::Utc;
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use events::event::{SaleCompleted, SaleLine, Tender, TenderKind};
use events::{Actor, Currency, EventEnvelope, LocationId, Role, SaleId, Sku, TenantId, TerminalId, UserId};
use uuid::Uuid;

fn sale() -> EventEnvelope {
    let lines: Vec<SaleLine> = (1..=3)
        .map(|n| SaleLine {
            line_no: n,
            sku: Sku::parse(format!("SKU-{n}")).expect("literal sku"),
            quantity: 2,
            unit_price_minor: 1299,
            discount_minor: 0,
            tax_minor: 208,
            deposit_minor: 0,
            total_minor: 2806,
            minimum_age: Some(21),
            pack: None,
        })
        .collect();
    EventEnvelope {
        event_id: Uuid::now_v7(),
        tenant_id: TenantId::parse("507f1f77bcf86cd799439011").expect("literal tenant"),
        occurred_at: Utc::now(),
        recorded_at: Utc::now(),
        actor: Actor {
            user_id: Some(UserId::parse("cashier-1").expect("id")),
            api_key_id: None,
            role: Role::Cashier,
            terminal_id: Some(TerminalId::parse("till-1").expect("id")),
        },
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        idempotency_key: "0190c2d8-5b7e-7c1a-9f00-1234567890ab".into(),
        event: SaleCompleted {
            backdate_reason: None,
            business_date: None,
            drawer_session_id: None,
            sale_id: SaleId::parse("0190c2d8-5b7e-7c1a-9f00-1234567890ab").expect("id"),
            terminal_id: TerminalId::parse("till-1").expect("id"),
            location: LocationId::parse("main").expect("id"),
            cashier_id: UserId::parse("cashier-1").expect("id"),
            currency: Currency::USD,
            lines,
            subtotal_minor: 7794,
            discount_total_minor: 0,
            tax_total_minor: 624,
            deposit_total_minor: 0,
            total_minor: 8418,
            tenders: vec![Tender {
                kind: TenderKind::Cash,
                amount_minor: 9000,
                reference: None,
            }],
            change_minor: 582,
            age_verification: None,
            pricing: None,
        }
        .into(),
    }
}

fn envelope(c: &mut Criterion) {
    let envelope = sale();
    let bytes = events::encode(&envelope).expect("encodes");
    c.bench_function("encode SaleCompleted (3 lines)", |b| {
        b.iter(|| events::encode(black_box(&envelope)))
    });
    c.bench_function("decode SaleCompleted (3 lines)", |b| {
        b.iter(|| events::decode(black_box(&bytes)))
    });
}

criterion_group!(benches, envelope);
criterion_main!(benches);
