//! Server pricing against the real servers: tax jurisdictions defined through the API, a
//! basket quoted at stores in two jurisdictions with different rates, an inclusive-price
//! store, per-container deposits, a rate that changed on a date. Every number is worked
//! out by hand in the comments (the rules: docs/taxes.md).

use events::Role;
use serde_json::{Value, json};
use tests::command_app::created;
use tests::{CommandApp, unique_tenant};

fn new_york() -> Value {
    json!({
        "id": "us-ny", "name": "New York City", "currency": "USD",
        "rounding": {"scope": "per_line", "mode": "half_up"},
        "taxes": [{"tax_id": "ny-sales", "name": "NY sales tax", "applies_to": ["beer", "wine"],
            "versions": [
                {"effective_from": "2020-01-01", "rate": {"kind": "percentage", "rate_ppm": 80000}},
                {"effective_from": "2026-06-01", "rate": {"kind": "percentage", "rate_ppm": 88750}}
            ]}],
        "deposits": [{"deposit_id": "ny-bottle-bill", "name": "NY 5¢ deposit", "container_types": ["can"],
            "versions": [{"effective_from": "1983-07-01", "amount_minor": 5}]}]
    })
}

fn new_jersey() -> Value {
    json!({
        "id": "us-nj", "name": "New Jersey", "currency": "USD",
        "rounding": {"scope": "per_line", "mode": "half_up"},
        "taxes": [{"tax_id": "nj-sales", "name": "NJ sales tax", "applies_to": ["beer", "wine"],
            "versions": [{"effective_from": "2018-01-01", "rate": {"kind": "percentage", "rate_ppm": 66250}}]}]
    })
}

fn germany() -> Value {
    json!({
        "id": "de", "name": "Deutschland", "currency": "EUR",
        "rounding": {"scope": "per_line", "mode": "half_up"},
        "taxes": [{"tax_id": "de-vat", "name": "MwSt", "applies_to": ["beer"],
            "versions": [{"effective_from": "2021-01-01", "rate": {"kind": "percentage", "rate_ppm": 190000}}]}],
        "deposits": [{"deposit_id": "de-pfand", "name": "Einwegpfand", "container_types": ["can"],
            "versions": [{"effective_from": "2006-05-01", "amount_minor": 25}]}]
    })
}

fn product(sku: &str, class: &str, price: i64, currency: &str, container: Value) -> Value {
    json!({"sku": sku, "details": {"name": sku, "category": class, "tax_class": class, "container": container},
        "price": {"amount_minor": price, "currency": currency}})
}

/// (tax, deposit, total) of each line and of the basket.
fn amounts(quote: &Value) -> (Vec<[i64; 3]>, [i64; 3]) {
    let get = |v: &Value, k: &str| v[k].as_i64().unwrap_or(i64::MIN);
    let lines = quote["lines"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|l| [get(l, "tax_minor"), get(l, "deposit_minor"), get(l, "total_minor")])
                .collect()
        })
        .unwrap_or_default();
    (
        lines,
        [
            get(quote, "tax_minor"),
            get(quote, "deposit_minor"),
            get(quote, "total_minor"),
        ],
    )
}

#[tokio::test]
async fn baskets_are_quoted_with_each_stores_rates_deposits_and_price_mode() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    let admin = app.token(&tenant, Role::Admin).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    for jurisdiction in [new_york(), new_jersey(), germany()] {
        created(
            &app,
            &admin,
            "/v1/tax-jurisdictions",
            &json!({"jurisdiction": jurisdiction}),
        )
        .await?;
    }
    for (id, zone, currency, jurisdiction, inclusive) in [
        ("nyc", "America/New_York", "USD", "us-ny", false),
        ("hoboken", "America/New_York", "USD", "us-nj", false),
        ("berlin", "Europe/Berlin", "EUR", "de", true),
    ] {
        let body = json!({"location_id": id, "details": {"name": id, "time_zone": zone, "currency": currency,
            "tax_jurisdiction": jurisdiction, "prices_include_tax": inclusive}});
        created(&app, &admin, "/v1/locations", &body).await?;
    }
    let manager = app.token(&tenant, Role::Manager).await?;
    let can = |ml: u32, units: u32| json!({"container_type": "can", "volume_ml": ml, "units": units});
    for body in [
        product("IPA-6", "beer", 1099, "USD", can(355, 6)),
        product(
            "WINE-RED",
            "wine",
            1500,
            "USD",
            json!({"container_type": "glass_bottle", "volume_ml": 750, "units": 1}),
        ),
        product("PILS-6", "beer", 599, "EUR", can(500, 6)),
    ] {
        created(&app, &manager, "/v1/products", &body).await?;
    }

    let quote = |location: &str, at: &str, lines: Value| {
        let body = json!({"location": location, "at": at, "lines": lines});
        let (app, cashier) = (&app, &cashier);
        async move {
            let reply = app.post("/v1/pricing/quotes", cashier, &body, &[]).await?;
            anyhow::ensure!(reply.status == 200, "{} {}", reply.status, reply.body);
            anyhow::Ok(reply.body)
        }
    };
    let basket = json!([{"sku": "IPA-6", "quantity": 2}, {"sku": "WINE-RED", "quantity": 1, "discount_minor": 100}]);

    // New York, 8.875 % since 2026-06-01, 5¢ per can:
    //  IPA-6 × 2: 2198 × 8.875 % = 195.0725 → 195; 12 cans × 5 = 60 (not taxed);
    //             2198 + 195 + 60 = 2453
    //  WINE-RED:  1500 − 100 = 1400; 1400 × 8.875 % = 124.25 → 124; a glass bottle pays
    //             no can deposit; 1400 + 124 = 1524
    //  basket: tax 319, deposit 60, total 3977
    let nyc = quote("nyc", "2026-11-28T15:00:00Z", basket.clone()).await?;
    assert_eq!(
        amounts(&nyc),
        (vec![[195, 60, 2453], [124, 0, 1524]], [319, 60, 3977]),
        "{nyc}"
    );
    assert_eq!(nyc["lines"][0]["taxes"][0]["tax_id"], "ny-sales", "{nyc}");

    // The same basket in May 2026, when New York's rate was still 8 %:
    //  2198 × 8 % = 175.84 → 176; 1400 × 8 % = 112; totals 2198 + 176 + 60 = 2434 and 1512.
    let may = quote("nyc", "2026-05-01T15:00:00Z", basket.clone()).await?;
    assert_eq!(
        amounts(&may),
        (vec![[176, 60, 2434], [112, 0, 1512]], [288, 60, 3946]),
        "{may}"
    );

    // New Jersey, 6.625 %, no deposit:
    //  2198 × 6.625 % = 145.6175 → 146; 1400 × 6.625 % = 92.75 → 93 (half up);
    //  2344 + 1493 = 3837.
    let hoboken = quote("hoboken", "2026-11-28T15:00:00Z", basket).await?;
    assert_eq!(
        amounts(&hoboken),
        (vec![[146, 0, 2344], [93, 0, 1493]], [239, 0, 3837]),
        "{hoboken}"
    );

    // Berlin prices include 19 % VAT: 599 holds 599 − 599 / 1.19 = 95.64 → 96 of tax
    // (revenue 503); six cans of Pfand at 25¢ = 150, untaxed here; the customer pays
    // 599 + 150 = 749.
    let berlin = quote(
        "berlin",
        "2026-11-28T15:00:00Z",
        json!([{"sku": "PILS-6", "quantity": 1}]),
    )
    .await?;
    assert_eq!(amounts(&berlin), (vec![[96, 150, 749]], [96, 150, 749]), "{berlin}");
    assert_eq!(berlin["lines"][0]["net_minor"], 503, "{berlin}");

    // A product priced in dollars cannot be quoted in Berlin; unknown products and bad
    // quantities name their line; a cashier cannot define a jurisdiction.
    for (lines, field) in [
        (json!([{"sku": "IPA-6", "quantity": 1}]), "lines[0].sku"),
        (
            json!([{"sku": "PILS-6", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]),
            "lines[1].sku",
        ),
        (json!([{"sku": "PILS-6", "quantity": 0}]), "lines[0].quantity"),
    ] {
        let reply = app
            .post(
                "/v1/pricing/quotes",
                &cashier,
                &json!({"location": "berlin", "lines": lines}),
                &[],
            )
            .await?;
        assert_eq!((reply.status, reply.field()), (422, field), "{}", reply.body);
    }
    let refused = app
        .post(
            "/v1/tax-jurisdictions",
            &cashier,
            &json!({"jurisdiction": new_york()}),
            &[],
        )
        .await?;
    assert_eq!(refused.status, 403);
    Ok(())
}

#[tokio::test]
async fn a_jurisdiction_is_validated_replaced_with_if_match_and_read_back() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    let admin = app.token(&tenant, Role::Admin).await?;
    // A rate over 100 % is refused with nothing recorded.
    let mut bad = new_jersey();
    bad["taxes"][0]["versions"][0]["rate"]["rate_ppm"] = json!(1_500_000);
    let refused = app
        .post("/v1/tax-jurisdictions", &admin, &json!({"jurisdiction": bad}), &[])
        .await?;
    assert_eq!(
        (refused.status, refused.field()),
        (422, "jurisdiction"),
        "{}",
        refused.body
    );
    assert_eq!(app.tenant_messages(&tenant).await?.len(), 0);

    let defined = created(
        &app,
        &admin,
        "/v1/tax-jurisdictions",
        &json!({"jurisdiction": new_jersey()}),
    )
    .await?;
    let again = app
        .post(
            "/v1/tax-jurisdictions",
            &admin,
            &json!({"jurisdiction": new_york().as_object().map(|o| {
                let mut o = o.clone();
                o.insert("id".into(), json!("us-nj"));
                Value::Object(o)
            })}),
            &[],
        )
        .await?;
    assert_eq!((again.status, again.code()), (409, "jurisdiction_exists"));

    // Replaced against its version; a stale version is a conflict.
    let version = defined.header("etag").unwrap_or_default().to_owned();
    let mut raised = new_jersey();
    if let Some(versions) = raised["taxes"][0]["versions"].as_array_mut() {
        versions.push(json!({"effective_from": "2027-01-01", "rate": {"kind": "percentage", "rate_ppm": 70000}}));
    }
    let replaced = app
        .write(
            reqwest::Method::PUT,
            "/v1/tax-jurisdictions/us-nj",
            &admin,
            &json!({"jurisdiction": raised}),
            &[("if-match", &version)],
        )
        .await?;
    assert_eq!(replaced.status, 201, "{}", replaced.body);
    let stale = app
        .write(
            reqwest::Method::PUT,
            "/v1/tax-jurisdictions/us-nj",
            &admin,
            &json!({"jurisdiction": new_jersey()}),
            &[("if-match", &version)],
        )
        .await?;
    assert_eq!((stale.status, stale.code()), (409, "version_conflict"));
    let read = app
        .send(
            app.http
                .get(format!("{}/v1/tax-jurisdictions/us-nj", app.address))
                .bearer_auth(&admin),
        )
        .await?;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.body["taxes"][0]["versions"][1]["rate"]["rate_ppm"], 70000,
        "{}",
        read.body
    );
    assert_eq!(read.header("etag"), replaced.header("etag"));
    Ok(())
}

/// A sale of one line as a terminal sends it: `(sku, quantity, unit price, tax, deposit)`,
/// paid in `cash` (with `tendered`) or by card.
fn recorded_sale(
    id: &str,
    location: &str,
    currency: &str,
    line: (&str, i64, i64, i64, i64),
    tendered: Option<i64>,
    at: &str,
) -> Value {
    let (sku, quantity, price, tax, deposit) = line;
    let subtotal = quantity * price;
    let total = subtotal + tax + deposit;
    let (tenders, change) = match tendered {
        Some(cash) => (json!([{"kind": "cash", "amount_minor": cash}]), cash - total),
        None => (json!([{"kind": "card", "amount_minor": total}]), 0),
    };
    let mut line = json!({"sku": sku, "quantity": quantity, "unit_price_minor": price, "tax_minor": tax});
    let mut body = json!({
        "sale_id": id, "location": location, "currency": currency, "occurred_at": at,
        "subtotal_minor": subtotal, "discount_total_minor": 0, "tax_total_minor": tax, "total_minor": total,
        "tenders": tenders, "change_minor": change
    });
    if deposit != 0 {
        line["deposit_minor"] = json!(deposit);
        body["deposit_total_minor"] = json!(deposit);
    }
    body["lines"] = json!([line]);
    body
}

#[tokio::test]
async fn recorded_sales_are_priced_again_flagged_not_refused_and_the_z_report_shows_deposits_and_tax_owed()
-> anyhow::Result<()> {
    use std::time::Duration;
    let app = CommandApp::spawn().await?;
    let projector = tests::ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.allow_backdating(&tenant).await?; // fixed past dates
    let admin = app.token(&tenant, Role::Admin).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    for jurisdiction in [new_york(), germany()] {
        created(
            &app,
            &admin,
            "/v1/tax-jurisdictions",
            &json!({"jurisdiction": jurisdiction}),
        )
        .await?;
    }
    for (id, zone, currency, jurisdiction, inclusive) in [
        ("nyc", "America/New_York", "USD", "us-ny", false),
        ("berlin", "Europe/Berlin", "EUR", "de", true),
    ] {
        let body = json!({"location_id": id, "details": {"name": id, "time_zone": zone, "currency": currency,
            "tax_jurisdiction": jurisdiction, "prices_include_tax": inclusive}});
        created(&app, &admin, "/v1/locations", &body).await?;
    }
    app.open_locations(&tenant).await?; // `main`: no tax jurisdiction
    let can = |ml: u32, units: u32| json!({"container_type": "can", "volume_ml": ml, "units": units});
    let mut ipa = product("IPA-6", "beer", 1099, "USD", can(355, 6));
    ipa["occurred_at"] = json!("2026-11-01T12:00:00Z");
    let registered = created(&app, &manager, "/v1/products", &ipa).await?;
    let mut pils = product("PILS-6", "beer", 599, "EUR", can(500, 6));
    pils["occurred_at"] = json!("2026-11-01T12:00:00Z");
    created(&app, &manager, "/v1/products", &pils).await?;
    // The price of IPA-6 goes up to 11.99 on the 20th.
    let version = registered.header("etag").unwrap_or_default().to_owned();
    let changed = app
        .write(
            reqwest::Method::PUT,
            "/v1/products/IPA-6/price",
            &manager,
            &json!({"price": {"amount_minor": 1199, "currency": "USD"}, "occurred_at": "2026-11-20T12:00:00Z"}),
            &[("if-match", &version)],
        )
        .await?;
    assert_eq!(changed.status, 201, "{}", changed.body);

    // New York, 8.875 % on beer, 5¢ per can (untaxed); all on 2026-11-25 local time.
    //  n0 (the 10th, before the price change): 1 × 1099; tax 1099 × 8.875 % = 97.536 → 98;
    //     6 cans × 5 = 30; the price then was 10.99: nothing to flag.
    //  n1: 1 × 1199 (today's price); tax 1199 × 8.875 % = 106.411 → 106; deposit 30;
    //     1199 + 106 + 30 = 1335, paid 1400 cash, change 65. Nothing to flag.
    //  n2: an offline till with last month's list and the old 8 % rate, and no deposits:
    //     2 × 1099 = 2198, tax 2198 × 8 % = 175.84 → 176, deposit 0, total 2374 by card.
    //     Recorded as sold (201) and flagged: price 1099 vs 1199; tax 176 vs
    //     2198 × 8.875 % = 195.07 → 195 on what was charged; deposit 0 vs 12 × 5 = 60.
    let mut sequences = Vec::new();
    for body in [
        recorded_sale(
            "n0",
            "nyc",
            "USD",
            ("IPA-6", 1, 1099, 98, 30),
            None,
            "2026-11-10T15:00:00Z",
        ),
        recorded_sale(
            "n1",
            "nyc",
            "USD",
            ("IPA-6", 1, 1199, 106, 30),
            Some(1400),
            "2026-11-25T15:00:00Z",
        ),
        recorded_sale(
            "n2",
            "nyc",
            "USD",
            ("IPA-6", 2, 1099, 176, 0),
            None,
            "2026-11-25T16:00:00Z",
        ),
        // Berlin, VAT 19 % inside the price, Pfand 25 per can untaxed: 599 + 6 × 25 = 749,
        // nothing added on top (tax 0). The server finds 599 − 599 / 1.19 = 95.64 → 96 of
        // VAT inside. Nothing to flag.
        recorded_sale(
            "b1",
            "berlin",
            "EUR",
            ("PILS-6", 1, 599, 0, 150),
            Some(1000),
            "2026-11-25T10:00:00Z",
        ),
        // A store without a tax jurisdiction: not priced, nothing flagged.
        recorded_sale(
            "m1",
            "main",
            "USD",
            ("IPA-6", 1, 500, 0, 0),
            None,
            "2026-11-25T10:00:00Z",
        ),
    ] {
        let reply = app.post("/v1/sales", &cashier, &body, &[]).await?;
        assert_eq!(reply.status, 201, "{}", reply.body);
        sequences.push(reply.body["stream_sequence"].as_u64().unwrap_or_default());
    }
    // The sums must still add up: a deposit missing from the total is 422, nothing kept.
    let mut wrong = recorded_sale(
        "n9",
        "nyc",
        "USD",
        ("IPA-6", 1, 1199, 106, 30),
        None,
        "2026-11-25T17:00:00Z",
    );
    wrong["total_minor"] = json!(1305);
    let refused = app.post("/v1/sales", &cashier, &wrong, &[]).await?;
    assert_eq!(
        (refused.status, refused.field()),
        (422, "total_minor"),
        "{}",
        refused.body
    );
    // n1 comes back the same afternoon: refunded in full, in cash (1335: 1199 + 106 tax
    // + 30 deposit).
    let refund = app
        .post(
            "/v1/sales/n1/refunds",
            &manager,
            &json!({"refund_id": "r1", "lines": [{"line_no": 1, "quantity": 1}], "restock": true,
                "reason": "warm", "occurred_at": "2026-11-25T18:00:00Z"}),
            &[],
        )
        .await?;
    assert_eq!(refund.status, 201, "{}", refund.body);
    let last = refund.body["stream_sequence"].as_u64().unwrap_or_default();
    tests::projector_app::wait_for_checkpoint(&app.servers, &tenant, last, Duration::from_secs(60)).await?;

    let get = |path: String| {
        let (app, manager) = (&app, &manager);
        async move {
            let reply = app
                .send(app.http.get(format!("{}{path}", app.address)).bearer_auth(manager))
                .await?;
            anyhow::ensure!(reply.status == 200, "{path}: {} {}", reply.status, reply.body);
            anyhow::Ok(reply.body)
        }
    };
    let n0 = get("/v1/sales/n0".into()).await?;
    assert_eq!(n0["pricing"]["exceptions"], json!([]), "{n0}");
    assert_eq!(n0["lines"][0]["list_price_minor"], 1099, "the price on the 10th: {n0}");
    let m1 = get("/v1/sales/m1".into()).await?;
    assert_eq!(m1["pricing"], Value::Null, "{m1}");

    let exceptions = get("/v1/reports/pricing-exceptions?date=2026-11-25&location=nyc".into()).await?;
    let found: Vec<(String, String, i64, i64)> = exceptions["items"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        r["sale_id"].as_str().unwrap_or_default().to_owned(),
                        r["difference"]["kind"].as_str().unwrap_or_default().to_owned(),
                        r["difference"]["recorded_minor"].as_i64().unwrap_or(-1),
                        r["difference"]["expected_minor"].as_i64().unwrap_or(-1),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let row = |kind: &str, recorded: i64, expected: i64| ("n2".to_owned(), kind.to_owned(), recorded, expected);
    assert_eq!(
        found,
        vec![
            row("price_override", 1099, 1199),
            row("tax_mismatch", 176, 195),
            row("deposit_mismatch", 0, 60)
        ],
        "{exceptions}"
    );
    let csv = app
        .http
        .get(format!("{}/v1/reports/pricing-exceptions?date=2026-11-25", app.address))
        .bearer_auth(&manager)
        .header("accept", "text/csv")
        .send()
        .await?
        .text()
        .await?;
    assert!(
        csv.starts_with("sale_id,location,business_date,occurred_at,terminal_id,cashier_id,status,line_no,sku,kind,recorded_minor,expected_minor\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("n2,nyc,2026-11-25,") && csv.contains(",1,IPA-6,price_override,1099,1199\r\n"),
        "{csv}"
    );
    // Cashiers do not see the report; another tenant's manager sees nothing of it.
    let as_cashier = app
        .send(
            app.http
                .get(format!("{}/v1/reports/pricing-exceptions?date=2026-11-25", app.address))
                .bearer_auth(&cashier),
        )
        .await?;
    assert_eq!(as_cashier.status, 403);
    let stranger = app.token(&unique_tenant(), Role::Manager).await?;
    let theirs = app
        .send(
            app.http
                .get(format!("{}/v1/reports/pricing-exceptions?date=2026-11-25", app.address))
                .bearer_auth(&stranger),
        )
        .await?;
    assert_eq!(
        (theirs.status, &theirs.body["items"]),
        (200, &json!([])),
        "{}",
        theirs.body
    );

    // The New York day, by hand:
    //  sales n1 + n2: gross 1199 + 2198 = 3397, tax 106 + 176 = 282, deposits 30,
    //  total 1335 + 2374 = 3709; cash 1400 − 65 = 1335, card 2374.
    //  refund of n1: net 1199, tax 106, deposit 30, total 1335, all cash.
    //  after refunds: net 2198, tax 176, deposits 0; expected cash 1335 − 1335 = 0.
    //  Tax owed (server's pricing): ny-sales at 8.875 % on 1199 + 2198 = 3397:
    //  collected 106 + 195 = 301, given back 106 (n1 refunded in full), owed 195.
    let day = get("/v1/reports/daily?date=2026-11-25&location=nyc".into()).await?;
    let nyc = &day["items"][0];
    let figures: Vec<i64> = [
        "sale_count",
        "gross_minor",
        "tax_minor",
        "deposits_minor",
        "total_minor",
        "net_after_refunds_minor",
        "tax_after_refunds_minor",
        "deposits_after_refunds_minor",
        "expected_cash_minor",
        "exception_sale_count",
    ]
    .iter()
    .map(|k| nyc[*k].as_i64().unwrap_or(i64::MIN))
    .collect();
    assert_eq!(figures, vec![2, 3397, 282, 30, 3709, 2198, 176, 0, 0, 1], "{nyc}");
    assert_eq!(
        (
            &nyc["refunds"]["deposit_minor"],
            &nyc["refunds"]["net_minor"],
            &nyc["refunds"]["total_minor"]
        ),
        (&json!(30), &json!(1199), &json!(1335)),
        "{nyc}"
    );
    assert_eq!(
        nyc["tax_liability"],
        json!([{"tax_id": "ny-sales",
            "basis": {"kind": "percentage", "rate_ppm": 88750, "included": false, "base_minor": 3397},
            "collected_minor": 301, "returned_minor": 106, "owed_minor": 195}]),
        "{nyc}"
    );
    // Berlin: 599 charged with its VAT inside, 150 of Pfand; 749 paid from 1000 cash.
    let day = get("/v1/reports/daily?date=2026-11-25&location=berlin".into()).await?;
    let berlin = &day["items"][0];
    assert_eq!(
        (
            &berlin["tax_minor"],
            &berlin["deposits_minor"],
            &berlin["total_minor"],
            &berlin["expected_cash_minor"]
        ),
        (&json!(0), &json!(150), &json!(749), &json!(749)),
        "{berlin}"
    );
    assert_eq!(
        berlin["tax_liability"],
        json!([{"tax_id": "de-vat",
            "basis": {"kind": "percentage", "rate_ppm": 190000, "included": true, "base_minor": 599},
            "collected_minor": 96, "returned_minor": 0, "owed_minor": 96}]),
        "{berlin}"
    );

    // A replay gives the same read model, flags and liabilities included.
    let (live, rebuilt) = tests::read_model::live_and_replayed(&app, &tenant).await?;
    assert_eq!(tests::read_model::difference(&live, &rebuilt), None);
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_store_can_have_its_own_price_and_a_change_can_be_scheduled() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = tests::ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    let admin = app.token(&tenant, Role::Admin).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    app.configure_jurisdiction(&admin, new_jersey()).await?;
    for id in ["hoboken", "airport"] {
        let body = json!({"location_id": id, "details": {"name": id, "time_zone": "America/New_York",
            "currency": "USD", "tax_jurisdiction": "us-nj"}});
        created(&app, &admin, "/v1/locations", &body).await?;
    }
    let mut wine = product(
        "WINE-RED",
        "wine",
        1500,
        "USD",
        json!({"container_type": "glass_bottle", "volume_ml": 750, "units": 1}),
    );
    wine["occurred_at"] = json!("2026-11-01T12:00:00Z");
    let mut version = created(&app, &manager, "/v1/products", &wine)
        .await?
        .header("etag")
        .unwrap_or_default()
        .to_owned();
    // On the 20th: the airport sells at 18.00 from then on, and the chain-wide price goes
    // to 16.00 from the 27th, 05:00Z (midnight in New Jersey).
    for body in [
        json!({"price": {"amount_minor": 1800, "currency": "USD"}, "location": "airport",
            "occurred_at": "2026-11-20T12:00:00Z"}),
        json!({"price": {"amount_minor": 1600, "currency": "USD"}, "effective_from": "2026-11-27T05:00:00Z",
            "occurred_at": "2026-11-20T12:00:00Z"}),
    ] {
        let changed = app
            .write(
                reqwest::Method::PUT,
                "/v1/products/WINE-RED/price",
                &manager,
                &body,
                &[("if-match", &version)],
            )
            .await?;
        assert_eq!(changed.status, 201, "{}", changed.body);
        version = changed.header("etag").unwrap_or_default().to_owned();
    }
    // A price for a store that was never opened is refused, nothing recorded.
    let nowhere = app
        .write(
            reqwest::Method::PUT,
            "/v1/products/WINE-RED/price",
            &manager,
            &json!({"price": {"amount_minor": 1, "currency": "USD"}, "location": "mars"}),
            &[("if-match", &version)],
        )
        .await?;
    assert_eq!(
        (nowhere.status, nowhere.code(), nowhere.field()),
        (422, "unknown_location", "location")
    );

    // One bottle, quoted (New Jersey 6.625 %):
    //  Hoboken on the 26th: 1500, tax 99.375 → 99, total 1599.
    //  Hoboken on the 28th: the scheduled 1600, tax 106, total 1706.
    //  The airport on the 28th: its own 1800 outlives the chain change, tax 119.25 → 119.
    let bottle = json!([{"sku": "WINE-RED", "quantity": 1}]);
    for (location, at, expected) in [
        ("hoboken", "2026-11-26T15:00:00Z", [99, 0, 1599]),
        ("hoboken", "2026-11-28T15:00:00Z", [106, 0, 1706]),
        ("airport", "2026-11-28T15:00:00Z", [119, 0, 1919]),
    ] {
        let body = json!({"location": location, "at": at, "lines": bottle});
        let reply = app.post("/v1/pricing/quotes", &cashier, &body, &[]).await?;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(amounts(&reply.body).1, expected, "{location} {at}: {}", reply.body);
    }

    // The catalog shows the chain price and the store and scheduled prices beside it.
    let last = app.tenant_messages(&tenant).await?.len();
    anyhow::ensure!(last > 0, "events were recorded");
    let product_path = format!("{}/v1/products/WINE-RED", app.address);
    let shown = tests::eventually(
        "the price changes to be projected",
        std::time::Duration::from_secs(30),
        || {
            let (app, manager, path) = (&app, &manager, product_path.clone());
            async move {
                let reply = app.send(app.http.get(path).bearer_auth(manager)).await?;
                Ok(
                    (reply.status == 200 && reply.body["price_changes"].as_array().map(Vec::len) == Some(2))
                        .then_some(reply.body),
                )
            }
        },
    )
    .await?;
    assert_eq!(shown["price"]["amount_minor"], 1500, "{shown}");
    assert_eq!(
        shown["price_changes"],
        json!([
            {"location": "airport", "effective_from": "2026-11-20T12:00:00Z", "price": {"amount_minor": 1800, "currency": "USD"}},
            {"effective_from": "2026-11-27T05:00:00Z", "price": {"amount_minor": 1600, "currency": "USD"}}
        ]),
        "{shown}"
    );
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_price_changed_elsewhere_is_quoted_after_the_cache_ttl_and_one_changed_here_at_once() -> anyhow::Result<()> {
    // Two API processes on one stream; this one keeps folded products for 1 s.
    let app = CommandApp::spawn_with(|config| config.catalog_cache_ttl_secs = 1).await?;
    let other = command_api::Application::build(CommandApp::config(&app.stream, &app.tokens)).await?;
    let other_address = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until(std::future::pending()));
    let tenant = unique_tenant();
    let admin = app.token(&tenant, Role::Admin).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    app.configure_jurisdiction(&admin, new_jersey()).await?;
    let store = json!({"location_id": "hoboken", "details": {"name": "Hoboken", "time_zone": "America/New_York",
        "currency": "USD", "tax_jurisdiction": "us-nj"}});
    created(&app, &admin, "/v1/locations", &store).await?;
    let wine = product(
        "WINE-RED",
        "wine",
        1500,
        "USD",
        json!({"container_type": "glass_bottle", "volume_ml": 750, "units": 1}),
    );
    let version = created(&app, &manager, "/v1/products", &wine)
        .await?
        .header("etag")
        .unwrap_or_default()
        .to_owned();
    let quote = json!({"location": "hoboken", "lines": [{"sku": "WINE-RED", "quantity": 1}]});
    let total = |reply: &tests::command_app::Reply| amounts(&reply.body).1[2];
    // 1500 + 6.625 % (99.375 → 99) = 1599; the quote leaves the product in this process's cache.
    let first = app.post("/v1/pricing/quotes", &cashier, &quote, &[]).await?;
    assert_eq!((first.status, total(&first)), (200, 1599), "{}", first.body);

    // The other process changes the price to 16.00: 1600 + 106 = 1706, quoted here once
    // the cached product has expired.
    let changed = app
        .send(
            app.http
                .put(format!("{other_address}/v1/products/WINE-RED/price"))
                .bearer_auth(&manager)
                .header("if-match", &version)
                .json(&json!({"price": {"amount_minor": 1600, "currency": "USD"}})),
        )
        .await?;
    assert_eq!(changed.status, 201, "{}", changed.body);
    let version = changed.header("etag").unwrap_or_default().to_owned();
    tests::eventually(
        "the other process's price to be quoted",
        std::time::Duration::from_secs(15),
        || {
            let (app, cashier, quote) = (&app, &cashier, &quote);
            async move {
                let reply = app.post("/v1/pricing/quotes", cashier, quote, &[]).await?;
                anyhow::ensure!(
                    reply.status == 200 && [1599, 1706].contains(&total(&reply)),
                    "{}",
                    reply.body
                );
                Ok((total(&reply) == 1706).then_some(()))
            }
        },
    )
    .await?;

    // A change made through this process is quoted at once: 1700 + 112.625 → 113 = 1813.
    let changed = app
        .write(
            reqwest::Method::PUT,
            "/v1/products/WINE-RED/price",
            &manager,
            &json!({"price": {"amount_minor": 1700, "currency": "USD"}}),
            &[("if-match", &version)],
        )
        .await?;
    assert_eq!(changed.status, 201, "{}", changed.body);
    let after = app.post("/v1/pricing/quotes", &cashier, &quote, &[]).await?;
    assert_eq!((after.status, total(&after)), (200, 1813), "{}", after.body);
    Ok(())
}
