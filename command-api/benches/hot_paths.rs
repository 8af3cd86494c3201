//! The command API's per-request pure work: verifying a JWT, validating a sale and
//! fingerprinting it.
//! `cargo bench -p command-api`.

#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use std::collections::HashMap;

use chrono::Utc;
use clap::Parser;
use command_api::auth::{JwtKeys, TenantContext};
use command_api::commands::sales::complete::{self as sale, CompleteSale};
use command_api::config::Cli;
use command_api::identity::TokenIssuer;
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use events::{Role, TenantId, TerminalId, UserId};

const SECRET: &str = "benchmark-secret-that-is-long-enough-0123456789";

fn hot_paths(c: &mut Criterion) {
    let cli = Cli::parse_from(["command-api", "--jwt-secret", SECRET]);
    let keys = JwtKeys::from_config(&cli.config).expect("keys");
    let tenant = TenantId::parse("507f1f77bcf86cd799439011").expect("a valid tenant id");
    let token = TokenIssuer::from_config(&cli.config)
        .token(&tenant, "cashier-1", Role::Cashier, Some("till-1"))
        .expect("signs");
    c.bench_function("verify HS256 access token", |b| {
        b.iter(|| keys.verify_uncached(black_box(&token)))
    });
    c.bench_function("verify a remembered access token", |b| {
        b.iter(|| keys.verify(black_box(&token)))
    });

    let body = serde_json::json!({
        "sale_id": "0190c2d8-5b7e-7c1a-9f00-1234567890ab", "location": "main", "currency": "USD",
        "lines": [
            {"sku": "SKU-1", "quantity": 2, "unit_price_minor": 1299, "tax_minor": 208},
            {"sku": "SKU-2", "quantity": 1, "unit_price_minor": 2599, "discount_minor": 100, "tax_minor": 200},
            {"sku": "SKU-3", "quantity": 6, "unit_price_minor": 199, "tax_minor": 96}
        ],
        "subtotal_minor": 6391, "discount_total_minor": 100, "tax_total_minor": 504, "total_minor": 6795,
        "tenders": [{"kind": "cash", "amount_minor": 7000}], "change_minor": 205
    });
    let raw = serde_json::to_vec(&body).expect("json");
    let context = TenantContext {
        tenant: TenantId::parse("507f1f77bcf86cd799439011").expect("tenant"),
        user_id: Some(UserId::parse("cashier-1").expect("user")),
        api_key_id: None,
        role: Role::Cashier,
        terminal_id: Some(TerminalId::parse("till-1").expect("terminal")),
        locations: None,
        limited_since: None,
    };
    let ages = HashMap::new();
    c.bench_function("parse + validate a 3-line sale", |b| {
        b.iter(|| {
            let command: CompleteSale = command_api::extract::json::parse(black_box(&raw)).expect("parses");
            sale::decide(&command, &context, &ages, Utc::now()).expect("valid")
        })
    });
    let command: CompleteSale = command_api::extract::json::parse(&raw).expect("parses");
    c.bench_function("fingerprint a 3-line sale", |b| {
        b.iter(|| command_api::commands::meta::fingerprint("CompleteSale", black_box(&command)))
    });
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
