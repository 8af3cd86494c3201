//! Managing webhook endpoints against the real servers: deleting one stops its deliveries
//! (and only its own tenant can); rotating a secret signs with both secrets during the
//! overlap and only the new one after; with `WEBHOOK_SECRET_KEY` secrets are sealed at
//! rest, and plain ones stored before still work and are sealed by a rotation.

use std::time::Duration;

use bson::doc;
use chrono::Utc;
use clap::Parser;
use events::{Role, TenantId};
use serde_json::{Value, json};
use tests::command_app::Reply;
use tests::generator::{mixed_events, publish};
use tests::webhook_app::{Receiver, TEST_WEBHOOK_SECRET_KEY};
use tests::{CommandApp, WebhookApp, eventually, mongo_client, unique_tenant};
use webhooks::sealing::{self, SecretKey};
use webhooks::signature::{self, VerifyError};
use webhooks::store::{Endpoint, EndpointStatus, WebhookStore};

/// An app storing secrets plain (no `WEBHOOK_SECRET_KEY`).
async fn plain_app() -> anyhow::Result<CommandApp> {
    CommandApp::spawn_with(|config| config.webhook_allow_private_hosts = true).await
}

/// An app sealing secrets with the test workers' key.
async fn sealing_app() -> anyhow::Result<CommandApp> {
    CommandApp::spawn_with(|config| {
        config.webhook_allow_private_hosts = true;
        config.webhook_secret_key.webhook_secret_key = Some(TEST_WEBHOOK_SECRET_KEY.into());
    })
    .await
}

/// An active endpoint of `tenant` at `http://127.0.0.1:9/legacy` whose secret is stored
/// as `stored` (plain, as before `WEBHOOK_SECRET_KEY`, or sealed by the caller).
fn legacy_endpoint(tenant: &TenantId, stored: &str) -> Endpoint {
    Endpoint {
        id: uuid::Uuid::now_v7().simple().to_string(),
        organization_id: tenant.as_str().to_owned(),
        url: "http://127.0.0.1:9/legacy".to_owned(),
        description: None,
        event_types: None,
        locations: None,
        secret: stored.to_owned(),
        previous_secret: None,
        previous_secret_expires_at: None,
        status: EndpointStatus::Active,
        created_at: Utc::now(),
        failing_since: None,
        disabled_at: None,
        disabled_reason: None,
    }
}

/// The shared database, where endpoints and deliveries live.
const MAIN_DB: &str = "liquor_pos_main";

fn key() -> anyhow::Result<SecretKey> {
    Ok(SecretKey::parse(TEST_WEBHOOK_SECRET_KEY)?)
}

/// The webhook store of the shared database, with the test key.
async fn store() -> anyhow::Result<WebhookStore> {
    Ok(WebhookStore::new(mongo_client().await?.database(MAIN_DB)).with_secret_key(Some(key()?.into())))
}

/// The endpoint document as stored, untyped.
async fn raw_endpoint(id: &str) -> anyhow::Result<bson::Document> {
    mongo_client()
        .await?
        .database(MAIN_DB)
        .collection::<bson::Document>("webhook_endpoints")
        .find_one(doc! {"_id": id})
        .await?
        .ok_or_else(|| anyhow::anyhow!("endpoint {id} is not stored"))
}

async fn send(
    app: &CommandApp,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<Reply> {
    let mut request = app
        .http
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    app.send(request).await
}

/// Creates an endpoint for `url`; answers (id, secret).
async fn endpoint(app: &CommandApp, tenant: &TenantId, url: &str) -> anyhow::Result<(String, String)> {
    let admin = app.token(tenant, Role::Admin).await?;
    let reply = app.post("/v1/webhooks", &admin, &json!({"url": url}), &[]).await?;
    anyhow::ensure!(reply.status == 201, "creating an endpoint: {reply:?}");
    Ok((
        reply.body["id"].as_str().unwrap_or_default().to_owned(),
        reply.body["secret"].as_str().unwrap_or_default().to_owned(),
    ))
}

async fn rotate(app: &CommandApp, tenant: &TenantId, id: &str, body: &Value) -> anyhow::Result<Reply> {
    let admin = app.token(tenant, Role::Admin).await?;
    send(
        app,
        reqwest::Method::POST,
        &admin,
        &format!("/v1/webhooks/{id}/rotate-secret"),
        Some(body),
    )
    .await
}

fn signature_of(received: &tests::webhook_app::Received) -> String {
    received
        .headers
        .get(signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn deleting_an_endpoint_stops_its_deliveries_and_removes_its_history_and_another_tenant_cannot_delete_it()
-> anyhow::Result<()> {
    let app = plain_app().await?;
    let worker = WebhookApp::spawn(&app.stream).await?;
    let receiver = Receiver::start(0).await?;
    let tenant = unique_tenant();
    let (id, _) = endpoint(&app, &tenant, &receiver.url).await?;
    let admin = app.token(&tenant, Role::Admin).await?;
    let path = format!("/v1/webhooks/{id}");

    publish(&app.servers.jetstream, &app.stream.scheme, &mixed_events(&tenant, 7, 4)).await?;
    eventually("4 deliveries accepted", Duration::from_secs(30), || {
        let count = receiver.accepted().len();
        async move { Ok((count >= 4).then_some(())) }
    })
    .await?;

    // Another tenant's admin, and a cashier of the tenant, cannot delete it; nothing changes.
    let stranger = app.token(&unique_tenant(), Role::Admin).await?;
    let reply = send(&app, reqwest::Method::DELETE, &stranger, &path, None).await?;
    assert_eq!(reply.status, 404, "{reply:?}");
    // Nor rotate its secret.
    let rotate = format!("{path}/rotate-secret");
    let reply = send(&app, reqwest::Method::POST, &stranger, &rotate, Some(&json!({}))).await?;
    assert_eq!(reply.status, 404, "{reply:?}");
    // Without any credential: 401, for deleting and rotating alike.
    for (method, target) in [(reqwest::Method::DELETE, &path), (reqwest::Method::POST, &rotate)] {
        let reply = app
            .send(
                app.http
                    .request(method, format!("{}{target}", app.address))
                    .json(&json!({})),
            )
            .await?;
        assert_eq!(reply.status, 401, "{target}: {reply:?}");
    }
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let reply = send(&app, reqwest::Method::DELETE, &cashier, &path, None).await?;
    assert_eq!(reply.status, 403, "{reply:?}");
    let reply = send(&app, reqwest::Method::GET, &admin, &path, None).await?;
    assert_eq!(reply.status, 200, "still there: {reply:?}");
    let store = store().await?;
    assert_eq!(
        store.deliveries().count_documents(doc! {"endpoint_id": &id}).await?,
        4,
        "its history is untouched"
    );

    // Its admin deletes it: gone with its history; a second delete is 404.
    let reply = send(&app, reqwest::Method::DELETE, &admin, &path, None).await?;
    assert_eq!(reply.status, 204, "{reply:?}");
    let reply = send(&app, reqwest::Method::DELETE, &admin, &path, None).await?;
    assert_eq!(reply.status, 404, "deleted already: {reply:?}");
    let reply = send(&app, reqwest::Method::GET, &admin, &path, None).await?;
    assert_eq!(reply.status, 404, "{reply:?}");
    let reply = send(&app, reqwest::Method::GET, &admin, &format!("{path}/deliveries"), None).await?;
    assert_eq!(reply.status, 404, "{reply:?}");
    assert_eq!(store.deliveries().count_documents(doc! {"endpoint_id": &id}).await?, 0);

    // New events of the tenant reach no one. (Absence needs a wait: the worker polls every
    // 20 ms and reads endpoints afresh, so 1.5 s is dozens of rounds.)
    let requests = receiver.requests();
    publish(&app.servers.jetstream, &app.stream.scheme, &mixed_events(&tenant, 8, 3)).await?;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(receiver.requests(), requests, "nothing sent after the delete");
    assert_eq!(store.deliveries().count_documents(doc! {"endpoint_id": &id}).await?, 0);
    worker.stop().await?;
    Ok(())
}

#[tokio::test]
async fn during_a_rotation_both_secrets_sign_then_only_the_new_one_and_the_overlap_is_bounded() -> anyhow::Result<()> {
    let app = sealing_app().await?;
    let tenant = unique_tenant();
    let (id, old_secret) = endpoint(&app, &tenant, "http://127.0.0.1:9/hook").await?;

    // Bad input, another tenant: refused, nothing changed.
    let reply = rotate(&app, &tenant, &id, &json!({"expires_in_secs": 604_801})).await?;
    assert_eq!((reply.status, reply.field()), (422, "expires_in_secs"), "{reply:?}");
    let reply = rotate(&app, &tenant, &id, &json!({"expires_in_secs": -1})).await?;
    assert_eq!(reply.status, 422, "{reply:?}");
    let reply = rotate(&app, &unique_tenant(), &id, &json!({})).await?;
    assert_eq!(reply.status, 404, "{reply:?}");
    let store = store().await?;
    let stored = store
        .endpoint(tenant.as_str(), &id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(
        store.signing_secrets(&stored, Utc::now().timestamp())?,
        vec![old_secret.clone()]
    );

    // Rotated with a 1 h overlap: both sign now, only the new one once it has passed.
    let reply = rotate(&app, &tenant, &id, &json!({"expires_in_secs": 3600})).await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    let new_secret = reply.body["secret"].as_str().unwrap_or_default().to_owned();
    assert!(
        new_secret.starts_with("whsec_") && new_secret != old_secret,
        "{new_secret}"
    );
    let until = reply.body["previous_secret_expires_at"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .ok_or_else(|| anyhow::anyhow!("no overlap shown: {reply:?}"))?
        .timestamp();
    let now = Utc::now().timestamp();
    assert!((3590..=3610).contains(&(until - now)), "{until} vs {now}");

    let endpoint = store
        .endpoint(tenant.as_str(), &id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("gone"))?;
    let body = br#"{"type":"SaleCompleted"}"#;
    let during = store.signature_header(&endpoint, now, body)?;
    assert_eq!(during.matches("v1=").count(), 2, "{during}");
    assert_eq!(signature::verify(&old_secret, &during, body, now, 300), Ok(()));
    assert_eq!(signature::verify(&new_secret, &during, body, now, 300), Ok(()));
    let after = store.signature_header(&endpoint, until, body)?;
    assert_eq!(after.matches("v1=").count(), 1, "{after}");
    assert_eq!(signature::verify(&new_secret, &after, body, until, 300), Ok(()));
    assert_eq!(
        signature::verify(&old_secret, &after, body, until, 300),
        Err(VerifyError::Mismatch)
    );

    // Rotating with no overlap ends every older secret at once.
    let reply = rotate(&app, &tenant, &id, &json!({"expires_in_secs": 0})).await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.body["previous_secret_expires_at"].is_null(), "{reply:?}");
    let newest = reply.body["secret"].as_str().unwrap_or_default().to_owned();
    let endpoint = store
        .endpoint(tenant.as_str(), &id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(store.signing_secrets(&endpoint, Utc::now().timestamp())?, vec![newest]);
    Ok(())
}

#[tokio::test]
async fn with_the_key_secrets_are_sealed_at_rest_and_plain_ones_stored_before_still_sign_and_are_sealed_by_a_rotation()
-> anyhow::Result<()> {
    let app = sealing_app().await?;
    let tenant = unique_tenant();
    let (id, secret) = endpoint(&app, &tenant, "http://127.0.0.1:9/hook").await?;
    let raw = raw_endpoint(&id).await?;
    let stored = raw.get_str("secret")?;
    assert!(sealing::is_sealed(stored), "{stored}");
    assert!(!stored.contains(&secret) && !stored.contains(secret.trim_start_matches("whsec_")));
    let store = store().await?;
    let endpoint = store
        .endpoint(tenant.as_str(), &id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(store.signing_secrets(&endpoint, Utc::now().timestamp())?, vec![secret]);
    // Without the key the sealed secret cannot be used.
    let keyless = WebhookStore::new(mongo_client().await?.database(MAIN_DB));
    assert_eq!(
        keyless.signing_secrets(&endpoint, Utc::now().timestamp()),
        Err(sealing::OpenError::NoKey)
    );

    // An endpoint stored plain before the key was configured.
    let legacy = legacy_endpoint(&tenant, "whsec_legacyplainsecret");
    keyless.create_endpoint(&legacy).await?;
    let now = Utc::now().timestamp();
    assert_eq!(
        store.signing_secrets(&legacy, now)?,
        vec!["whsec_legacyplainsecret".to_owned()]
    );
    let reply = rotate(&app, &tenant, &legacy.id, &json!({})).await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    let new_secret = reply.body["secret"].as_str().unwrap_or_default().to_owned();
    let raw = raw_endpoint(&legacy.id).await?;
    for field in ["secret", "previous_secret"] {
        let value = raw.get_str(field)?;
        assert!(sealing::is_sealed(value), "{field}: {value}");
        assert!(!value.contains("legacyplainsecret"), "{field}: {value}");
    }
    // The default overlap is 24 h.
    let until = raw.get_datetime("previous_secret_expires_at")?.timestamp_millis() / 1000;
    assert!((86_390..=86_410).contains(&(until - now)), "{until} vs {now}");
    let rotated = store
        .endpoint(tenant.as_str(), &legacy.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(
        store.signing_secrets(&rotated, Utc::now().timestamp())?,
        vec![new_secret, "whsec_legacyplainsecret".to_owned()]
    );
    Ok(())
}

/// End to end through the worker, which signs with every live secret of the endpoint
/// (`WebhookStore::signature_header`).
#[tokio::test]
async fn receivers_holding_the_old_or_the_new_secret_both_accept_during_the_overlap_and_the_old_fails_after()
-> anyhow::Result<()> {
    let app = sealing_app().await?;
    let worker = WebhookApp::spawn(&app.stream).await?;
    let receiver = Receiver::start(0).await?;
    let tenant = unique_tenant();
    let (id, old_secret) = endpoint(&app, &tenant, &receiver.url).await?;
    let reply = rotate(&app, &tenant, &id, &json!({"expires_in_secs": 2})).await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    let new_secret = reply.body["secret"].as_str().unwrap_or_default().to_owned();

    publish(&app.servers.jetstream, &app.stream.scheme, &mixed_events(&tenant, 9, 3)).await?;
    eventually("3 deliveries during the overlap", Duration::from_secs(30), || {
        let count = receiver.accepted().len();
        async move { Ok((count >= 3).then_some(())) }
    })
    .await?;
    let now = Utc::now().timestamp();
    for received in receiver.accepted() {
        let header = signature_of(&received);
        assert_eq!(
            signature::verify(&old_secret, &header, &received.body, now, 300),
            Ok(()),
            "{header}"
        );
        assert_eq!(
            signature::verify(&new_secret, &header, &received.body, now, 300),
            Ok(()),
            "{header}"
        );
    }

    // After the overlap only the new secret verifies.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    publish(
        &app.servers.jetstream,
        &app.stream.scheme,
        &mixed_events(&tenant, 10, 2),
    )
    .await?;
    eventually("2 more deliveries", Duration::from_secs(30), || {
        let count = receiver.accepted().len();
        async move { Ok((count >= 5).then_some(())) }
    })
    .await?;
    let now = Utc::now().timestamp();
    for received in &receiver.accepted()[3..] {
        let header = signature_of(received);
        assert_eq!(
            signature::verify(&new_secret, &header, &received.body, now, 300),
            Ok(()),
            "{header}"
        );
        assert_eq!(
            signature::verify(&old_secret, &header, &received.body, now, 300),
            Err(VerifyError::Mismatch),
            "{header}"
        );
    }
    worker.stop().await?;
    Ok(())
}

/// A key that is neither the test key nor the new one of the key change.
const NEW_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

#[tokio::test]
async fn changing_the_key_secrets_under_the_retired_key_still_sign_and_a_pass_reseals_them_under_the_new_key_alone()
-> anyhow::Result<()> {
    // Before the change: the API seals with the test key.
    let app = sealing_app().await?;
    let tenant = unique_tenant();
    let (rotated_id, first_secret) = endpoint(&app, &tenant, "http://127.0.0.1:9/rotated").await?;
    let reply = rotate(&app, &tenant, &rotated_id, &json!({"expires_in_secs": 3600})).await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    let second_secret = reply.body["secret"].as_str().unwrap_or_default().to_owned();
    // One stored plain before any key, and one sealed under a key nobody has any more.
    let db = mongo_client().await?.database(MAIN_DB);
    let legacy = legacy_endpoint(&tenant, "whsec_plainbeforeanykey");
    WebhookStore::new(db.clone()).create_endpoint(&legacy).await?;
    let lost_key = sealing::Keyring::from(SecretKey::parse(&"cd".repeat(32))?);
    let lost_id = uuid::Uuid::now_v7().simple().to_string();
    let lost = Endpoint {
        id: lost_id.clone(),
        secret: lost_key.seal(&lost_id, "whsec_underalostkey"),
        url: "http://127.0.0.1:9/lost".to_owned(),
        ..legacy.clone()
    };
    WebhookStore::new(db.clone()).create_endpoint(&lost).await?;
    let lost_stored = raw_endpoint(&lost_id).await?.get_str("secret")?.to_owned();

    // The change: the new key is current, the test key retired. Both secrets of the rotated
    // endpoint still sign (the retired key opens them).
    let mut cli = webhooks::config::Cli::try_parse_from(["webhooks", "reseal", "--tenant", tenant.as_str()])?;
    cli.config.mongo.mongodb_uri = tests::servers::mongodb_uri();
    cli.config.secret_key.webhook_secret_key = Some(NEW_KEY.into());
    cli.config.secret_key.webhook_secret_key_previous = Some(TEST_WEBHOOK_SECRET_KEY.into());
    let changing = WebhookStore::new(db.clone()).with_secret_key(cli.config.secret_key.key()?);
    let now = Utc::now().timestamp();
    let rotated = store()
        .await?
        .endpoint(tenant.as_str(), &rotated_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("gone"))?;
    let header = changing.signature_header(&rotated, now, b"{}")?;
    for secret in [&second_secret, &first_secret] {
        assert_eq!(signature::verify(secret, &header, b"{}", now, 300), Ok(()), "{header}");
    }

    // The pass (`webhooks reseal --tenant <id>`).
    let Some(webhooks::config::Command::Reseal { tenant: scope }) = cli.command.clone() else {
        anyhow::bail!("`webhooks reseal` did not parse as the reseal command");
    };
    let report = webhooks::worker::reseal(&cli.config, scope.as_deref()).await?;
    assert_eq!(report.endpoints, 3, "{report:?}");
    assert_eq!(report.resealed, 2, "the rotated and the plain one: {report:?}");
    assert_eq!(report.current, 0, "{report:?}");
    assert_eq!(report.unopenable, vec![lost_id.clone()], "{report:?}");

    // Afterwards the new key alone opens them; the retired one no longer does.
    let new_only = WebhookStore::new(db.clone()).with_secret_key(Some(SecretKey::parse(NEW_KEY)?.into()));
    let old_only = store().await?;
    let rotated = new_only
        .endpoint(tenant.as_str(), &rotated_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(
        new_only.signing_secrets(&rotated, Utc::now().timestamp())?,
        vec![second_secret.clone(), first_secret.clone()]
    );
    assert_eq!(
        old_only.signing_secrets(&rotated, Utc::now().timestamp()),
        Err(sealing::OpenError::Undecryptable)
    );
    assert!(rotated.previous_secret_expires_at.is_some(), "the overlap is kept");
    let legacy_now = new_only
        .endpoint(tenant.as_str(), &legacy.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert!(sealing::is_sealed(&legacy_now.secret), "{}", legacy_now.secret);
    assert_eq!(
        new_only.signing_secrets(&legacy_now, Utc::now().timestamp())?,
        vec!["whsec_plainbeforeanykey".to_owned()]
    );
    assert!(legacy_now.previous_secret.is_none(), "no previous secret is invented");
    // The one no key opens is left exactly as it was.
    assert_eq!(raw_endpoint(&lost_id).await?.get_str("secret")?, lost_stored);

    // A second pass writes nothing.
    let again = webhooks::worker::reseal(&cli.config, Some(tenant.as_str())).await?;
    assert_eq!((again.endpoints, again.resealed, again.current), (3, 0, 2), "{again:?}");
    assert_eq!(again.unopenable, vec![lost_id], "{again:?}");
    Ok(())
}

/// What keeps a key of some stores from acting on an endpoint an admin moved to another
/// store between the key's check and its action: every change takes the endpoint's stores
/// as checked, and an endpoint that no longer has them is left alone.
#[tokio::test]
async fn a_change_made_against_an_endpoints_old_stores_leaves_it_alone() -> anyhow::Result<()> {
    let tenant = unique_tenant();
    let store = store().await?;
    let endpoint = Endpoint {
        locations: Some(vec!["annex".to_owned()]),
        ..legacy_endpoint(&tenant, "whsec_moved")
    };
    store.create_endpoint(&endpoint).await?;
    let (tenant, id) = (tenant.as_str(), endpoint.id.as_str());
    // The key checked it when it was main's.
    let as_checked = || doc! {"locations": ["main"]};
    assert!(!store.delete_endpoint(tenant, id, as_checked()).await?);
    assert!(store.enable(tenant, id, as_checked()).await?.is_none());
    assert!(
        store
            .rotate_secret(tenant, id, "whsec_taken", None, as_checked())
            .await
            .map_err(|err| anyhow::anyhow!("{err}"))?
            .is_none()
    );
    assert!(
        store
            .update_endpoint(
                tenant,
                id,
                doc! {"url": "http://127.0.0.1:9/taken"},
                doc! {},
                as_checked()
            )
            .await?
            .is_none()
    );
    assert!(!store.disable(id, "taken", as_checked()).await?);
    let kept = store.endpoint(tenant, id).await?.expect("still there");
    assert_eq!(
        (kept.url.as_str(), kept.secret.as_str(), kept.status),
        ("http://127.0.0.1:9/legacy", "whsec_moved", EndpointStatus::Active)
    );
    // Against its stores as they are, the same change goes through.
    let as_now = || doc! {"locations": ["annex"]};
    let changed = store
        .update_endpoint(tenant, id, doc! {"url": "http://127.0.0.1:9/annex"}, doc! {}, as_now())
        .await?
        .expect("changed");
    assert_eq!(changed.url, "http://127.0.0.1:9/annex");
    assert!(store.delete_endpoint(tenant, id, as_now()).await?);
    Ok(())
}
