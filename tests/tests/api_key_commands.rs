//! Integrations posting commands with an API key (scope `post_commands`) against the real
//! servers: the key acts as a store manager and is recorded as the events' actor by its
//! id (never as a user); a sale it posts is projected with the cashier it names; a retry
//! gives the same answer; a key without the scope gets 403 `missing_scope`, a revoked one
//! 401 at once; a key never reaches another tenant; admin-only commands and commands only
//! a user may send stay closed to keys; a key limited to locations acts only there and
//! never on the whole chain.

use std::time::Duration;

use events::{Role, TenantId};
use serde_json::{Value, json};
use tests::command_app::{Reply, read};
use tests::projector_app::wait_for_checkpoint;
use tests::tokens::account_user;
use tests::{CommandApp, ProjectorApp, unique_tenant};

const WAIT: Duration = Duration::from_secs(60);

/// A sale at `location` rung up on `till-9` by `cashier` (absent: the token's user).
fn sale(sale_id: &str, location: &str, cashier: Option<&str>) -> Value {
    let mut body = json!({
        "sale_id": sale_id, "terminal_id": "till-9", "location": location, "currency": "USD",
        "lines": [{"sku": "WINE-RED", "quantity": 2, "unit_price_minor": 1299, "discount_minor": 100, "tax_minor": 200}],
        "subtotal_minor": 2598, "discount_total_minor": 100, "tax_total_minor": 200, "total_minor": 2698,
        "tenders": [{"kind": "cash", "amount_minor": 3000}], "change_minor": 302
    });
    if let Some(cashier) = cashier {
        body["cashier_id"] = json!(cashier);
    }
    body
}

/// Creates a key with `scopes` as `tenant`'s admin: (id, key text).
async fn key(app: &CommandApp, tenant: &TenantId, scopes: Value) -> anyhow::Result<(String, String)> {
    let admin = app.token(tenant, Role::Admin).await?;
    let reply = app
        .post(
            "/v1/api-keys",
            &admin,
            &json!({"name": "web shop", "scopes": scopes}),
            &[],
        )
        .await?;
    anyhow::ensure!(reply.status == 201, "creating a key: {reply:?}");
    let id = reply.body["id"].as_str().unwrap_or_default().to_owned();
    let text = reply.body["key"].as_str().unwrap_or_default().to_owned();
    Ok((id, text))
}

async fn post_sale(app: &CommandApp, credential: &str, body: &Value, key: Option<&str>) -> anyhow::Result<Reply> {
    let headers: Vec<(&str, &str)> = key.map(|key| ("Idempotency-Key", key)).into_iter().collect();
    app.post("/v1/sales", credential, body, &headers).await
}

#[tokio::test]
async fn a_sale_posted_with_a_key_is_recorded_as_the_key_projected_with_its_cashier_and_a_retry_gives_the_same_answer()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = account_user(&tenant, Role::Cashier);
    app.token(&tenant, Role::Cashier).await?; // the cashier exists
    let (key_id, key) = key(&app, &tenant, json!(["post_commands"])).await?;

    // Without the cashier, or naming a stranger, the sale is refused naming the field.
    let missing = post_sale(&app, &key, &sale("web-1", "main", None), None).await?;
    assert_eq!((missing.status, missing.code()), (422, "missing_field"), "{missing:?}");
    assert!(missing.field().starts_with("cashier_id"), "{missing:?}");
    let stranger = post_sale(&app, &key, &sale("web-1", "main", Some("nobody")), None).await?;
    assert_eq!(
        (stranger.status, stranger.code(), stranger.field()),
        (422, "unknown_user", "cashier_id")
    );
    // A user's token is the cashier: it may not name another.
    let mut user_sale = sale("web-0", "main", Some(&cashier));
    user_sale["terminal_id"] = json!("till-1"); // the user token's till
    let by_user = post_sale(&app, &manager, &user_sale, None).await?;
    assert_eq!((by_user.status, by_user.field()), (422, "cashier_id"), "{by_user:?}");

    let body = sale("web-1", "main", Some(&cashier));
    let first = post_sale(&app, &key, &body, Some("order-1001")).await?;
    assert_eq!(first.status, 201, "{first:?}");
    let sequence = first.body["stream_sequence"].as_u64().unwrap_or_default();
    let retry = post_sale(&app, &key, &body, Some("order-1001")).await?;
    assert_eq!(retry.status, 201, "{retry:?}");
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body["stream_sequence"], first.body["stream_sequence"]);
    assert_eq!(retry.body["event_id"], first.body["event_id"]);
    // The same key under another body is a conflict, as for users.
    let reused = post_sale(&app, &key, &sale("web-2", "main", Some(&cashier)), Some("order-1001")).await?;
    assert_eq!((reused.status, reused.code()), (409, "idempotency_key_reused"));

    // One event, whose actor is the key (no user id) acting as a manager.
    let messages = app.tenant_messages(&tenant).await?;
    let sales: Vec<Value> = messages
        .iter()
        .filter_map(|m| serde_json::from_slice::<Value>(&m.payload).ok())
        .filter(|e| e["event_type"] == "SaleCompleted")
        .collect();
    assert_eq!(sales.len(), 1, "{sales:?}");
    assert_eq!(
        sales[0]["actor"],
        json!({"api_key_id": key_id, "role": "manager", "terminal_id": null})
    );
    assert_eq!(sales[0]["payload"]["cashier_id"], cashier.as_str());

    // Projected with the named cashier; the key's void is recorded as the key.
    wait_for_checkpoint(&app.servers, &tenant, sequence, WAIT).await?;
    let projected = read(&app, &manager, "/v1/sales/web-1", sequence).await?;
    assert_eq!(projected["cashier_id"], cashier.as_str());
    assert_eq!(projected["total_minor"], 2698); // 2 × 12.99 − 1.00 + 2.00
    let void = app
        .post("/v1/sales/web-1/void", &key, &json!({"reason": "order cancelled"}), &[])
        .await?;
    assert_eq!(void.status, 201, "{void:?}");
    let sequence = void.body["stream_sequence"].as_u64().unwrap_or_default();
    let voided = read(&app, &manager, "/v1/sales/web-1", sequence).await?;
    assert_eq!(voided["status"], "voided");
    assert_eq!(voided["void"]["voided_by"], format!("key:{key_id}"));
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn keys_without_the_scope_revoked_keys_admin_commands_and_user_only_commands_are_refused_with_nothing_published()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let admin = app.token(&tenant, Role::Admin).await?;
    let cashier = account_user(&tenant, Role::Cashier);
    app.token(&tenant, Role::Cashier).await?;
    let before = app.tenant_messages(&tenant).await?.len();

    // A key with other scopes: 403 naming the scope it lacks.
    let (_, reader) = key(&app, &tenant, json!(["feed", "read_reports"])).await?;
    let refused = post_sale(&app, &reader, &sale("web-1", "main", Some(&cashier)), None).await?;
    assert_eq!((refused.status, refused.code()), (403, "missing_scope"), "{refused:?}");
    assert_eq!(refused.body["error"]["required_scope"], "post_commands");

    // A key acts as a manager: an admin's command is refused, and opening a drawer needs
    // a user (who the session's cashier is).
    let (id, poster) = key(&app, &tenant, json!(["post_commands"])).await?;
    let location = tests::command_app::location_body("north", "UTC", "00:00", "USD");
    let admin_only = app.post("/v1/locations", &poster, &location, &[]).await?;
    assert_eq!(
        (admin_only.status, admin_only.code()),
        (403, "forbidden"),
        "{admin_only:?}"
    );
    assert_eq!(admin_only.body["error"]["required_role"], "admin");
    let drawer = json!({"session_id": "web-shift", "terminal_id": "till-9", "location": "main",
        "opening_float_minor": 10_000});
    let user_only = app.post("/v1/drawer-sessions", &poster, &drawer, &[]).await?;
    assert_eq!(
        (user_only.status, user_only.code()),
        (403, "user_required"),
        "{user_only:?}"
    );

    // Revoked: 401 on the very next request.
    let revoked = app
        .post(&format!("/v1/api-keys/{id}/revoke"), &admin, &json!({}), &[])
        .await?;
    assert!(revoked.status == 200 || revoked.status == 204, "{revoked:?}");
    let after = post_sale(&app, &poster, &sale("web-2", "main", Some(&cashier)), None).await?;
    assert_eq!((after.status, after.code()), (401, "unauthorized"), "{after:?}");

    assert_eq!(
        app.tenant_messages(&tenant).await?.len(),
        before,
        "something was published"
    );
    Ok(())
}

#[tokio::test]
async fn a_key_never_posts_to_another_tenant_and_gets_what_a_user_gets_for_a_location_it_does_not_have()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let (ours, theirs) = (unique_tenant(), unique_tenant());
    app.open_locations(&ours).await?;
    let admin_theirs = app.token(&theirs, Role::Admin).await?;
    let far = tests::command_app::location_body("far-away", "UTC", "00:00", "USD");
    let opened = app.post("/v1/locations", &admin_theirs, &far, &[]).await?;
    assert_eq!(opened.status, 201, "{opened:?}");
    let cashier = account_user(&ours, Role::Cashier);
    app.token(&ours, Role::Cashier).await?;
    let manager = app.token(&ours, Role::Manager).await?;
    let (_, key) = key(&app, &ours, json!(["post_commands"])).await?;
    let before = app.tenant_messages(&theirs).await?.len();

    // The other tenant's location: the key gets exactly what our manager gets.
    let mut user_sale = sale("far-1", "far-away", None);
    user_sale["terminal_id"] = json!("till-1"); // the user token's till
    let by_user = app.post("/v1/sales", &manager, &user_sale, &[]).await?;
    let by_key = post_sale(&app, &key, &sale("far-1", "far-away", Some(&cashier)), None).await?;
    assert_eq!(
        (by_user.status, by_user.code()),
        (422, "unknown_location"),
        "{by_user:?}"
    );
    assert_eq!(
        (by_key.status, by_key.code()),
        (by_user.status, by_user.code()),
        "{by_key:?}"
    );

    // Naming the other tenant in the body is refused; the tenant comes from the key.
    let mut named = sale("far-2", "main", Some(&cashier));
    named["tenant_id"] = json!(theirs.as_str());
    let mismatch = post_sale(&app, &key, &named, None).await?;
    assert_eq!(
        (mismatch.status, mismatch.code()),
        (403, "tenant_mismatch"),
        "{mismatch:?}"
    );
    // A tenant header naming the other tenant does not move the key either.
    let headed = app
        .post(
            "/v1/sales",
            &key,
            &sale("far-3", "main", Some(&cashier)),
            &[("x-tenant-id", theirs.as_str())],
        )
        .await?;
    assert_eq!((headed.status, headed.code()), (403, "tenant_mismatch"), "{headed:?}");

    assert_eq!(
        app.tenant_messages(&theirs).await?.len(),
        before,
        "published to the other tenant"
    );
    Ok(())
}

/// A promotion for `locations` ([] = every store).
fn promotion(id: &str, locations: Value) -> Value {
    json!({"promotion_id": id, "details": {"name": id, "currency": "USD",
        "rule": {"kind": "quantity_breaks", "sku": "WINE-RED", "breaks": [{"min_quantity": 6, "unit_price_minor": 1000}]},
        "starts_at": "2026-11-01T00:00:00Z", "locations": locations}})
}

#[tokio::test]
async fn a_key_limited_to_a_location_acts_only_there_and_never_on_the_whole_chain_with_nothing_published_when_refused()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?; // main and annex
    let admin = app.token(&tenant, Role::Admin).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = account_user(&tenant, Role::Cashier);
    app.token(&tenant, Role::Cashier).await?;

    // Limits that cannot be kept are refused naming the field, and no key is made.
    for (scopes, locations) in [
        (json!(["feed", "feed_personal_data"]), json!(["main"])),
        (json!(["read_reports", "webhooks"]), json!(["main", "north"])),
        (json!(["post_commands"]), json!([])),
        (json!(["post_commands"]), json!(["nowhere"])),
        (json!(["post_commands"]), json!(["not a location"])),
        (
            json!(["post_commands"]),
            json!((0..101).map(|n| format!("store-{n}")).collect::<Vec<_>>()),
        ),
    ] {
        let reply = app
            .post(
                "/v1/api-keys",
                &admin,
                &json!({"name": "kiosk", "scopes": scopes, "locations": locations}),
                &[],
            )
            .await?;
        assert_eq!(
            (reply.status, reply.field()),
            (422, "locations"),
            "{locations}: {reply:?}"
        );
    }
    let reply = app
        .post(
            "/v1/api-keys",
            &admin,
            &json!({"name": "main kiosk", "scopes": ["post_commands"], "locations": ["main", "main"]}),
            &[],
        )
        .await?;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.body["locations"], json!(["main"]));
    let kiosk = reply.body["key"].as_str().unwrap_or_default().to_owned();
    let listed = app
        .send(app.http.get(format!("{}/v1/api-keys", app.address)).bearer_auth(&admin))
        .await?;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1), "{listed:?}");
    assert_eq!(listed.body["items"][0]["locations"], json!(["main"]));

    // What the manager (every store) does elsewhere, for the key to try.
    let at_annex = {
        let mut body = sale("annex-1", "annex", None);
        body["terminal_id"] = json!("till-1");
        app.post("/v1/sales", &manager, &body, &[]).await?
    };
    assert_eq!(at_annex.status, 201, "{at_annex:?}");
    let registered = app
        .post(
            "/v1/products",
            &manager,
            &json!({"sku": "WINE-X", "price": {"amount_minor": 1500, "currency": "USD"},
                "details": {"name": "Wine X", "category": "wine", "tax_class": "alcohol", "barcodes": [],
                            "minimum_age": null, "reorder_point": 6}}),
            &[],
        )
        .await?;
    assert_eq!(registered.status, 201, "{registered:?}");
    let everywhere = app
        .post("/v1/promotions", &manager, &promotion("chain-deal", json!([])), &[])
        .await?;
    assert_eq!(everywhere.status, 201, "{everywhere:?}");
    let before = app.tenant_messages(&tenant).await?.len();

    // At its store: a sale, its void, the store's own price of a chain product, a
    // promotion for the store.
    let own = post_sale(&app, &kiosk, &sale("main-1", "main", Some(&cashier)), None).await?;
    assert_eq!(own.status, 201, "{own:?}");
    let void = app
        .post(
            "/v1/sales/main-1/void",
            &kiosk,
            &json!({"reason": "customer left"}),
            &[],
        )
        .await?;
    assert_eq!(void.status, 201, "{void:?}");
    let etag = registered.header("etag").unwrap_or_default().to_owned();
    let priced = app
        .write(
            reqwest::Method::PUT,
            "/v1/products/WINE-X/price",
            &kiosk,
            &json!({"price": {"amount_minor": 1400, "currency": "USD"}, "location": "main"}),
            &[("If-Match", etag.as_str())],
        )
        .await?;
    assert_eq!(priced.status, 201, "{priced:?}");
    let local = app
        .post("/v1/promotions", &kiosk, &promotion("main-deal", json!(["main"])), &[])
        .await?;
    assert_eq!(local.status, 201, "{local:?}");
    let accepted = app.tenant_messages(&tenant).await?.len();
    assert_eq!(accepted, before + 4, "four accepted, four events");

    // Elsewhere, or the whole chain: 403 location_forbidden, naming the store when there is one.
    let etag = priced.header("etag").unwrap_or_default().to_owned();
    let chain_version = everywhere.body["stream_sequence"]
        .as_u64()
        .unwrap_or_default()
        .to_string();
    let refused = [
        (
            "a sale at annex",
            post_sale(&app, &kiosk, &sale("annex-2", "annex", Some(&cashier)), None).await?,
            Some("annex"),
        ),
        (
            "voiding annex's sale",
            app.post("/v1/sales/annex-1/void", &kiosk, &json!({"reason": "x"}), &[])
                .await?,
            Some("annex"),
        ),
        (
            "annex's price",
            app.write(
                reqwest::Method::PUT,
                "/v1/products/WINE-X/price",
                &kiosk,
                &json!({"price": {"amount_minor": 1300, "currency": "USD"}, "location": "annex"}),
                &[("If-Match", etag.as_str())],
            )
            .await?,
            Some("annex"),
        ),
        (
            "the chain-wide price",
            app.write(
                reqwest::Method::PUT,
                "/v1/products/WINE-X/price",
                &kiosk,
                &json!({"price": {"amount_minor": 1300, "currency": "USD"}}),
                &[("If-Match", etag.as_str())],
            )
            .await?,
            None,
        ),
        (
            "registering a product",
            app.post(
                "/v1/products",
                &kiosk,
                &json!({"sku": "WINE-Y", "price": {"amount_minor": 1500, "currency": "USD"},
                    "details": {"name": "Wine Y", "category": "wine", "tax_class": "alcohol", "barcodes": [],
                                "minimum_age": null, "reorder_point": 6}}),
                &[],
            )
            .await?,
            None,
        ),
        (
            "a promotion for every store",
            app.post("/v1/promotions", &kiosk, &promotion("kiosk-chain", json!([])), &[])
                .await?,
            None,
        ),
        (
            "a promotion for both stores",
            app.post(
                "/v1/promotions",
                &kiosk,
                &promotion("kiosk-both", json!(["main", "annex"])),
                &[],
            )
            .await?,
            Some("annex"),
        ),
        (
            "ending the chain's promotion",
            app.post(
                "/v1/promotions/chain-deal/end",
                &kiosk,
                &json!({"reason": "x"}),
                &[("if-match", chain_version.as_str())],
            )
            .await?,
            None,
        ),
    ];
    for (what, reply, location) in refused {
        assert_eq!(
            (reply.status, reply.code()),
            (403, "location_forbidden"),
            "{what}: {reply:?}"
        );
        let message = reply.body["error"]["message"].as_str().unwrap_or_default();
        match location {
            Some(location) => assert!(message.contains(location), "{what}: {message}"),
            None => assert!(message.contains("whole chain"), "{what}: {message}"),
        }
    }
    assert_eq!(
        app.tenant_messages(&tenant).await?.len(),
        accepted,
        "a refused command was published"
    );

    // In a batch each command is held to the limit on its own.
    let item = |sale_id: &str, location: &str| json!({"command": "complete_sale", "path": null, "body": sale(sale_id, location, Some(&cashier))});
    let batch = app
        .post(
            "/v1/batches",
            &kiosk,
            &json!({"commands": [item("main-2", "main"), item("annex-3", "annex"), item("main-3", "main")]}),
            &[],
        )
        .await?;
    assert_eq!(batch.status, 200, "{batch:?}");
    let statuses: Vec<(u64, String)> = batch.body["results"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .map(|r| {
                    let code = r["error"]["error"]["code"].as_str().unwrap_or_default().to_owned();
                    (r["status"].as_u64().unwrap_or_default(), code)
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        statuses,
        [
            (201, String::new()),
            (403, "location_forbidden".to_owned()),
            (201, String::new())
        ],
        "{batch:?}"
    );
    assert_eq!(app.tenant_messages(&tenant).await?.len(), accepted + 2);

    // The same commands from the manager (every store) go through: the refusals were the limit.
    let mut body = sale("annex-2", "annex", None);
    body["terminal_id"] = json!("till-1");
    assert_eq!(app.post("/v1/sales", &manager, &body, &[]).await?.status, 201);
    Ok(())
}

#[tokio::test]
async fn a_key_limited_to_a_location_reads_only_that_locations_reports() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?; // main and annex, UTC, days from midnight
    let admin = app.token(&tenant, Role::Admin).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let reply = app
        .post(
            "/v1/api-keys",
            &admin,
            &json!({"name": "main's books", "scopes": ["post_commands", "read_reports", "feed"], "locations": ["main"]}),
            &[],
        )
        .await?;
    assert_eq!(reply.status, 201, "{reply:?}");
    let books = reply.body["key"].as_str().unwrap_or_default().to_owned();
    let (_, everywhere) = key(&app, &tenant, json!(["read_reports"])).await?;

    // main: one sale of 26.98 (2 × 12.99 − 1.00 + 2.00 tax); the annex: two.
    let mut last = 0;
    for (sale_id, location) in [("m-1", "main"), ("a-1", "annex"), ("a-2", "annex")] {
        let mut body = sale(sale_id, location, None);
        body["terminal_id"] = json!("till-1"); // the manager's token's till
        let posted = post_sale(&app, &manager, &body, None).await?;
        assert_eq!(posted.status, 201, "{posted:?}");
        last = posted.body["stream_sequence"].as_u64().unwrap_or_default();
    }
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let read = |credential: &str, path: String| {
        let (app, credential) = (&app, credential.to_owned());
        async move {
            let separator = if path.contains('?') { '&' } else { '?' };
            app.send(
                app.http
                    .get(format!("{}{path}{separator}min_sequence={last}", app.address))
                    .bearer_auth(credential),
            )
            .await
        }
    };
    let rows = |reply: &Reply| tests::command_app::daily_rows(&reply.body);

    let held = read(&books, format!("/v1/reports/daily?date={today}")).await?;
    assert_eq!(held.status, 200, "{held:?}");
    assert_eq!(rows(&held), [("main".to_owned(), 1, 2698)]);
    let chain = read(&everywhere, format!("/v1/reports/daily?date={today}")).await?;
    assert_eq!(
        rows(&chain),
        [("annex".to_owned(), 2, 2 * 2698), ("main".to_owned(), 1, 2698)]
    );
    // Every route a key with read_reports reads: held to main without a location,
    // refused for the annex.
    let period = format!("from={today}&to={today}");
    for path in [
        format!("/v1/reports/daily?date={today}"),
        format!("/v1/reports/top-products?{period}"),
        format!("/v1/reports/pricing-exceptions?date={today}"),
        format!("/v1/reports/packs?{period}"),
        format!("/v1/reports/promotions?{period}"),
        format!("/v1/reports/over-short?{period}"),
        format!("/v1/reports/paid-outs?{period}"),
        format!("/v1/drawer-sessions?{period}"),
        format!("/v1/reports/margin?{period}"),
        format!("/v1/reports/valuation?at={today}"),
        "/v1/reports/reorder".to_owned(),
        "/v1/reports/low-stock".to_owned(),
    ] {
        let held = read(&books, path.clone()).await?;
        assert_eq!(held.status, 200, "{path}: {held:?}");
        let separator = if path.contains('?') { '&' } else { '?' };
        let refused = read(&books, format!("{path}{separator}location=annex")).await?;
        assert_eq!(
            (refused.status, refused.code()),
            (403, "location_forbidden"),
            "{path}: {refused:?}"
        );
    }
    let by_location = read(
        &books,
        format!("/v1/reports/margin?from={today}&to={today}&by=location"),
    )
    .await?;
    assert_eq!(by_location.status, 200, "{by_location:?}");
    let groups: Vec<&str> = by_location.body["items"]
        .as_array()
        .map(|rows| rows.iter().filter_map(|row| row["key"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(groups, ["main"], "{by_location:?}");
    // The feed of main's key: main's sale, not the annex's two (and main's location).
    let sales = app
        .send(
            app.http
                .get(format!("{}/v1/feed?types=SaleCompleted,LocationOpened", app.address))
                .bearer_auth(&books),
        )
        .await?;
    assert_eq!(sales.status, 200, "{sales:?}");
    let seen: Vec<String> = sales.body["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter_map(|event| event["aggregate"]["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(seen, ["main", "m-1"], "{sales:?}");
    projector.stop().await?;
    app.stream.delete().await
}
