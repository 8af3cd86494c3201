//! Upcasters: pure functions that lift an older payload one version up, chained until the
//! payload reaches the version this build writes.
//!
//! Events are immutable once in the stream, so an old payload is never rewritten; it is
//! lifted every time it is read. Each step is small and tested on a fixture of the old
//! shape, and a replay of a stream with old events gives the same read model as one with
//! current events.
//!
//! Steps that exist:
//! - `ProductRegistered` v1 → v2: `price_cents` + `currency` become `price: Money`; the
//!   name, category, tax class, barcodes and reorder point move under `details`; the
//!   boolean `age_restricted` becomes `details.age_restriction = {minimum_age: 21}` (the
//!   legal drinking age the v1 terminals assumed).
//! - `SaleCompleted`, `SaleVoided`, `SaleRefunded` v1 → v2: unchanged. v2 added the
//!   optional `business_date` stamped from the location's time zone; without it the day
//!   is the UTC date of the event, as it always was.
//! - `SaleCompleted`, `SaleRefunded` v2 → v3: unchanged. v3 added the optional container
//!   deposits (`deposit_minor` on lines, `deposit_total_minor`) and the server's
//!   `pricing` of the sale; a v2 sale had no deposit and was not priced by the server.
//! - `ProductPriceChanged` v1 → v2: unchanged. v2 added the optional `location` (a price
//!   for one store) and `effective_from` (a scheduled change); a v1 change was chain-wide
//!   and took effect when it happened.
//! - `StockAdjusted` v1 → v2: the free-text `reason` becomes one of the
//!   [`AdjustmentReason`] values when it names one, else
//!   `other`, with the original text kept as `note`.

use serde_json::{Map, Value, json};

use crate::event::{AdjustmentReason, EventType};

/// Why an old payload could not be lifted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot upcast {event_type} v{from_version}: {message}")]
pub struct UpcastError {
    /// The event type.
    pub event_type: EventType,
    /// The version being lifted.
    pub from_version: u32,
    /// What was wrong with the old payload.
    pub message: String,
}

/// Lifts `payload` of `event_type` from `version` to the current version.
pub fn to_current(event_type: EventType, mut version: u32, mut payload: Value) -> Result<Value, UpcastError> {
    while version < event_type.current_version() {
        payload = step(event_type, version, payload).map_err(|message| UpcastError {
            event_type,
            from_version: version,
            message,
        })?;
        version += 1;
    }
    Ok(payload)
}

/// One step: `version` → `version + 1`.
fn step(event_type: EventType, version: u32, payload: Value) -> Result<Value, String> {
    match (event_type, version) {
        (EventType::ProductRegistered, 1) => product_registered_v1(payload),
        (EventType::StockAdjusted, 1) => stock_adjusted_v1(payload),
        // v2 added the optional `business_date`; a v1 payload is a valid v2 one without
        // it, and its day stays the UTC date of the event.
        (EventType::SaleCompleted | EventType::SaleVoided | EventType::SaleRefunded, 1) => Ok(payload),
        // v3 added the optional deposits (line, total, refund line) and the server's
        // `pricing`; a v2 payload is a valid v3 one with no deposit and no pricing.
        (EventType::SaleCompleted | EventType::SaleRefunded, 2) => Ok(payload),
        // v2 added the optional `location` and `effective_from`; a v1 change was
        // chain-wide and took effect when it happened.
        (EventType::ProductPriceChanged, 1) => Ok(payload),
        _ => Err(format!("no upcaster from version {version}")),
    }
}

fn object(payload: Value) -> Result<Map<String, Value>, String> {
    match payload {
        Value::Object(map) => Ok(map),
        other => Err(format!("payload is not an object but {other}")),
    }
}

fn take(map: &mut Map<String, Value>, field: &str) -> Result<Value, String> {
    map.remove(field).ok_or_else(|| format!("missing field `{field}`"))
}

fn product_registered_v1(payload: Value) -> Result<Value, String> {
    let mut old = object(payload)?;
    let age_restricted = match old.remove("age_restricted") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => flag,
        Some(other) => return Err(format!("`age_restricted` is not a boolean but {other}")),
    };
    Ok(json!({
        "sku": take(&mut old, "sku")?,
        "details": {
            "name": take(&mut old, "name")?,
            "category": take(&mut old, "category")?,
            "tax_class": take(&mut old, "tax_class")?,
            "barcodes": old.remove("barcodes").unwrap_or_else(|| json!([])),
            "age_restriction": if age_restricted { json!({"minimum_age": 21}) } else { Value::Null },
            "reorder_point": old.remove("reorder_point").unwrap_or(Value::Null),
        },
        "price": {
            "amount_minor": take(&mut old, "price_cents")?,
            "currency": take(&mut old, "currency")?,
        },
    }))
}

fn stock_adjusted_v1(payload: Value) -> Result<Value, String> {
    let mut new = object(payload)?;
    let text = match take(&mut new, "reason")? {
        Value::String(text) => text,
        other => return Err(format!("`reason` is not a string but {other}")),
    };
    let normalized = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    let known = AdjustmentReason::ALL.into_iter().find(|r| r.as_str() == normalized);
    let (reason, note) = match known {
        Some(reason) => (reason, Value::Null),
        None => (AdjustmentReason::Other, Value::String(text)),
    };
    new.insert("reason".into(), Value::String(reason.as_str().into()));
    new.insert("note".into(), note);
    Ok(Value::Object(new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{DomainEvent, ProductRegistered, StockAdjusted};

    #[test]
    fn product_registered_v1_is_lifted_to_a_money_price_and_age_restriction() {
        let v1 = json!({
            "sku": "JD-750", "name": "Whiskey", "category": "spirits", "tax_class": "alcohol",
            "price_cents": 2999, "currency": "USD", "age_restricted": true
        });
        let lifted = to_current(EventType::ProductRegistered, 1, v1).expect("lifts");
        let event = DomainEvent::from_payload_json(EventType::ProductRegistered, lifted).expect("decodes");
        let DomainEvent::ProductRegistered(ProductRegistered { price, details, .. }) = event else {
            panic!("wrong variant");
        };
        assert_eq!(price.amount_minor, 2999);
        assert_eq!(price.currency.code(), "USD");
        assert_eq!(details.age_restriction.map(|a| a.minimum_age), Some(21));
        assert!(details.barcodes.is_empty());
    }

    #[test]
    fn product_registered_v1_without_price_is_an_error_not_a_guess() {
        let v1 = json!({"sku": "A", "name": "n", "category": "c", "tax_class": "t", "currency": "USD"});
        let err = to_current(EventType::ProductRegistered, 1, v1).expect_err("no price");
        assert_eq!(err.from_version, 1);
        assert!(err.message.contains("price_cents"), "{err}");
    }

    #[test]
    fn stock_adjusted_v1_maps_known_reasons_and_keeps_free_text_as_a_note() {
        let lift = |reason: &str| {
            let v1 =
                json!({"movement_id": "m1", "sku": "A", "location": "main", "quantity_delta": -2, "reason": reason});
            let lifted = to_current(EventType::StockAdjusted, 1, v1).expect("lifts");
            match DomainEvent::from_payload_json(EventType::StockAdjusted, lifted).expect("decodes") {
                DomainEvent::StockAdjusted(StockAdjusted { reason, note, .. }) => (reason, note),
                other => panic!("wrong variant {other:?}"),
            }
        };
        assert_eq!(lift("Breakage"), (AdjustmentReason::Breakage, None));
        assert_eq!(lift("return to vendor"), (AdjustmentReason::ReturnToVendor, None));
        assert_eq!(
            lift("cat knocked it over"),
            (AdjustmentReason::Other, Some("cat knocked it over".into()))
        );
    }

    #[test]
    fn current_versions_pass_through_untouched() {
        let payload = json!({"anything": 1});
        assert_eq!(to_current(EventType::SaleCompleted, 1, payload.clone()), Ok(payload));
    }
}
