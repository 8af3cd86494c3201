//! [`CommandMeta`]: the parts of a command that are not its body.

use chrono::{DateTime, Utc};
use events::{DomainEvent, EventEnvelope};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::TenantContext;

/// Who sent a command, when, and how to recognise it if it is sent again.
#[derive(Debug, Clone)]
pub struct CommandMeta {
    /// The verified caller.
    pub context: TenantContext,
    /// The idempotency key: the client's `Idempotency-Key`, else derived from the
    /// command's own client-generated id.
    pub idempotency_key: String,
    /// Whether the key came from the client. Only a client's key can be "reused" for a
    /// different command; a derived key (e.g. `void:<sale>`) only identifies retries by
    /// fingerprint, and a different command under it is judged on the aggregate's state.
    pub client_key: bool,
    /// Whether a retry under a derived key is recognised only as the aggregate's latest
    /// event ([`crate::commands::Command::RETRY_ONLY_AS_LATEST`]).
    pub latest_only: bool,
    /// SHA-256 of the command's name and canonical body: equal for a retry, different
    /// for another command under the same key.
    pub fingerprint: String,
    /// Correlation id of this request.
    pub correlation_id: Uuid,
    /// When it happened by the terminal's clock (the body's `occurred_at`, else now).
    pub occurred_at: DateTime<Utc>,
    /// When the server accepted it.
    pub recorded_at: DateTime<Utc>,
    /// The request span's trace position (`telemetry::trace::current`), written into the
    /// `traceparent` header of the events it appends; a batch's commands share the batch
    /// request's.
    pub trace: Option<telemetry::trace::TraceContext>,
}

impl CommandMeta {
    /// Metadata for a command named `command` with body `body`.
    pub fn new<B: Serialize>(
        context: TenantContext,
        command: &str,
        body: &B,
        header_key: Option<String>,
        natural_key: impl FnOnce() -> String,
        occurred_at: Option<DateTime<Utc>>,
    ) -> Self {
        let recorded_at = Utc::now();
        Self {
            context,
            client_key: header_key.is_some(),
            latest_only: false,
            idempotency_key: header_key.unwrap_or_else(natural_key),
            fingerprint: fingerprint(command, body),
            correlation_id: Uuid::now_v7(),
            occurred_at: occurred_at.unwrap_or(recorded_at),
            recorded_at,
            trace: telemetry::trace::current(),
        }
    }

    /// Recognises a retry under a derived key only as the aggregate's latest event.
    pub fn retry_only_as_latest(self, latest_only: bool) -> Self {
        Self { latest_only, ..self }
    }

    /// Wraps `event` in an envelope carrying this metadata.
    pub fn envelope(&self, event: DomainEvent) -> EventEnvelope {
        EventEnvelope {
            event_id: Uuid::now_v7(),
            tenant_id: self.context.tenant.clone(),
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
            actor: self.context.actor(),
            correlation_id: self.correlation_id,
            causation_id: None,
            idempotency_key: self.idempotency_key.clone(),
            event,
        }
    }
}

/// SHA-256 (hex) of `command` and the canonical JSON of `body`. The body is the parsed
/// command, so whitespace and key order in the request do not matter.
pub fn fingerprint<B: Serialize>(command: &str, body: &B) -> String {
    thread_local! {
        /// The canonical JSON is written here, then hashed in one call: serde_json writes
        /// a body in dozens of pieces of a few bytes, and hashing each as it came cost
        /// more than the copy (docs/performance.md, "Fifteenth session"). Kept per
        /// thread, so a command allocates nothing for it once the buffer has grown.
        static CANONICAL: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut hasher = Sha256::new();
    hasher.update(command.as_bytes());
    hasher.update(b"\n");
    CANONICAL.with_borrow_mut(|canonical| {
        canonical.clear();
        // Serializing plain data cannot fail; a body cut short would still hash
        // differently per command name.
        let _ = serde_json::to_writer(&mut *canonical, body);
        hasher.update(canonical.as_slice());
        // A rare huge body does not keep its memory on the thread.
        if canonical.capacity() > 64 * 1024 {
            *canonical = Vec::new();
        }
    });
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_differ_by_command_and_body_but_not_by_formatting() {
        #[derive(Serialize, serde::Deserialize)]
        struct Body {
            a: i64,
            b: Vec<i64>,
        }
        let parse = |text: &str| serde_json::from_str::<Body>(text).expect("json");
        let a = parse(r#"{"a":1,"b":[1,2]}"#);
        let same = parse("{ \"b\" : [1, 2], \"a\" : 1 }");
        let other = parse(r#"{"a":2,"b":[1,2]}"#);
        assert_eq!(fingerprint("void", &a), fingerprint("void", &same));
        assert_ne!(fingerprint("void", &a), fingerprint("void", &other));
        assert_ne!(fingerprint("void", &a), fingerprint("refund", &a));
    }

    #[test]
    fn a_fingerprint_is_sha256_of_the_name_a_newline_and_the_canonical_json() {
        // Stored fingerprints are compared with new ones for as long as events live, so
        // the value itself must never change. Worked out apart from this code:
        // printf 'void\n{"reason":"r"}' | sha256sum
        #[derive(Serialize)]
        struct Void {
            reason: &'static str,
        }
        assert_eq!(
            fingerprint("void", &Void { reason: "r" }),
            "52cd465a999ac9175d2a24f0078a0e1664e5f92f3a8be8e1cdf5c185ea0381ad"
        );
        // A body larger than the buffer the thread keeps, then a small one again: the
        // buffer is dropped and regrown, the values stay right.
        #[derive(Serialize)]
        struct Note {
            note: String,
        }
        let big = Note {
            note: "x".repeat(70_000),
        };
        // python3: hashlib.sha256(b'big\n' + b'{"note":"' + b'x' * 70000 + b'"}').hexdigest()
        let expected = "2201b472e5d27d59ed438e4a54f2d5ebf23b8357e8b1e472fd177ac5d4f9d3ab";
        assert_eq!(fingerprint("big", &big), expected);
        assert_eq!(
            fingerprint("void", &Void { reason: "r" }),
            "52cd465a999ac9175d2a24f0078a0e1664e5f92f3a8be8e1cdf5c185ea0381ad"
        );
        assert_eq!(fingerprint("big", &big), expected);
    }
}
