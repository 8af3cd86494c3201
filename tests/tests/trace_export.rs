//! OTLP export against a real local receiver: with `OTEL_EXPORTER_OTLP_ENDPOINT`'s setting
//! pointing at a TCP listener of this test, the command API, the projector and the webhook
//! worker (in this process, under the global subscriber `telemetry::init_traced` installs,
//! as their binaries do) export spans of one trace for one sale: the API's request span
//! (a child of the client's span), the projector's span applying the event and the
//! webhook worker's delivery span.
//!
//! One test in this file: the exporter is process-wide.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use events::Role;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::json;
use telemetry::trace::TRACEPARENT;
use tests::webhook_app::Receiver;
use tests::{CommandApp, ProjectorApp, WebhookApp, eventually, unique_tenant};
use uuid::Uuid;

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT_SPAN: &str = "b7ad6b7169203331";

/// A span as the receiver got it.
#[derive(Debug, Clone)]
struct Exported {
    service: String,
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
}

/// A local OTLP/HTTP receiver: `POST /v1/traces` with a protobuf body.
async fn receiver() -> anyhow::Result<(String, Arc<Mutex<Vec<Exported>>>)> {
    let spans: Arc<Mutex<Vec<Exported>>> = Arc::default();
    async fn traces(State(spans): State<Arc<Mutex<Vec<Exported>>>>, body: axum::body::Bytes) -> StatusCode {
        let Ok(request) = ExportTraceServiceRequest::decode(body.as_ref()) else {
            return StatusCode::BAD_REQUEST;
        };
        let mut spans = spans.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for resource in request.resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| r.attributes.iter())
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref())
                .map(|v| format!("{:?}", v.value))
                .unwrap_or_default();
            for scope in resource.scope_spans {
                for span in scope.spans {
                    spans.push(Exported {
                        service: service.clone(),
                        name: span.name,
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                    });
                }
            }
        }
        StatusCode::OK
    }
    let app = axum::Router::new()
        .route("/v1/traces", axum::routing::post(traces))
        .with_state(Arc::clone(&spans));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, spans))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sale_s_spans_in_the_api_the_projector_and_the_webhook_worker_share_its_trace() -> anyhow::Result<()> {
    let (endpoint, spans) = receiver().await?;
    let export = telemetry::TraceExport {
        otlp_endpoint: Some(endpoint),
        otlp_timeout_ms: 5_000,
        service_name: Some("tillstream-test".to_owned()),
    };
    let tracing = Arc::new(telemetry::init_traced(
        telemetry::LogFormat::Json,
        &export,
        "tillstream-test",
    ));
    assert!(tracing.is_exporting());

    let app = CommandApp::spawn_with(|config| config.webhook_allow_private_hosts = true).await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let worker = WebhookApp::spawn(&app.stream).await?;
    let hook = Receiver::start(0).await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let admin = app.token(&tenant, Role::Admin).await?;
    let created = app
        .post(
            "/v1/webhooks",
            &admin,
            &json!({"url": hook.url, "event_types": ["SaleCompleted"]}),
            &[],
        )
        .await?;
    assert_eq!(created.status, 201, "{:?}", created.body);

    let sale_id = Uuid::now_v7().to_string();
    let sale = json!({
        "sale_id": sale_id, "location": "main", "currency": "USD",
        "lines": [{"sku": "WINE-RED", "quantity": 1, "unit_price_minor": 1299, "discount_minor": 0, "tax_minor": 0}],
        "subtotal_minor": 1299, "discount_total_minor": 0, "tax_total_minor": 0, "total_minor": 1299,
        "tenders": [{"kind": "cash", "amount_minor": 1299}], "change_minor": 0
    });
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let traceparent = format!("00-{TRACE_ID}-{PARENT_SPAN}-01");
    let reply = app
        .post("/v1/sales", &cashier, &sale, &[(TRACEPARENT, &traceparent)])
        .await?;
    assert_eq!(reply.status, 201, "{:?}", reply.body);

    let wanted = ["request", "apply_event", "webhook_delivery"];
    let found = eventually("the sale's spans exported", Duration::from_secs(60), || {
        let (tracing, spans) = (Arc::clone(&tracing), Arc::clone(&spans));
        async move {
            // The batch processor sends every few seconds; flush instead of waiting.
            tokio::task::spawn_blocking(move || tracing.flush()).await?;
            let spans = spans.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            let ours: Vec<Exported> = spans.into_iter().filter(|s| s.trace_id == TRACE_ID).collect();
            let complete = wanted.iter().all(|name| ours.iter().any(|s| s.name == *name));
            Ok(complete.then_some(ours))
        }
    })
    .await?;

    let request = found.iter().find(|s| s.name == "request").expect("found");
    assert_eq!(request.parent_span_id, PARENT_SPAN, "the client's span is the parent");
    assert!(request.service.contains("tillstream-test"), "{}", request.service);
    // The event's header names the request span: the projector's and the worker's spans
    // are its children.
    let messages = app.tenant_messages(&tenant).await?;
    let stored = messages
        .iter()
        .find(|m| m.subject.ends_with(&format!(".sale.{sale_id}")))
        .and_then(|m| {
            m.headers
                .as_ref()?
                .get(events::headers::TRACE)
                .map(|v| v.as_str().to_owned())
        })
        .unwrap_or_default();
    assert_eq!(
        stored,
        format!("00-{TRACE_ID}-{}-01", request.span_id),
        "the header carries the request span"
    );
    for name in ["apply_event", "webhook_delivery"] {
        let span = found.iter().find(|s| s.name == name).expect("found");
        assert_eq!(span.parent_span_id, request.span_id, "{name}: {span:?}");
        assert_ne!(span.span_id, request.span_id);
    }
    // And the receiver of the webhook got the delivery span as its parent.
    let delivery = found.iter().find(|s| s.name == "webhook_delivery").expect("found");
    let received = hook.accepted();
    let header = received
        .first()
        .and_then(|r| r.headers.get(TRACEPARENT))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(header, format!("00-{TRACE_ID}-{}-01", delivery.span_id));

    worker.stop().await?;
    projector.stop().await?;
    app.stream.delete().await
}
