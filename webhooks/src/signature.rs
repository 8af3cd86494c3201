//! The signature of a delivery, Stripe style: `Tillstream-Signature: t=<unix seconds>,v1=<hex>`
//! where `<hex>` is HMAC-SHA256, keyed with the endpoint's secret, of `t + "." + body`
//! (the exact bytes of the request body).
//!
//! While a rotated secret overlaps, the header carries one `v1=` per secret
//! (`t=<ts>,v1=<new>,v1=<old>`, see [`header_value_all`]): a receiver accepts when any `v1`
//! matches its secret.
//!
//! A receiver recomputes the HMAC over the timestamp it was sent and the body it received,
//! compares in constant time, and refuses a timestamp further than its tolerance from its
//! own clock ([`DEFAULT_TOLERANCE_SECS`], five minutes): a captured request cannot be
//! replayed later, and a changed body or timestamp does not verify. [`verify`] is that
//! check, for receivers written in Rust and for our tests.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the signature.
pub const HEADER: &str = "Tillstream-Signature";
/// The header carrying the event's id (stable across retries: de-duplicate by it).
pub const EVENT_ID_HEADER: &str = "Tillstream-Event-Id";
/// The header carrying the event's type.
pub const EVENT_TYPE_HEADER: &str = "Tillstream-Event-Type";
/// The header carrying the delivery's id (one per endpoint and event).
pub const DELIVERY_ID_HEADER: &str = "Tillstream-Delivery-Id";
/// How far a signature's timestamp may be from the receiver's clock, by default.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The header is not `t=<seconds>,v1=<hex>`.
    #[error("the signature header is malformed")]
    Malformed,
    /// The timestamp is outside the tolerance: a replay, or a clock far off.
    #[error("the signature's timestamp is {0} s from now, outside the tolerance")]
    Stale(i64),
    /// No `v1` signature matches the body.
    #[error("no signature matches the body")]
    Mismatch,
}

/// The hex HMAC-SHA256 of `timestamp + "." + body` under `secret`.
pub fn compute(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The header value for `body` signed at `timestamp` (unix seconds).
pub fn header_value(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", compute(secret, timestamp, body))
}

/// The header value for `body` signed at `timestamp` with each of `secrets`, in order: one
/// `v1=` per secret (`t=<ts>,v1=<new>,v1=<old>` while a rotated secret still overlaps).
/// A receiver accepts the request when any `v1` matches its secret, so receivers holding
/// the old or the new secret both verify during the overlap.
pub fn header_value_all(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    let mut value = format!("t={timestamp}");
    for secret in secrets {
        value.push_str(",v1=");
        value.push_str(&compute(secret, timestamp, body));
    }
    value
}

/// Checks `header` against `body` at `now` (unix seconds), allowing `tolerance_secs` of
/// difference between the timestamp and `now`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> Result<(), VerifyError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = Some(value.parse::<i64>().map_err(|_| VerifyError::Malformed)?),
            Some(("v1", value)) => signatures.push(value),
            Some(_) => {}
            None => return Err(VerifyError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed)?;
    if signatures.is_empty() {
        return Err(VerifyError::Malformed);
    }
    let age = now.saturating_sub(timestamp);
    if age.abs() > tolerance_secs {
        return Err(VerifyError::Stale(age));
    }
    let expected = compute(secret, timestamp, body);
    if signatures
        .iter()
        .any(|s| constant_time_eq(s.as_bytes(), expected.as_bytes()))
    {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";

    #[test]
    fn a_signed_body_verifies_and_a_tampered_one_does_not() {
        let body = br#"{"type":"SaleCompleted"}"#;
        let header = header_value(SECRET, 1_000, body);
        assert_eq!(verify(SECRET, &header, body, 1_010, 300), Ok(()));
        assert_eq!(
            verify(SECRET, &header, br#"{"type":"SaleVoided"}"#, 1_010, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(verify("other", &header, body, 1_010, 300), Err(VerifyError::Mismatch));
        // The timestamp is signed too: moving it breaks the signature.
        let moved = header.replace("t=1000", "t=1005");
        assert_eq!(verify(SECRET, &moved, body, 1_010, 300), Err(VerifyError::Mismatch));
    }

    #[test]
    fn a_header_signed_with_two_secrets_verifies_with_either_and_with_no_other() {
        let body = br#"{"type":"SaleCompleted"}"#;
        let header = header_value_all(&["whsec_new", "whsec_old"], 1_000, body);
        assert_eq!(header.matches("v1=").count(), 2, "{header}");
        assert_eq!(verify("whsec_new", &header, body, 1_010, 300), Ok(()));
        assert_eq!(verify("whsec_old", &header, body, 1_010, 300), Ok(()));
        assert_eq!(
            verify("whsec_other", &header, body, 1_010, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            header_value_all(&[SECRET], 1_000, body),
            header_value(SECRET, 1_000, body)
        );
    }

    #[test]
    fn an_old_signature_is_a_replay() {
        let body = b"{}";
        let header = header_value(SECRET, 1_000, body);
        assert_eq!(verify(SECRET, &header, body, 1_301, 300), Err(VerifyError::Stale(301)));
        assert_eq!(verify(SECRET, &header, body, 699, 300), Err(VerifyError::Stale(-301)));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for header in ["", "t=1", "v1=ab", "t=x,v1=ab", "nonsense"] {
            assert_eq!(
                verify(SECRET, header, b"{}", 1, 300),
                Err(VerifyError::Malformed),
                "{header}"
            );
        }
    }
}
