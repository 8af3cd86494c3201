//! Seeded streams of realistic, valid, mixed events for one tenant: catalog changes, stock
//! receipts, adjustments, counts, transfers, sales (some age-restricted), voids, partial
//! refunds and user changes. The same seed always yields the same events (ids included),
//! so two runs can be compared document for document.

use anyhow::Context;
use async_nats::HeaderMap;
use async_nats::jetstream;
use chrono::{DateTime, Duration, TimeZone, Utc};
use events::event::*;
use events::{
    Actor, Currency, EventEnvelope, LocationId, Money, MovementId, RefundId, Role, SaleId, Sku, SubjectScheme,
    TenantId, TerminalId, UserId, headers,
};
use uuid::Uuid;

/// A small deterministic random generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    /// Seeded; seed 0 is replaced by a fixed non-zero value.
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

struct SoldSale {
    id: SaleId,
    location: LocationId,
    /// (line_no, sku, quantity, total, tax)
    lines: Vec<(u32, Sku, i64, i64, i64)>,
    refunded: Vec<i64>,
    voided: bool,
    refunds: u32,
}

fn id<T: std::str::FromStr>(text: String) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("generated ids are valid")
}

/// A product as the generator tracks it.
#[derive(Clone)]
struct Product {
    sku: Sku,
    price: i64,
    minimum_age: Option<u8>,
    discontinued: bool,
}

/// `count` valid events of `tenant`, seeded by `seed`.
pub fn mixed_events(tenant: &TenantId, seed: u64, count: usize) -> Vec<EventEnvelope> {
    let mut rng = Rng::new(seed);
    let mut clock: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).single().expect("valid date");
    let locations: [LocationId; 2] = [id("main".into()), id("annex".into())];
    let users: [(UserId, Role); 3] = [
        (id("u-admin".into()), Role::Admin),
        (id("u-manager".into()), Role::Manager),
        (id("u-cashier".into()), Role::Cashier),
    ];
    let (admin, manager, cashier) = (0usize, 1usize, 2usize);
    let mut out: Vec<EventEnvelope> = Vec::with_capacity(count);
    let mut products: Vec<Product> = Vec::new();
    let mut sales: Vec<SoldSale> = Vec::new();
    let mut pending: Vec<(usize, DomainEvent)> = users
        .iter()
        .map(|(user, role)| {
            (
                admin,
                UserJoined {
                    user_id: user.clone(),
                    name: format!("User {user}"),
                    email: format!("{user}@example.com"),
                    role: *role,
                }
                .into(),
            )
        })
        .collect();

    let mut iteration = 0u64;
    while out.len() < count {
        for (actor, event) in pending.drain(..) {
            clock += Duration::seconds(1 + rng.below(120) as i64);
            let n = out.len() as u128 + 1;
            let bits = (u128::from(seed) << 64) | n;
            let (user_id, role) = users[actor].clone();
            out.push(EventEnvelope {
                event_id: Uuid::from_u128(bits),
                tenant_id: tenant.clone(),
                occurred_at: clock,
                recorded_at: clock + Duration::milliseconds(250),
                actor: Actor {
                    user_id: Some(user_id),
                    api_key_id: None,
                    role,
                    terminal_id: Some(id("till-1".into())),
                },
                correlation_id: Uuid::from_u128(bits ^ 0xC0FFEE),
                causation_id: None,
                idempotency_key: format!("k-{seed}-{n}"),
                event,
            });
        }
        iteration += 1;
        let number = iteration;
        let roll = rng.below(100);
        if products.len() < 3 || roll < 6 {
            let sku: Sku = id(format!("SKU-{}", products.len() + 1));
            let price = 500 + rng.below(5000) as i64;
            let minimum_age = if rng.chance(40) { Some(21) } else { None };
            let details = ProductDetails {
                container: None,
                name: format!("Product {sku}"),
                category: ["wine", "beer", "spirits", "snacks"][rng.below(4) as usize].to_owned(),
                tax_class: "standard".into(),
                barcodes: vec![format!("{:013}", 4_000_000_000_000u64 + products.len() as u64)],
                age_restriction: minimum_age.map(|minimum_age| AgeRestriction { minimum_age }),
                reorder_point: Some(rng.below(10) as i64),
                base_unit: None,
                abv_basis_points: None,
                pack: None,
            };
            pending.push((
                manager,
                ProductRegistered {
                    sku: sku.clone(),
                    details,
                    price: Money::new(price, Currency::USD),
                }
                .into(),
            ));
            products.push(Product {
                sku,
                price,
                minimum_age,
                discontinued: false,
            });
            continue;
        }
        let pick = rng.below(products.len() as u64) as usize;
        let product = products[pick].clone();
        let sku = product.sku.clone();
        let location = locations[rng.below(2) as usize].clone();
        let movement_id: MovementId = id(format!("m-{seed}-{number}"));
        let event: Option<(usize, DomainEvent)> = match roll {
            6..=15 => Some((
                manager,
                StockReceived {
                    movement_id,
                    sku,
                    location,
                    quantity: 1 + rng.below(48) as i64,
                    unit_cost: Money::new(product.price / 2, Currency::USD),
                    supplier: "Supplier".into(),
                    reference: format!("PO-{number}"),
                    pack: None,
                }
                .into(),
            )),
            16..=19 => Some((
                manager,
                StockAdjusted {
                    movement_id,
                    sku,
                    location,
                    quantity_delta: -(1 + rng.below(3) as i64),
                    reason: [
                        AdjustmentReason::Breakage,
                        AdjustmentReason::Theft,
                        AdjustmentReason::Spoilage,
                    ][rng.below(3) as usize],
                    note: None,
                }
                .into(),
            )),
            20..=22 => Some((
                manager,
                StockCounted {
                    movement_id,
                    sku,
                    location,
                    counted_quantity: rng.below(30) as i64,
                    count_session: Some("weekly".into()),
                }
                .into(),
            )),
            23..=25 => Some((
                manager,
                StockTransferred {
                    movement_id,
                    sku,
                    from_location: locations[0].clone(),
                    to_location: locations[1].clone(),
                    quantity: 1 + rng.below(5) as i64,
                    reference: None,
                }
                .into(),
            )),
            26..=27 if !product.discontinued => {
                let price = 500 + rng.below(5000) as i64;
                products[pick].price = price;
                Some((
                    manager,
                    ProductPriceChanged {
                        sku,
                        price: Money::new(price, Currency::USD),
                        previous_price: Some(Money::new(product.price, Currency::USD)),
                        location: None,
                        effective_from: None,
                    }
                    .into(),
                ))
            }
            28 if !product.discontinued && products.len() > 6 => {
                products[pick].discontinued = true;
                Some((
                    manager,
                    ProductDiscontinued {
                        sku,
                        reason: Some("end of line".into()),
                    }
                    .into(),
                ))
            }
            29..=33 if !sales.is_empty() => {
                let index = sales.len() - 1 - rng.below(sales.len().min(20) as u64) as usize;
                let void = rng.chance(40);
                let sale = &mut sales[index];
                if sale.voided {
                    None
                } else if sale.refunds == 0 && void {
                    sale.voided = true;
                    Some((
                        manager,
                        SaleVoided {
                            business_date: None,
                            drawer_session_id: None,
                            sale_id: sale.id.clone(),
                            reason: "customer changed mind".into(),
                        }
                        .into(),
                    ))
                } else {
                    let mut lines = Vec::new();
                    for (i, (line_no, sku, quantity, total, tax)) in sale.lines.iter().enumerate() {
                        let left = quantity - sale.refunded[i];
                        if left > 0 && rng.chance(60) {
                            let q = 1 + rng.below(left as u64) as i64;
                            sale.refunded[i] += q;
                            lines.push(RefundLine {
                                line_no: *line_no,
                                sku: sku.clone(),
                                quantity: q,
                                amount_minor: total * q / quantity,
                                tax_minor: tax * q / quantity,
                                deposit_minor: 0,
                            });
                        }
                    }
                    if lines.is_empty() {
                        None
                    } else {
                        sale.refunds += 1;
                        let total_minor = lines.iter().map(|l| l.amount_minor).sum();
                        Some((
                            manager,
                            SaleRefunded {
                                business_date: None,
                                drawer_session_id: None,
                                sale_id: sale.id.clone(),
                                refund_id: id::<RefundId>(format!("r-{seed}-{number}")),
                                location: sale.location.clone(),
                                currency: Currency::USD,
                                lines,
                                total_minor,
                                tenders: vec![Tender {
                                    kind: TenderKind::Cash,
                                    amount_minor: total_minor,
                                    reference: None,
                                }],
                                restock: rng.chance(70),
                                reason: "returned".into(),
                            }
                            .into(),
                        ))
                    }
                }
            }
            34 => {
                let role = [Role::Cashier, Role::Manager][rng.below(2) as usize];
                Some((
                    admin,
                    UserRoleChanged {
                        user_id: users[cashier].0.clone(),
                        role,
                        previous_role: None,
                    }
                    .into(),
                ))
            }
            _ => {
                let mut lines = Vec::new();
                for _ in 0..1 + rng.below(4) {
                    let product = products[rng.below(products.len() as u64) as usize].clone();
                    if product.discontinued {
                        continue;
                    }
                    let quantity = 1 + rng.below(3) as i64;
                    let price = product.price;
                    let discount = if rng.chance(20) { price * quantity / 10 } else { 0 };
                    let tax = (price * quantity - discount) * 8 / 100;
                    lines.push(SaleLine {
                        line_no: lines.len() as u32 + 1,
                        sku: product.sku,
                        quantity,
                        unit_price_minor: price,
                        discount_minor: discount,
                        tax_minor: tax,
                        deposit_minor: 0,
                        total_minor: price * quantity - discount + tax,
                        minimum_age: product.minimum_age,
                        pack: None,
                    });
                }
                if lines.is_empty() {
                    None
                } else {
                    let subtotal: i64 = lines.iter().map(|l| l.quantity * l.unit_price_minor).sum();
                    let discounts: i64 = lines.iter().map(|l| l.discount_minor).sum();
                    let taxes: i64 = lines.iter().map(|l| l.tax_minor).sum();
                    let total = subtotal - discounts + taxes;
                    let cash = rng.chance(50);
                    let tendered = if cash { (total / 1000 + 1) * 1000 } else { total };
                    let restricted = lines.iter().any(|l| l.minimum_age.is_some());
                    let sale_id: SaleId = id(format!("s-{seed}-{number}"));
                    sales.push(SoldSale {
                        id: sale_id.clone(),
                        location: location.clone(),
                        lines: lines
                            .iter()
                            .map(|l| (l.line_no, l.sku.clone(), l.quantity, l.total_minor, l.tax_minor))
                            .collect(),
                        refunded: vec![0; lines.len()],
                        voided: false,
                        refunds: 0,
                    });
                    let cashier_id = users[cashier].0.clone();
                    Some((
                        cashier,
                        SaleCompleted {
                            backdate_reason: None,
                            business_date: None,
                            pricing: None,
                            drawer_session_id: None,
                            sale_id,
                            terminal_id: id::<TerminalId>("till-1".into()),
                            location,
                            cashier_id: cashier_id.clone(),
                            currency: Currency::USD,
                            lines,
                            subtotal_minor: subtotal,
                            discount_total_minor: discounts,
                            tax_total_minor: taxes,
                            deposit_total_minor: 0,
                            total_minor: total,
                            tenders: vec![Tender {
                                kind: if cash { TenderKind::Cash } else { TenderKind::Card },
                                amount_minor: tendered,
                                reference: None,
                            }],
                            change_minor: tendered - total,
                            age_verification: restricted.then_some(AgeVerification {
                                method: AgeVerificationMethod::IdScan,
                                customer_age: 30,
                                verified_by: cashier_id,
                            }),
                        }
                        .into(),
                    ))
                }
            }
        };
        pending.extend(event);
    }
    out.truncate(count);
    out
}

/// The same events for another tenant (same ids, times and payloads).
pub fn for_tenant(events: &[EventEnvelope], tenant: &TenantId) -> Vec<EventEnvelope> {
    events
        .iter()
        .map(|e| EventEnvelope {
            tenant_id: tenant.clone(),
            ..e.clone()
        })
        .collect()
}

/// Publishes `events` in order with up to 256 acknowledgements in flight; returns their
/// stream sequences.
pub async fn publish(
    jetstream: &jetstream::Context,
    scheme: &SubjectScheme,
    events: &[EventEnvelope],
) -> anyhow::Result<Vec<u64>> {
    let mut sequences = Vec::with_capacity(events.len());
    for chunk in events.chunks(256) {
        let mut acks = Vec::with_capacity(chunk.len());
        for envelope in chunk {
            let mut message_headers = HeaderMap::new();
            message_headers.insert(headers::MSG_ID, envelope.event_id.to_string().as_str());
            let subject = scheme.subject(&envelope.tenant_id, &envelope.aggregate());
            acks.push(
                jetstream
                    .publish_with_headers(subject, message_headers, events::encode(envelope)?.into())
                    .await
                    .context("publishing")?,
            );
        }
        for ack in acks {
            sequences.push(ack.await.context("waiting for the ack")?.sequence);
        }
    }
    Ok(sequences)
}
