//! NATS users with per-service permissions (issue 15): a nats-server of the test's own, run
//! from the configuration `scripts/nats-users` generates (the one `scripts/services` uses
//! with `TILLSTREAM_NATS_AUTH=1` and compose.yaml mounts). The shared test server has no
//! users and is left alone.

use std::time::Duration;

use anyhow::Context;
use async_nats::jetstream::{self, consumer::pull};
use events::{Role, SubjectScheme};
use eventstore::StreamArgs;
use futures::StreamExt;
use serde_json::json;
use tests::command_app::{posted, read};
use tests::processes::{NatsUsers, nats_server_with_users};
use tests::{CommandApp, ProjectorApp, WebhookApp, unique_tenant};

/// A connection as `user`, or anonymous; `Err` when the server refuses it.
async fn connect(url: &str, user: Option<(&str, &str)>) -> Result<async_nats::Client, async_nats::ConnectError> {
    let options = match user {
        Some((user, password)) => async_nats::ConnectOptions::with_user_and_password(user.into(), password.into()),
        None => async_nats::ConnectOptions::new(),
    };
    options.connection_timeout(Duration::from_secs(3)).connect(url).await
}

async fn as_service(url: &str, users: &NatsUsers, service: &str) -> anyhow::Result<async_nats::Client> {
    let (user, password) = users.of(service)?;
    connect(url, Some((&user, &password)))
        .await
        .with_context(|| format!("connecting as {service}"))
}

/// JetStream on `client`, with a short timeout: a refused request gets no answer at all.
fn js(client: &async_nats::Client) -> jetstream::Context {
    jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(1))
        .build(client.clone())
}

/// The stream's message count, as the operator sees it.
async fn messages(ops: &jetstream::Context, stream: &str) -> anyhow::Result<u64> {
    Ok(ops.get_stream(stream).await?.info().await?.state.messages)
}

/// The flags a service connects with, as `service`'s user.
fn args(url: &str, users: &NatsUsers, service: &str, stream: &str, prefix: &str) -> anyhow::Result<StreamArgs> {
    let (user, password) = users.of(service)?;
    Ok(StreamArgs {
        nats_url: url.to_owned(),
        nats_user: Some(user),
        nats_password: Some(password.into()),
        stream_name: stream.to_owned(),
        subject_prefix: prefix.to_owned(),
        stream_partitions: SubjectScheme::DEFAULT_PARTITIONS,
        stream_replicas: 1,
        idempotency_key_retention_days: 30,
        stream_max_consumers: eventstore::StreamSettings::DEFAULT_MAX_CONSUMERS,
    })
}

#[tokio::test]
async fn each_service_user_may_do_its_own_work_and_nothing_else() -> anyhow::Result<()> {
    let (_server, url, users) = nats_server_with_users("POS", "pos").await?;
    let (api_user, api_password) = users.of("api")?;

    // Wrong password, unknown user, no credentials: refused.
    assert!(connect(&url, Some((&api_user, "not-the-password"))).await.is_err());
    assert!(connect(&url, Some(("mallory", &api_password))).await.is_err());
    assert!(connect(&url, None).await.is_err());
    let wrong = args(&url, &users, "api", "POS", "pos").map(|mut a| {
        a.nats_password = Some("not-the-password".into());
        a
    })?;
    assert!(wrong.connect("wrong-password", Duration::from_secs(2)).await.is_err());

    let ops_client = as_service(&url, &users, "ops").await?;
    let ops = js(&ops_client);
    let scheme = SubjectScheme::new("pos")?;

    // The API opens the store with its own user (stream created or updated at start).
    let store = args(&url, &users, "api", "POS", "pos")?
        .connect("api-under-test", Duration::from_secs(3))
        .await?;
    assert_eq!(store.stream_name(), "POS");
    let tenant = unique_tenant();
    let partition = scheme.partition_of(&tenant);
    let event_subject = format!("pos.{partition}.{tenant}.product.p1");
    let marker_subject = format!("pos.{partition}.{tenant}.control.job1");

    let api_client = as_service(&url, &users, "api").await?;
    let api = js(&api_client);
    api.publish(event_subject.clone(), "event".into()).await?.await?;
    assert_eq!(messages(&ops, "POS").await?, 1, "the API's event is stored");

    // Not a control marker, not another subject, not the stream's deletion or purge.
    assert!(
        api.publish(marker_subject.clone(), "marker".into())
            .await?
            .await
            .is_err()
    );
    let mut other = ops_client.subscribe("other.>").await?;
    ops_client.flush().await?;
    api_client.publish("other.subject", "leak".into()).await?;
    api_client.flush().await?;
    assert!(
        tokio::time::timeout(Duration::from_millis(500), other.next())
            .await
            .is_err(),
        "the API's user published outside the event subjects"
    );
    assert!(
        api.delete_stream("POS").await.is_err(),
        "the API's user deleted the stream"
    );
    let stream = api.get_stream("POS").await?;
    assert!(stream.purge().await.is_err(), "the API's user purged the stream");
    assert!(
        stream.delete_message(1).await.is_err(),
        "the API's user deleted an event"
    );
    // Nor may it take the projector's durable consumer.
    let taken = stream
        .create_consumer(pull::Config {
            durable_name: Some("projector-p0".to_owned()),
            filter_subject: "pos.0.>".to_owned(),
            ..Default::default()
        })
        .await;
    assert!(taken.is_err(), "the API's user created the projector's consumer");
    // Its readers' subject (`CONSUMER.CREATE.<stream>`) makes ephemerals only.
    let request = json!({"stream_name": "POS", "config": {"durable_name": "projector-p0",
        "filter_subject": "pos.0.>", "ack_policy": "explicit"}});
    let answer = api_client
        .request("$JS.API.CONSUMER.CREATE.POS", serde_json::to_vec(&request)?.into())
        .await?;
    let answer: serde_json::Value = serde_json::from_slice(&answer.payload)?;
    assert!(
        answer.get("error").is_some(),
        "a durable consumer made by the API's user: {answer}"
    );
    assert!(
        ops.get_stream("POS")
            .await?
            .consumer_info("projector-p0")
            .await
            .is_err()
    );
    assert_eq!(
        messages(&ops, "POS").await?,
        1,
        "nothing the API's user was refused is stored"
    );

    // The projector: its own durable consumer (pull, ack), no events, no deletion.
    let projector_client = as_service(&url, &users, "projector").await?;
    let projector = js(&projector_client);
    let name = format!("projector-p{partition}");
    let consumer = projector
        .get_stream("POS")
        .await?
        .create_consumer(pull::Config {
            durable_name: Some(name.clone()),
            filter_subject: scheme.partition_filter(partition),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .context("the projector's user creating its own consumer")?;
    let mut batch = consumer
        .fetch()
        .max_messages(10)
        .expires(Duration::from_secs(2))
        .messages()
        .await?;
    let message = batch
        .next()
        .await
        .context("no message")?
        .map_err(|e| anyhow::anyhow!(e))?;
    assert_eq!(message.subject.as_str(), event_subject);
    message.double_ack().await.map_err(|e| anyhow::anyhow!(e))?;
    assert!(
        projector
            .publish(event_subject.clone(), "forged".into())
            .await?
            .await
            .is_err()
    );
    assert!(projector.publish(marker_subject, "marker".into()).await?.await.is_err());
    projector_client.publish(event_subject.clone(), "forged".into()).await?;
    projector_client.flush().await?;
    assert!(projector.delete_stream("POS").await.is_err());
    let webhooks_consumer = projector
        .get_stream("POS")
        .await?
        .create_consumer(pull::Config {
            durable_name: Some("webhooks-p0".to_owned()),
            filter_subject: "pos.0.>".to_owned(),
            ..Default::default()
        })
        .await;
    assert!(
        webhooks_consumer.is_err(),
        "the projector's user created the webhook worker's consumer"
    );

    // The webhook worker: its own consumers, not the projector's, no events.
    let webhooks_client = as_service(&url, &users, "webhooks").await?;
    let webhooks = js(&webhooks_client);
    let own = webhooks
        .get_stream("POS")
        .await?
        .create_consumer(pull::Config {
            durable_name: Some("webhooks-p1".to_owned()),
            filter_subject: "pos.1.>".to_owned(),
            ..Default::default()
        })
        .await;
    assert!(
        own.is_ok(),
        "the webhook worker's user creating its own consumer: {:?}",
        own.err()
    );
    let theirs = webhooks
        .get_stream("POS")
        .await?
        .create_consumer(pull::Config {
            durable_name: Some("projector-p1".to_owned()),
            filter_subject: "pos.1.>".to_owned(),
            ..Default::default()
        })
        .await;
    assert!(
        theirs.is_err(),
        "the webhook worker's user created the projector's consumer"
    );
    assert!(webhooks.publish(event_subject, "forged".into()).await?.await.is_err());

    assert_eq!(messages(&ops, "POS").await?, 1, "only the API's event is stored");
    // The operator's user manages the stream (what `projector delete` and friends need).
    ops.get_stream("POS").await?.purge().await?;
    ops.delete_stream("POS").await?;
    Ok(())
}

#[tokio::test]
async fn the_api_projector_and_webhook_worker_run_with_their_own_users() -> anyhow::Result<()> {
    let (_server, url, users) = nats_server_with_users("POS", "pos").await?;
    let api_args = args(&url, &users, "api", "POS", "pos")?;
    let app = CommandApp::spawn_with(|config| config.stream = api_args).await?;
    let projector_args = args(&url, &users, "projector", "POS", "pos")?;
    let projector_db = format!("projector_natsusers_{}", uuid::Uuid::now_v7().simple());
    let projector = ProjectorApp::spawn_with(&app.stream, |config| {
        config.stream = projector_args;
        config.projector_db = projector_db;
    })
    .await?;
    let webhooks_args = args(&url, &users, "webhooks", "POS", "pos")?;
    let worker = WebhookApp::spawn_with(&app.stream, |config| config.stream = webhooks_args).await?;

    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let product = json!({"sku": "WINE-1", "details": {"name": "Rioja", "category": "wine", "tax_class": "standard",
        "barcodes": [], "minimum_age": 21, "reorder_point": 6}, "price": {"amount_minor": 1899, "currency": "USD"}});
    let sequence = posted(&app, &manager, "/v1/products", &product).await?;
    // The same request again: answered from the idempotency check, through the API's user.
    let retry = app
        .post("/v1/products", &manager, &product, &[("Idempotency-Key", "k-1")])
        .await?;
    assert!(retry.status == 201 || retry.status == 200, "{retry:?}");
    let again = app
        .post("/v1/products", &manager, &product, &[("Idempotency-Key", "k-1")])
        .await?;
    assert_eq!(again.header("Idempotent-Replayed"), Some("true"), "{again:?}");
    let seen = read(&app, &manager, "/v1/products/WINE-1", sequence).await?;
    assert_eq!(seen["price"]["amount_minor"], 1899, "{seen}");
    // The integrators' feed reads the tenant's events through an ordered consumer.
    let feed = app
        .send(
            app.http
                .get(format!("{}/v1/feed?limit=10", app.address))
                .bearer_auth(&manager),
        )
        .await?;
    assert_eq!(feed.status, 200, "{feed:?}");
    assert!(feed.body.to_string().contains("WINE-1"), "{feed:?}");
    // The projector's lag report (its consumers' positions and the tenant's head).
    let lag = projector.admin_get(&format!("/v1/tenants/{tenant}/lag")).await?;
    assert_eq!(lag["lag"], 0, "{lag}");

    // The worker made its durable consumers with its own user.
    let ops = js(&as_service(&url, &users, "ops").await?);
    let stream = ops.get_stream("POS").await?;
    let consumer = stream.consumer_info("webhooks-p0").await;
    assert!(consumer.is_ok(), "the webhook worker's consumer: {:?}", consumer.err());
    worker.stop().await?;
    projector.stop().await?;
    Ok(())
}
