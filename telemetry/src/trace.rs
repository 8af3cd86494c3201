//! Traces end to end: the W3C `traceparent` of a request travels with the events it
//! appends (in their NATS headers) into the spans of the projector and the webhook worker
//! that handle them, and every log line inside those spans carries the `trace_id`.
//!
//! # How a trace goes through the system
//! 1. The command API reads the request's `traceparent` ([`TraceContext::parse`]); a
//!    missing or malformed one starts a new trace (never an error). Its request span
//!    gets a new span id under that trace ([`link`]) and runs inside [`scope`], so the
//!    command's metadata can take it ([`current`]).
//! 2. The event store writes its `traceparent` value ([`TraceContext::header_value`]) in
//!    the `Tillstream-Trace` header of each appended event (`events::headers::TRACE`: not
//!    under W3C's name, which nats-server acts on itself): same trace id, the request
//!    span's id as parent.
//! 3. The projector's span applying the event and the webhook worker's delivery span are
//!    [`link`]ed to that header; the outgoing webhook request carries its own
//!    `traceparent` in turn.
//!
//! Spans that take part declare an empty `trace_id` field, which [`link`] fills, so the
//! text and JSON logs show it. When OTLP export is configured ([`crate::TraceExport`]),
//! [`link`] makes the span's OpenTelemetry parent the remote context, and the ids it
//! returns are the exported span's own; when it is not, ids are drawn here and nothing
//! else happens (no OpenTelemetry layer is installed at all).

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use rand_core::{OsRng, RngCore};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C Trace Context header of HTTP requests (events carry the same value under
/// `events::headers::TRACE`).
pub const TRACEPARENT: &str = "traceparent";

/// The span field [`link`] fills with the trace id (hex).
pub const TRACE_ID_FIELD: &str = "trace_id";

/// Whether an OpenTelemetry layer was installed ([`crate::init_traced`] with an endpoint).
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Records that spans are exported from now on.
pub(crate) fn set_exporting() {
    EXPORTING.store(true, Ordering::Relaxed);
}

/// Whether spans are exported (an OTLP endpoint is configured).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// A position in a trace: the trace id, the id of the span that is the parent of whatever
/// continues from here, and the trace flags (bit 0: sampled).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    flags: u8,
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.header_value())
    }
}

impl TraceContext {
    /// Parses a `traceparent` value (`00-<32 hex>-<16 hex>-<2 hex>`, lower-case). Refuses
    /// what the W3C recommendation says to ignore: wrong lengths or characters, version
    /// `ff`, an all-zero trace or span id, and extra fields on version `00`. A later
    /// version's extra fields are ignored, as the recommendation asks.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let bytes = value.as_bytes();
        if bytes.len() < 55 {
            return None;
        }
        let version = decode_hex::<1>(&value[0..2])?[0];
        if version == 0xff || bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
            return None;
        }
        if bytes.len() > 55 && (version == 0 || bytes[55] != b'-') {
            return None;
        }
        let trace_id = decode_hex::<16>(&value[3..35])?;
        let span_id = decode_hex::<8>(&value[36..52])?;
        let flags = decode_hex::<1>(&value[53..55])?[0];
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            flags,
        })
    }

    /// A context with these ids, if they are valid (not all zero).
    pub fn from_parts(trace_id: [u8; 16], span_id: [u8; 8], sampled: bool) -> Option<Self> {
        (trace_id != [0; 16] && span_id != [0; 8]).then_some(Self {
            trace_id,
            span_id,
            flags: u8::from(sampled),
        })
    }

    /// A new span under `parent` (its trace id and flags, a new span id), or the root of
    /// a new, sampled trace when there is no parent.
    pub fn child_of(parent: Option<&TraceContext>) -> Self {
        let (trace_id, flags) = match parent {
            Some(parent) => (parent.trace_id, parent.flags),
            None => (random_nonzero::<16>(), 1),
        };
        Self {
            trace_id,
            span_id: random_nonzero::<8>(),
            flags,
        }
    }

    /// The `traceparent` header value (version `00`), written digit by digit into one
    /// allocation: every event appended inside a traced request carries one
    /// (docs/performance.md, "Fourteenth session").
    pub fn header_value(&self) -> String {
        fn push_hex(value: &mut String, bytes: &[u8]) {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            for byte in bytes {
                value.push(char::from(DIGITS[usize::from(byte >> 4)]));
                value.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
            }
        }
        let mut value = String::with_capacity(55);
        value.push_str("00-");
        push_hex(&mut value, &self.trace_id);
        value.push('-');
        push_hex(&mut value, &self.span_id);
        value.push('-');
        push_hex(&mut value, &[self.flags]);
        value
    }

    /// The trace id, 32 lower-case hex digits.
    pub fn trace_id(&self) -> String {
        hex::encode(self.trace_id)
    }

    /// The span id, 16 lower-case hex digits.
    pub fn span_id(&self) -> String {
        hex::encode(self.span_id)
    }

    /// Whether the caller sampled (recorded) its span.
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    fn remote_parent(&self) -> opentelemetry::Context {
        opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from_bytes(self.trace_id),
            SpanId::from_bytes(self.span_id),
            TraceFlags::new(self.flags),
            true,
            TraceState::default(),
        ))
    }
}

/// Makes `span` the next step of `parent`'s trace (a new trace without one), fills its
/// `trace_id` field and returns the span's own context: what to send onwards (NATS
/// headers, an outgoing request's `traceparent`). Call it right after creating the span,
/// before entering it (an exported span's parent cannot change once it started).
pub fn link(span: &tracing::Span, parent: Option<&TraceContext>) -> TraceContext {
    let own = if exporting() {
        exported_context(span, parent)
    } else {
        None
    };
    let own = own.unwrap_or_else(|| TraceContext::child_of(parent));
    span.record(TRACE_ID_FIELD, tracing::field::display(own.trace_id()));
    own
}

/// The exported span's ids under `parent`, or `None` when the span is disabled or not
/// exported (then [`link`] draws its own).
fn exported_context(span: &tracing::Span, parent: Option<&TraceContext>) -> Option<TraceContext> {
    if let Some(parent) = parent
        && span.set_parent(parent.remote_parent()).is_err()
    {
        return None;
    }
    let context = span.context();
    let otel = context.span();
    let own = otel.span_context();
    if !own.is_valid() {
        return None;
    }
    Some(TraceContext {
        trace_id: own.trace_id().to_bytes(),
        span_id: own.span_id().to_bytes(),
        flags: own.trace_flags().to_u8(),
    })
}

tokio::task_local! {
    static CURRENT: TraceContext;
}

/// Runs `future` with `context` as the [`current`] trace position (the request span's,
/// set by the command API's middleware around each request).
pub async fn scope<F: Future>(context: TraceContext, future: F) -> F::Output {
    CURRENT.scope(context, future).await
}

/// The trace position of the request this task is serving, if it runs inside [`scope`].
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(|context| *context).ok()
}

fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    // Upper-case hex is invalid in traceparent; `hex` would take it.
    if text.len() != 2 * N || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

fn random_nonzero<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    while out == [0u8; N] {
        OsRng.fill_bytes(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_header_round_trips() {
        let parsed = TraceContext::parse(SAMPLE).expect("valid");
        assert_eq!(parsed.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(parsed.span_id(), "00f067aa0ba902b7");
        assert!(parsed.sampled());
        assert_eq!(parsed.header_value(), SAMPLE);
        // Every digit, and flags that are not 01.
        for value in [
            "00-0123456789abcdeffedcba9876543210-f0e1d2c3b4a59687-00",
            "00-ffffffffffffffffffffffffffffffff-0000000000000001-ff",
        ] {
            let parsed = TraceContext::parse(value).expect("valid");
            assert_eq!(parsed.header_value(), value);
            assert_eq!(format!("{parsed:?}"), value);
        }
    }

    #[test]
    fn malformed_headers_are_refused() {
        for bad in [
            "",
            "garbage",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::parse(bad).is_none(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_later_version_keeps_its_known_fields() {
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-whatever";
        let parsed = TraceContext::parse(later).expect("later versions parse");
        assert_eq!(parsed.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn a_child_keeps_the_trace_and_takes_a_new_span() {
        let parent = TraceContext::parse(SAMPLE).expect("valid");
        let child = TraceContext::child_of(Some(&parent));
        assert_eq!(child.trace_id(), parent.trace_id());
        assert_ne!(child.span_id(), parent.span_id());
        let root = TraceContext::child_of(None);
        assert_ne!(root.trace_id(), parent.trace_id());
        assert!(TraceContext::parse(&root.header_value()).is_some());
    }

    #[test]
    fn link_without_export_fills_the_ids() {
        let parent = TraceContext::parse(SAMPLE).expect("valid");
        let span = tracing::info_span!("test", trace_id = tracing::field::Empty);
        let own = link(&span, Some(&parent));
        assert_eq!(own.trace_id(), parent.trace_id());
        assert_ne!(own.span_id(), parent.span_id());
    }

    #[tokio::test]
    async fn the_scope_is_the_current_context() {
        assert!(current().is_none());
        let context = TraceContext::child_of(None);
        let seen = scope(context, async { current() }).await;
        assert_eq!(seen, Some(context));
    }
}
