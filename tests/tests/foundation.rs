//! The foundation works against the real servers: an event envelope published to
//! JetStream with its headers can be read back and decoded, and a tenant database can be
//! written, read and dropped.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{self, DeliverPolicy};
use bson::doc;
use chrono::Utc;
use events::event::{SaleVoided, StockReceived};
use events::{Actor, Currency, EventEnvelope, LocationId, Money, MovementId, Role, SaleId, Sku, UserId, headers};
use futures::StreamExt;
use tests::{Servers, TestDatabase, TestStream, eventually, unique_tenant};
use uuid::Uuid;

fn envelope(tenant: &events::TenantId, event: events::DomainEvent) -> anyhow::Result<EventEnvelope> {
    Ok(EventEnvelope {
        event_id: Uuid::now_v7(),
        tenant_id: tenant.clone(),
        occurred_at: Utc::now(),
        recorded_at: Utc::now(),
        actor: Actor {
            user_id: Some(UserId::parse("u1")?),
            api_key_id: None,
            role: Role::Manager,
            terminal_id: None,
        },
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        idempotency_key: Uuid::now_v7().to_string(),
        event,
    })
}

async fn publish(servers: &Servers, stream: &TestStream, envelope: &EventEnvelope) -> anyhow::Result<u64> {
    let mut headers = HeaderMap::new();
    headers.insert(headers::MSG_ID, envelope.event_id.to_string().as_str());
    let subject = stream.scheme.subject(&envelope.tenant_id, &envelope.aggregate());
    let ack = servers
        .jetstream
        .publish_with_headers(subject, headers, events::encode(envelope)?.into())
        .await?
        .await?;
    Ok(ack.sequence)
}

#[tokio::test]
async fn an_envelope_published_with_headers_reads_back_from_its_tenant_subjects() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    let tenant = unique_tenant();
    let other_tenant = unique_tenant();

    let received = envelope(
        &tenant,
        StockReceived {
            movement_id: MovementId::parse("m-1")?,
            sku: Sku::parse("JD-750")?,
            location: LocationId::parse("main")?,
            quantity: 12,
            unit_cost: Money::new(1850, Currency::USD),
            supplier: "Brown-Forman".into(),
            reference: "PO-1".into(),
            pack: None,
        }
        .into(),
    )?;
    let voided = envelope(
        &other_tenant,
        SaleVoided {
            business_date: None,
            drawer_session_id: None,
            sale_id: SaleId::parse("s-1")?,
            reason: "test".into(),
        }
        .into(),
    )?;
    let first = publish(&servers, &stream, &received).await?;
    publish(&servers, &stream, &voided).await?;
    assert_eq!(stream.message_count().await?, 2);

    // A consumer filtered on the tenant sees only that tenant's event.
    let js_stream = servers.jetstream.get_stream(&stream.name).await?;
    let consumer = js_stream
        .create_consumer(consumer::pull::Config {
            filter_subject: stream.scheme.tenant_filter(&tenant),
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await?;
    let mut messages = consumer
        .fetch()
        .max_messages(10)
        .expires(Duration::from_secs(1))
        .messages()
        .await?;
    let message = messages
        .next()
        .await
        .ok_or_else(|| anyhow::anyhow!("no message"))?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(
        message.subject.as_str(),
        stream.scheme.subject(&tenant, &received.aggregate())
    );
    let headers = message.headers.as_ref().ok_or_else(|| anyhow::anyhow!("no headers"))?;
    assert_eq!(
        headers.get(headers::MSG_ID).map(|v| v.as_str()),
        Some(received.event_id.to_string().as_str())
    );
    assert_eq!(events::decode(&message.payload)?, received);
    assert_eq!(
        message.info().map_err(|e| anyhow::anyhow!("{e}"))?.stream_sequence,
        first
    );
    message.ack().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    assert!(
        messages.next().await.is_none(),
        "the other tenant's event leaked into the filter"
    );

    stream.delete().await
}

#[tokio::test]
async fn a_republished_event_id_is_deduplicated_by_jetstream() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    let event = envelope(
        &unique_tenant(),
        SaleVoided {
            business_date: None,
            drawer_session_id: None,
            sale_id: SaleId::parse("s-2")?,
            reason: "x".into(),
        }
        .into(),
    )?;
    let first = publish(&servers, &stream, &event).await?;
    let second = publish(&servers, &stream, &event).await?;
    assert_eq!(first, second, "a retried publish must return the original sequence");
    assert_eq!(stream.message_count().await?, 1);
    stream.delete().await
}

#[tokio::test]
async fn a_tenant_database_is_written_read_back_and_dropped() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let tenant = unique_tenant();
    let db = servers.mongo.database(&tenant.database_name());
    let products = db.collection::<bson::Document>("products");
    products
        .insert_one(doc! {"_id": "JD-750", "name": "Whiskey", "price_minor": 2999_i64})
        .await?;
    let found = products
        .find_one(doc! {"_id": "JD-750"})
        .await?
        .ok_or_else(|| anyhow::anyhow!("not found"))?;
    assert_eq!(found.get_i64("price_minor")?, 2999);

    let err = products
        .insert_one(doc! {"_id": "JD-750"})
        .await
        .expect_err("duplicate _id");
    assert!(
        matches!(
            *err.kind,
            mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(ref e)) if e.code == 11000
        ),
        "{err}"
    );

    db.drop().await?;
    eventually("the database to disappear", Duration::from_secs(5), || async {
        let names = servers.mongo.list_database_names().await?;
        Ok((!names.contains(&tenant.database_name())).then_some(()))
    })
    .await
}

#[tokio::test]
async fn scratch_databases_are_isolated_per_test() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let (a, b) = (TestDatabase::new(&servers.mongo), TestDatabase::new(&servers.mongo));
    a.db.collection("c").insert_one(doc! {"x": 1}).await?;
    assert_eq!(
        b.db.collection::<bson::Document>("c").count_documents(doc! {}).await?,
        0
    );
    a.drop().await?;
    b.drop().await
}

#[tokio::test]
async fn an_existing_stream_keeps_the_partition_count_it_was_created_with() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let name = tests::unique_name("PARTS").to_uppercase();
    let prefix = tests::unique_prefix();
    let created =
        eventstore::StreamSettings::new(name.clone(), events::SubjectScheme::with_partitions(prefix.clone(), 4)?);
    let (_, scheme) = created.ensure(&servers.jetstream).await?;
    assert_eq!(scheme.partitions(), 4);
    // A process configured with 8 partitions opens the same stream and uses its 4.
    let reopened = eventstore::StreamSettings::new(name.clone(), events::SubjectScheme::with_partitions(prefix, 8)?);
    let store = eventstore::EventStore::open(servers.nats.clone(), &reopened, Duration::from_secs(5)).await?;
    assert_eq!(store.scheme().partitions(), 4);
    servers.jetstream.delete_stream(&name).await?;
    Ok(())
}
