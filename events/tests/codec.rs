//! Round-trip and property tests of the envelope codec, plus the typed errors of
//! versioned decoding.

use chrono::{DateTime, TimeZone, Utc};
use events::event::*;
use events::tax::DepositId;
use events::{Actor, Currency, DecodeError, EventEnvelope, Money, Role, decode, encode};
use events::{
    CashMovementId, DrawerSessionId, LocationId, MovementId, RefundId, SaleId, Sku, TenantId, TerminalId, UserId,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

fn id_string() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,64}"
}

fn sku() -> impl Strategy<Value = Sku> {
    id_string().prop_map(|s| Sku::parse(s).expect("strategy yields valid ids"))
}

fn movement() -> impl Strategy<Value = MovementId> {
    id_string().prop_map(|s| MovementId::parse(s).expect("valid"))
}

fn location() -> impl Strategy<Value = LocationId> {
    id_string().prop_map(|s| LocationId::parse(s).expect("valid"))
}

fn user() -> impl Strategy<Value = UserId> {
    id_string().prop_map(|s| UserId::parse(s).expect("valid"))
}

fn currency() -> impl Strategy<Value = Currency> {
    let all: Vec<Currency> = Currency::all().collect();
    proptest::sample::select(all)
}

fn money() -> impl Strategy<Value = Money> {
    (any::<i64>(), currency()).prop_map(|(amount, currency)| Money::new(amount, currency))
}

fn text() -> impl Strategy<Value = String> {
    // Any unicode, including quotes, backslashes and control characters.
    ".{0,40}"
}

fn details() -> impl Strategy<Value = ProductDetails> {
    (
        text(),
        text(),
        text(),
        proptest::collection::vec("[0-9]{8,14}", 0..3),
        proptest::option::of(any::<u8>().prop_map(|minimum_age| AgeRestriction { minimum_age })),
        proptest::option::of(any::<i64>()),
    )
        .prop_map(
            |(name, category, tax_class, barcodes, age_restriction, reorder_point)| ProductDetails {
                container: None,
                name,
                category,
                tax_class,
                barcodes,
                age_restriction,
                reorder_point,
                base_unit: None,
                abv_basis_points: None,
                pack: None,
            },
        )
}

fn tender() -> impl Strategy<Value = Tender> {
    (
        proptest::sample::select(TenderKind::ALL.to_vec()),
        any::<i64>(),
        proptest::option::of(text()),
    )
        .prop_map(|(kind, amount_minor, reference)| Tender {
            kind,
            amount_minor,
            reference,
        })
}

fn sale_line() -> impl Strategy<Value = SaleLine> {
    (
        any::<u32>(),
        sku(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        proptest::option::of(any::<u8>()),
        any::<i64>(),
    )
        .prop_map(
            |(
                line_no,
                sku,
                quantity,
                unit_price_minor,
                discount_minor,
                tax_minor,
                total_minor,
                minimum_age,
                deposit_minor,
            )| {
                SaleLine {
                    line_no,
                    sku,
                    quantity,
                    unit_price_minor,
                    discount_minor,
                    tax_minor,
                    deposit_minor,
                    total_minor,
                    minimum_age,
                    pack: None,
                }
            },
        )
}

fn sale_completed() -> impl Strategy<Value = DomainEvent> {
    (
        (id_string(), id_string(), location(), user(), currency()),
        proptest::collection::vec(sale_line(), 1..5),
        (any::<i64>(), any::<i64>(), any::<i64>(), any::<i64>(), any::<i64>()),
        proptest::collection::vec(tender(), 1..3),
        proptest::option::of((any::<u8>(), user(), any::<bool>())),
    )
        .prop_map(
            |((sale, terminal, location, cashier_id, currency), lines, totals, tenders, age)| {
                SaleCompleted {
                    backdate_reason: None,
                    business_date: None,
                    pricing: None,
                    drawer_session_id: None,
                    sale_id: SaleId::parse(sale).expect("valid"),
                    terminal_id: TerminalId::parse(terminal).expect("valid"),
                    location,
                    cashier_id,
                    currency,
                    lines,
                    subtotal_minor: totals.0,
                    discount_total_minor: totals.1,
                    tax_total_minor: totals.2,
                    deposit_total_minor: totals.2.wrapping_sub(totals.1),
                    total_minor: totals.3,
                    tenders,
                    change_minor: totals.4,
                    age_verification: age.map(|(customer_age, verified_by, scanned)| AgeVerification {
                        method: if scanned {
                            AgeVerificationMethod::IdScan
                        } else {
                            AgeVerificationMethod::IdInspected
                        },
                        customer_age,
                        verified_by,
                    }),
                }
                .into()
            },
        )
}

fn domain_event() -> impl Strategy<Value = DomainEvent> {
    prop_oneof![
        (sku(), details(), money()).prop_map(|(sku, details, price)| ProductRegistered { sku, details, price }.into()),
        (sku(), details()).prop_map(|(sku, details)| ProductUpdated { sku, details }.into()),
        (
            sku(),
            money(),
            proptest::option::of(money()),
            proptest::option::of(location())
        )
            .prop_map(|(sku, price, previous_price, location)| {
                ProductPriceChanged {
                    sku,
                    price,
                    previous_price,
                    effective_from: location.as_ref().map(|_| chrono::Utc::now()),
                    location,
                }
                .into()
            }),
        (sku(), proptest::option::of(text())).prop_map(|(sku, reason)| ProductDiscontinued { sku, reason }.into()),
        (movement(), sku(), location(), any::<i64>(), money(), text(), text()).prop_map(
            |(movement_id, sku, location, quantity, unit_cost, supplier, reference)| {
                StockReceived {
                    movement_id,
                    sku,
                    location,
                    quantity,
                    unit_cost,
                    supplier,
                    reference,
                    pack: None,
                }
                .into()
            }
        ),
        (
            movement(),
            sku(),
            location(),
            any::<i64>(),
            proptest::sample::select(AdjustmentReason::ALL.to_vec()),
            proptest::option::of(text())
        )
            .prop_map(|(movement_id, sku, location, quantity_delta, reason, note)| {
                StockAdjusted {
                    movement_id,
                    sku,
                    location,
                    quantity_delta,
                    reason,
                    note,
                }
                .into()
            }),
        (
            movement(),
            sku(),
            location(),
            any::<i64>(),
            proptest::option::of(text())
        )
            .prop_map(|(movement_id, sku, location, counted_quantity, count_session)| {
                StockCounted {
                    movement_id,
                    sku,
                    location,
                    counted_quantity,
                    count_session,
                }
                .into()
            }),
        (
            movement(),
            sku(),
            location(),
            location(),
            any::<i64>(),
            proptest::option::of(text())
        )
            .prop_map(|(movement_id, sku, from_location, to_location, quantity, reference)| {
                StockTransferred {
                    movement_id,
                    sku,
                    from_location,
                    to_location,
                    quantity,
                    reference,
                }
                .into()
            }),
        sale_completed(),
        (id_string(), text(), proptest::option::of(id_string())).prop_map(|(sale, reason, session)| SaleVoided {
            business_date: None,
            drawer_session_id: session.map(|s| DrawerSessionId::parse(s).expect("valid")),
            sale_id: SaleId::parse(sale).expect("valid"),
            reason
        }
        .into()),
        (
            id_string(),
            id_string(),
            location(),
            currency(),
            proptest::collection::vec((any::<u32>(), sku(), any::<i64>(), any::<i64>(), any::<i64>()), 1..4),
            proptest::collection::vec(tender(), 0..2),
            any::<bool>(),
            text()
        )
            .prop_map(|(sale, refund, location, currency, lines, tenders, restock, reason)| {
                let lines: Vec<RefundLine> = lines
                    .into_iter()
                    .map(|(line_no, sku, quantity, amount_minor, tax_minor)| RefundLine {
                        line_no,
                        sku,
                        quantity,
                        amount_minor,
                        tax_minor,
                        deposit_minor: tax_minor.wrapping_mul(3),
                    })
                    .collect();
                let total_minor = lines.iter().fold(0i64, |acc, l| acc.wrapping_add(l.amount_minor));
                SaleRefunded {
                    business_date: None,
                    drawer_session_id: None,
                    sale_id: SaleId::parse(sale).expect("valid"),
                    refund_id: RefundId::parse(refund).expect("valid"),
                    location,
                    currency,
                    lines,
                    total_minor,
                    tenders,
                    restock,
                    reason,
                }
                .into()
            }),
        (user(), text(), text(), role()).prop_map(|(user_id, name, email, role)| UserJoined {
            user_id,
            name,
            email,
            role
        }
        .into()),
        (user(), role(), proptest::option::of(role())).prop_map(|(user_id, role, previous_role)| UserRoleChanged {
            user_id,
            role,
            previous_role
        }
        .into()),
        (user(), proptest::option::of(text())).prop_map(|(user_id, reason)| UserDeactivated { user_id, reason }.into()),
        (
            id_string(),
            id_string(),
            location(),
            user(),
            currency(),
            any::<i64>(),
            any::<bool>()
        )
            .prop_map(
                |(session, terminal, location, cashier_id, currency, opening_float_minor, blind_close)| {
                    DrawerSessionOpened {
                        session_id: DrawerSessionId::parse(session).expect("valid"),
                        terminal_id: TerminalId::parse(terminal).expect("valid"),
                        location,
                        cashier_id,
                        currency,
                        opening_float_minor,
                        business_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 29).expect("a date"),
                        blind_close,
                    }
                    .into()
                }
            ),
        (
            id_string(),
            id_string(),
            any::<i64>(),
            proptest::sample::select(CashReason::ALL.to_vec()),
            proptest::option::of(text())
        )
            .prop_map(|(session, movement, amount_minor, reason, note)| {
                PaidOutRecorded {
                    session_id: DrawerSessionId::parse(session).expect("valid"),
                    movement_id: CashMovementId::parse(movement).expect("valid"),
                    amount_minor,
                    reason,
                    note,
                }
                .into()
            }),
        (
            id_string(),
            id_string(),
            location(),
            currency(),
            proptest::collection::vec((1u32..500, 0i64..100), 1..3),
            any::<i64>(),
            proptest::option::of(text())
        )
            .prop_map(|(session, movement, location, currency, lines, paid_minor, note)| {
                let lines: Vec<EmptiesLine> = lines
                    .into_iter()
                    .map(|(count, amount_each_minor)| EmptiesLine {
                        deposit_id: DepositId::parse("crv-small").expect("valid"),
                        count,
                        amount_each_minor,
                        amount_minor: i64::from(count) * amount_each_minor,
                    })
                    .collect();
                EmptiesReturned {
                    session_id: DrawerSessionId::parse(session).expect("valid"),
                    movement_id: CashMovementId::parse(movement).expect("valid"),
                    location,
                    business_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date"),
                    currency,
                    deposit_minor: lines.iter().map(|l| l.amount_minor).sum(),
                    lines,
                    paid_minor,
                    note,
                }
                .into()
            }),
        (
            id_string(),
            any::<i64>(),
            proptest::option::of(proptest::collection::vec((1i64..10_000, 0i64..100), 0..4)),
            any::<i64>()
        )
            .prop_map(
                |(session, counted_cash_minor, denominations, approval_threshold_minor)| {
                    DrawerSessionClosed {
                        session_id: DrawerSessionId::parse(session).expect("valid"),
                        counted_cash_minor,
                        denominations: denominations.map(|d| {
                            d.into_iter()
                                .map(|(value_minor, count)| DenominationCount { value_minor, count })
                                .collect()
                        }),
                        approval_threshold_minor,
                        note: None,
                    }
                    .into()
                }
            ),
        (
            any::<bool>(),
            any::<i64>(),
            proptest::option::of(proptest::sample::select(vec![
                VoidWindow::SameSession,
                VoidWindow::SameBusinessDay
            ]))
        )
            .prop_map(
                |(blind_close, approval_threshold_minor, void_window)| CashSettingsConfigured {
                    blind_close,
                    approval_threshold_minor,
                    void_window
                }
                .into()
            ),
        any::<u32>().prop_map(|backdate_window_hours| SalesSettingsConfigured { backdate_window_hours }.into()),
    ]
}

fn role() -> impl Strategy<Value = Role> {
    proptest::sample::select(vec![Role::Cashier, Role::Manager, Role::Admin])
}

fn timestamp() -> impl Strategy<Value = DateTime<Utc>> {
    // Whole microseconds between 2000 and 2100: what RFC 3339 text keeps exactly.
    (946_684_800_000_000i64..4_102_444_800_000_000i64)
        .prop_map(|micros| DateTime::from_timestamp_micros(micros).expect("in range"))
}

fn envelope() -> impl Strategy<Value = EventEnvelope> {
    (
        "[a-z0-9_-]{1,56}",
        domain_event(),
        timestamp(),
        timestamp(),
        (user(), role(), proptest::option::of(id_string())),
        any::<u128>(),
        proptest::option::of(any::<u128>()),
        text(),
    )
        .prop_map(
            |(tenant, event, occurred_at, recorded_at, (user_id, role, terminal), correlation, causation, key)| {
                EventEnvelope {
                    event_id: Uuid::now_v7(),
                    tenant_id: TenantId::parse(tenant).expect("valid"),
                    occurred_at,
                    recorded_at,
                    actor: Actor {
                        user_id: Some(user_id),
                        api_key_id: None,
                        role,
                        terminal_id: terminal.map(|t| TerminalId::parse(t).expect("valid")),
                    },
                    correlation_id: Uuid::from_u128(correlation),
                    causation_id: causation.map(Uuid::from_u128),
                    idempotency_key: key,
                    event,
                }
            },
        )
}

proptest! {
    #[test]
    fn every_envelope_survives_encode_then_decode(envelope in envelope()) {
        let bytes = encode(&envelope).expect("encodes");
        let decoded = decode(&bytes).expect("decodes");
        prop_assert_eq!(decoded, envelope);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn decoding_a_mutated_envelope_never_panics(envelope in envelope(), index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = encode(&envelope).expect("encodes");
        let at = index.index(bytes.len());
        bytes[at] = byte;
        let _ = decode(&bytes);
    }
}

fn sample_json(event_type: &str, version: u32, payload: Value, aggregate: (&str, &str)) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "event_id": "0190c2d8-5b7e-7c1a-9f00-1234567890ab",
        "tenant_id": "acme",
        "aggregate_kind": aggregate.0,
        "aggregate_id": aggregate.1,
        "event_type": event_type,
        "schema_version": version,
        "occurred_at": "2026-11-26T10:00:00Z",
        "recorded_at": "2026-11-26T10:00:01Z",
        "actor": {"user_id": "u1", "role": "manager", "terminal_id": "till-1"},
        "correlation_id": "0190c2d8-5b7e-7c1a-9f00-000000000001",
        "causation_id": null,
        "idempotency_key": "k1",
        "payload": payload,
    }))
    .expect("json")
}

#[test]
fn an_old_product_registered_decodes_to_the_current_shape() {
    let bytes = sample_json(
        "ProductRegistered",
        1,
        json!({"sku": "JD-750", "name": "Whiskey", "category": "spirits", "tax_class": "alcohol",
               "price_cents": 2999, "currency": "USD", "age_restricted": true, "barcodes": ["082184090466"]}),
        ("product", "JD-750"),
    );
    let envelope = decode(&bytes).expect("old version decodes");
    let DomainEvent::ProductRegistered(event) = &envelope.event else {
        panic!("wrong variant")
    };
    assert_eq!(event.price, Money::new(2999, Currency::USD));
    assert_eq!(event.details.age_restriction, Some(AgeRestriction { minimum_age: 21 }));
    assert_eq!(event.details.barcodes, vec!["082184090466".to_owned()]);
    assert_eq!(
        envelope.occurred_at,
        Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).single().expect("date")
    );
    // Re-encoding writes the current version.
    let again: Value = serde_json::from_slice(&encode(&envelope).expect("encodes")).expect("json");
    assert_eq!(again["schema_version"], 2);
    assert_eq!(again["payload"]["price"]["amount_minor"], 2999);
}

#[test]
fn an_unknown_event_type_is_a_typed_error() {
    let bytes = sample_json("BasketAbandoned", 1, json!({}), ("sale", "s1"));
    assert!(matches!(decode(&bytes), Err(DecodeError::UnknownEventType(name)) if name == "BasketAbandoned"));
}

#[test]
fn a_newer_version_is_a_typed_error() {
    let bytes = sample_json("SaleVoided", 3, json!({"sale_id": "s1", "reason": "x"}), ("sale", "s1"));
    match decode(&bytes) {
        Err(DecodeError::UnsupportedVersion {
            event_type,
            version,
            current,
        }) => {
            assert_eq!((event_type, version, current), (EventType::SaleVoided, 3, 2));
        }
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
    let zero = sample_json("SaleVoided", 0, json!({"sale_id": "s1", "reason": "x"}), ("sale", "s1"));
    assert!(matches!(decode(&zero), Err(DecodeError::InvalidVersion { .. })));
}

#[test]
fn a_v1_sale_decodes_without_a_business_date_and_a_v2_one_keeps_it() {
    let v1 = sample_json("SaleVoided", 1, json!({"sale_id": "s1", "reason": "x"}), ("sale", "s1"));
    match decode(&v1).map(|e| e.event) {
        Ok(DomainEvent::SaleVoided(voided)) => assert_eq!(voided.business_date, None),
        other => panic!("expected a void, got {other:?}"),
    }
    let v2 = sample_json(
        "SaleVoided",
        2,
        json!({"sale_id": "s1", "reason": "x", "business_date": "2026-11-26"}),
        ("sale", "s1"),
    );
    match decode(&v2).map(|e| e.event) {
        Ok(DomainEvent::SaleVoided(voided)) => {
            assert_eq!(voided.business_date, chrono::NaiveDate::from_ymd_opt(2026, 11, 26))
        }
        other => panic!("expected a void, got {other:?}"),
    }
}

#[test]
fn a_payload_that_does_not_fit_its_type_is_a_typed_error() {
    let bytes = sample_json(
        "SaleVoided",
        1,
        json!({"sale_id": "s1", "reason": "x", "extra": 1}),
        ("sale", "s1"),
    );
    assert!(matches!(
        decode(&bytes),
        Err(DecodeError::InvalidPayload {
            event_type: EventType::SaleVoided,
            ..
        })
    ));
    let bad_id = sample_json(
        "SaleVoided",
        1,
        json!({"sale_id": "s.1", "reason": "x"}),
        ("sale", "s.1"),
    );
    assert!(matches!(decode(&bad_id), Err(DecodeError::InvalidPayload { .. })));
}

#[test]
fn an_envelope_naming_another_aggregate_is_refused() {
    let bytes = sample_json("SaleVoided", 1, json!({"sale_id": "s1", "reason": "x"}), ("sale", "s2"));
    assert!(matches!(decode(&bytes), Err(DecodeError::AggregateMismatch { .. })));
}

#[test]
fn an_envelope_with_an_invalid_tenant_is_malformed() {
    let mut value: Value = serde_json::from_slice(&sample_json(
        "SaleVoided",
        1,
        json!({"sale_id": "s1", "reason": "x"}),
        ("sale", "s1"),
    ))
    .expect("json");
    value["tenant_id"] = json!("other.>");
    let bytes = serde_json::to_vec(&value).expect("json");
    assert!(matches!(decode(&bytes), Err(DecodeError::Malformed(_))));
}

#[test]
fn every_event_type_has_a_stable_name_and_a_positive_version() {
    for event_type in EventType::ALL {
        assert_eq!(EventType::from_name(event_type.as_str()), Some(*event_type));
        assert!(event_type.current_version() >= 1);
        assert!(event_type.as_str().ends_with("ed"), "{event_type} is not past tense");
    }
}

#[test]
fn an_api_key_is_the_actor_without_a_user_and_user_actors_encode_as_before() {
    let mut json_value: Value = serde_json::from_slice(&sample_json(
        "SaleVoided",
        1,
        json!({"sale_id": "s1", "reason": "order cancelled"}),
        ("sale", "s1"),
    ))
    .expect("json");
    // A user's actor: decoded and encoded again exactly as before keys could act.
    let envelope = decode(&serde_json::to_vec(&json_value).expect("json")).expect("decodes");
    assert_eq!(envelope.actor.label(), "u1");
    let again: Value = serde_json::from_slice(&encode(&envelope).expect("encodes")).expect("json");
    assert_eq!(
        again["actor"],
        json!({"user_id": "u1", "role": "manager", "terminal_id": "till-1"})
    );

    // A key's actor: no user id, the key's id, and `key:<id>` as who acted.
    json_value["actor"] = json!({"api_key_id": "0190abcd", "role": "manager", "terminal_id": null});
    let envelope = decode(&serde_json::to_vec(&json_value).expect("json")).expect("decodes");
    assert_eq!(envelope.actor.user_id, None);
    assert_eq!(envelope.actor.api_key_id.as_deref(), Some("0190abcd"));
    assert_eq!(envelope.actor.label(), "key:0190abcd");
    let again: Value = serde_json::from_slice(&encode(&envelope).expect("encodes")).expect("json");
    assert_eq!(
        again["actor"],
        json!({"api_key_id": "0190abcd", "role": "manager", "terminal_id": null})
    );
}
