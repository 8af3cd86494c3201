//! Locations and their business days against the real servers: stores in different time
//! zones book sales around their own midnights on their own days; a change of time zone
//! does not move recorded days, and a replay gives the same read model; commands naming
//! unknown or closed locations are refused; voids and refunds change the Z report the way
//! docs/reports.md says, with every figure worked out by hand below.

use std::time::Duration;

use events::Role;
use serde_json::{Value, json};
use tests::command_app::{figures, get, posted};
use tests::projector_app::wait_for_checkpoint;
use tests::read_model::{self, difference};
use tests::{CommandApp, ProjectorApp, unique_tenant};

const WAIT: Duration = Duration::from_secs(60);

/// A sale of one line: `quantity × price − discount + tax`, paid exactly by card or with
/// `cash` (change given back).
fn sale(id: &str, location: &str, currency: &str, line: (&str, i64, i64, i64, i64), pay: Pay, at: &str) -> Value {
    let (sku, quantity, price, discount, tax) = line;
    let subtotal = quantity * price;
    let total = subtotal - discount + tax;
    let (tender, change) = match pay {
        Pay::Card => (json!({"kind": "card", "amount_minor": total}), 0),
        Pay::Cash(given) => (json!({"kind": "cash", "amount_minor": given}), given - total),
    };
    json!({"sale_id": id, "terminal_id": "till-1", "location": location, "currency": currency,
        "lines": [{"sku": sku, "quantity": quantity, "unit_price_minor": price, "discount_minor": discount, "tax_minor": tax}],
        "subtotal_minor": subtotal, "discount_total_minor": discount, "tax_total_minor": tax, "total_minor": total,
        "tenders": [tender], "change_minor": change, "occurred_at": at})
}

#[derive(Clone, Copy)]
enum Pay {
    Card,
    Cash(i64),
}

/// The Z report row of `location` on `date`, after the read model reached `sequence`.
async fn z_report(app: &CommandApp, token: &str, date: &str, location: &str, sequence: u64) -> anyhow::Result<Value> {
    let reply = get(
        app,
        token,
        &format!("/v1/reports/daily?date={date}&location={location}&min_sequence={sequence}"),
    )
    .await?;
    anyhow::ensure!(reply.status == 200, "{}", reply.body);
    Ok(reply.body["items"][0].clone())
}

#[tokio::test]
async fn stores_in_different_time_zones_book_sales_around_their_midnights_on_their_own_days() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.allow_backdating(&tenant).await?; // fixed past dates
    // New York: UTC−5 in November, the day begins at 04:00. Berlin: UTC+1, midnight.
    app.open_location(&tenant, "nyc", "America/New_York", "04:00", "USD")
        .await?;
    app.open_location(&tenant, "berlin", "Europe/Berlin", "00:00", "EUR")
        .await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let mut last = 0;
    for (id, location, currency, price, at) in [
        // 23:59 in New York on the 26th: the 26th.
        ("n1", "nyc", "USD", 100, "2026-11-27T04:59:00Z"),
        // 01:30 on the 27th, before the 04:00 start: still the 26th.
        ("n2", "nyc", "USD", 200, "2026-11-27T06:30:00Z"),
        // 04:00 on the 27th: the 27th.
        ("n3", "nyc", "USD", 400, "2026-11-27T09:00:00Z"),
        // 20:00 on the 27th, which is already the 28th in UTC: the 27th.
        ("n4", "nyc", "USD", 800, "2026-11-28T01:00:00Z"),
        // 23:59 in Berlin on the 26th: the 26th.
        ("b1", "berlin", "EUR", 1000, "2026-11-26T22:59:00Z"),
        // 00:30 in Berlin on the 27th, still the 26th in UTC: the 27th.
        ("b2", "berlin", "EUR", 2000, "2026-11-26T23:30:00Z"),
    ] {
        last = posted(
            &app,
            &cashier,
            "/v1/sales",
            &sale(id, location, currency, ("SKU-1", 1, price, 0, 0), Pay::Card, at),
        )
        .await?;
    }
    // Day by day and store by store: (sale_count, total_minor).
    for (date, location, expected) in [
        ("2026-11-26", "nyc", [2, 300]),
        ("2026-11-27", "nyc", [2, 1200]),
        ("2026-11-26", "berlin", [1, 1000]),
        ("2026-11-27", "berlin", [1, 2000]),
    ] {
        let row = z_report(&app, &manager, date, location, last).await?;
        assert_eq!(
            figures(&row, &["sale_count", "total_minor"]),
            expected,
            "{date} {location}: {row}"
        );
        assert_eq!(row["currency"], if location == "nyc" { "USD" } else { "EUR" });
    }
    let none = get(&app, &manager, "/v1/reports/daily?date=2026-11-28").await?;
    assert_eq!(none.body["items"], json!([]), "no store had a 28th yet");
    let n2 = get(&app, &manager, "/v1/sales/n2").await?;
    assert_eq!(n2.body["business_date"], "2026-11-26", "{}", n2.body);

    // The locations are listed with their settings.
    let listed = get(&app, &cashier, &format!("/v1/locations?min_sequence={last}")).await?;
    let zones: Vec<(&str, &str, &str)> = listed.body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|l| {
                    (
                        l["id"].as_str().unwrap_or_default(),
                        l["time_zone"].as_str().unwrap_or_default(),
                        l["business_day_start"].as_str().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        zones,
        [
            ("berlin", "Europe/Berlin", "00:00"),
            ("nyc", "America/New_York", "04:00")
        ],
        "{}",
        listed.body
    );
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn unknown_and_closed_locations_are_refused_but_a_sale_from_before_the_close_is_kept() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.allow_backdating(&tenant).await?; // fixed past dates
    let opened = app.open_location(&tenant, "main", "UTC", "00:00", "USD").await?;
    let (admin, manager, cashier) = (
        app.token(&tenant, Role::Admin).await?,
        app.token(&tenant, Role::Manager).await?,
        app.token(&tenant, Role::Cashier).await?,
    );

    // Only admins open, change and close locations.
    let body = tests::command_app::location_body("annex", "UTC", "00:00", "USD");
    let refused = app.post("/v1/locations", &manager, &body, &[]).await?;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));
    // A second opening of the same id is a conflict; a retry of the first is not.
    let again = app
        .post(
            "/v1/locations",
            &admin,
            &tests::command_app::location_body("main", "UTC", "00:00", "EUR"),
            &[],
        )
        .await?;
    assert_eq!((again.status, again.code()), (409, "location_exists"));
    let retry = app
        .post(
            "/v1/locations",
            &admin,
            &tests::command_app::location_body("main", "UTC", "00:00", "USD"),
            &[],
        )
        .await?;
    assert_eq!((retry.status, retry.header("idempotent-replayed")), (201, Some("true")));
    // Bad settings name their field.
    for (field, details) in [
        (
            "details.time_zone",
            json!({"name": "X", "time_zone": "Mars/Olympus", "currency": "USD"}),
        ),
        (
            "details.business_day_start",
            json!({"name": "X", "time_zone": "UTC", "business_day_start": "25:00", "currency": "USD"}),
        ),
        (
            "details.name",
            json!({"name": " ", "time_zone": "UTC", "currency": "USD"}),
        ),
    ] {
        let reply = app
            .post(
                "/v1/locations",
                &admin,
                &json!({"location_id": "bad", "details": details}),
                &[],
            )
            .await?;
        assert_eq!((reply.status, reply.field()), (422, field), "{}", reply.body);
    }

    let now = chrono::Utc::now();
    let at = |minutes: i64| (now - chrono::Duration::minutes(minutes)).to_rfc3339();
    let unknown = app
        .post(
            "/v1/sales",
            &cashier,
            &sale(
                "s-unknown",
                "nowhere",
                "USD",
                ("SKU-1", 1, 100, 0, 0),
                Pay::Card,
                &at(5),
            ),
            &[],
        )
        .await?;
    assert_eq!(
        (unknown.status, unknown.code(), unknown.field()),
        (422, "unknown_location", "location")
    );
    let receipt = json!({"movement_id": "m-1", "sku": "SKU-1", "location": "nowhere", "quantity": 1,
        "unit_cost": {"amount_minor": 1, "currency": "USD"}, "supplier": "S", "reference": "R"});
    let unknown = app.post("/v1/inventory/receipts", &manager, &receipt, &[]).await?;
    assert_eq!(
        (unknown.status, unknown.code(), unknown.field()),
        (422, "unknown_location", "location")
    );
    let transfer =
        json!({"movement_id": "m-2", "sku": "SKU-1", "from_location": "main", "to_location": "nowhere", "quantity": 1});
    let unknown = app.post("/v1/inventory/transfers", &manager, &transfer, &[]).await?;
    assert_eq!((unknown.status, unknown.field()), (422, "to_location"));
    let wrong_currency = app
        .post(
            "/v1/sales",
            &cashier,
            &sale("s-eur", "main", "EUR", ("SKU-1", 1, 100, 0, 0), Pay::Card, &at(5)),
            &[],
        )
        .await?;
    assert_eq!((wrong_currency.status, wrong_currency.field()), (422, "currency"));
    assert_eq!(
        app.tenant_messages(&tenant).await?.len(),
        0,
        "nothing refused was published"
    );

    // Close it ten minutes ago (as of the close's own time).
    let version = opened.header("etag").unwrap_or_default().to_owned();
    let closed = app
        .post(
            "/v1/locations/main/close",
            &admin,
            &json!({"reason": "lease ended", "occurred_at": at(10)}),
            &[("if-match", &version)],
        )
        .await?;
    assert_eq!(closed.status, 201, "{}", closed.body);
    // A till that was offline uploads a sale rung up before the close: it is kept.
    let before = app
        .post(
            "/v1/sales",
            &cashier,
            &sale("s-before", "main", "USD", ("SKU-1", 1, 100, 0, 0), Pay::Card, &at(20)),
            &[],
        )
        .await?;
    assert_eq!(before.status, 201, "{}", before.body);
    // After the close: refused.
    let after = app
        .post(
            "/v1/sales",
            &cashier,
            &sale("s-after", "main", "USD", ("SKU-1", 1, 100, 0, 0), Pay::Card, &at(5)),
            &[],
        )
        .await?;
    assert_eq!(
        (after.status, after.code(), after.field()),
        (422, "location_closed", "location")
    );
    let count = json!({"movement_id": "m-3", "sku": "SKU-1", "location": "main", "counted_quantity": 3});
    let after = app.post("/v1/inventory/counts", &manager, &count, &[]).await?;
    assert_eq!((after.status, after.code()), (422, "location_closed"));
    Ok(())
}

#[tokio::test]
async fn a_replay_after_a_time_zone_change_gives_the_same_days_and_read_model() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.allow_backdating(&tenant).await?; // fixed past dates
    let opened = app
        .open_location(&tenant, "nyc", "America/New_York", "04:00", "USD")
        .await?;
    let (admin, cashier) = (
        app.token(&tenant, Role::Admin).await?,
        app.token(&tenant, Role::Cashier).await?,
    );
    // 01:30 in New York on the 27th: the 26th.
    posted(
        &app,
        &cashier,
        "/v1/sales",
        &sale(
            "before",
            "nyc",
            "USD",
            ("SKU-1", 1, 100, 0, 0),
            Pay::Card,
            "2026-11-27T06:30:00Z",
        ),
    )
    .await?;
    // The store "moves" to Tokyo (UTC+9) with a midnight start.
    let version = opened.header("etag").unwrap_or_default().to_owned();
    let moved = app
        .write(
            reqwest::Method::PUT,
            "/v1/locations/nyc",
            &admin,
            &json!({"details": {"name": "Tokyo", "time_zone": "Asia/Tokyo", "business_day_start": "00:00", "currency": "USD"}}),
            &[("if-match", &version)],
        )
        .await?;
    assert_eq!(moved.status, 201, "{}", moved.body);
    // 16:00Z on the 28th is 01:00 on the 29th in Tokyo (in New York it was the 28th).
    let last = posted(
        &app,
        &cashier,
        "/v1/sales",
        &sale(
            "after",
            "nyc",
            "USD",
            ("SKU-1", 1, 200, 0, 0),
            Pay::Card,
            "2026-11-28T16:00:00Z",
        ),
    )
    .await?;
    wait_for_checkpoint(&app.servers, &tenant, last, WAIT).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    for (date, total) in [("2026-11-26", 100), ("2026-11-29", 200)] {
        let row = z_report(&app, &manager, date, "nyc", last).await?;
        assert_eq!(row["total_minor"], total, "{date}: {row}");
    }

    let (live, rebuilt) = read_model::live_and_replayed(&app, &tenant).await?;
    assert_eq!(difference(&live, &rebuilt), None);
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn voids_and_refunds_change_the_z_report_as_a_manager_expects() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.allow_backdating(&tenant).await?; // fixed past dates
    app.open_location(&tenant, "main", "UTC", "00:00", "USD").await?;
    let (manager, cashier) = (
        app.token(&tenant, Role::Manager).await?,
        app.token(&tenant, Role::Cashier).await?,
    );

    // Day 1, 2026-11-24.
    //  a: WINE 2 × 1000, tax 160 → 2160; cash 2500, change 340.
    //  b: GIN 1 × 3000 − 300 discount, tax 216 → 2916; card.
    //  c: BEER 1 × 500, tax 40 → 540; cash 540; voided the same day.
    //  d: BEER 3 × 700 − 100, tax 160 → 2160; cash 2200, change 40; voided on day 2.
    //  refund of one unit of a's line: 2160 / 2 = 1080, tax 160 / 2 = 80, in cash (a's tender).
    for body in [
        sale(
            "a",
            "main",
            "USD",
            ("WINE", 2, 1000, 0, 160),
            Pay::Cash(2500),
            "2026-11-24T10:00:00Z",
        ),
        sale(
            "b",
            "main",
            "USD",
            ("GIN", 1, 3000, 300, 216),
            Pay::Card,
            "2026-11-24T11:00:00Z",
        ),
        sale(
            "c",
            "main",
            "USD",
            ("BEER", 1, 500, 0, 40),
            Pay::Cash(540),
            "2026-11-24T12:00:00Z",
        ),
        sale(
            "d",
            "main",
            "USD",
            ("BEER", 3, 700, 100, 160),
            Pay::Cash(2200),
            "2026-11-24T13:00:00Z",
        ),
    ] {
        posted(&app, &cashier, "/v1/sales", &body).await?;
    }
    posted(
        &app,
        &manager,
        "/v1/sales/c/void",
        &json!({"reason": "rang twice", "occurred_at": "2026-11-24T12:05:00Z"}),
    )
    .await?;
    posted(
        &app,
        &manager,
        "/v1/sales/a/refunds",
        &json!({"refund_id": "ra", "lines": [{"line_no": 1, "quantity": 1}], "reason": "corked", "occurred_at": "2026-11-24T18:00:00Z"}),
    )
    .await?;
    // Day 2, 2026-11-25.
    //  d voided (a sale of day 1); e: WINE 1 × 1000, tax 80 → 1080, card; b refunded in
    //  full to the card: 2916, tax 216.
    posted(
        &app,
        &manager,
        "/v1/sales/d/void",
        &json!({"reason": "wrong beer", "occurred_at": "2026-11-25T09:00:00Z"}),
    )
    .await?;
    posted(
        &app,
        &cashier,
        "/v1/sales",
        &sale(
            "e",
            "main",
            "USD",
            ("WINE", 1, 1000, 0, 80),
            Pay::Card,
            "2026-11-25T10:00:00Z",
        ),
    )
    .await?;
    let last = posted(
        &app,
        &manager,
        "/v1/sales/b/refunds",
        &json!({"refund_id": "rb", "lines": [{"line_no": 1, "quantity": 1}], "tenders": [{"kind": "card", "amount_minor": 2916}],
                "reason": "gift", "occurred_at": "2026-11-25T11:00:00Z"}),
    )
    .await?;

    let fields = [
        "sale_count",
        "gross_minor",
        "discounts_minor",
        "net_minor",
        "tax_minor",
        "total_minor",
        "tenders.cash",
        "tenders.card",
        "voids.count",
        "voids.total_minor",
        "voids.tenders.cash",
        "earlier_day_voids.count",
        "earlier_day_voids.net_minor",
        "earlier_day_voids.tax_minor",
        "earlier_day_voids.tenders.cash",
        "refunds.count",
        "refunds.net_minor",
        "refunds.tax_minor",
        "refunds.total_minor",
        "refunds.tenders.cash",
        "refunds.tenders.card",
        "net_after_refunds_minor",
        "tax_after_refunds_minor",
        "expected_cash_minor",
    ];
    let day1 = z_report(&app, &manager, "2026-11-24", "main", last).await?;
    #[rustfmt::skip]
    let expected1 = [
        3,                  // a, b, d (c was voided the same day)
        2000 + 3000 + 2100, // gross 7100
        300 + 100,          // discounts 400
        7100 - 400,         // net 6700
        160 + 216 + 160,    // tax 536
        2160 + 2916 + 2160, // total 7236
        2160 + 2160,        // cash net of change: a and d, 4320
        2916,               // card: b
        1, 540, 540,        // voids: c, with its cash
        0, 0, 0, 0,         // no void of an earlier day
        1, 1000, 80, 1080, 1080, 0, // refund of one WINE, in cash
        6700 - 1000,        // net after refunds 5700
        536 - 80,           // tax after refunds 456
        4320 - 1080,        // expected cash 3240
    ];
    assert_eq!(figures(&day1, &fields), expected1, "{day1}");

    let day2 = z_report(&app, &manager, "2026-11-25", "main", last).await?;
    #[rustfmt::skip]
    let expected2 = [
        1, 1000, 0, 1000, 80, 1080, // e
        0, 1080,                    // e by card
        1, 2160, 2160,              // voids: d, with its cash
        1, 2000, 160, 2160,         // d was day 1's: deducted here
        1, 2700, 216, 2916, 0, 2916, // b's refund to the card
        1000 - 2700 - 2000,         // net after refunds −3700
        80 - 216 - 160,             // tax after refunds −296
        -2160,                      // expected cash: d's cash went back
    ];
    assert_eq!(figures(&day2, &fields), expected2, "{day2}");

    // CSV: the same figures, one row.
    let text = app
        .http
        .get(format!(
            "{}/v1/reports/daily?date=2026-11-24&location=main",
            app.address
        ))
        .bearer_auth(&manager)
        .header("accept", "text/csv")
        .send()
        .await?
        .text()
        .await?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let cell = |name: &str| header.iter().position(|h| *h == name).and_then(|i| row.get(i).copied());
    assert_eq!(
        (
            cell("sale_count"),
            cell("expected_cash_minor"),
            cell("refunds_tax_minor")
        ),
        (Some("3"), Some("3240"), Some("80")),
        "{text}"
    );

    // Top products follow the same rule: day 1 keeps d (voided on day 2), drops c, and
    // takes a's refunded unit off; day 2 takes d and b off again.
    let top = |from: &str, to: &str| {
        let path = format!("/v1/reports/top-products?from={from}&to={to}&by=units&min_sequence={last}");
        let (app, manager) = (&app, &manager);
        async move {
            let reply = get(app, manager, &path).await?;
            let rows: Vec<(String, i64, i64)> = reply.body["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|r| {
                            (
                                r["sku"].as_str().unwrap_or_default().to_owned(),
                                r["units"].as_i64().unwrap_or_default(),
                                r["revenue_minor"].as_i64().unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            anyhow::Ok(rows)
        }
    };
    let owned = |rows: &[(&str, i64, i64)]| -> Vec<(String, i64, i64)> {
        rows.iter().map(|(s, u, r)| ((*s).to_owned(), *u, *r)).collect()
    };
    // Day 1: BEER d 3 / 2100 − 100 = 2000; WINE a 2 − 1 = 1 / 2000 − 1000 = 1000; GIN 1 / 2700.
    assert_eq!(
        top("2026-11-24", "2026-11-24").await?,
        owned(&[("BEER", 3, 2000), ("GIN", 1, 2700), ("WINE", 1, 1000)])
    );
    // Day 2: WINE e 1 / 1000; GIN −1 / −2700 (refund); BEER −3 / −2000 (d's void).
    assert_eq!(
        top("2026-11-25", "2026-11-25").await?,
        owned(&[("WINE", 1, 1000), ("GIN", -1, -2700), ("BEER", -3, -2000)])
    );
    // Both days: what stayed sold.
    assert_eq!(
        top("2026-11-24", "2026-11-25").await?,
        owned(&[("WINE", 2, 2000), ("BEER", 0, 0), ("GIN", 0, 0)])
    );
    let bad = get(&app, &manager, "/v1/reports/daily?date=%2B2026-11-24").await?;
    assert_eq!((bad.status, bad.field()), (422, "date"));
    projector.stop().await?;
    Ok(())
}
