//! The query side, over data produced through the command API and the real projector:
//! every endpoint, tenant isolation, paging stable under concurrent inserts, CSV, and
//! read-your-writes.

use events::{Role, TenantId};
use serde_json::{Value, json};
use tests::command_app::Reply;
use tests::{CommandApp, ProjectorApp, unique_tenant};

fn product(
    sku: &str,
    name: &str,
    category: &str,
    barcode: &str,
    minimum_age: Option<u8>,
    reorder_point: i64,
    price: i64,
) -> Value {
    json!({"sku": sku, "details": {"name": name, "category": category, "tax_class": "standard", "barcodes": [barcode],
        "minimum_age": minimum_age, "reorder_point": reorder_point}, "price": {"amount_minor": price, "currency": "USD"}})
}

fn sale(sale_id: &str, location: &str, lines: &[(&str, i64, i64)], cash: bool, occurred_at: Option<&str>) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(sku, quantity, price)| json!({"sku": sku, "quantity": quantity, "unit_price_minor": price, "tax_minor": quantity * price / 10}))
        .collect();
    let subtotal: i64 = lines
        .iter()
        .map(|l| l["quantity"].as_i64().unwrap_or(0) * l["unit_price_minor"].as_i64().unwrap_or(0))
        .sum();
    let tax: i64 = lines.iter().map(|l| l["tax_minor"].as_i64().unwrap_or(0)).sum();
    let total = subtotal + tax;
    let tendered = if cash { (total / 1000 + 1) * 1000 } else { total };
    let mut body = json!({"sale_id": sale_id, "location": location, "currency": "USD", "lines": lines,
        "subtotal_minor": subtotal, "discount_total_minor": 0, "tax_total_minor": tax, "total_minor": total,
        "tenders": [{"kind": if cash {"cash"} else {"card"}, "amount_minor": tendered}], "change_minor": tendered - total,
        "age_verification": {"method": "id_scan", "customer_age": 40}});
    if let Some(at) = occurred_at {
        body["occurred_at"] = json!(at);
    }
    body
}

struct Store {
    app: CommandApp,
    projector: ProjectorApp,
    tenant: TenantId,
    manager: String,
    cashier: String,
    last: u64,
}

async fn post(app: &CommandApp, token: &str, path: &str, body: &Value) -> anyhow::Result<u64> {
    let reply = app.post(path, token, body, &[]).await?;
    anyhow::ensure!(reply.status == 201, "{path}: {} {}", reply.status, reply.body);
    Ok(reply.body["stream_sequence"].as_u64().unwrap_or_default())
}

async fn get(app: &CommandApp, token: &str, path: &str) -> anyhow::Result<Reply> {
    app.send(app.http.get(format!("{}{path}", app.address)).bearer_auth(token))
        .await
}

/// A tenant with a small but complete history: three products, receipts, six sales over
/// two days and two locations, a void, a refund and an adjustment into negative stock.
async fn store() -> anyhow::Result<Store> {
    let app = CommandApp::spawn_with(|c| c.read_your_writes_timeout_ms = 1500).await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.allow_backdating(&tenant).await?; // fixed past dates
    app.open_locations(&tenant).await?;
    let (manager, cashier) = (
        app.token(&tenant, Role::Manager).await?,
        app.token(&tenant, Role::Cashier).await?,
    );
    for body in [
        product("RIOJA", "Rioja Reserva", "wine", "8410000000011", Some(18), 10, 1500),
        product("IPA-6", "Hazy IPA six-pack", "beer", "0760000000022", Some(21), 2, 1200),
        product("CHIPS", "Sea salt chips", "snacks", "0120000000033", None, 0, 300),
    ] {
        post(&app, &manager, "/v1/products", &body).await?;
    }
    for (id, sku, location, quantity) in [
        ("r1", "RIOJA", "main", 12),
        ("r2", "IPA-6", "main", 10),
        ("r3", "CHIPS", "annex", 20),
    ] {
        let body = json!({"movement_id": id, "sku": sku, "location": location, "quantity": quantity,
            "unit_cost": {"amount_minor": 100, "currency": "USD"}, "supplier": "S", "reference": "PO"});
        post(&app, &manager, "/v1/inventory/receipts", &body).await?;
    }
    let sales = [
        sale("s1", "main", &[("RIOJA", 2, 1500)], true, Some("2026-11-24T10:00:00Z")),
        sale(
            "s2",
            "main",
            &[("IPA-6", 3, 1200), ("CHIPS", 1, 300)],
            false,
            Some("2026-11-24T11:00:00Z"),
        ),
        sale("s3", "annex", &[("CHIPS", 4, 300)], true, Some("2026-11-24T12:00:00Z")),
        sale("s4", "main", &[("RIOJA", 1, 1500)], false, Some("2026-11-25T09:00:00Z")),
        sale("s5", "main", &[("IPA-6", 5, 1200)], true, Some("2026-11-25T10:00:00Z")),
        sale("s6", "annex", &[("CHIPS", 2, 300)], false, Some("2026-11-25T11:00:00Z")),
    ];
    for body in &sales {
        post(&app, &cashier, "/v1/sales", body).await?;
    }
    post(
        &app,
        &manager,
        "/v1/sales/s4/void",
        &json!({"reason": "wrong wine", "occurred_at": "2026-11-25T09:05:00Z"}),
    )
    .await?;
    post(&app, &manager, "/v1/sales/s2/refunds", &json!({"refund_id": "rf1", "lines": [{"line_no": 1, "quantity": 1}], "reason": "warm", "occurred_at": "2026-11-25T12:00:00Z"})).await?;
    let last = post(
        &app,
        &manager,
        "/v1/inventory/adjustments",
        &json!({"movement_id": "adj1", "sku": "CHIPS", "location": "main", "quantity_delta": -3, "reason": "theft"}),
    )
    .await?;
    Ok(Store {
        app,
        projector,
        tenant,
        manager,
        cashier,
        last,
    })
}

impl Store {
    async fn get(&self, token: &str, path: &str) -> anyhow::Result<Reply> {
        let separator = if path.contains('?') { '&' } else { '?' };
        get(
            &self.app,
            token,
            &format!("{path}{separator}min_sequence={}", self.last),
        )
        .await
    }

    /// GETs `path` as CSV: the content type and the body.
    async fn csv(&self, token: &str, path: &str) -> anyhow::Result<(Option<String>, String)> {
        let response = self
            .app
            .http
            .get(format!("{}{path}", self.app.address))
            .bearer_auth(token)
            .header("accept", "text/csv")
            .send()
            .await?;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok((content_type, response.text().await?))
    }

    async fn done(self) -> anyhow::Result<()> {
        self.projector.stop().await?;
        self.app
            .servers
            .mongo
            .database(&self.tenant.database_name())
            .drop()
            .await?;
        self.app.stream.delete().await
    }
}

fn ids(reply: &Reply) -> Vec<String> {
    reply.body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["id"].as_str().or(i["sku"].as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn catalog_and_stock_answer_every_role() -> anyhow::Result<()> {
    let store = store().await?;
    let cashier = store.cashier.clone();
    let all = store.get(&cashier, "/v1/products").await?;
    assert_eq!(
        (all.status, ids(&all)),
        (200, vec!["CHIPS".to_owned(), "IPA-6".into(), "RIOJA".into()]),
        "{}",
        all.body
    );
    assert_eq!(ids(&store.get(&cashier, "/v1/products?q=rioja").await?), vec!["RIOJA"]);
    assert_eq!(
        ids(&store.get(&cashier, "/v1/products?q=.*").await?),
        Vec::<String>::new(),
        "user text is not a regex"
    );
    assert_eq!(
        ids(&store.get(&cashier, "/v1/products?barcode=0760000000022").await?),
        vec!["IPA-6"]
    );
    assert_eq!(
        ids(&store.get(&cashier, "/v1/products?category=snacks").await?),
        vec!["CHIPS"]
    );
    assert_eq!(
        ids(&store.get(&cashier, "/v1/products?sku=RIOJA").await?),
        vec!["RIOJA"]
    );
    let first = store.get(&cashier, "/v1/products?limit=2").await?;
    assert_eq!(ids(&first), vec!["CHIPS", "IPA-6"]);
    let cursor = first.body["next_cursor"].as_str().unwrap_or_default().to_owned();
    let second = store
        .get(&cashier, &format!("/v1/products?limit=2&cursor={cursor}"))
        .await?;
    assert_eq!(
        (ids(&second), second.body["next_cursor"].clone()),
        (vec!["RIOJA".to_owned()], Value::Null)
    );

    let rioja = store.get(&cashier, "/v1/products/RIOJA").await?;
    // 12 received, 2 sold (s1), 1 sold and voided (s4).
    assert_eq!(
        (rioja.status, rioja.body["stock"]["main"].as_i64()),
        (200, Some(10)),
        "{}",
        rioja.body
    );
    assert_eq!(rioja.body["price"]["amount_minor"], 1500);
    assert_eq!(store.get(&cashier, "/v1/products/NOPE").await?.status, 404);

    let low = store.get(&cashier, "/v1/stock?state=low").await?;
    // IPA-6: 10 − 3 + 1 refunded (restocked) − 5 = 3 > 2; RIOJA 10 ≤ 10: low.
    assert_eq!(ids(&low), vec!["RIOJA"], "{}", low.body);
    let negative = store.get(&cashier, "/v1/stock?state=negative&location=main").await?;
    assert_eq!(ids(&negative), vec!["CHIPS"], "{}", negative.body);
    assert_eq!(negative.body["items"][0]["on_hand"], -4);
    let annex = store.get(&cashier, "/v1/stock?location=annex").await?;
    assert_eq!(
        (ids(&annex), annex.body["items"][0]["on_hand"].as_i64()),
        (vec!["CHIPS".to_owned()], Some(14))
    );
    store.done().await
}

#[tokio::test]
async fn sales_transactions_and_reports_answer_managers_only() -> anyhow::Result<()> {
    let store = store().await?;
    let manager = store.manager.clone();
    let sales = store.get(&manager, "/v1/sales").await?;
    assert_eq!(
        ids(&sales),
        vec!["s6", "s5", "s4", "s3", "s2", "s1"],
        "newest recorded first"
    );
    assert_eq!(
        ids(&store.get(&manager, "/v1/sales?location=annex").await?),
        vec!["s6", "s3"]
    );
    assert_eq!(ids(&store.get(&manager, "/v1/sales?status=voided").await?), vec!["s4"]);
    assert_eq!(
        ids(&store.get(&manager, "/v1/sales?from=2026-11-25").await?),
        vec!["s6", "s5", "s4"]
    );
    assert_eq!(
        ids(&store.get(&manager, "/v1/sales?from=2026-11-24&to=2026-11-24").await?),
        vec!["s3", "s2", "s1"]
    );
    assert_eq!(
        ids(&store
            .get(
                &manager,
                &format!(
                    "/v1/sales?to=2026-11-24T11:30:00Z&terminal=till-1&cashier={}",
                    tests::tokens::account_user(&store.tenant, Role::Cashier)
                )
            )
            .await?),
        vec!["s2", "s1"]
    );
    let s2 = store.get(&manager, "/v1/sales/s2").await?;
    assert_eq!(
        (s2.status, s2.body["status"].as_str()),
        (200, Some("partially_refunded"))
    );
    assert_eq!(s2.body["refunds"][0]["refund_id"], "rf1");
    assert_eq!(store.get(&manager, "/v1/sales/s404").await?.status, 404);

    let moves = store.get(&manager, "/v1/inventory/transactions?sku=CHIPS").await?;
    let kinds: Vec<&str> = moves.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kinds,
        vec!["receipt", "sale", "sale", "sale", "adjustment"],
        "{}",
        moves.body
    );
    assert_eq!(
        ids(&store
            .get(&manager, "/v1/inventory/transactions?sku=CHIPS&location=annex")
            .await?)
        .len(),
        3
    );

    let day = store.get(&manager, "/v1/reports/daily?date=2026-11-25").await?;
    let rows = day.body["items"].as_array().cloned().unwrap_or_default();
    let main = rows
        .iter()
        .find(|r| r["location"] == "main")
        .cloned()
        .unwrap_or_default();
    // s4 (1500 + 150 tax) and s5 (6000 + 600) that day; s4 voided that same day, so only
    // s5 counts as a sale and s4 appears under voids; s2's refund (1200 + 120) that day.
    assert_eq!(
        (
            main["sale_count"].as_i64(),
            main["gross_minor"].as_i64(),
            main["tax_minor"].as_i64()
        ),
        (Some(1), Some(6000), Some(600)),
        "{main}"
    );
    assert_eq!(
        (main["voids"]["count"].as_i64(), main["voids"]["total_minor"].as_i64()),
        (Some(1), Some(1650))
    );
    assert_eq!(
        (
            main["refunds"]["count"].as_i64(),
            main["refunds"]["total_minor"].as_i64()
        ),
        (Some(1), Some(1320))
    );
    let (content_type, text) = store
        .csv(&manager, "/v1/reports/daily?date=2026-11-25&location=main")
        .await?;
    assert_eq!(content_type.as_deref(), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("date,location,currency,sale_count,gross_minor"),
        "{text}"
    );
    assert!(lines[1].starts_with("2026-11-25,main,USD,1,6000,"), "{text}");

    let top = store
        .get(
            &manager,
            "/v1/reports/top-products?from=2026-11-24&to=2026-11-25&by=units",
        )
        .await?;
    let rows: Vec<(String, i64)> = top.body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["sku"].as_str().unwrap_or_default().to_owned(),
                        r["units"].as_i64().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    // IPA-6: 3 + 5 − 1 refunded = 7; CHIPS: 1 + 4 + 2 = 7; RIOJA: 2 (s4 voided).
    assert_eq!(
        rows,
        vec![("CHIPS".to_owned(), 7), ("IPA-6".into(), 7), ("RIOJA".into(), 2)],
        "{}",
        top.body
    );
    let by_revenue = store
        .get(
            &manager,
            "/v1/reports/top-products?from=2026-11-24&to=2026-11-25&limit=1",
        )
        .await?;
    assert_eq!(
        (
            by_revenue.body["items"][0]["sku"].as_str(),
            by_revenue.body["items"][0]["revenue_minor"].as_i64()
        ),
        (Some("IPA-6"), Some(8400))
    );
    let (_, top_csv) = store
        .csv(
            &manager,
            "/v1/reports/top-products?from=2026-11-24&to=2026-11-25&limit=1",
        )
        .await?;
    assert_eq!(
        top_csv,
        "rank,sku,units,revenue_minor,currency\r\n1,IPA-6,7,8400,USD\r\n"
    );

    for path in [
        "/v1/sales",
        "/v1/sales/s1",
        "/v1/inventory/transactions?sku=CHIPS",
        "/v1/reports/daily?date=2026-11-25",
        "/v1/reports/top-products?from=2026-11-24&to=2026-11-25",
    ] {
        assert_eq!(store.get(&store.cashier, path).await?.status, 403, "{path}");
    }
    store.done().await
}

#[tokio::test]
async fn bad_query_parameters_get_422_naming_them() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let manager = app.token(&unique_tenant(), Role::Manager).await?;
    for (path, field) in [
        ("/v1/products?limit=0", "limit"),
        ("/v1/products?limit=ten", "limit"),
        ("/v1/products?status=sold", "status"),
        ("/v1/products?colour=red", "colour"),
        ("/v1/sales?from=yesterday", "from"),
        ("/v1/sales?cursor=abc", "cursor"),
        ("/v1/stock?state=empty", "state"),
        ("/v1/stock?location=a.b", "location"),
        ("/v1/inventory/transactions", "sku"),
        ("/v1/reports/daily?date=26-11-2026", "date"),
        ("/v1/reports/top-products?from=2026-11-01&to=2026-11-02&by=profit", "by"),
        ("/v1/sales?min_sequence=-1", "min_sequence"),
    ] {
        let reply = get(&app, &manager, path).await?;
        assert_eq!((reply.status, reply.field()), (422, field), "{path}: {}", reply.body);
    }
    app.stream.delete().await
}

#[tokio::test]
async fn loosely_written_dates_get_422_naming_the_parameter_not_an_empty_report() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let manager = app.token(&unique_tenant(), Role::Manager).await?;
    for (path, field) in [
        // `+` in a query string is a space; `%2B` is the plus sign itself.
        ("/v1/reports/daily?date=+2026-11-29", "date"),
        ("/v1/reports/daily?date=%2B2026-11-29", "date"),
        ("/v1/reports/daily?date=2026-1-1", "date"),
        ("/v1/reports/daily?date=2026-11-9", "date"),
        ("/v1/reports/daily?date=02026-11-29", "date"),
        ("/v1/reports/daily?date=2026-11-29%20", "date"),
        ("/v1/sales?from=%2B2026-11-01", "from"),
        ("/v1/sales?to=2026-1-1", "to"),
        ("/v1/sales?from=2026-1-1T00:00:00Z", "from"),
        ("/v1/inventory/transactions?sku=CHIPS&from=2026-11-1", "from"),
        ("/v1/reports/top-products?from=2026-11-01&to=%2B2026-11-30", "to"),
    ] {
        let reply = get(&app, &manager, path).await?;
        assert_eq!(
            (reply.status, reply.code(), reply.field()),
            (422, "invalid_field", field),
            "{path}: {}",
            reply.body
        );
    }
    for path in [
        "/v1/reports/daily?date=2026-11-29",
        "/v1/sales?from=2026-11-01&to=2026-11-29T23:00:00Z",
    ] {
        assert_eq!(get(&app, &manager, path).await?.status, 200, "{path}");
    }
    app.stream.delete().await
}

#[tokio::test]
async fn no_endpoint_shows_one_tenant_anything_of_another() -> anyhow::Result<()> {
    let store = store().await?;
    let stranger = store.app.token(&unique_tenant(), Role::Admin).await?;
    for path in [
        "/v1/products",
        "/v1/stock",
        "/v1/sales",
        "/v1/inventory/transactions?sku=CHIPS",
        "/v1/reports/daily?date=2026-11-25",
        "/v1/reports/top-products?from=2026-11-01&to=2026-11-30",
    ] {
        let reply = get(&store.app, &stranger, path).await?;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.body["items"], json!([]), "{path} leaked: {}", reply.body);
    }
    for path in ["/v1/products/RIOJA", "/v1/sales/s1"] {
        assert_eq!(get(&store.app, &stranger, path).await?.status, 404, "{path}");
    }
    // A tenant header naming the owner does not help.
    let reply = store
        .app
        .send(
            store
                .app
                .http
                .get(format!("{}/v1/sales", store.app.address))
                .bearer_auth(&stranger)
                .header("x-tenant-id", store.tenant.as_str()),
        )
        .await?;
    assert_eq!((reply.status, reply.code()), (403, "tenant_mismatch"));
    store.done().await
}

#[tokio::test]
async fn paging_is_stable_while_new_sales_arrive() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.allow_backdating(&tenant).await?; // fixed past dates
    app.open_locations(&tenant).await?;
    let (manager, cashier) = (
        app.token(&tenant, Role::Manager).await?,
        app.token(&tenant, Role::Cashier).await?,
    );
    let mut last = 0;
    for i in 0..30 {
        last = post(
            &app,
            &cashier,
            "/v1/sales",
            &sale(&format!("old-{i:02}"), "main", &[("CHIPS", 1, 300)], false, None),
        )
        .await?;
    }
    let (writer_app_address, writer_token) = (app.address.clone(), cashier.clone());
    let writer = tokio::spawn(async move {
        let http = reqwest::Client::new();
        for i in 0..20 {
            // Some arrive late from an offline terminal, with an old timestamp.
            let at = if i % 2 == 0 { Some("2026-01-01T00:00:00Z") } else { None };
            http.post(format!("{writer_app_address}/v1/sales"))
                .bearer_auth(&writer_token)
                .json(&sale(&format!("new-{i:02}"), "main", &[("CHIPS", 1, 300)], false, at))
                .send()
                .await?;
            tokio::time::sleep(std::time::Duration::from_millis(15)).await;
        }
        anyhow::Ok(())
    });
    let mut seen: Vec<String> = Vec::new();
    let mut path = format!("/v1/sales?limit=7&min_sequence={last}");
    loop {
        let page = get(&app, &manager, &path).await?;
        assert_eq!(page.status, 200, "{}", page.body);
        seen.extend(ids(&page));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/sales?limit=7&cursor={cursor}"),
            None => break,
        }
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    }
    writer.await??;
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "a sale appeared on two pages: {seen:?}");
    let old: Vec<&String> = seen.iter().filter(|id| id.starts_with("old-")).collect();
    assert_eq!(
        old.len(),
        30,
        "every sale that existed when paging began is listed exactly once: {seen:?}"
    );
    projector.stop().await?;
    app.servers.mongo.database(&tenant.database_name()).drop().await?;
    app.stream.delete().await
}

#[tokio::test]
async fn a_query_with_the_commands_sequence_reads_its_own_write() -> anyhow::Result<()> {
    let app = CommandApp::spawn_with(|c| c.read_your_writes_timeout_ms = 500).await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.allow_backdating(&tenant).await?; // fixed past dates
    app.open_locations(&tenant).await?;
    let (manager, cashier) = (
        app.token(&tenant, Role::Manager).await?,
        app.token(&tenant, Role::Cashier).await?,
    );
    for i in 0..5 {
        let sequence = post(
            &app,
            &cashier,
            "/v1/sales",
            &sale(&format!("ryw-{i}"), "main", &[("CHIPS", 1, 300)], true, None),
        )
        .await?;
        // With the token: the sale is there on the first read, every time.
        let reply = get(&app, &manager, &format!("/v1/sales/ryw-{i}?min_sequence={sequence}")).await?;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let header = app
            .send(
                app.http
                    .get(format!("{}/v1/sales/ryw-{i}", app.address))
                    .bearer_auth(&manager)
                    .header("x-min-sequence", sequence.to_string()),
            )
            .await?;
        assert_eq!(header.status, 200);
    }
    // A token past the tenant's newest event can never be reached: after the bound, 422
    // naming the parameter, not a 503 the client would retry forever.
    let ahead = get(&app, &manager, "/v1/sales?min_sequence=999999999").await?;
    assert_eq!(
        (ahead.status, ahead.code(), ahead.field()),
        (422, "invalid_field", "min_sequence"),
        "{}",
        ahead.body
    );
    // With the projector stopped, a new write is not visible: without the token the read
    // answers at once from older data; with it, 503 says so instead of a stale answer.
    projector.stop().await?;
    let sequence = post(
        &app,
        &cashier,
        "/v1/sales",
        &sale("ryw-late", "main", &[("CHIPS", 1, 300)], true, None),
    )
    .await?;
    assert_eq!(get(&app, &manager, "/v1/sales/ryw-late").await?.status, 404);
    let behind = get(&app, &manager, &format!("/v1/sales/ryw-late?min_sequence={sequence}")).await?;
    assert_eq!((behind.status, behind.code()), (503, "projection_behind"));
    assert!(behind.body["error"]["current_sequence"].as_u64().is_some());
    assert!(behind.header("retry-after").is_some());
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let caught_up = get(&app, &manager, &format!("/v1/sales/ryw-late?min_sequence={sequence}")).await;
    let caught_up = match caught_up {
        Ok(reply) if reply.status == 200 => reply,
        _ => {
            tests::eventually(
                "the restarted projector to catch up",
                std::time::Duration::from_secs(30),
                || async {
                    let reply = get(&app, &manager, &format!("/v1/sales/ryw-late?min_sequence={sequence}")).await?;
                    Ok((reply.status == 200).then_some(reply))
                },
            )
            .await?
        }
    };
    assert_eq!(caught_up.body["id"], "ryw-late");
    projector.stop().await?;
    app.servers.mongo.database(&tenant.database_name()).drop().await?;
    app.stream.delete().await
}

/// The schema `schema` stands for, following a `$ref` into the document's components.
fn resolve<'a>(openapi: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        Some(name) => resolve(openapi, &openapi["components"]["schemas"][name]),
        None => schema,
    }
}

#[tokio::test]
async fn openapi_declares_listing_filters_as_query_parameters_and_types_the_answers() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let reply = app.get("/openapi.json").await?;
    assert_eq!(reply.status, 200);
    let openapi = &reply.body;
    let required = [
        "/v1/inventory/transactions sku",
        "/v1/reports/daily date",
        "/v1/reports/top-products from",
        "/v1/reports/top-products to",
    ];
    for (path, filters) in [
        (
            "/v1/products",
            &[
                "q",
                "sku",
                "barcode",
                "category",
                "status",
                "limit",
                "cursor",
                "min_sequence",
            ][..],
        ),
        ("/v1/stock", &["location", "state", "limit", "cursor", "min_sequence"]),
        (
            "/v1/sales",
            &[
                "from",
                "to",
                "location",
                "terminal",
                "cashier",
                "status",
                "limit",
                "cursor",
                "min_sequence",
            ],
        ),
        (
            "/v1/inventory/transactions",
            &["sku", "location", "from", "to", "limit", "cursor", "min_sequence"],
        ),
        ("/v1/reports/daily", &["date", "location", "min_sequence"]),
        (
            "/v1/reports/top-products",
            &["from", "to", "by", "location", "limit", "min_sequence"],
        ),
    ] {
        let parameters = openapi["paths"][path]["get"]["parameters"]
            .as_array()
            .ok_or_else(|| anyhow::anyhow!("{path} has no parameters"))?;
        assert!(
            parameters.iter().all(|p| p["in"] == "query"),
            "{path} has parameters outside the query: {parameters:?}"
        );
        for name in filters {
            let parameter = parameters
                .iter()
                .find(|p| p["name"] == *name)
                .ok_or_else(|| anyhow::anyhow!("{path} does not declare {name}"))?;
            assert_eq!(parameter["in"], "query", "{path} {name}");
            let must = required.contains(&format!("{path} {name}").as_str());
            assert_eq!(parameter["required"].as_bool().unwrap_or(false), must, "{path} {name}");
        }
    }
    let status_filter = openapi["paths"]["/v1/sales"]["get"]["parameters"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "status"))
        .map(|p| p["schema"].to_string())
        .unwrap_or_default();
    assert!(status_filter.contains("partially_refunded"), "{status_filter}");

    let answer = |path: &str| {
        let schema = &openapi["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        resolve(openapi, schema)
    };
    let sales = answer("/v1/sales");
    let sale = resolve(openapi, &sales["properties"]["items"]["items"]);
    assert_eq!(
        sale,
        answer("/v1/sales/{sale_id}"),
        "one sale and the listing's items are alike"
    );
    let status = resolve(openapi, &sale["properties"]["status"]);
    let statuses: Vec<&str> = status["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        statuses,
        ["completed", "voided", "partially_refunded", "refunded"],
        "{sale}"
    );
    let line = resolve(openapi, &sale["properties"]["lines"]["items"]);
    assert!(line["properties"]["refunded_quantity"].is_object(), "{line}");
    assert!(sales["properties"]["next_cursor"].is_object(), "{sales}");

    for (path, field) in [
        ("/v1/products", "stock"),
        ("/v1/stock", "on_hand"),
        ("/v1/inventory/transactions", "quantity_after"),
        ("/v1/reports/daily", "expected_cash_minor"),
        ("/v1/reports/top-products", "revenue_minor"),
    ] {
        let item = resolve(openapi, &answer(path)["properties"]["items"]["items"]);
        assert!(item["properties"][field].is_object(), "{path}: {item}");
    }
    let product = answer("/v1/products/{sku}");
    assert!(product["properties"]["price"].is_object(), "{product}");
    Ok(())
}
