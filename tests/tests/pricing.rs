//! Server pricing against the real servers: tax jurisdictions defined through the API, a
//! basket quoted at stores in two jurisdictions with different rates, an inclusive-price
//! store, per-container deposits, a rate that changed on a date. Every number is worked
//! out by hand in the comments (the rules: docs/taxes.md).

use events::Role;
use serde_json::{Value, json};
use tests::command_app::Reply;
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

async fn created(app: &CommandApp, token: &str, path: &str, body: &Value) -> anyhow::Result<Reply> {
    let reply = app.post(path, token, body, &[]).await?;
    anyhow::ensure!(reply.status == 201, "{path}: {} {}", reply.status, reply.body);
    Ok(reply)
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
