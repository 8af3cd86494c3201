//! API keys for integrations against the real servers: created by admins with scopes,
//! shown once, rotated and revoked with immediate effect; a key reads only its own
//! tenant's feed, and personal data only with the scope that allows it.

use events::{Role, TenantId};
use serde_json::{Value, json};
use tests::command_app::Reply;
use tests::generator::{mixed_events, publish};
use tests::{CommandApp, unique_tenant};

async fn feed(app: &CommandApp, credential: &str) -> anyhow::Result<Reply> {
    app.send(
        app.http
            .get(format!("{}/v1/feed?limit=1000", app.address))
            .bearer_auth(credential),
    )
    .await
}

async fn create_key(app: &CommandApp, admin: &str, name: &str, scopes: Value) -> anyhow::Result<Reply> {
    app.post("/v1/api-keys", admin, &json!({"name": name, "scopes": scopes}), &[])
        .await
}

/// Creates a key and answers its text.
async fn key(app: &CommandApp, tenant: &TenantId, scopes: Value) -> anyhow::Result<(String, String)> {
    let admin = app.token(tenant, Role::Admin).await?;
    let reply = create_key(app, &admin, "accounting sync", scopes).await?;
    anyhow::ensure!(reply.status == 201, "creating a key: {reply:?}");
    let text = reply.body["key"].as_str().unwrap_or_default().to_owned();
    let id = reply.body["id"].as_str().unwrap_or_default().to_owned();
    Ok((id, text))
}

#[tokio::test]
async fn an_admin_creates_a_key_shown_once_that_reads_the_feed_and_a_revoked_key_is_refused_at_once()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    publish(
        &app.servers.jetstream,
        &app.stream.scheme,
        &mixed_events(&tenant, 40, 30),
    )
    .await?;
    let admin = app.token(&tenant, Role::Admin).await?;

    let reply = create_key(&app, &admin, "accounting sync", json!(["feed"])).await?;
    assert_eq!(reply.status, 201, "{reply:?}");
    let key = reply.body["key"].as_str().unwrap_or_default().to_owned();
    let id = reply.body["id"].as_str().unwrap_or_default().to_owned();
    assert!(key.starts_with(&format!("tsk_{id}_")), "{key}");
    assert_eq!(reply.body["scopes"], json!(["feed"]));
    assert_eq!(reply.body["status"], "active");

    // Listed without its secret; stored only as a hash.
    let listed = app
        .send(app.http.get(format!("{}/v1/api-keys", app.address)).bearer_auth(&admin))
        .await?;
    assert_eq!(listed.status, 200, "{listed:?}");
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
    let secret = key.rsplit_once('_').map(|(_, s)| s).unwrap_or_default();
    assert!(!listed.body.to_string().contains(secret), "the secret is listed");
    let stored = app
        .servers
        .mongo
        .database("liquor_pos_main")
        .collection::<bson::Document>("api_keys")
        .find_one(bson::doc! {"_id": &id})
        .await?
        .ok_or_else(|| anyhow::anyhow!("the key is not stored"))?;
    assert!(!format!("{stored:?}").contains(secret), "the secret is stored");

    // The key reads its tenant's feed, without personal data.
    let page = feed(&app, &key).await?;
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(page.body["events"].as_array().map(Vec::len), Some(30));
    assert!(!page.body.to_string().contains("@example.com"), "an email in the feed");

    // Revoked: refused on the very next request.
    let revoked = app
        .post(&format!("/v1/api-keys/{id}/revoke"), &admin, &json!({}), &[])
        .await?;
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert_eq!(revoked.body["status"], "revoked");
    let refused = feed(&app, &key).await?;
    assert_eq!(refused.status, 401, "{refused:?}");
    assert_eq!(refused.code(), "unauthorized");
    // A revoked key cannot be rotated back to life.
    let rotate = app
        .post(&format!("/v1/api-keys/{id}/rotate"), &admin, &json!({}), &[])
        .await?;
    assert_eq!(rotate.status, 404, "{rotate:?}");
    Ok(())
}

#[tokio::test]
async fn rotating_a_key_refuses_the_old_secret_at_once_and_the_new_one_works() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    let admin = app.token(&tenant, Role::Admin).await?;
    let (id, old) = key(&app, &tenant, json!(["feed"])).await?;
    assert_eq!(feed(&app, &old).await?.status, 200);

    let rotated = app
        .post(&format!("/v1/api-keys/{id}/rotate"), &admin, &json!({}), &[])
        .await?;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    let new = rotated.body["key"].as_str().unwrap_or_default().to_owned();
    assert_ne!(new, old);
    assert!(rotated.body["rotated_at"].is_string(), "{rotated:?}");
    assert_eq!(feed(&app, &old).await?.status, 401);
    assert_eq!(feed(&app, &new).await?.status, 200);
    // A made-up secret for the same id, and a key that is no key at all.
    let forged = format!("tsk_{id}_{}", "A".repeat(43));
    assert_eq!(feed(&app, &forged).await?.status, 401);
    assert_eq!(feed(&app, "tsk_nonsense").await?.status, 401);
    Ok(())
}

#[tokio::test]
async fn a_key_of_tenant_a_never_reads_tenant_b_and_cannot_manage_b_s_keys() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let (a, b) = (unique_tenant(), unique_tenant());
    publish(&app.servers.jetstream, &app.stream.scheme, &mixed_events(&a, 41, 10)).await?;
    publish(&app.servers.jetstream, &app.stream.scheme, &mixed_events(&b, 42, 12)).await?;
    let (_, key_a) = key(&app, &a, json!(["feed"])).await?;
    let (id_b, _) = key(&app, &b, json!(["feed"])).await?;

    // A tenant header naming B changes nothing: the key's tenant is A's.
    let reply = app
        .send(
            app.http
                .get(format!("{}/v1/feed?limit=1000", app.address))
                .bearer_auth(&key_a)
                .header("x-tenant-id", b.as_str()),
        )
        .await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    let events = reply.body["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 10, "A has 10 events");
    assert!(!reply.body.to_string().contains(b.as_str()), "B's data in A's feed");

    // A's admin can neither rotate nor revoke B's key.
    let admin_a = app.token(&a, Role::Admin).await?;
    for action in ["rotate", "revoke"] {
        let reply = app
            .post(&format!("/v1/api-keys/{id_b}/{action}"), &admin_a, &json!({}), &[])
            .await?;
        assert_eq!(reply.status, 404, "{action}: {reply:?}");
    }
    // And a key cannot manage keys (only admins' tokens can).
    let reply = create_key(&app, &key_a, "sneaky", json!(["feed"])).await?;
    assert_eq!(reply.status, 401, "{reply:?}");
    Ok(())
}

#[tokio::test]
async fn a_key_without_the_feed_scope_gets_403_and_personal_data_needs_its_scope() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    publish(
        &app.servers.jetstream,
        &app.stream.scheme,
        &mixed_events(&tenant, 43, 20),
    )
    .await?;
    let (_, webhooks_only) = key(&app, &tenant, json!(["webhooks"])).await?;
    let reply = feed(&app, &webhooks_only).await?;
    assert_eq!(reply.status, 403, "{reply:?}");
    assert_eq!(reply.code(), "missing_scope");
    assert_eq!(reply.body["error"]["required_scope"], "feed");
    let stream = app
        .send(
            app.http
                .get(format!("{}/v1/feed/stream", app.address))
                .bearer_auth(&webhooks_only),
        )
        .await?;
    assert_eq!(stream.status, 403, "{stream:?}");

    let (_, personal) = key(&app, &tenant, json!(["feed", "feed_personal_data"])).await?;
    let reply = feed(&app, &personal).await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    let first = &reply.body["events"][0];
    assert_eq!(first["type"], "UserJoined");
    assert!(
        first["data"]["email"]
            .as_str()
            .is_some_and(|e| e.ends_with("@example.com")),
        "{first}"
    );

    // Bad requests name their field; a cashier cannot create keys.
    let admin = app.token(&tenant, Role::Admin).await?;
    let reply = create_key(&app, &admin, "x", json!([])).await?;
    assert_eq!((reply.status, reply.field()), (422, "scopes"), "{reply:?}");
    let reply = create_key(&app, &admin, "x", json!(["feed_personal_data"])).await?;
    assert_eq!((reply.status, reply.field()), (422, "scopes"), "{reply:?}");
    let reply = create_key(&app, &admin, "x", json!(["everything"])).await?;
    assert_eq!(reply.status, 422, "{reply:?}");
    let reply = create_key(&app, &admin, " ", json!(["feed"])).await?;
    assert_eq!((reply.status, reply.field()), (422, "name"), "{reply:?}");
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let reply = create_key(&app, &cashier, "x", json!(["feed"])).await?;
    assert_eq!(reply.status, 403, "{reply:?}");
    Ok(())
}

#[tokio::test]
async fn a_key_with_the_read_reports_scope_reads_its_tenants_reports_and_nothing_else() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = tests::ProjectorApp::spawn(&app.stream).await?;
    let (tenant, other) = (unique_tenant(), unique_tenant());
    app.open_locations(&tenant).await?;
    app.open_locations(&other).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let now = chrono::Utc::now();
    let today = now.format("%Y-%m-%d").to_string();
    let sale = json!({"sale_id": "k-1", "terminal_id": "till-1", "location": "main", "currency": "USD",
        "lines": [{"sku": "WINE-1", "quantity": 2, "unit_price_minor": 1000, "tax_minor": 160}],
        "subtotal_minor": 2000, "discount_total_minor": 0, "tax_total_minor": 160, "total_minor": 2160,
        "tenders": [{"kind": "card", "amount_minor": 2160}], "change_minor": 0, "occurred_at": now.to_rfc3339()});
    let posted = app.post("/v1/sales", &cashier, &sale, &[]).await?;
    assert_eq!(posted.status, 201, "{}", posted.body);
    let seq = posted.body["stream_sequence"].as_u64().unwrap_or_default();
    let daily = |credential: String, min: Option<u64>| {
        let app = &app;
        let today = today.clone();
        async move {
            let min = min.map(|m| format!("&min_sequence={m}")).unwrap_or_default();
            app.send(
                app.http
                    .get(format!(
                        "{}/v1/reports/daily?date={today}&location=main{min}",
                        app.address
                    ))
                    .bearer_auth(credential),
            )
            .await
        }
    };

    let (reports_id, reports) = key(&app, &tenant, json!(["read_reports"])).await?;
    let read = daily(reports.clone(), Some(seq)).await?;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["items"][0]["total_minor"], 2160, "{}", read.body);
    // A key without the scope: 403 naming it; another tenant's key sees only its own day.
    let (_, feed_only) = key(&app, &tenant, json!(["feed"])).await?;
    let refused = daily(feed_only.clone(), None).await?;
    assert_eq!(
        (refused.status, refused.code()),
        (403, "missing_scope"),
        "{}",
        refused.body
    );
    let (_, theirs) = key(&app, &other, json!(["read_reports"])).await?;
    let elsewhere = daily(theirs.clone(), None).await?;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.body);
    assert_eq!(elsewhere.body["items"], json!([]), "{}", elsewhere.body);
    // The purchasing reports open to the scope too (issue 19): the margin of the sale
    // (2 × 10.00 without tax = 2000 revenue, nothing received so no cost), valuation,
    // reorder and low stock; the feed-only key is refused each, the other tenant's key
    // sees none of this tenant's margin.
    let (yesterday, tomorrow) = (
        (now - chrono::Duration::days(1)).format("%Y-%m-%d"),
        (now + chrono::Duration::days(1)).format("%Y-%m-%d"),
    );
    let purchasing_reports = [
        format!("/v1/reports/margin?from={yesterday}&to={tomorrow}"),
        format!("/v1/reports/valuation?at={tomorrow}"),
        "/v1/reports/reorder?location=main".to_owned(),
        "/v1/reports/low-stock?location=main".to_owned(),
    ];
    for path in &purchasing_reports {
        let url = |credential: &str, min: u64| {
            app.http
                .get(format!("{}{path}&min_sequence={min}", app.address))
                .bearer_auth(credential.to_owned())
        };
        let read = app.send(url(&reports, seq)).await?;
        assert_eq!(read.status, 200, "{path}: {}", read.body);
        let refused = app.send(url(&feed_only, 0)).await?;
        assert_eq!((refused.status, refused.code()), (403, "missing_scope"), "{path}");
    }
    let margin = |credential: &str| {
        app.send(
            app.http
                .get(format!("{}{}&min_sequence={seq}", app.address, purchasing_reports[0]))
                .bearer_auth(credential.to_owned()),
        )
    };
    let ours = margin(&reports).await?;
    assert_eq!(
        (
            &ours.body["items"][0]["revenue_minor"],
            &ours.body["items"][0]["cost_minor"]
        ),
        (&json!(2000), &json!(0)),
        "{}",
        ours.body
    );
    let theirs_margin = app
        .send(
            app.http
                .get(format!("{}{}", app.address, purchasing_reports[0]))
                .bearer_auth(&theirs),
        )
        .await?;
    assert_eq!(theirs_margin.status, 200, "{}", theirs_margin.body);
    assert_eq!(theirs_margin.body["items"], json!([]), "{}", theirs_margin.body);
    // Purchase orders are not reports: the key does not open them.
    let orders = app
        .send(
            app.http
                .get(format!("{}/v1/purchase-orders", app.address))
                .bearer_auth(&reports),
        )
        .await?;
    assert_eq!(orders.status, 401);
    // The scope reads; it does not post commands (that takes `post_commands`: 403
    // naming it, since command routes take keys now) or read other routes.
    let command = app.post("/v1/sales", &reports, &sale, &[]).await?;
    assert_eq!(command.status, 403, "{}", command.body);
    assert_eq!(command.code(), "missing_scope", "{}", command.body);
    assert_eq!(command.body["error"]["required_scope"], "post_commands");
    let users = app
        .send(app.http.get(format!("{}/v1/users", app.address)).bearer_auth(&reports))
        .await?;
    assert_eq!(users.status, 401);
    // Revoked: refused at once.
    let admin = app.token(&tenant, Role::Admin).await?;
    let revoked = app
        .post(&format!("/v1/api-keys/{reports_id}/revoke"), &admin, &json!({}), &[])
        .await?;
    assert!(revoked.status < 300, "{}", revoked.body);
    assert_eq!(daily(reports, None).await?.status, 401);
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_key_with_the_read_reports_scope_reads_the_cash_reports_and_one_without_gets_403() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let get = |credential: String, path: &'static str| {
        let app = &app;
        let today = today.clone();
        async move {
            app.send(
                app.http
                    .get(format!("{}{path}?from={today}&to={today}", app.address))
                    .bearer_auth(credential),
            )
            .await
        }
    };
    let (_, reports) = key(&app, &tenant, json!(["read_reports"])).await?;
    let (_, feed_only) = key(&app, &tenant, json!(["feed"])).await?;
    for path in ["/v1/reports/over-short", "/v1/reports/paid-outs", "/v1/drawer-sessions"] {
        let read = get(reports.clone(), path).await?;
        assert_eq!(read.status, 200, "{path}: {}", read.body);
        let refused = get(feed_only.clone(), path).await?;
        assert_eq!(
            (refused.status, refused.code()),
            (403, "missing_scope"),
            "{path}: {}",
            refused.body
        );
        // A cashier still may not read them.
        let cashier = app.token(&tenant, Role::Cashier).await?;
        assert_eq!(get(cashier, path).await?.status, 403, "{path}");
    }
    Ok(())
}
