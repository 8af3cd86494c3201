//! `GET /v1/terminals/sync` against the real servers and the real projector: a terminal
//! syncs from empty (a full snapshot), then gets only the changes; a call with nothing
//! changed is an empty page or, with the ETag, a 304.

use std::time::Duration;

use events::Role;
use reqwest::Method;
use serde_json::{Value, json};
use tests::command_app::Reply;
use tests::projector_app::wait_for_checkpoint;
use tests::{CommandApp, ProjectorApp, unique_tenant};

async fn sync(app: &CommandApp, token: &str, query: &str, etag: Option<&str>) -> anyhow::Result<Reply> {
    let mut request = app
        .http
        .get(format!("{}/v1/terminals/sync?{query}", app.address))
        .bearer_auth(token);
    if let Some(etag) = etag {
        request = request.header("If-None-Match", etag);
    }
    app.send(request).await
}

fn product(sku: &str, price: i64) -> Value {
    json!({"sku": sku, "price": {"amount_minor": price, "currency": "USD"},
           "details": {"name": format!("Product {sku}"), "category": "wine", "tax_class": "alcohol",
                       "barcodes": [], "minimum_age": null, "reorder_point": 6}})
}

fn skus(reply: &Reply) -> Vec<String> {
    reply.body["products"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["sku"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_terminal_syncs_from_empty_then_gets_only_the_changes_and_a_304_when_nothing_changed() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let mut last = 0;
    let mut etags = Vec::new();
    for (sku, price) in [("WINE-RED", 1299), ("BEER-6", 999)] {
        let reply = app.post("/v1/products", &manager, &product(sku, price), &[]).await?;
        assert_eq!(reply.status, 201, "{reply:?}");
        last = reply.body["stream_sequence"].as_u64().unwrap_or_default();
        etags.push(reply.header("etag").unwrap_or_default().to_owned());
    }
    wait_for_checkpoint(&app.servers, &tenant, last, Duration::from_secs(30)).await?;

    // From empty: the whole catalog, the location.
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let first = sync(&app, &cashier, "location=main", None).await?;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.body["full"], true);
    assert_eq!(first.body["location"]["id"], "main");
    assert_eq!(skus(&first), ["BEER-6", "WINE-RED"]);
    assert_eq!(first.body["products"][1]["price"]["amount_minor"], 1299);
    assert!(
        first.body["products"][0].get("stock").is_none(),
        "stock is not terminal data"
    );
    let cursor = first.body["cursor"].as_u64().unwrap_or_default();
    assert!(cursor >= last, "{cursor} < {last}");
    let etag = first.header("etag").unwrap_or_default().to_owned();
    assert_eq!(etag, format!("\"{cursor}\""));

    // Nothing changed: 304 with the ETag, an empty page with the cursor.
    let same = sync(&app, &cashier, "location=main", Some(&etag)).await?;
    assert_eq!(same.status, 304, "{same:?}");
    let empty = sync(&app, &cashier, &format!("location=main&cursor={cursor}"), None).await?;
    assert_eq!(empty.status, 200, "{empty:?}");
    assert_eq!(empty.body["full"], false);
    assert_eq!(skus(&empty), Vec::<String>::new());
    assert!(empty.body["location"].is_null());

    // A sale changes stock, not the catalog: the next page is still empty.
    let sale = app
        .post(
            "/v1/sales",
            &cashier,
            &json!({"sale_id": "sale-1", "location": "main", "currency": "USD",
                    "lines": [{"sku": "BEER-6", "quantity": 1, "unit_price_minor": 999, "discount_minor": 0, "tax_minor": 0}],
                    "subtotal_minor": 999, "discount_total_minor": 0, "tax_total_minor": 0, "total_minor": 999,
                    "tenders": [{"kind": "cash", "amount_minor": 999}], "change_minor": 0}),
            &[],
        )
        .await?;
    assert_eq!(sale.status, 201, "{sale:?}");
    let after_sale = sale.body["stream_sequence"].as_u64().unwrap_or_default();
    wait_for_checkpoint(&app.servers, &tenant, after_sale, Duration::from_secs(30)).await?;
    let page = sync(&app, &cashier, &format!("location=main&cursor={cursor}"), None).await?;
    assert_eq!(skus(&page), Vec::<String>::new(), "{page:?}");
    let cursor = page.body["cursor"].as_u64().unwrap_or_default();
    assert!(cursor >= after_sale);

    // A price change: only that product comes, with its new price.
    let repriced = app
        .write(
            Method::PUT,
            "/v1/products/WINE-RED/price",
            &manager,
            &json!({"price": {"amount_minor": 1399, "currency": "USD"}}),
            &[("If-Match", &etags[0])],
        )
        .await?;
    assert_eq!(repriced.status, 201, "{repriced:?}");
    let changed = repriced.body["stream_sequence"].as_u64().unwrap_or_default();
    wait_for_checkpoint(&app.servers, &tenant, changed, Duration::from_secs(30)).await?;
    let page = sync(&app, &cashier, &format!("location=main&cursor={cursor}"), None).await?;
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(skus(&page), ["WINE-RED"]);
    assert_eq!(page.body["products"][0]["price"]["amount_minor"], 1399);
    assert!(page.body["location"].is_null());

    // Bad input names its field; an unknown location is 404.
    let reply = sync(&app, &cashier, "location=nowhere", None).await?;
    assert_eq!(reply.status, 404, "{reply:?}");
    let reply = sync(&app, &cashier, "location=main&cursor=x", None).await?;
    assert_eq!(reply.status, 422, "{reply:?}");
    let reply = sync(&app, &cashier, "", None).await?;
    assert_eq!(reply.status, 422, "{reply:?}");
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_terminal_gets_packs_containers_and_its_locations_promotions_and_later_their_end() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let can = json!({"container_type": "can", "volume_ml": 355, "units": 1});
    let mut base = product("BEER-CAN", 250);
    base["details"]["container"] = can;
    let mut case = product("BEER-24", 5000);
    case["details"]["pack"] = json!({"base_sku": "BEER-CAN", "units": 24});
    let mut last = 0;
    for body in [base, case] {
        let reply = app.post("/v1/products", &manager, &body, &[]).await?;
        assert_eq!(reply.status, 201, "{reply:?}");
        last = reply.body["stream_sequence"].as_u64().unwrap_or_default();
    }
    // One promotion at `main`, one everywhere, one at `annex` only.
    let promotion = |id: &str, locations: Value| {
        json!({"promotion_id": id, "details": {"name": id, "currency": "USD",
            "rule": {"kind": "quantity_breaks", "sku": "BEER-CAN", "breaks": [{"min_quantity": 6, "unit_price_minor": 200}]},
            "starts_at": "2026-11-01T00:00:00Z", "locations": locations}})
    };
    for (id, locations) in [
        ("at-main", json!(["main"])),
        ("everywhere", json!([])),
        ("at-annex", json!(["annex"])),
    ] {
        let reply = app
            .post("/v1/promotions", &manager, &promotion(id, locations), &[])
            .await?;
        assert_eq!(reply.status, 201, "{reply:?}");
        last = reply.body["stream_sequence"].as_u64().unwrap_or_default();
    }
    wait_for_checkpoint(&app.servers, &tenant, last, Duration::from_secs(30)).await?;

    let cashier = app.token(&tenant, Role::Cashier).await?;
    let first = sync(&app, &cashier, "location=main", None).await?;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(skus(&first), ["BEER-24", "BEER-CAN"]);
    // The case: its base and units; its container is the base's times 24.
    assert_eq!(
        first.body["products"][0]["pack"],
        json!({"base_sku": "BEER-CAN", "units": 24})
    );
    assert_eq!(first.body["products"][0]["containers_per_item"], 24);
    assert_eq!(first.body["products"][1]["container_type"], "can");
    assert_eq!(first.body["products"][1]["volume_ml"], 355);
    let ids = |reply: &Reply| -> Vec<(String, String)> {
        reply.body["promotions"]
            .as_array()
            .map(|p| {
                p.iter()
                    .map(|p| {
                        (
                            p["id"].as_str().unwrap_or_default().to_owned(),
                            p["status"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        ids(&first),
        [
            ("at-main".to_owned(), "active".to_owned()),
            ("everywhere".to_owned(), "active".to_owned())
        ],
        "annex's promotion is not main's terminal's business"
    );
    assert_eq!(
        first.body["promotions"][0]["rule"]["breaks"][0]["unit_price_minor"],
        200
    );
    let cursor = first.body["cursor"].as_u64().unwrap_or_default();

    // Ending one: the next page has it, ended; the untouched one does not come again.
    let version = first.body["promotions"][0]["version"]
        .as_u64()
        .unwrap_or_default()
        .to_string();
    let ended = app
        .post(
            "/v1/promotions/at-main/end",
            &manager,
            &json!({"reason": "sold out"}),
            &[("if-match", &version)],
        )
        .await?;
    assert_eq!(ended.status, 201, "{ended:?}");
    let at = ended.body["stream_sequence"].as_u64().unwrap_or_default();
    wait_for_checkpoint(&app.servers, &tenant, at, Duration::from_secs(30)).await?;
    let page = sync(&app, &cashier, &format!("location=main&cursor={cursor}"), None).await?;
    assert_eq!(ids(&page), [("at-main".to_owned(), "ended".to_owned())], "{page:?}");
    assert_eq!(skus(&page), Vec::<String>::new());
    // A new snapshot leaves the ended one out.
    let snapshot = sync(&app, &cashier, "location=main", None).await?;
    assert_eq!(ids(&snapshot), [("everywhere".to_owned(), "active".to_owned())]);

    // A stranger gets 401; another tenant's cashier sees only their own tenant (which has
    // no `main`), never these promotions.
    let stranger = app
        .send(app.http.get(format!("{}/v1/terminals/sync?location=main", app.address)))
        .await?;
    assert_eq!(stranger.status, 401, "{stranger:?}");
    let other = app.token(&unique_tenant(), Role::Cashier).await?;
    let elsewhere = sync(&app, &other, "location=main", None).await?;
    assert_eq!(elsewhere.status, 404, "{elsewhere:?}");
    assert!(elsewhere.body.get("promotions").is_none());
    projector.stop().await?;
    Ok(())
}

/// `GET /v1/terminals/sync` as `token` at `main` with `query`, following
/// `next_page_token`s: every page's reply.
async fn pages(app: &CommandApp, token: &str, query: &str) -> anyhow::Result<Vec<Reply>> {
    let mut replies: Vec<Reply> = Vec::new();
    loop {
        let page_token = replies
            .last()
            .and_then(|last| last.body["next_page_token"].as_str())
            .map(|t| format!("&page_token={t}"));
        if !replies.is_empty() && page_token.is_none() {
            return Ok(replies);
        }
        let reply = sync(
            app,
            token,
            &format!("location=main&{query}{}", page_token.unwrap_or_default()),
            None,
        )
        .await?;
        anyhow::ensure!(reply.status == 200, "page {}: {reply:?}", replies.len());
        replies.push(reply);
        anyhow::ensure!(replies.len() < 20, "too many pages");
    }
}

#[tokio::test]
async fn a_catalog_larger_than_a_page_comes_in_pages_and_a_product_changed_between_pages_is_not_lost()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let skus_made = ["P-1", "P-2", "P-3", "P-4", "P-5"];
    let mut etags = std::collections::HashMap::new();
    let mut last = 0;
    for sku in skus_made {
        let reply = app.post("/v1/products", &manager, &product(sku, 1000), &[]).await?;
        assert_eq!(reply.status, 201, "{reply:?}");
        last = reply.body["stream_sequence"].as_u64().unwrap_or_default();
        etags.insert(sku, reply.header("etag").unwrap_or_default().to_owned());
    }
    wait_for_checkpoint(&app.servers, &tenant, last, Duration::from_secs(30)).await?;

    // A snapshot in pages of 2: P-1 P-2 | P-3 P-4 | P-5. After the first page, P-1 (sent)
    // and P-4 (still ahead) get new prices.
    let mut changed_at = 0;
    let first = sync(&app, &cashier, "location=main&limit=2", None).await?;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(skus(&first), ["P-1", "P-2"]);
    assert_eq!(first.body["full"], true);
    assert_eq!(first.body["location"]["id"], "main");
    assert!(first.header("etag").is_none(), "an ETag before the last page");
    let cursor = first.body["cursor"].as_u64().unwrap_or_default();
    assert!(cursor >= last);
    for (sku, price) in [("P-1", 1111), ("P-4", 1444)] {
        let reply = app
            .write(
                Method::PUT,
                &format!("/v1/products/{sku}/price"),
                &manager,
                &json!({"price": {"amount_minor": price, "currency": "USD"}}),
                &[("If-Match", etags[sku].as_str())],
            )
            .await?;
        assert_eq!(reply.status, 201, "{reply:?}");
        changed_at = reply.body["stream_sequence"].as_u64().unwrap_or_default();
    }
    wait_for_checkpoint(&app.servers, &tenant, changed_at, Duration::from_secs(30)).await?;
    let token = first.body["next_page_token"].as_str().unwrap_or_default().to_owned();
    let second = sync(
        &app,
        &cashier,
        &format!("location=main&limit=2&page_token={token}"),
        None,
    )
    .await?;
    assert_eq!(second.status, 200, "{second:?}");
    assert_eq!(skus(&second), ["P-3", "P-4"]);
    assert_eq!(
        second.body["products"][1]["price"]["amount_minor"], 1444,
        "P-4 comes changed"
    );
    assert_eq!(second.body["cursor"], cursor, "one sync, one cursor");
    assert!(second.body["location"].is_null() && second.body["users"] == json!([]));
    let token = second.body["next_page_token"].as_str().unwrap_or_default().to_owned();
    let third = sync(
        &app,
        &cashier,
        &format!("location=main&limit=2&page_token={token}"),
        None,
    )
    .await?;
    assert_eq!(skus(&third), ["P-5"]);
    assert!(third.body["next_page_token"].is_null());
    assert_eq!(third.body["cursor"], cursor);
    assert_eq!(third.header("etag"), Some(format!("\"{cursor}\"").as_str()));

    // The next sync from the kept cursor brings both changes (P-1 was sent before it
    // changed), in pages of 1; then nothing is left and the ETag gives a 304.
    let next = pages(&app, &cashier, &format!("cursor={cursor}&limit=1")).await?;
    let got: Vec<String> = next.iter().flat_map(skus).collect();
    assert_eq!(got, ["P-1", "P-4"]);
    assert_eq!(next[0].body["products"][0]["price"]["amount_minor"], 1111);
    let new_cursor = next[1].body["cursor"].as_u64().unwrap_or_default();
    assert!(new_cursor >= changed_at);
    let etag = next[1].header("etag").unwrap_or_default().to_owned();
    let same = sync(&app, &cashier, "location=main", Some(&etag)).await?;
    assert_eq!(same.status, 304, "{same:?}");

    // Paging the same snapshot in one page of the default size gives the same catalog.
    let whole = sync(&app, &cashier, "location=main", None).await?;
    assert_eq!(skus(&whole), skus_made);
    assert!(whole.body["next_page_token"].is_null());

    // Bad limits and tokens name their field.
    for query in ["limit=0", "limit=5001", "page_token=nonsense"] {
        let reply = sync(&app, &cashier, &format!("location=main&{query}"), None).await?;
        assert_eq!(
            (reply.status, reply.field()),
            (422, query.split('=').next().unwrap_or_default()),
            "{query}: {reply:?}"
        );
    }
    let other = sync(
        &app,
        &cashier,
        &format!("location=annex&limit=2&page_token={token}"),
        None,
    )
    .await?;
    assert_eq!((other.status, other.field()), (422, "page_token"), "{other:?}");
    let moved = sync(
        &app,
        &cashier,
        &format!("location=main&cursor=1&page_token={token}"),
        None,
    )
    .await?;
    assert_eq!((moved.status, moved.field()), (422, "page_token"), "{moved:?}");
    projector.stop().await?;
    Ok(())
}

/// The `id`s of the items of `list` across `pages`.
fn ids_across(pages: &[Reply], list: &str) -> Vec<String> {
    pages
        .iter()
        .flat_map(|page| page.body[list].as_array().cloned().unwrap_or_default())
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn users_and_promotions_beyond_a_page_come_in_pages_too_each_list_paged_on_its_own() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let reply = app.post("/v1/products", &manager, &product("ONLY-1", 500), &[]).await?;
    assert_eq!(reply.status, 201, "{reply:?}");
    let mut last = reply.body["stream_sequence"].as_u64().unwrap_or_default();
    // Three promotions for `main` (two its own, one everywhere), one for `annex` only.
    for (id, locations) in [
        ("promo-c", json!(["main"])),
        ("promo-a", json!([])),
        ("promo-x", json!(["annex"])),
        ("promo-b", json!(["main"])),
    ] {
        let body = json!({"promotion_id": id, "details": {"name": id, "currency": "USD",
            "rule": {"kind": "quantity_breaks", "sku": "ONLY-1", "breaks": [{"min_quantity": 2, "unit_price_minor": 400}]},
            "starts_at": "2026-11-01T00:00:00Z", "locations": locations}});
        let reply = app.post("/v1/promotions", &manager, &body, &[]).await?;
        assert_eq!(reply.status, 201, "{reply:?}");
        last = reply.body["stream_sequence"].as_u64().unwrap_or_default();
    }
    wait_for_checkpoint(&app.servers, &tenant, last, Duration::from_secs(30)).await?;
    // Five staff in the read model (as the projector writes them from user events), on
    // top of whoever the tokens' users made.
    let users = app
        .servers
        .mongo
        .database(&tenant.database_name())
        .collection::<tenantdb::docs::UserDoc>("users");
    for n in 1..=5 {
        users
            .insert_one(tenantdb::docs::UserDoc {
                user_id: format!("staff-{n}"),
                name: format!("Staff {n}"),
                email: format!("staff{n}@example.com"),
                role: Role::Cashier,
                active: true,
                joined_at: chrono::Utc::now(),
                deactivated_at: None,
                locations: Vec::new(),
                last_seq: 1,
            })
            .await?;
    }
    let mut every_user: Vec<String> = users
        .distinct("_id", bson::doc! {})
        .await?
        .into_iter()
        .filter_map(|id| id.as_str().map(str::to_owned))
        .collect();
    every_user.sort();
    assert!(every_user.len() >= 5, "{every_user:?}");

    // Pages of 2: each list pages on its own, in id order, nothing twice, nothing missed.
    let paged = pages(&app, &cashier, "limit=2").await?;
    assert_eq!(
        paged.len(),
        every_user.len().div_ceil(2),
        "the users set the number of pages"
    );
    assert_eq!(ids_across(&paged, "promotions"), ["promo-a", "promo-b", "promo-c"]);
    assert_eq!(ids_across(&paged, "users"), every_user);
    assert_eq!(paged.iter().flat_map(skus).collect::<Vec<_>>(), ["ONLY-1"]);
    let cursor = &paged[0].body["cursor"];
    for (n, page) in paged.iter().enumerate() {
        for list in ["products", "promotions", "users"] {
            let len = page.body[list].as_array().map_or(0, Vec::len);
            assert!(len <= 2, "page {n}: {len} {list}");
        }
        assert_eq!(&page.body["cursor"], cursor, "page {n}: one sync, one cursor");
        assert_eq!(
            page.body["location"].is_null(),
            n > 0,
            "page {n}: the location in the first only"
        );
        let last_page = n + 1 == paged.len();
        assert_eq!(
            page.header("etag").is_some(),
            last_page,
            "page {n}: the ETag on the last only"
        );
        assert_eq!(page.body["next_page_token"].is_null(), last_page, "page {n}");
    }
    assert_eq!(paged[0].body["promotions"].as_array().map(Vec::len), Some(2));
    assert_eq!(paged[1].body["promotions"].as_array().map(Vec::len), Some(1));

    // One page of the default size holds the same.
    let whole = sync(&app, &cashier, "location=main", None).await?;
    assert!(whole.body["next_page_token"].is_null(), "{whole:?}");
    assert_eq!(ids_across(std::slice::from_ref(&whole), "users"), every_user);
    assert_eq!(
        ids_across(std::slice::from_ref(&whole), "promotions"),
        ["promo-a", "promo-b", "promo-c"]
    );
    projector.stop().await?;
    Ok(())
}
