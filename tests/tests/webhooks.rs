//! Signed webhooks against the real servers, the real worker and a real local HTTP
//! receiver: retries until the receiver recovers, each event once with a valid signature
//! and in order per aggregate; dead letters visible and re-sendable; an endpoint failing
//! for long disabled and shown so; endpoints managed only by their tenant's admins or keys
//! with the `webhooks` scope.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use events::{Role, TenantId};
use serde_json::{Value, json};
use tests::command_app::Reply;
use tests::generator::{mixed_events, publish};
use tests::webhook_app::Receiver;
use tests::{CommandApp, WebhookApp, eventually, unique_tenant};
use webhooks::signature;

async fn app() -> anyhow::Result<CommandApp> {
    CommandApp::spawn_with(|config| config.webhook_allow_private_hosts = true).await
}

async fn get(app: &CommandApp, credential: &str, path: &str) -> anyhow::Result<Reply> {
    app.send(app.http.get(format!("{}{path}", app.address)).bearer_auth(credential))
        .await
}

/// Creates an endpoint for `url`; answers (id, secret).
async fn endpoint(app: &CommandApp, tenant: &TenantId, url: &str) -> anyhow::Result<(String, String)> {
    let admin = app.token(tenant, Role::Admin).await?;
    let reply = app
        .post(
            "/v1/webhooks",
            &admin,
            &json!({"url": url, "description": "test receiver"}),
            &[],
        )
        .await?;
    anyhow::ensure!(reply.status == 201, "creating an endpoint: {reply:?}");
    Ok((
        reply.body["id"].as_str().unwrap_or_default().to_owned(),
        reply.body["secret"].as_str().unwrap_or_default().to_owned(),
    ))
}

/// `PATCH /v1/webhooks/{id}` with `body`.
async fn patch(app: &CommandApp, credential: &str, id: &str, body: Value) -> anyhow::Result<Reply> {
    app.send(
        app.http
            .patch(format!("{}/v1/webhooks/{id}", app.address))
            .bearer_auth(credential)
            .json(&body),
    )
    .await
}

async fn deliveries(app: &CommandApp, tenant: &TenantId, id: &str, status: &str) -> anyhow::Result<Vec<Value>> {
    let admin = app.token(tenant, Role::Admin).await?;
    let reply = get(app, &admin, &format!("/v1/webhooks/{id}/deliveries?status={status}")).await?;
    anyhow::ensure!(reply.status == 200, "listing deliveries: {reply:?}");
    Ok(reply.body["items"].as_array().cloned().unwrap_or_default())
}

#[tokio::test]
async fn a_receiver_failing_five_times_then_recovering_gets_each_event_once_signed_and_in_order_per_aggregate()
-> anyhow::Result<()> {
    let app = app().await?;
    let worker = WebhookApp::spawn(&app.stream).await?;
    let receiver = Receiver::start(5).await?;
    let tenant = unique_tenant();
    let (id, secret) = endpoint(&app, &tenant, &receiver.url).await?;
    assert!(secret.starts_with("whsec_"), "{secret}");

    let published = mixed_events(&tenant, 50, 12);
    let sequences = publish(&app.servers.jetstream, &app.stream.scheme, &published).await?;
    eventually("12 deliveries accepted", Duration::from_secs(30), || {
        let count = receiver.accepted().len();
        async move { Ok((count >= 12).then_some(())) }
    })
    .await?;
    // Nothing more comes: each event once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 12, "each event exactly once");
    assert!(receiver.requests() >= 17, "5 failures and 12 successes");

    let now = chrono::Utc::now().timestamp();
    let mut ids = HashSet::new();
    let mut last_by_aggregate: HashMap<String, u64> = HashMap::new();
    for received in &accepted {
        let header = received
            .headers
            .get(signature::HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(
            signature::verify(&secret, header, &received.body, now, 300),
            Ok(()),
            "{header}"
        );
        let event: Value = serde_json::from_slice(&received.body)?;
        let event_id = event["id"].as_str().unwrap_or_default().to_owned();
        assert_eq!(
            received
                .headers
                .get(signature::EVENT_ID_HEADER)
                .and_then(|v| v.to_str().ok()),
            Some(event_id.as_str())
        );
        assert!(ids.insert(event_id), "a duplicate delivery");
        // In stream order per aggregate.
        let aggregate = format!("{}/{}", event["aggregate"]["kind"], event["aggregate"]["id"]);
        let sequence = event["sequence"].as_u64().unwrap_or_default();
        if let Some(previous) = last_by_aggregate.insert(aggregate.clone(), sequence) {
            assert!(previous < sequence, "{aggregate}: {sequence} after {previous}");
        }
        // The public shape, not the internal envelope.
        assert!(event.get("idempotency_key").is_none());
    }
    let expected: HashSet<String> = published.iter().map(|e| e.event_id.to_string()).collect();
    assert_eq!(ids, expected);
    assert_eq!(sequences.len(), 12);

    // A tampered body, or a replayed old signature, fails verification.
    let first = &accepted[0];
    let header = first
        .headers
        .get(signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut tampered = first.body.clone();
    let text = String::from_utf8(tampered.clone())?.replacen("\"version\":1", "\"version\":2", 1);
    tampered = text.into_bytes();
    assert_ne!(tampered, first.body);
    assert_eq!(
        signature::verify(&secret, header, &tampered, now, 300),
        Err(signature::VerifyError::Mismatch)
    );
    assert!(matches!(
        signature::verify(&secret, header, &first.body, now + 3_600, 300),
        Err(signature::VerifyError::Stale(_))
    ));

    // The API shows them delivered, some after several attempts.
    let delivered = deliveries(&app, &tenant, &id, "delivered").await?;
    assert_eq!(delivered.len(), 12);
    let attempts: u64 = delivered.iter().filter_map(|d| d["attempts"].as_u64()).sum();
    assert!(attempts >= 17, "{attempts} attempts in all");
    worker.stop().await?;
    Ok(())
}

/// Two worker processes share the deliveries (each takes a round's deliveries with one
/// lease); aggregates with several events go out as chains. Every event arrives exactly
/// once, and each aggregate's events in stream order.
#[tokio::test]
async fn two_workers_deliver_each_event_once_and_each_aggregates_events_in_order() -> anyhow::Result<()> {
    let app = app().await?;
    let first = WebhookApp::spawn(&app.stream).await?;
    let second = WebhookApp::spawn(&app.stream).await?;
    let receiver = Receiver::start(0).await?;
    let tenant = unique_tenant();
    endpoint(&app, &tenant, &receiver.url).await?;

    let published = mixed_events(&tenant, 77, 400);
    let mut per_aggregate: HashMap<String, usize> = HashMap::new();
    for event in &published {
        *per_aggregate.entry(format!("{:?}", event.aggregate())).or_default() += 1;
    }
    let longest = per_aggregate.values().copied().max().unwrap_or_default();
    assert!(
        longest >= 3,
        "the fixture must have aggregates with several events: {longest}"
    );
    publish(&app.servers.jetstream, &app.stream.scheme, &published).await?;
    eventually("400 deliveries accepted", Duration::from_secs(60), || {
        let count = receiver.accepted().len();
        async move { Ok((count >= 400).then_some(())) }
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 400, "each event exactly once");
    let mut ids = HashSet::new();
    let mut last_by_aggregate: HashMap<String, u64> = HashMap::new();
    for received in &accepted {
        let event: Value = serde_json::from_slice(&received.body)?;
        assert!(
            ids.insert(event["id"].as_str().unwrap_or_default().to_owned()),
            "a duplicate"
        );
        let aggregate = format!("{}/{}", event["aggregate"]["kind"], event["aggregate"]["id"]);
        let sequence = event["sequence"].as_u64().unwrap_or_default();
        if let Some(previous) = last_by_aggregate.insert(aggregate.clone(), sequence) {
            assert!(previous < sequence, "{aggregate}: {sequence} after {previous}");
        }
    }
    first.stop().await?;
    second.stop().await?;
    Ok(())
}

/// A store's endpoint (`locations: ["main"]`) beside the chain's: it gets main's sales,
/// refunds and voids and the chain's products and users, and none of the annex's; a void
/// says nothing of where its sale was, so the worker places it by the sale's first event.
/// The expectation is worked out here from the payloads, not with the product's rule.
#[tokio::test]
async fn a_stores_endpoint_gets_that_stores_events_and_the_chains_not_another_stores() -> anyhow::Result<()> {
    use events::DomainEvent;

    let app = app().await?;
    let worker = WebhookApp::spawn(&app.stream).await?;
    let (chain_receiver, store_receiver) = (Receiver::start(0).await?, Receiver::start(0).await?);
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?; // main and annex
    let admin = app.token(&tenant, Role::Admin).await?;
    let types = json!([
        "SaleCompleted",
        "SaleRefunded",
        "SaleVoided",
        "ProductRegistered",
        "UserJoined"
    ]);
    let mut ids = Vec::new();
    for (url, locations) in [
        (&chain_receiver.url, None),
        (&store_receiver.url, Some(json!(["main"]))),
    ] {
        let mut body = json!({"url": url, "event_types": types});
        if let Some(locations) = locations {
            body["locations"] = locations;
        }
        let reply = app.post("/v1/webhooks", &admin, &body, &[]).await?;
        assert_eq!(reply.status, 201, "{reply:?}");
        ids.push(reply.body["id"].as_str().unwrap_or_default().to_owned());
    }
    let shown = get(&app, &admin, &format!("/v1/webhooks/{}", ids[1])).await?;
    assert_eq!(shown.body["locations"], json!(["main"]), "{shown:?}");
    let shown = get(&app, &admin, &format!("/v1/webhooks/{}", ids[0])).await?;
    assert!(shown.body.get("locations").is_none(), "{shown:?}");
    // A store that was never opened, or an empty list, is refused naming the field.
    for locations in [json!(["north"]), json!([])] {
        let body = json!({"url": store_receiver.url, "locations": locations});
        let refused = app.post("/v1/webhooks", &admin, &body, &[]).await?;
        assert_eq!((refused.status, refused.field()), (422, "locations"), "{refused:?}");
    }

    let published = mixed_events(&tenant, 91, 400);
    let mut sale_at = HashMap::new();
    let (mut chain_wants, mut store_wants) = (HashSet::new(), HashSet::new());
    let (mut main_voids, mut annex_voids) = (0, 0);
    // Before the first void of a main sale, a message this build cannot decode lands on
    // that sale's subject (as from a newer build): the sale cannot be placed, so its void
    // goes to no store's endpoint, and nothing after it is held up.
    let mut damaged = None;
    for (index, envelope) in published.iter().enumerate() {
        let at_main = match &envelope.event {
            DomainEvent::SaleCompleted(sale) => {
                sale_at.insert(sale.sale_id.to_string(), sale.location.to_string());
                sale.location.as_str() == "main"
            }
            DomainEvent::SaleRefunded(refund) => refund.location.as_str() == "main",
            DomainEvent::SaleVoided(void) => {
                let main = sale_at.get(void.sale_id.as_str()).map(String::as_str) == Some("main");
                if main {
                    main_voids += 1;
                } else {
                    annex_voids += 1;
                }
                if main && damaged.is_none() {
                    damaged = Some(index);
                    chain_wants.insert(envelope.event_id.to_string());
                    continue;
                }
                main
            }
            DomainEvent::ProductRegistered(_) | DomainEvent::UserJoined(_) => true,
            _ => continue,
        };
        chain_wants.insert(envelope.event_id.to_string());
        if at_main {
            store_wants.insert(envelope.event_id.to_string());
        }
    }
    assert!(
        main_voids > 0 && annex_voids > 0,
        "the fixture voids sales at both stores: {main_voids} / {annex_voids}"
    );
    assert!(store_wants.len() < chain_wants.len());
    let damaged = damaged.unwrap_or_default();
    publish(&app.servers.jetstream, &app.stream.scheme, &published[..damaged]).await?;
    let subject = app.stream.scheme.subject(&tenant, &published[damaged].aggregate());
    app.servers
        .jetstream
        .publish(subject, br#"{"written_by":"a newer build"}"#.as_slice().into())
        .await?
        .await?;
    publish(&app.servers.jetstream, &app.stream.scheme, &published[damaged..]).await?;

    let received = |receiver: &Receiver| -> anyhow::Result<HashSet<String>> {
        receiver
            .accepted()
            .iter()
            .map(|received| {
                let event: Value = serde_json::from_slice(&received.body)?;
                Ok(event["id"].as_str().unwrap_or_default().to_owned())
            })
            .collect()
    };
    eventually("the chain's endpoint has every event", Duration::from_secs(60), || {
        let done = received(&chain_receiver).map(|got| got.len() >= chain_wants.len());
        async move { Ok(done?.then_some(())) }
    })
    .await?;
    eventually(
        "the store's endpoint has main's events",
        Duration::from_secs(60),
        || {
            let done = received(&store_receiver).map(|got| got.len() >= store_wants.len());
            async move { Ok(done?.then_some(())) }
        },
    )
    .await?;
    // Nothing more comes: the annex's events were never recorded for the store's endpoint.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(received(&chain_receiver)?, chain_wants);
    assert_eq!(received(&store_receiver)?, store_wants);
    assert_eq!(store_receiver.accepted().len(), store_wants.len(), "each once");
    worker.stop().await?;
    Ok(())
}

/// A key limited to main with `webhooks` makes main's endpoints and manages only those:
/// the chain's endpoint and the annex's are absent to it (404, not listed), whatever it
/// tries, and stay as they were.
#[tokio::test]
async fn a_key_of_one_store_manages_only_that_stores_endpoints() -> anyhow::Result<()> {
    let app = app().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?; // main and annex
    let admin = app.token(&tenant, Role::Admin).await?;
    let mut others = Vec::new();
    for body in [
        json!({"url": "http://127.0.0.1:9/chain"}),
        json!({"url": "http://127.0.0.1:9/annex", "locations": ["annex"]}),
    ] {
        let reply = app.post("/v1/webhooks", &admin, &body, &[]).await?;
        assert_eq!(reply.status, 201, "{reply:?}");
        others.push(reply.body["id"].as_str().unwrap_or_default().to_owned());
    }
    let reply = app
        .post(
            "/v1/api-keys",
            &admin,
            &json!({"name": "main's hooks", "scopes": ["webhooks"], "locations": ["main"]}),
            &[],
        )
        .await?;
    assert_eq!(reply.status, 201, "{reply:?}");
    let key = reply.body["key"].as_str().unwrap_or_default().to_owned();

    // Its endpoint is main's, named or not; the annex is not its to name.
    let own = app
        .post("/v1/webhooks", &key, &json!({"url": "http://127.0.0.1:9/main"}), &[])
        .await?;
    assert_eq!(own.status, 201, "{own:?}");
    assert_eq!(own.body["locations"], json!(["main"]));
    let own = own.body["id"].as_str().unwrap_or_default().to_owned();
    for locations in [json!(["annex"]), json!(["main", "annex"])] {
        let body = json!({"url": "http://127.0.0.1:9/x", "locations": locations});
        let refused = app.post("/v1/webhooks", &key, &body, &[]).await?;
        assert_eq!(
            (refused.status, refused.code()),
            (403, "location_forbidden"),
            "{locations}: {refused:?}"
        );
    }
    let listed = get(&app, &key, "/v1/webhooks").await?;
    let ids: Vec<&str> = listed.body["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|e| e["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, [own.as_str()], "{listed:?}");

    // It changes its own endpoint, within its stores only.
    for locations in [json!(null), json!(["annex"])] {
        let refused = patch(&app, &key, &own, json!({"locations": locations})).await?;
        assert_eq!(
            (refused.status, refused.code()),
            (403, "location_forbidden"),
            "{locations}: {refused:?}"
        );
    }
    let changed = patch(
        &app,
        &key,
        &own,
        json!({"event_types": ["SaleVoided", "SaleCompleted"], "description": " main's books "}),
    )
    .await?;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.body["event_types"], json!(["SaleCompleted", "SaleVoided"]));
    assert_eq!(changed.body["description"], json!("main's books"));
    assert_eq!(changed.body["locations"], json!(["main"]));
    let unknown = patch(&app, &key, &own, json!({"event_types": ["SaleDone"]})).await?;
    assert_eq!(
        (unknown.status, unknown.field()),
        (422, "event_types[0]"),
        "{unknown:?}"
    );
    let cleared = patch(&app, &key, &own, json!({"event_types": null, "description": null})).await?;
    assert_eq!(cleared.status, 200, "{cleared:?}");
    assert!(cleared.body["event_types"].is_null() && cleared.body["description"].is_null());

    for other in &others {
        assert_eq!(
            patch(&app, &key, other, json!({"url": "http://127.0.0.1:9/taken"}))
                .await?
                .status,
            404
        );
        assert_eq!(get(&app, &key, &format!("/v1/webhooks/{other}")).await?.status, 404);
        assert_eq!(
            get(&app, &key, &format!("/v1/webhooks/{other}/deliveries"))
                .await?
                .status,
            404
        );
        for action in ["disable", "enable", "rotate-secret"] {
            let reply = app
                .post(&format!("/v1/webhooks/{other}/{action}"), &key, &json!({}), &[])
                .await?;
            assert_eq!(reply.status, 404, "{action}: {reply:?}");
        }
        let deleted = app
            .send(
                app.http
                    .delete(format!("{}/v1/webhooks/{other}", app.address))
                    .bearer_auth(&key),
            )
            .await?;
        assert_eq!(deleted.status, 404, "{deleted:?}");
        // Untouched: the admin still sees it active.
        let seen = get(&app, &admin, &format!("/v1/webhooks/{other}")).await?;
        assert_eq!(
            (seen.status, seen.body["status"].as_str()),
            (200, Some("active")),
            "{seen:?}"
        );
    }
    let listed = get(&app, &admin, "/v1/webhooks").await?;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(3), "{listed:?}");
    for endpoint in listed.body["items"].as_array().cloned().unwrap_or_default() {
        assert!(
            !endpoint["url"].as_str().unwrap_or_default().ends_with("taken"),
            "{endpoint}"
        );
    }
    // The admin moves the chain's endpoint to main: now the key's; and back to every
    // location.
    let moved = patch(&app, &admin, &others[0], json!({"locations": ["main"]})).await?;
    assert_eq!(moved.body["locations"], json!(["main"]), "{moved:?}");
    assert_eq!(
        get(&app, &key, &format!("/v1/webhooks/{}", others[0])).await?.status,
        200
    );
    let back = patch(&app, &admin, &others[0], json!({"locations": null})).await?;
    assert!(back.body.get("locations").is_none(), "{back:?}");
    assert_eq!(
        get(&app, &key, &format!("/v1/webhooks/{}", others[0])).await?.status,
        404
    );
    let deleted = app
        .send(
            app.http
                .delete(format!("{}/v1/webhooks/{own}", app.address))
                .bearer_auth(&key),
        )
        .await?;
    assert_eq!(deleted.status, 204, "{deleted:?}");
    Ok(())
}

/// An endpoint changed in place: events recorded afterwards go to its new URL, of its new
/// types only; the old URL gets nothing.
#[tokio::test]
async fn an_endpoint_changed_in_place_delivers_the_new_types_to_the_new_url() -> anyhow::Result<()> {
    let app = app().await?;
    let worker = WebhookApp::spawn(&app.stream).await?;
    let (old, new) = (Receiver::start(0).await?, Receiver::start(0).await?);
    let tenant = unique_tenant();
    let admin = app.token(&tenant, Role::Admin).await?;
    let (id, secret) = endpoint(&app, &tenant, &old.url).await?;
    let changed = patch(
        &app,
        &admin,
        &id,
        json!({"url": new.url, "event_types": ["SaleCompleted"]}),
    )
    .await?;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.body["url"], json!(new.url));
    // Sent again (a client retrying after a lost answer): the same endpoint.
    let again = patch(
        &app,
        &admin,
        &id,
        json!({"url": new.url, "event_types": ["SaleCompleted"]}),
    )
    .await?;
    assert_eq!((again.status, &again.body), (200, &changed.body));
    // A stranger without a credential changes nothing.
    let stranger = app
        .send(
            app.http
                .patch(format!("{}/v1/webhooks/{id}", app.address))
                .json(&json!({"url": old.url})),
        )
        .await?;
    assert_eq!(stranger.status, 401, "{stranger:?}");
    // The contract: the route answers a WebhookEndpoint, and `null` is a documented value
    // of the fields it clears.
    let openapi = get(&app, &admin, "/openapi.json").await?;
    let operation = &openapi.body["paths"]["/v1/webhooks/{endpoint_id}"]["patch"];
    assert_eq!(
        operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        json!("#/components/schemas/WebhookEndpoint"),
        "{operation}"
    );
    let fields = &openapi.body["components"]["schemas"]["UpdateWebhook"]["properties"];
    for field in ["event_types", "description", "locations"] {
        let schema = fields[field].to_string();
        assert!(schema.contains("null"), "{field} takes null: {schema}");
    }

    let published = mixed_events(&tenant, 5, 120);
    let sales: HashSet<String> = published
        .iter()
        .filter(|e| e.event_type().as_str() == "SaleCompleted")
        .map(|e| e.event_id.to_string())
        .collect();
    assert!(!sales.is_empty() && sales.len() < published.len());
    publish(&app.servers.jetstream, &app.stream.scheme, &published).await?;
    eventually("the sales at the new URL", Duration::from_secs(30), || {
        let count = new.accepted().len();
        let want = sales.len();
        async move { Ok((count >= want).then_some(())) }
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let now = chrono::Utc::now().timestamp();
    let mut got = HashSet::new();
    for received in new.accepted() {
        let header = received
            .headers
            .get(signature::HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(signature::verify(&secret, header, &received.body, now, 300), Ok(()));
        let event: Value = serde_json::from_slice(&received.body)?;
        got.insert(event["id"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(got, sales, "the sales only, each once");
    assert_eq!(new.accepted().len(), sales.len());
    assert!(old.accepted().is_empty(), "nothing to the old URL");
    worker.stop().await?;
    Ok(())
}

#[tokio::test]
async fn dead_letters_are_listed_and_resent_and_an_endpoint_failing_for_long_is_disabled_and_shown_so()
-> anyhow::Result<()> {
    let app = app().await?;
    let worker = WebhookApp::spawn(&app.stream).await?;
    let receiver = Receiver::start(0).await?;
    receiver.set_down(true);
    let tenant = unique_tenant();
    let admin = app.token(&tenant, Role::Admin).await?;
    let (id, _) = endpoint(&app, &tenant, &receiver.url).await?;
    publish(
        &app.servers.jetstream,
        &app.stream.scheme,
        &mixed_events(&tenant, 51, 3),
    )
    .await?;

    // 8 attempts each (about half a second), then dead.
    eventually("3 dead letters", Duration::from_secs(30), || {
        let (app, tenant, id) = (&app, &tenant, &id);
        async move { Ok((deliveries(app, tenant, id, "dead").await?.len() == 3).then_some(())) }
    })
    .await?;
    let dead = deliveries(&app, &tenant, &id, "dead").await?;
    assert_eq!(dead[0]["attempts"], 8);
    assert_eq!(dead[0]["last_status"], 500);
    let failing = get(&app, &admin, &format!("/v1/webhooks/{id}")).await?;
    assert!(failing.body["failing_since"].is_string(), "{failing:?}");
    assert_eq!(failing.body["status"], "active");

    // Re-sent while the receiver stays down: it keeps failing until, failing for over 6 s,
    // the endpoint is disabled; its pending deliveries become dead letters again.
    let dead_id = dead[0]["id"].as_str().unwrap_or_default().to_owned();
    let disabled = eventually("the endpoint disabled", Duration::from_secs(30), || {
        let (app, admin, id, dead_id) = (&app, &admin, &id, &dead_id);
        async move {
            let resend = app
                .post(
                    &format!("/v1/webhooks/{id}/deliveries/{dead_id}/resend"),
                    admin,
                    &json!({}),
                    &[],
                )
                .await?;
            if resend.status == 409 && resend.code() == "webhook_disabled" {
                return Ok(Some(()));
            }
            anyhow::ensure!(
                resend.status == 202 || resend.code() == "delivery_pending",
                "{resend:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(None)
        }
    })
    .await;
    disabled?;
    let shown = get(&app, &admin, &format!("/v1/webhooks/{id}")).await?;
    assert_eq!(shown.body["status"], "disabled", "{shown:?}");
    let reason = shown.body["disabled_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("500"), "{reason}");
    assert!(shown.body["disabled_at"].is_string());

    // The receiver recovers; the admin enables the endpoint and re-sends the dead letters.
    receiver.set_down(false);
    let enabled = app
        .post(&format!("/v1/webhooks/{id}/enable"), &admin, &json!({}), &[])
        .await?;
    assert_eq!(enabled.status, 200, "{enabled:?}");
    assert_eq!(enabled.body["status"], "active");
    assert!(enabled.body["failing_since"].is_null());
    for delivery in deliveries(&app, &tenant, &id, "dead").await? {
        let delivery_id = delivery["id"].as_str().unwrap_or_default();
        let resend = app
            .post(
                &format!("/v1/webhooks/{id}/deliveries/{delivery_id}/resend"),
                &admin,
                &json!({}),
                &[],
            )
            .await?;
        assert_eq!(resend.status, 202, "{resend:?}");
        assert_eq!(resend.body["status"], "pending");
    }
    eventually("3 deliveries accepted", Duration::from_secs(30), || {
        let count = receiver.accepted().len();
        async move { Ok((count >= 3).then_some(())) }
    })
    .await?;
    let ids: HashSet<String> = receiver
        .accepted()
        .iter()
        .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 3);
    // A delivered one re-sent is accepted (202) again; an unknown one is 404.
    let unknown = app
        .post(
            &format!("/v1/webhooks/{id}/deliveries/nope/resend"),
            &admin,
            &json!({}),
            &[],
        )
        .await?;
    assert_eq!(unknown.status, 404, "{unknown:?}");
    worker.stop().await?;
    Ok(())
}

#[tokio::test]
async fn endpoints_are_managed_by_their_tenant_admins_or_keys_with_the_webhooks_scope_and_private_urls_are_refused()
-> anyhow::Result<()> {
    // Private hosts not allowed: the default.
    let app = CommandApp::spawn().await?;
    let (a, b) = (unique_tenant(), unique_tenant());
    let admin_a = app.token(&a, Role::Admin).await?;
    for url in [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://169.254.169.254/x",
        "not a url",
    ] {
        let reply = app.post("/v1/webhooks", &admin_a, &json!({"url": url}), &[]).await?;
        assert_eq!((reply.status, reply.field()), (422, "url"), "{url}: {reply:?}");
    }
    let reply = app
        .post(
            "/v1/webhooks",
            &admin_a,
            &json!({"url": "https://hooks.example.com/x", "event_types": ["SaleDone"]}),
            &[],
        )
        .await?;
    assert_eq!((reply.status, reply.field()), (422, "event_types[0]"), "{reply:?}");

    // A key with the webhooks scope creates one; the secret is shown once.
    let key = app
        .post(
            "/v1/api-keys",
            &admin_a,
            &json!({"name": "hooks", "scopes": ["webhooks"]}),
            &[],
        )
        .await?;
    let key = key.body["key"].as_str().unwrap_or_default().to_owned();
    let created = app
        .post(
            "/v1/webhooks",
            &key,
            &json!({"url": "https://hooks.example.com/x", "event_types": ["SaleCompleted"]}),
            &[],
        )
        .await?;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.body["id"].as_str().unwrap_or_default().to_owned();
    let listed = get(&app, &key, "/v1/webhooks").await?;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["items"][0]["event_types"], json!(["SaleCompleted"]));
    assert!(listed.body["items"][0].get("secret").is_none(), "the secret is listed");

    // A feed-only key, a manager and another tenant's admin get nothing.
    let feed_key = app
        .post(
            "/v1/api-keys",
            &admin_a,
            &json!({"name": "feed", "scopes": ["feed"]}),
            &[],
        )
        .await?;
    let feed_key = feed_key.body["key"].as_str().unwrap_or_default().to_owned();
    let reply = get(&app, &feed_key, "/v1/webhooks").await?;
    assert_eq!((reply.status, reply.code()), (403, "missing_scope"), "{reply:?}");
    let manager = app.token(&a, Role::Manager).await?;
    assert_eq!(get(&app, &manager, "/v1/webhooks").await?.status, 403);
    let admin_b = app.token(&b, Role::Admin).await?;
    assert_eq!(get(&app, &admin_b, &format!("/v1/webhooks/{id}")).await?.status, 404);
    let reply = app
        .post(&format!("/v1/webhooks/{id}/disable"), &admin_b, &json!({}), &[])
        .await?;
    assert_eq!(reply.status, 404, "{reply:?}");
    // Nor change it: not its tenant's (404); the manager and the feed key not allowed;
    // a private URL refused as on creation (this app allows private hosts, so a bad
    // scheme stands in for it).
    let moved = json!({"url": "http://127.0.0.1:9/elsewhere"});
    assert_eq!(patch(&app, &admin_b, &id, moved.clone()).await?.status, 404);
    assert_eq!(patch(&app, &manager, &id, moved.clone()).await?.status, 403);
    assert_eq!(patch(&app, &feed_key, &id, moved).await?.status, 403);
    let bad = patch(&app, &admin_a, &id, json!({"url": "ftp://example.com/hook"})).await?;
    assert_eq!((bad.status, bad.field()), (422, "url"), "{bad:?}");
    let stray = patch(&app, &admin_a, &id, json!({"secret": "whsec_mine"})).await?;
    assert_eq!(stray.status / 100, 4, "an unknown field: {stray:?}");
    let listed = get(&app, &admin_b, "/v1/webhooks").await?;
    assert_eq!(listed.body["items"], json!([]));

    // Its admin disables it.
    let reply = app
        .post(&format!("/v1/webhooks/{id}/disable"), &admin_a, &json!({}), &[])
        .await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["status"], "disabled");
    Ok(())
}
