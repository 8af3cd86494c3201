//! Raw speeds of the servers, measured in the same run as the product: pipelined
//! JetStream publishes with acks, MongoDB bulk upserts with the same driver, and a
//! direct-write service shaped like the seed's design (the HTTP handler writes the sale to
//! MongoDB before answering).

use std::net::SocketAddr;
use std::time::Instant;

use async_nats::jetstream;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bson::doc;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;

use crate::stats::Rate;

/// `count` publishes of `size`-byte messages to `subject_prefix.<n>` (a subject the
/// stream captures), with up to `in_flight` acknowledgements outstanding.
pub async fn nats_publish(
    js: &jetstream::Context,
    subject_prefix: &str,
    count: u64,
    size: usize,
    in_flight: usize,
) -> anyhow::Result<Rate> {
    let payload = bytes::Bytes::from(vec![b'x'; size]);
    let started = Instant::now();
    let messages = (0..count).map(|n| (format!("{subject_prefix}.{n}"), None, payload.clone()));
    publish_pipelined(js, messages, in_flight).await?;
    Ok(Rate::new(
        "raw JetStream publish (acked, pipelined)",
        count,
        started.elapsed(),
    ))
}

/// The name of the raw bulk-upsert rate.
pub const BULK_UPSERTS: &str = "raw MongoDB bulk upserts";

/// `count` upserts of sale-sized documents into `db.collection`, in `update` commands of
/// `batch` statements, `tasks` commands at a time: what the projector's writes cost the
/// server without the projector.
pub async fn mongo_bulk_upserts(
    db: &mongodb::Database,
    collection: &str,
    count: u64,
    batch: usize,
    tasks: usize,
) -> anyhow::Result<Rate> {
    let started = Instant::now();
    let chunks: Vec<(u64, u64)> = (0..count)
        .step_by(batch)
        .map(|from| (from, (from + batch as u64).min(count)))
        .collect();
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(chunks)
        .map(|(from, to)| async move {
            let updates: Vec<bson::Document> = (from..to)
                .map(|n| {
                    let id = format!("raw-{n}");
                    doc! {"q": {"_id": &id, "last_seq": {"$lt": n as i64 + 1}},
                        "u": {"_id": &id, "status": "completed", "location": "main", "lines": [{"sku": "WINE-1", "quantity": 1, "unit_price_minor": 1299, "total_minor": 1403}],
                              "total_minor": 1403_i64, "tenders": [{"kind": "cash", "amount_minor": 2000_i64}], "last_seq": n as i64 + 1},
                        "upsert": true}
                })
                .collect();
            db.run_command(doc! {"update": collection, "updates": updates, "ordered": false}).await?;
            Ok(())
        })
        .buffer_unordered(tasks.max(1))
        .collect()
        .await;
    for result in results {
        result?;
    }
    Ok(Rate::new(BULK_UPSERTS, count, started.elapsed()))
}

/// Starts the HTTP floor on a free loopback port: `POST /sales` takes the body and answers
/// 201 with a small JSON document, doing nothing else. Driven by the same load generator,
/// it is what HTTP alone costs on this machine: the ceiling of any HTTP command API here.
pub async fn http_floor_service() -> anyhow::Result<SocketAddr> {
    async fn accept(body: axum::body::Bytes) -> (StatusCode, Json<Value>) {
        (StatusCode::CREATED, Json(serde_json::json!({"accepted": body.len()})))
    }
    let app = axum::Router::new().route("/sales", post(accept));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(address)
}

#[derive(Clone)]
struct DirectWrite {
    mongo: mongodb::Client,
    key: DecodingKey,
    validation: Validation,
}

/// Starts the direct-write service on a free loopback port: `POST /sales` verifies the
/// same JWT, parses the body and inserts it into `tenant_<id>.sales` before answering
/// 201, as the seed's Next.js routes did. Returns its address.
pub async fn direct_write_service(mongo: mongodb::Client, secret: &str) -> anyhow::Result<SocketAddr> {
    let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&["tillstream"]);
    validation.set_audience(&["tillstream-pos"]);
    let state = DirectWrite {
        mongo,
        key: DecodingKey::from_secret(secret.as_bytes()),
        validation,
    };
    let app = axum::Router::new().route("/sales", post(direct_sale)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(address)
}

async fn direct_sale(State(state): State<DirectWrite>, headers: HeaderMap, Json(mut body): Json<Value>) -> StatusCode {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let Ok(claims) = jsonwebtoken::decode::<command_api::auth::Claims>(token, &state.key, &state.validation) else {
        return StatusCode::UNAUTHORIZED;
    };
    body["_id"] = body["sale_id"].clone();
    let Ok(document) = bson::to_document(&body) else {
        return StatusCode::UNPROCESSABLE_ENTITY;
    };
    let sales = state
        .mongo
        .database(&format!("tenant_{}", claims.claims.organization_id))
        .collection::<bson::Document>("sales");
    match sales.insert_one(document).await {
        Ok(_) => StatusCode::CREATED,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The name of the event-shaped raw publish rate.
pub const NATS_EVENTS_REPUBLISH: &str = "raw JetStream publish of the run's own events (acked, pipelined)";

/// Reads the first `count` messages of `stream` under `<prefix>.>` and publishes them again,
/// bytes for bytes (subject renamed under `<prefix>x.`, headers and body unchanged), to a
/// fresh stream, `in_flight` acknowledgements at a time; the stream is deleted after.
///
/// This is what JetStream alone costs for the events the API appended — their size, their
/// headers (the expectation, the fingerprint, `traceparent`) and one new subject each —
/// the baseline beside [`nats_publish`]'s anonymous 700-byte messages without headers.
pub async fn nats_republish_events(
    js: &jetstream::Context,
    stream: &str,
    prefix: &str,
    count: usize,
    in_flight: usize,
) -> anyhow::Result<Rate> {
    use anyhow::Context as _;
    let source = js.get_stream(stream).await.context("the run's stream")?;
    let consumer = source
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: format!("{prefix}.>"),
            ..Default::default()
        })
        .await
        .context("an ordered consumer of the run's events")?;
    let mut messages = consumer.messages().await?;
    let mut events = Vec::with_capacity(count);
    while events.len() < count {
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), messages.next()).await;
        let Ok(Some(message)) = next else { break };
        let message = message.map_err(|err| anyhow::anyhow!("reading the run's events: {err}"))?;
        let Some(rest) = message.subject.as_str().strip_prefix(&format!("{prefix}.")) else {
            continue;
        };
        events.push((
            format!("{prefix}x.{rest}"),
            message.headers.clone(),
            message.payload.clone(),
        ));
    }
    let copy = format!("{stream}_X");
    let _ = js.delete_stream(&copy).await;
    js.create_stream(jetstream::stream::Config {
        name: copy.clone(),
        subjects: vec![format!("{prefix}x.>")],
        storage: jetstream::stream::StorageType::File,
        allow_direct: true,
        ..Default::default()
    })
    .await
    .context("the copy's stream")?;
    let started = Instant::now();
    let published = publish_pipelined(js, events, in_flight).await?;
    let rate = Rate::new(NATS_EVENTS_REPUBLISH, published, started.elapsed());
    js.delete_stream(&copy).await.context("deleting the copy's stream")?;
    Ok(rate)
}

/// Publishes `messages` (subject, headers, body) with up to `in_flight` acknowledgements
/// outstanding; returns how many were acknowledged.
async fn publish_pipelined(
    js: &jetstream::Context,
    messages: impl IntoIterator<Item = (String, Option<async_nats::HeaderMap>, bytes::Bytes)>,
    in_flight: usize,
) -> anyhow::Result<u64> {
    let mut pending = FuturesUnordered::new();
    let mut published = 0;
    for (subject, headers, payload) in messages {
        let ack = match headers {
            Some(headers) => js.publish_with_headers(subject, headers, payload).await?,
            None => js.publish(subject, payload).await?,
        };
        pending.push(ack.into_future());
        while pending.len() >= in_flight {
            if let Some(result) = pending.next().await {
                result?;
                published += 1;
            }
        }
    }
    while let Some(result) = pending.next().await {
        result?;
        published += 1;
    }
    Ok(published)
}
