//! Faults, proven by trying to cause them: the projector killed with SIGKILL at random
//! points under load, the command API killed while clients retry, NATS restarted under
//! load, MongoDB unreachable, and thousands of generated bad commands. The counts are in
//! docs/reliability.md. `TILLSTREAM_LONG_TESTS=1` runs the long variants.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use events::Role;
use serde_json::{Value, json};
use tests::command_app::open_locations_at;
use tests::generator::{self, Rng};
use tests::processes::{self, Process};
use tests::projector_app::wait_for_checkpoint;
use tests::read_model::{self, difference};
use tests::{CommandApp, ProjectorApp, Servers, TestStream, TokenIssuer, unique_tenant};

fn long() -> bool {
    std::env::var_os("TILLSTREAM_LONG_TESTS").is_some()
}

fn projector_process(stream: &TestStream, nats_url: &str, mongodb_uri: &str, extra: &[&str]) -> Process {
    let args: Vec<String> = [
        "--nats-url",
        nats_url,
        "--mongodb-uri",
        mongodb_uri,
        "--stream-name",
        &stream.name,
        "--subject-prefix",
        stream.scheme.prefix(),
        "--admin-addr",
        "127.0.0.1:0",
        "--pinned-ttl-secs",
        "1",
        "--standby-delay-secs",
        "0",
        "--projector-db",
        &format!("projector_{}", stream.name.to_lowercase()),
    ]
    .iter()
    .chain(extra)
    .map(|s| (*s).to_owned())
    .collect();
    processes::service(env!("CARGO_BIN_EXE_projector-under-test"), &args)
}

#[tokio::test]
async fn the_projector_killed_at_random_points_under_load_converges_to_a_fresh_replay() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    let tenants = [unique_tenant(), unique_tenant()];
    let streams: Vec<_> = tenants
        .iter()
        .enumerate()
        .map(|(i, t)| generator::mixed_events(t, 900 + i as u64, if long() { 6000 } else { 1500 }))
        .collect();
    // The load: both tenants' events published in small chunks while the projector dies.
    let (js, scheme, load) = (servers.jetstream.clone(), stream.scheme.clone(), streams.clone());
    let publisher = tokio::spawn(async move {
        let mut last = 0;
        let chunks: Vec<Vec<_>> = load
            .iter()
            .map(|events| events.chunks(25).map(<[_]>::to_vec).collect())
            .collect();
        for round in 0..chunks.iter().map(Vec::len).max().unwrap_or(0) {
            for tenant_chunks in &chunks {
                if let Some(chunk) = tenant_chunks.get(round) {
                    last = last.max(*generator::publish(&js, &scheme, chunk).await?.last().unwrap_or(&0));
                }
            }
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        anyhow::Ok(last)
    });
    let mut projector = projector_process(
        &stream,
        &tests::servers::nats_url(),
        &tests::servers::mongodb_uri(),
        &["--batch-size", "50"],
    );
    let mut rng = Rng::new(0x5EED);
    let kills = if long() { 60 } else { 20 };
    for _ in 0..kills {
        projector.start()?;
        tokio::time::sleep(Duration::from_millis(150 + rng.below(900))).await;
        projector.kill()?;
    }
    let last = publisher.await??;
    projector.start()?;
    for tenant in &tenants {
        wait_for_checkpoint(&servers, tenant, 1, Duration::from_secs(60)).await?;
    }
    // Each tenant's last event is its own last sequence.
    let js_stream = servers.jetstream.get_stream(&stream.name).await?;
    for tenant in &tenants {
        let head = js_stream
            .direct_get_last_for_subject(stream.scheme.tenant_filter(tenant))
            .await?
            .sequence;
        assert!(head <= last);
        wait_for_checkpoint(&servers, tenant, head, Duration::from_secs(90)).await?;
    }
    projector.stop(Duration::from_secs(10)).await?;
    let config = ProjectorApp::config(&stream);
    let store = projector::startup::event_store(&config).await?;
    for tenant in &tenants {
        let live = read_model::dump(&servers.mongo.database(&tenant.database_name())).await?;
        let scratch = servers.mongo.database(&format!("fresh_{tenant}"));
        let fresh = read_model::fresh_rebuild(&store, &scratch, tenant).await?;
        scratch.drop().await?;
        assert_eq!(difference(&fresh, &live), None, "tenant {tenant} after {kills} kills");
        let parked = tests::read_model::parked(&servers.mongo.database(&tenant.database_name())).await?;
        assert_eq!(parked, 0);
        servers.mongo.database(&tenant.database_name()).drop().await?;
    }
    stream.delete().await
}

fn sale(id: &str) -> Value {
    json!({"sale_id": id, "location": "main", "currency": "USD", "lines": [{"sku": "CHIPS", "quantity": 1, "unit_price_minor": 300}],
        "subtotal_minor": 300, "discount_total_minor": 0, "tax_total_minor": 0, "total_minor": 300,
        "tenders": [{"kind": "cash", "amount_minor": 300}], "change_minor": 0})
}

/// Posts `sale` until a 2xx, retrying connection errors and 5xx with the same key.
async fn post_until_acknowledged(http: &reqwest::Client, base: &str, token: &str, id: &str) -> anyhow::Result<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let sent = http
            .post(format!("{base}/v1/sales"))
            .bearer_auth(token)
            .header("Idempotency-Key", format!("key-{id}"))
            .json(&sale(id))
            .send()
            .await;
        if let Ok(response) = sent {
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return Ok(response.json().await?);
            }
            anyhow::ensure!(status >= 500, "{id}: unexpected {status}");
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "{id}: never acknowledged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The number of messages on each sale subject of `tenant` in `stream`.
/// How many messages each of the tenant's subjects holds (STREAM.INFO with a subjects
/// filter, answered by the stream leader).
async fn sale_counts(
    js: &async_nats::jetstream::Context,
    stream: &TestStream,
    tenant: &events::TenantId,
) -> anyhow::Result<BTreeMap<String, usize>> {
    use futures::TryStreamExt;
    let handle = js.get_stream(&stream.name).await?;
    let subjects: Vec<(String, usize)> = handle
        .info_with_subjects(stream.scheme.kind_filter(tenant, events::AggregateKind::Sale))
        .await?
        .try_collect()
        .await?;
    Ok(subjects.into_iter().collect())
}

#[tokio::test]
async fn clients_retrying_through_command_api_kills_record_every_acknowledged_sale_once() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    let issuer = TokenIssuer::default();
    let port = processes::free_port()?;
    let args: Vec<String> = [
        "--listen-addr",
        &format!("127.0.0.1:{port}"),
        "--nats-url",
        &tests::servers::nats_url(),
        "--mongodb-uri",
        &tests::servers::mongodb_uri(),
        "--stream-name",
        &stream.name,
        "--subject-prefix",
        stream.scheme.prefix(),
        "--jwt-secret",
        &issuer.secret,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut api = processes::service(env!("CARGO_BIN_EXE_command-api-under-test"), &args);
    api.start()?;
    let base = format!("http://127.0.0.1:{port}");
    let tenant = unique_tenant();
    open_locations_at(
        &reqwest::Client::new(),
        &base,
        &issuer.account_token(&tenant, Role::Admin).await?,
    )
    .await?;
    let token = issuer.account_token(&tenant, Role::Cashier).await?;
    let total = if long() { 2000 } else { 300 };
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (base, token) = (base.clone(), token.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut acknowledged = Vec::new();
                for n in (client..total).step_by(4) {
                    let id = format!("s-{n}");
                    let answer = post_until_acknowledged(&http, &base, &token, &id).await?;
                    acknowledged.push((id, answer["event_ids"][0].as_str().unwrap_or_default().to_owned()));
                }
                anyhow::Ok(acknowledged)
            })
        })
        .collect();
    let mut rng = Rng::new(77);
    let kills = if long() { 20 } else { 4 };
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(200 + rng.below(600))).await;
        api.kill()?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        api.start()?;
    }
    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await??);
    }
    assert_eq!(acknowledged.len(), total as usize);
    let counts = sale_counts(&servers.jetstream, &stream, &tenant).await?;
    assert_eq!(counts.len(), total as usize, "every acknowledged sale is in the stream");
    assert!(
        counts.values().all(|n| *n == 1),
        "no sale recorded twice: {:?}",
        counts.iter().filter(|(_, n)| **n != 1).collect::<Vec<_>>()
    );
    api.stop(Duration::from_secs(10)).await?;
    stream.delete().await
}

/// A command API in this process on a test's own nats-server, `url`: its base URL, the
/// JetStream context and stream it appends to, and a cashier token of a fresh tenant.
struct OwnNatsApi {
    base: String,
    js: async_nats::jetstream::Context,
    stream: TestStream,
    tenant: events::TenantId,
    token: String,
}

impl OwnNatsApi {
    async fn start(url: &str) -> anyhow::Result<Self> {
        let js = async_nats::jetstream::new(async_nats::connect(url).await?);
        let stream = TestStream::create(&js).await?;
        let tokens = TokenIssuer::default();
        let mut config = CommandApp::config(&stream, &tokens);
        config.stream.nats_url = url.to_owned();
        config.publish_timeout_ms = 1000;
        let app = command_api::Application::build(config).await?;
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until(std::future::pending()));
        let tenant = unique_tenant();
        open_locations_at(
            &reqwest::Client::new(),
            &base,
            &tokens.account_token(&tenant, Role::Admin).await?,
        )
        .await?;
        let token = tokens.account_token(&tenant, Role::Cashier).await?;
        Ok(Self {
            base,
            js,
            stream,
            tenant,
            token,
        })
    }
}

#[tokio::test]
async fn while_nats_is_down_commands_get_503_and_nothing_acknowledged_is_lost() -> anyhow::Result<()> {
    let (mut nats, url, _) = processes::nats_server(processes::NatsMode::Standalone).await?;
    let OwnNatsApi {
        base,
        js,
        stream,
        tenant,
        token,
    } = OwnNatsApi::start(&url).await?;
    let http = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    let post = |id: String| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            http.post(format!("{base}/v1/sales"))
                .bearer_auth(token)
                .json(&sale(&id))
                .timeout(Duration::from_secs(10))
                .send()
                .await
        }
    };
    for n in 0..50 {
        let answer = post(format!("before-{n}")).await?;
        assert_eq!(answer.status().as_u16(), 201);
        acknowledged.push(format!("before-{n}"));
    }
    nats.stop(Duration::from_secs(10)).await?;
    let mut refused = 0;
    for n in 0..20 {
        // The client's 10 s timeout makes a hanging request fail the test: the API answers
        // within its 1 s publish timeout instead of waiting for NATS.
        let answer = post(format!("during-{n}")).await?;
        assert_eq!(answer.status().as_u16(), 503, "no 2xx without an ack");
        assert!(answer.headers().contains_key("retry-after"));
        refused += 1;
    }
    nats.start()?;
    let recovered = tests::eventually("commands to succeed again", Duration::from_secs(30), || async move {
        Ok(post("after-probe".to_owned())
            .await
            .ok()
            .filter(|a| a.status().as_u16() == 201)
            .map(|_| ()))
    })
    .await;
    recovered?;
    acknowledged.push("after-probe".to_owned());
    for n in 0..50 {
        let answer = post(format!("after-{n}")).await?;
        assert_eq!(answer.status().as_u16(), 201);
        acknowledged.push(format!("after-{n}"));
    }
    let counts = sale_counts(&js, &stream, &tenant).await?;
    for id in &acknowledged {
        let subject = stream.scheme.subject(
            &tenant,
            &events::AggregateRef::new(events::AggregateKind::Sale, id.clone())?,
        );
        assert_eq!(
            counts.get(&subject),
            Some(&1),
            "{id} was acknowledged and must be stored once"
        );
    }
    assert_eq!(
        counts.len(),
        acknowledged.len(),
        "nothing refused was stored ({refused} refused)"
    );
    Ok(())
}

/// The role and `active` flag the login store (`GET /v1/users`) shows for `user`.
async fn login_standing(http: &reqwest::Client, base: &str, admin: &str, user: &str) -> anyhow::Result<(String, bool)> {
    let listed: Value = http
        .get(format!("{base}/v1/users"))
        .bearer_auth(admin)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let found = listed["items"]
        .as_array()
        .and_then(|items| items.iter().find(|u| u["id"] == user))
        .ok_or_else(|| anyhow::anyhow!("{user} not listed: {listed}"))?;
    Ok((
        found["role"].as_str().unwrap_or_default().to_owned(),
        found["active"].as_bool().unwrap_or_default(),
    ))
}

#[tokio::test]
async fn while_nats_is_down_user_changes_get_503_and_change_nothing_and_their_retries_land_once() -> anyhow::Result<()>
{
    // User changes append the event first and write the login store from the events after:
    // with NATS down nothing changes anywhere (before, the role and the deactivation were
    // written to the login store and the event was lost).
    let (mut nats, url, _) = processes::nats_server(processes::NatsMode::Standalone).await?;
    let api = OwnNatsApi::start(&url).await?;
    let tokens = TokenIssuer::default();
    let admin = tokens.account_token(&api.tenant, Role::Admin).await?;
    tokens.account_token(&api.tenant, Role::Manager).await?;
    tokens.account_token(&api.tenant, Role::Cashier).await?;
    let manager = tests::tokens::account_user(&api.tenant, Role::Manager);
    let cashier = tests::tokens::account_user(&api.tenant, Role::Cashier);
    let http = reqwest::Client::new();
    let demote = || {
        http.put(format!("{}/v1/users/{manager}/role", api.base))
            .bearer_auth(&admin)
            .json(&json!({"role": "cashier"}))
            .timeout(Duration::from_secs(10))
            .send()
    };
    let deactivate = || {
        http.post(format!("{}/v1/users/{cashier}/deactivate", api.base))
            .bearer_auth(&admin)
            .json(&json!({"reason": "left"}))
            .timeout(Duration::from_secs(10))
            .send()
    };

    nats.stop(Duration::from_secs(10)).await?;
    assert_eq!(demote().await?.status().as_u16(), 503);
    assert_eq!(deactivate().await?.status().as_u16(), 503);
    assert_eq!(
        login_standing(&http, &api.base, &admin, &manager).await?,
        ("manager".to_owned(), true),
        "a refused role change changed the login store"
    );
    assert_eq!(
        login_standing(&http, &api.base, &admin, &cashier).await?,
        ("cashier".to_owned(), true),
        "a refused deactivation changed the login store"
    );

    nats.start()?;
    let demoted = tests::eventually("the retried role change to land", Duration::from_secs(30), || async {
        Ok(demote().await.ok().filter(|a| a.status().as_u16() == 201).map(|_| ()))
    })
    .await;
    demoted?;
    assert_eq!(deactivate().await?.status().as_u16(), 201);
    // Retried again: recognised, nothing appended.
    let again = demote().await?;
    assert_eq!(
        again.headers().get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(
        login_standing(&http, &api.base, &admin, &manager).await?,
        ("cashier".to_owned(), true)
    );
    assert_eq!(
        login_standing(&http, &api.base, &admin, &cashier).await?,
        ("cashier".to_owned(), false)
    );
    let counts = user_event_counts(&api.js, &api.stream, &api.tenant).await?;
    assert_eq!(
        counts,
        BTreeMap::from([("UserDeactivated".to_owned(), 1), ("UserRoleChanged".to_owned(), 1)]),
        "one event per acknowledged change"
    );
    Ok(())
}

/// Counts of the tenant's user events by type.
async fn user_event_counts(
    js: &async_nats::jetstream::Context,
    stream: &TestStream,
    tenant: &events::TenantId,
) -> anyhow::Result<BTreeMap<String, usize>> {
    use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
    use futures::StreamExt;
    let consumer = js
        .get_stream(&stream.name)
        .await?
        .create_consumer(pull::Config {
            filter_subject: stream.scheme.tenant_filter(tenant),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::None,
            ..Default::default()
        })
        .await?;
    let pending = consumer.cached_info().num_pending as usize;
    let mut counts = BTreeMap::new();
    let mut messages = consumer.fetch().max_messages(pending.max(1)).messages().await?;
    for _ in 0..pending {
        let message = messages
            .next()
            .await
            .ok_or_else(|| anyhow::anyhow!("the stream ended early"))?
            .map_err(|e| anyhow::anyhow!("fetching: {e}"))?;
        let event_type = events::decode(&message.payload)?.event_type().as_str().to_owned();
        if event_type.starts_with("User") {
            *counts.entry(event_type).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

#[tokio::test]
async fn when_jetstream_storage_is_full_commands_get_503_and_nothing_refused_is_stored() -> anyhow::Result<()> {
    // A server whose JetStream may store 256 KiB: a few hundred sales fill it.
    let (_nats, url, _) = processes::nats_server(processes::NatsMode::StorageLimit(256 * 1024)).await?;
    let api = OwnNatsApi::start(&url).await?;
    let http = reqwest::Client::new();
    let post = |id: String| {
        http.post(format!("{}/v1/sales", api.base))
            .bearer_auth(&api.token)
            .json(&sale(&id))
            .timeout(Duration::from_secs(10))
            .send()
    };
    let mut acknowledged = Vec::new();
    let full = loop {
        let id = format!("sale-{}", acknowledged.len());
        let answer = post(id.clone()).await?;
        if answer.status().as_u16() != 201 {
            break answer;
        }
        acknowledged.push(id);
        anyhow::ensure!(acknowledged.len() < 5000, "the storage limit was never reached");
    };
    assert!(acknowledged.len() > 10, "only {} sales fitted", acknowledged.len());
    // Storage exhausted is the event store being unavailable (the terminal keeps the sale
    // and retries later), not a fault of the API.
    assert_eq!(full.status().as_u16(), 503);
    assert!(full.headers().contains_key("retry-after"));
    let body: Value = full.json().await?;
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    for n in 0..10 {
        let answer = post(format!("refused-{n}")).await?;
        assert_eq!(answer.status().as_u16(), 503, "attempt {n} while full");
    }
    let counts = sale_counts(&api.js, &api.stream, &api.tenant).await?;
    assert_eq!(
        counts.len(),
        acknowledged.len(),
        "exactly the acknowledged sales are stored"
    );
    assert!(counts.values().all(|n| *n == 1));
    Ok(())
}

#[tokio::test]
async fn while_mongodb_is_unreachable_the_projector_waits_and_then_drains_without_parking() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    let (mut mongo, uri) = processes::mongo_server().await?;
    let projector = ProjectorApp::spawn_with(&stream, |c| {
        c.mongo.mongodb_uri = uri.clone();
        c.mongo.server_selection_timeout_secs = 1;
        c.mongo.socket_timeout_secs = 3;
    })
    .await?;
    let tenant = unique_tenant();
    let events = generator::mixed_events(&tenant, 1234, 900);
    let first = *generator::publish(&servers.jetstream, &stream.scheme, &events[..300])
        .await?
        .last()
        .unwrap_or(&0);
    let own = mongodb::Client::with_uri_str(&uri).await?;
    let db = own.database(&tenant.database_name());
    let checkpoint = |db: mongodb::Database| async move {
        anyhow::Ok(tenantdb::checkpoint::sequence(&db, &tenantdb::collections::Target::live()).await?)
    };
    tests::eventually("the first events to be applied", Duration::from_secs(30), || {
        let db = db.clone();
        async move { Ok((checkpoint(db).await? >= first).then_some(())) }
    })
    .await?;
    mongo.stop(Duration::from_secs(10)).await?;
    let last = *generator::publish(&servers.jetstream, &stream.scheme, &events[300..])
        .await?
        .last()
        .unwrap_or(&0);
    tokio::time::sleep(Duration::from_secs(3)).await; // the outage: the projector backs off meanwhile
    mongo.start()?;
    tests::eventually(
        "the projector to drain after MongoDB returns",
        Duration::from_secs(90),
        || {
            let db = db.clone();
            async move { Ok((checkpoint(db).await.unwrap_or(0) >= last).then_some(())) }
        },
    )
    .await?;
    projector.stop().await?;
    assert_eq!(tests::read_model::parked(&db).await?, 0, "an outage is not poison");
    assert_eq!(
        difference(&read_model::expected(&events, 1)?, &read_model::dump(&db).await?),
        None
    );
    stream.delete().await
}

mod bad_input {
    use super::*;
    use proptest::prelude::*;

    /// A value of any JSON type, sometimes huge, negative, deeply nested or odd.
    fn anything() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            Just(json!(u64::MAX)),
            Just(json!(-1)),
            Just(json!(1e308)),
            Just(json!(0.5)),
            ".{0,20}".prop_map(Value::from),
            Just(json!("a.b>*")),
            Just(json!("x".repeat(5000))),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A valid sale with one field replaced by anything (or removed, or an extra added).
    fn mutated_sale() -> impl Strategy<Value = Value> {
        let fields = vec![
            "sale_id",
            "location",
            "currency",
            "lines",
            "subtotal_minor",
            "discount_total_minor",
            "tax_total_minor",
            "total_minor",
            "tenders",
            "change_minor",
            "age_verification",
            "occurred_at",
            "terminal_id",
            "tenant_id",
            "surprise",
        ];
        (proptest::sample::select(fields), anything(), any::<bool>()).prop_map(|(field, value, remove)| {
            let mut body = super::sale("s-prop");
            if remove {
                if let Some(map) = body.as_object_mut() {
                    map.remove(field);
                }
            } else {
                body[field] = value;
            }
            if field == "lines" && !remove {
                body["lines"] = json!([{"sku": "CHIPS", "quantity": body["lines"].clone(), "unit_price_minor": 300}]);
            }
            body
        })
    }

    #[test]
    fn thousands_of_generated_bad_commands_get_4xx_and_publish_nothing() -> anyhow::Result<()> {
        let runtime = tokio::runtime::Runtime::new()?;
        let app = runtime.block_on(CommandApp::spawn())?;
        let tenant = unique_tenant();
        runtime.block_on(app.open_locations(&tenant))?;
        let token = runtime.block_on(app.token(&tenant, Role::Manager))?;
        let cases = if long() { 5000 } else { 600 };
        let statuses = std::cell::RefCell::new(BTreeMap::<u16, u32>::new());
        let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
            cases,
            failure_persistence: None,
            ..Default::default()
        });
        let paths = [
            "/v1/sales",
            "/v1/inventory/receipts",
            "/v1/products",
            "/v1/sales/s-prop/refunds",
        ];
        let result = runner.run(
            &(
                mutated_sale(),
                anything(),
                proptest::sample::select(paths.to_vec()),
                any::<bool>(),
            ),
            |(sale, random, path, use_random)| {
                let body = if use_random || path != "/v1/sales" {
                    random
                } else {
                    sale
                };
                let reply = runtime
                    .block_on(app.post(path, &token, &body, &[]))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                *statuses.borrow_mut().entry(reply.status).or_default() += 1;
                prop_assert!(reply.status < 500, "{path} {body}: {} {}", reply.status, reply.body);
                if reply.status >= 400 {
                    prop_assert!(reply.body["error"]["code"].is_string(), "error body: {}", reply.body);
                }
                Ok(())
            },
        );
        result.map_err(|e| anyhow::anyhow!("{e}"))?;
        // A mutation may leave the sale valid (e.g. an extra tenant_id equal to nothing); only
        // 2xx answers may have published, and only one sale id exists.
        let published = runtime.block_on(app.tenant_messages(&tenant))?.len() as u32;
        let statuses = statuses.into_inner();
        let accepted: u32 = statuses
            .iter()
            .filter(|(s, _)| (200..300).contains(*s))
            .map(|(_, n)| *n)
            .sum();
        assert!(
            published <= 1 && (published == 0 || accepted > 0),
            "published {published} with {accepted} accepted; statuses {statuses:?}"
        );
        eprintln!("bad-input statuses over {cases} cases: {statuses:?}");
        runtime.block_on(app.stream.delete())
    }
}

#[tokio::test]
async fn a_three_node_cluster_loses_no_acknowledged_event_when_a_node_stops() -> anyhow::Result<()> {
    let cluster_ports = [
        processes::free_port()?,
        processes::free_port()?,
        processes::free_port()?,
    ];
    let mut nodes = Vec::new();
    let mut urls = Vec::new();
    for index in 0..cluster_ports.len() {
        let member = processes::ClusterMember {
            name: &format!("node-{index}"),
            index,
            route_ports: cluster_ports,
        };
        let (process, url, _) = processes::nats_server(processes::NatsMode::Cluster(member)).await?;
        nodes.push(process);
        urls.push(url);
    }
    let all = urls.join(",");
    let client = async_nats::connect(eventstore::server_addrs(&all)?).await?;
    let js = async_nats::jetstream::new(client);
    // The cluster elects its JetStream meta leader first; creating the R3 stream waits for it.
    let prefix = tests::unique_prefix();
    let name = prefix.to_uppercase();
    let scheme = events::SubjectScheme::new(prefix.clone())?;
    let mut settings = eventstore::StreamSettings::new(name.clone(), scheme.clone());
    settings.replicas = 3;
    tests::eventually("the cluster to accept an R3 stream", Duration::from_secs(60), || {
        let (settings, js) = (settings.clone(), js.clone());
        async move { Ok(settings.ensure(&js).await.ok().map(|_| ())) }
    })
    .await?;
    let stream = TestStream {
        name: name.clone(),
        scheme: scheme.clone(),
        jetstream: js.clone(),
    };

    let tokens = TokenIssuer::default();
    let mut config = CommandApp::config(&stream, &tokens);
    config.stream.nats_url = all.clone();
    config.stream.stream_replicas = 3;
    let app = command_api::Application::build(config)
        .await
        .context("command-api on the cluster")?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    let projector = ProjectorApp::spawn_with(&stream, |c| {
        c.stream.nats_url = all.clone();
        c.stream.stream_replicas = 3;
    })
    .await
    .context("projector on the cluster")?;
    let tenant = unique_tenant();
    open_locations_at(
        &reqwest::Client::new(),
        &base,
        &tokens.account_token(&tenant, Role::Admin).await?,
    )
    .await?;
    let token = tokens.account_token(&tenant, Role::Cashier).await?;
    let total = if long() { 3000 } else { 600 };
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writer = {
        let (base, token, progress) = (base.clone(), token.clone(), progress.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut acknowledged = Vec::new();
            for n in 0..total {
                let id = format!("c-{n}");
                post_until_acknowledged(&http, &base, &token, &id).await?;
                acknowledged.push(id);
                progress.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            anyhow::Ok(acknowledged)
        })
    };
    tests::eventually("a quarter of the load acknowledged", Duration::from_secs(60), || {
        let done = progress.load(std::sync::atomic::Ordering::Relaxed);
        async move { Ok((done >= total / 4).then_some(())) }
    })
    .await?;
    // The node that leads the stream dies mid-load (SIGKILL): the hardest node to lose.
    let leader = js
        .get_stream(&name)
        .await?
        .info()
        .await?
        .cluster
        .as_ref()
        .and_then(|c| c.leader.clone())
        .context("stream leader")?;
    let victim: usize = leader.trim_start_matches("node-").parse().context("leader name")?;
    assert!(!writer.is_finished(), "the load is still running when the node stops");
    nodes[victim].kill()?;
    let acknowledged = writer.await?.context("posting sales")?;
    assert_eq!(acknowledged.len(), total);
    let counts = sale_counts(&js, &stream, &tenant)
        .await
        .context("counting the stream")?;
    assert_eq!(counts.len(), total, "every acknowledged sale survived the node");
    assert!(counts.values().all(|n| *n == 1));
    let head = js
        .get_stream(&name)
        .await?
        .direct_get_last_for_subject(scheme.tenant_filter(&tenant))
        .await?
        .sequence;
    wait_for_checkpoint(&Servers::connect().await?, &tenant, head, Duration::from_secs(60)).await?;
    projector.stop().await?;
    tests::servers::mongo_client()
        .await?
        .database(&tenant.database_name())
        .drop()
        .await?;
    Ok(())
}

/// Every authenticated route in the OpenAPI document, with its path parameters filled by
/// `fill`: (method, path).
fn authenticated_routes(openapi: &Value, fill: &str) -> Vec<(reqwest::Method, String)> {
    let mut routes = Vec::new();
    for (path, operations) in openapi["paths"].as_object().into_iter().flatten() {
        for (method, operation) in operations.as_object().into_iter().flatten() {
            if operation.get("security").is_none() {
                continue;
            }
            let Ok(method) = method.to_uppercase().parse::<reqwest::Method>() else {
                continue;
            };
            let mut concrete = String::new();
            let mut rest = path.as_str();
            while let Some(start) = rest.find('{') {
                concrete.push_str(&rest[..start]);
                concrete.push_str(fill);
                rest = rest[start..].find('}').map_or("", |end| &rest[start + end + 1..]);
            }
            concrete.push_str(rest);
            routes.push((method, concrete));
        }
    }
    routes
}

/// Sends `method path` with `token` (and an empty JSON object as the body unless GET).
async fn call(
    app: &CommandApp,
    method: &reqwest::Method,
    path: &str,
    token: &str,
) -> anyhow::Result<tests::command_app::Reply> {
    let mut request = app
        .http
        .request(method.clone(), format!("{}{path}", app.address))
        .bearer_auth(token);
    if method != reqwest::Method::GET {
        request = request.json(&json!({}));
    }
    app.send(request).await
}

#[tokio::test]
async fn crafted_tenant_ids_and_path_ids_never_reach_nats_or_mongodb_on_any_route() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let openapi = app.get("/openapi.json").await?.body;
    let routes = authenticated_routes(&openapi, "x");
    assert!(
        routes.len() >= 20,
        "the OpenAPI document lists the authenticated routes: {routes:?}"
    );
    let mongo = tests::servers::mongo_client().await?;
    let crafted = [
        "",
        ".",
        "a.b",
        "*",
        ">",
        "acme.>",
        "$SYS",
        "a$b",
        "a/b",
        "a\\b",
        "a b",
        "a\tb",
        "a\"b",
        "a\u{0}b",
        "Acme",
        "ténant",
        "店",
        "a\u{202e}b",
        "..",
        "a:b",
        &"x".repeat(64),
        &"a".repeat(4096),
    ];
    let issuer = &app.tokens;
    let mut cases = 0;
    for id in crafted {
        let mut claims = issuer.claims(&unique_tenant(), "u1", Role::Admin);
        claims.organization_id = id.to_owned();
        let token = issuer.sign(&claims);
        for (method, path) in &routes {
            let reply = call(&app, method, path, &token).await?;
            assert_eq!(
                (reply.status, reply.code()),
                (401, "unauthorized"),
                "{method} {path} with organizationId {id:?}"
            );
            cases += 1;
        }
    }
    // Crafted ids in the path, with a valid token: 4xx, never 5xx, nothing appended.
    let tenant = unique_tenant();
    let admin = app.token(&tenant, Role::Admin).await?;
    for fill in [
        "%3E",
        "*",
        "a.b",
        "%24SYS",
        "%00",
        "..",
        "%F0%9F%8D%BA",
        &"y".repeat(300),
    ] {
        let with_ids = authenticated_routes(&openapi, fill)
            .into_iter()
            .filter(|(_, path)| !routes.iter().any(|(_, plain)| plain == path));
        for (method, path) in with_ids {
            let reply = call(&app, &method, &path, &admin).await?;
            assert!(
                (400..500).contains(&reply.status),
                "{method} {path}: {} {}",
                reply.status,
                reply.body
            );
            cases += 1;
        }
    }
    let stored = app
        .servers
        .jetstream
        .get_stream(&app.stream.name)
        .await?
        .info()
        .await?
        .state
        .messages;
    assert_eq!(stored, 0, "nothing was appended to the stream");
    let databases = mongo.list_database_names().await?;
    for id in crafted.iter().filter(|id| !id.is_empty()) {
        assert!(!databases.contains(&format!("tenant_{id}")), "no database for {id:?}");
    }
    eprintln!("crafted-id cases: {cases} over {} routes", routes.len());
    app.stream.delete().await
}

/// Publishes each tenant's events from its own task, all at once; returns how many.
async fn publish_burst(
    servers: &Servers,
    stream: &TestStream,
    bursts: Vec<Vec<events::EventEnvelope>>,
) -> anyhow::Result<usize> {
    let publishers: Vec<_> = bursts
        .into_iter()
        .map(|burst| {
            let (js, scheme) = (servers.jetstream.clone(), stream.scheme.clone());
            tokio::spawn(async move { generator::publish(&js, &scheme, &burst).await.map(|s| s.len()) })
        })
        .collect();
    let mut published = 0;
    for publisher in publishers {
        published += publisher.await??;
    }
    Ok(published)
}

/// What a drain looked like from outside the projector.
#[derive(Debug, Default)]
struct Drain {
    peak_kib: u64,
    deepest_backlog: u64,
    samples: u32,
}

/// Samples the projector's resident memory and its consumers' backlog every 200 ms until
/// the backlog is gone; fails if the server ever let more than `max_ack_pending` events per
/// consumer into flight.
async fn watch_drain(
    js_stream: &async_nats::jetstream::stream::Stream,
    pid: u32,
    max_ack_pending: i64,
    limit: Duration,
) -> anyhow::Result<Drain> {
    use futures::TryStreamExt;
    let deadline = std::time::Instant::now() + limit;
    let mut drain = Drain::default();
    loop {
        drain.peak_kib = drain
            .peak_kib
            .max(processes::resident_kib(pid).context("the projector died")?);
        drain.samples += 1;
        let mut backlog = 0;
        let mut consumers = js_stream.consumers();
        while let Some(info) = consumers.try_next().await? {
            // The server holds delivery at max_ack_pending: the backlog stays in the
            // stream, not in the projector's memory.
            anyhow::ensure!(
                info.num_ack_pending as i64 <= max_ack_pending,
                "{} in flight on {}",
                info.num_ack_pending,
                info.name
            );
            backlog += info.num_pending + info.num_ack_pending as u64;
        }
        drain.deepest_backlog = drain.deepest_backlog.max(backlog);
        if backlog == 0 && drain.samples > 1 {
            return Ok(drain);
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the burst did not drain; {backlog} left"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn bursts_far_above_the_projector_rate_wait_in_the_stream_and_drain_with_memory_bounded() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    // Four tenants burst while the projector runs, four others while it is down.
    let tenants: Vec<_> = (0..8).map(|_| unique_tenant()).collect();
    let per_tenant = if long() { 25_000 } else { 3_000 };
    let limit = Duration::from_secs(if long() { 900 } else { 300 });
    // Seeds differ per tenant: the generator derives event ids from them, and JetStream
    // would drop a repeated id as a duplicate.
    let bursts = |tenants: &[events::TenantId], seed: u64| {
        tenants
            .iter()
            .enumerate()
            .map(|(i, t)| generator::mixed_events(t, seed + i as u64, per_tenant))
            .collect::<Vec<_>>()
    };
    let (first, second) = (bursts(&tenants[..4], 40), bursts(&tenants[4..], 50));
    let mut projector = projector_process(
        &stream,
        &tests::servers::nats_url(),
        &tests::servers::mongodb_uri(),
        &[],
    );
    projector.start()?;
    let pid = projector.pid().context("projector pid")?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = processes::resident_kib(pid).context("projector is running")?;
    let max_ack_pending = ProjectorApp::config(&stream).max_ack_pending;
    let js_stream = servers.jetstream.get_stream(&stream.name).await?;

    // 1. A burst published as fast as four publishers go, while the projector runs.
    let started = std::time::Instant::now();
    let published = publish_burst(&servers, &stream, first).await?;
    let published_in = started.elapsed();
    let live = watch_drain(&js_stream, pid, max_ack_pending, limit).await?;
    let drained_in = started.elapsed();
    let (publish_rate, drain_rate) = (
        published as f64 / published_in.as_secs_f64(),
        published as f64 / drained_in.as_secs_f64(),
    );
    eprintln!(
        "live burst of {published}: published at {publish_rate:.0}/s, drained at {drain_rate:.0}/s ({:.1}x), deepest backlog {}, RSS idle {idle} KiB, peak {} KiB",
        publish_rate / drain_rate,
        live.deepest_backlog,
        live.peak_kib
    );
    assert!(
        live.deepest_backlog as f64 >= 0.3 * published as f64,
        "the burst outran the projector: {live:?}"
    );

    // 2. A burst that arrives all at once while the projector is down (an outage, a
    // reconnecting store): an arrival rate far beyond 10x. The restarted projector takes it
    // at its own pace.
    projector.stop(Duration::from_secs(10)).await?;
    let published_offline = publish_burst(&servers, &stream, second).await?;
    projector.start()?;
    let pid = projector.pid().context("projector pid")?;
    let started = std::time::Instant::now();
    let offline = watch_drain(&js_stream, pid, max_ack_pending, limit).await?;
    eprintln!(
        "offline burst of {published_offline}: drained at {:.0}/s, deepest backlog {}, RSS peak {} KiB over {} samples",
        published_offline as f64 / started.elapsed().as_secs_f64(),
        offline.deepest_backlog,
        offline.peak_kib,
        offline.samples
    );
    assert_eq!(
        offline.deepest_backlog, published_offline as u64,
        "the whole burst waited in the stream"
    );

    for tenant in &tenants {
        let head = js_stream
            .direct_get_last_for_subject(stream.scheme.tenant_filter(tenant))
            .await?
            .sequence;
        wait_for_checkpoint(&servers, tenant, head, Duration::from_secs(60)).await?;
        let parked = tests::read_model::parked(&servers.mongo.database(&tenant.database_name())).await?;
        assert_eq!(parked, 0, "nothing parked for {tenant}");
    }
    // Bounded: at most max_ack_pending events per consumer are in flight, so memory does
    // not follow the backlog. 96 MiB over idle is far above what the batches need and far
    // below what holding the long variant's 100,000-event backlog would take.
    for drain in [&live, &offline] {
        assert!(
            drain.peak_kib < idle + 96 * 1024,
            "projector RSS rose from {idle} KiB to {} KiB",
            drain.peak_kib
        );
    }
    projector.stop(Duration::from_secs(10)).await?;
    for tenant in &tenants {
        servers.mongo.database(&tenant.database_name()).drop().await?;
    }
    stream.delete().await
}
