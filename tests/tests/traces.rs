//! Traces end to end against the real servers: the request's W3C `traceparent` travels in
//! the appended events' NATS headers (same trace id, the request span's new span id), a
//! request without one or with a malformed one starts a fresh trace and is never refused
//! for it, a batch's commands carry the batch request's trace, and the webhook worker's
//! request to a real local receiver continues the trace.

use std::time::Duration;

use events::Role;
use serde_json::{Value, json};
use telemetry::trace::{TRACEPARENT, TraceContext};
use tests::webhook_app::Receiver;
use tests::{CommandApp, WebhookApp, eventually, unique_tenant};
use uuid::Uuid;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN: &str = "00f067aa0ba902b7";

fn traceparent() -> String {
    format!("00-{TRACE_ID}-{PARENT_SPAN}-01")
}

fn sale(sale_id: &str) -> Value {
    // 2 × 1299 − 100 + 200 = 2698; paid 3000 cash, change 302.
    json!({
        "sale_id": sale_id, "location": "main", "currency": "USD",
        "lines": [{"sku": "WINE-RED", "quantity": 2, "unit_price_minor": 1299, "discount_minor": 100, "tax_minor": 200}],
        "subtotal_minor": 2598, "discount_total_minor": 100, "tax_total_minor": 200, "total_minor": 2698,
        "tenders": [{"kind": "cash", "amount_minor": 3000}], "change_minor": 302
    })
}

/// The trace header of a stored message (`Tillstream-Trace`), parsed (the test fails if
/// it is absent or invalid).
fn stored_trace(message: &async_nats::jetstream::Message) -> TraceContext {
    let value = message
        .headers
        .as_ref()
        .and_then(|h| h.get(events::headers::TRACE))
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default();
    // Not under W3C's name: nats-server would take it as a request to trace the message
    // itself, and pay for it on every append (events::headers).
    assert!(
        message.headers.as_ref().and_then(|h| h.get(TRACEPARENT)).is_none(),
        "no traceparent header on {}",
        message.subject
    );
    TraceContext::parse(&value).unwrap_or_else(|| panic!("no valid traceparent on {}: {value:?}", message.subject))
}

/// The trace of the one sale event `sale_id` of the app's stream.
async fn sale_trace(app: &CommandApp, tenant: &events::TenantId, sale_id: &str) -> anyhow::Result<TraceContext> {
    let messages = app.tenant_messages(tenant).await?;
    let message = messages
        .iter()
        .find(|m| m.subject.ends_with(&format!(".sale.{sale_id}")))
        .ok_or_else(|| anyhow::anyhow!("no event of sale {sale_id}"))?;
    Ok(stored_trace(message))
}

#[tokio::test]
async fn a_sales_traceparent_travels_in_its_event_header_with_a_new_span_id() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let sale_id = Uuid::now_v7().to_string();
    let reply = app
        .post("/v1/sales", &cashier, &sale(&sale_id), &[(TRACEPARENT, &traceparent())])
        .await?;
    assert_eq!(reply.status, 201, "{:?}", reply.body);

    let messages = app.tenant_messages(&tenant).await?;
    assert_eq!(messages.len(), 1);
    let trace = stored_trace(&messages[0]);
    assert_eq!(trace.trace_id(), TRACE_ID, "the request's trace");
    assert_ne!(
        trace.span_id(),
        PARENT_SPAN,
        "the API's own span, a child of the caller's"
    );
    assert!(trace.sampled());
    // The other headers are untouched.
    let headers = messages[0].headers.as_ref().expect("headers");
    assert!(headers.get(events::headers::REQUEST_FINGERPRINT).is_some());
    assert_eq!(
        headers
            .get(events::headers::EXPECTED_LAST_SUBJECT_SEQUENCE)
            .map(|v| v.as_str().to_owned()),
        Some("0".to_owned())
    );

    // A retry of the same sale is answered from the first event: nothing new, and the
    // stored header stays the first request's.
    let other = format!("00-{}-{PARENT_SPAN}-01", "1".repeat(32));
    let again = app
        .post("/v1/sales", &cashier, &sale(&sale_id), &[(TRACEPARENT, &other)])
        .await?;
    assert_eq!(again.status, 201, "{:?}", again.body);
    assert_eq!(again.body["replayed"], true);
    assert_eq!(app.tenant_messages(&tenant).await?.len(), 1);
    assert_eq!(sale_trace(&app, &tenant, &sale_id).await?.trace_id(), TRACE_ID);
    app.stream.delete().await
}

#[tokio::test]
async fn without_a_traceparent_or_with_a_malformed_one_a_fresh_trace_starts() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;

    let plain = Uuid::now_v7().to_string();
    let reply = app.post("/v1/sales", &cashier, &sale(&plain), &[]).await?;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let fresh = sale_trace(&app, &tenant, &plain).await?;
    assert_eq!(fresh.trace_id().len(), 32);
    assert_ne!(fresh.trace_id(), "0".repeat(32));

    let mut seen = vec![fresh.trace_id()];
    for malformed in [
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
    ] {
        let sale_id = Uuid::now_v7().to_string();
        let reply = app
            .post("/v1/sales", &cashier, &sale(&sale_id), &[(TRACEPARENT, malformed)])
            .await?;
        assert_eq!(reply.status, 201, "{malformed}: {:?}", reply.body);
        let trace = sale_trace(&app, &tenant, &sale_id).await?;
        assert_ne!(trace.trace_id(), TRACE_ID, "{malformed} was taken");
        assert!(!seen.contains(&trace.trace_id()), "a trace id came twice");
        seen.push(trace.trace_id());
    }
    app.stream.delete().await
}

#[tokio::test]
async fn a_batch_s_commands_carry_the_batch_request_s_trace() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let (first, second) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    let batch = json!({"commands": [
        {"command": "complete_sale", "path": null, "body": sale(&first)},
        {"command": "complete_sale", "path": null, "body": sale(&second)},
        {"command": "void_sale", "path": first, "body": {"reason": "customer left"}},
    ]});
    let reply = app
        .post("/v1/batches", &manager, &batch, &[(TRACEPARENT, &traceparent())])
        .await?;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let messages = app.tenant_messages(&tenant).await?;
    assert_eq!(messages.len(), 3, "two sales and a void");
    let spans: Vec<String> = messages.iter().map(|m| stored_trace(m).span_id()).collect();
    for message in &messages {
        assert_eq!(stored_trace(message).trace_id(), TRACE_ID, "{}", message.subject);
    }
    // One request, one span: every command's event names it as parent.
    assert!(spans.iter().all(|s| s == &spans[0] && s != PARENT_SPAN), "{spans:?}");
    app.stream.delete().await
}

#[tokio::test]
async fn the_webhook_delivery_continues_the_sale_s_trace() -> anyhow::Result<()> {
    let app = CommandApp::spawn_with(|config| config.webhook_allow_private_hosts = true).await?;
    let worker = WebhookApp::spawn(&app.stream).await?;
    let receiver = Receiver::start(0).await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let admin = app.token(&tenant, Role::Admin).await?;
    let created = app
        .post(
            "/v1/webhooks",
            &admin,
            &json!({"url": receiver.url, "event_types": ["SaleCompleted"]}),
            &[],
        )
        .await?;
    assert_eq!(created.status, 201, "{:?}", created.body);

    let sale_id = Uuid::now_v7().to_string();
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let reply = app
        .post("/v1/sales", &cashier, &sale(&sale_id), &[(TRACEPARENT, &traceparent())])
        .await?;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let stored = sale_trace(&app, &tenant, &sale_id).await?;

    let received = eventually("the sale delivered", Duration::from_secs(30), || {
        let accepted = receiver.accepted();
        async move { Ok(accepted.into_iter().next()) }
    })
    .await?;
    let header = received
        .headers
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let delivered = TraceContext::parse(header).unwrap_or_else(|| panic!("no valid traceparent: {header:?}"));
    assert_eq!(delivered.trace_id(), TRACE_ID, "the sale's trace");
    assert_ne!(delivered.span_id(), stored.span_id(), "the delivery's own span");
    assert_ne!(delivered.span_id(), PARENT_SPAN);
    worker.stop().await?;
    app.stream.delete().await
}
