//! Packs against the real servers: a beer sold as a single can, a six-pack and a case of
//! 24 from one stock counted in cans (docs/catalog.md). A case is received, a six-pack and
//! two singles are sold, a count is made in cans; the stock is right in cans and in full
//! packs, the six-pack carries six can deposits, its barcode finds it, the pack report
//! adds up per pack and per can, and a replay rebuilds the same read model. Every number
//! is worked out by hand in the comments.

use std::time::Duration;

use events::{Role, TenantId};
use projector::replay::jobs;
use serde_json::{Value, json};
use tests::command_app::{Reply, created};
use tests::projector_app::wait_for_checkpoint;
use tests::read_model::{self, difference};
use tests::{CommandApp, ProjectorApp, unique_tenant};

const WAIT: Duration = Duration::from_secs(60);

/// New York: 8.875 % on beer, 5¢ per can (not taxed).
fn new_york() -> Value {
    json!({
        "id": "us-ny", "name": "New York City", "currency": "USD",
        "rounding": {"scope": "per_line", "mode": "half_up"},
        "taxes": [{"tax_id": "ny-sales", "name": "NY sales tax", "applies_to": ["beer"],
            "versions": [{"effective_from": "2020-01-01", "rate": {"kind": "percentage", "rate_ppm": 88750}}]}],
        "deposits": [{"deposit_id": "ny-bottle-bill", "name": "NY 5¢ deposit", "container_types": ["can"],
            "versions": [{"effective_from": "1983-07-01", "amount_minor": 5}]}]
    })
}

/// A product of `price` cents; `extra` is merged into its details.
fn product(sku: &str, price: i64, extra: Value) -> Value {
    let mut details = json!({"name": sku, "category": "beer", "tax_class": "beer"});
    if let (Some(details), Some(extra)) = (details.as_object_mut(), extra.as_object()) {
        details.extend(extra.clone());
    }
    json!({"sku": sku, "details": details, "price": {"amount_minor": price, "currency": "USD"}})
}

fn pack(base: &str, units: u32, barcode: &str) -> Value {
    json!({"pack": {"base_sku": base, "units": units}, "barcodes": [barcode]})
}

async fn get(app: &CommandApp, token: &str, path: &str) -> anyhow::Result<Value> {
    let reply = app
        .send(app.http.get(format!("{}{path}", app.address)).bearer_auth(token))
        .await?;
    anyhow::ensure!(reply.status == 200, "{path}: {} {}", reply.status, reply.body);
    Ok(reply.body)
}

/// `(units, full cases of 24, full six-packs)` of BEER-CAN at nyc.
async fn stock(app: &CommandApp, token: &str) -> anyhow::Result<(i64, i64, i64)> {
    let can = get(app, token, "/v1/products/BEER-CAN").await?;
    let packs = can["stock_in_packs"].as_array().cloned().unwrap_or_default();
    let full = |sku: &str| {
        packs
            .iter()
            .find(|p| p["sku"] == sku)
            .and_then(|p| p["full_packs"]["nyc"].as_i64())
            .unwrap_or(-1)
    };
    Ok((
        can["stock"]["nyc"].as_i64().unwrap_or(-1),
        full("BEER-24"),
        full("BEER-6"),
    ))
}

async fn settle(app: &CommandApp, tenant: &TenantId, reply: &Reply) -> anyhow::Result<()> {
    let sequence = reply.body["stream_sequence"].as_u64().unwrap_or_default();
    wait_for_checkpoint(&app.servers, tenant, sequence, WAIT).await
}

#[tokio::test]
async fn a_case_received_a_six_pack_and_singles_sold_and_a_count_keep_one_stock_in_cans() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    let admin = app.token(&tenant, Role::Admin).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    app.configure_jurisdiction(&admin, new_york()).await?;
    let body = json!({"location_id": "nyc", "details": {"name": "nyc", "time_zone": "America/New_York",
        "currency": "USD", "tax_jurisdiction": "us-ny", "prices_include_tax": false}});
    created(&app, &admin, "/v1/locations", &body).await?;

    // The base: one 355 ml can at 5 % ABV, 2.50, 21+. The packs name it and inherit its
    // can (times their units), ABV and minimum age.
    let can = json!({"container_type": "can", "volume_ml": 355, "units": 1});
    let base = product(
        "BEER-CAN",
        250,
        json!({"container": can, "base_unit": "can", "abv_basis_points": 500, "minimum_age": 21,
            "barcodes": ["4000000000017"]}),
    );
    created(&app, &manager, "/v1/products", &base).await?;
    let six = created(
        &app,
        &manager,
        "/v1/products",
        &product("BEER-6", 1299, pack("BEER-CAN", 6, "4000000000062")),
    )
    .await?;
    created(
        &app,
        &manager,
        "/v1/products",
        &product("BEER-24", 4599, pack("BEER-CAN", 24, "4000000000246")),
    )
    .await?;
    // The six-pack is 11.99 at nyc (a store price, the rules of PUT .../price).
    let etag = six.header("etag").unwrap_or_default().to_owned();
    let priced = app
        .write(
            reqwest::Method::PUT,
            "/v1/products/BEER-6/price",
            &manager,
            &json!({"price": {"amount_minor": 1199, "currency": "USD"}, "location": "nyc"}),
            &[("if-match", &etag)],
        )
        .await?;
    assert_eq!(priced.status, 201, "{}", priced.body);

    // A quote of one six-pack at nyc: 1199 × 8.875 % = 106.41 → 106 tax; six cans × 5¢ =
    // 30 deposit; 1199 + 106 + 30 = 1335.
    let quote = app
        .post(
            "/v1/pricing/quotes",
            &cashier,
            &json!({"location": "nyc", "lines": [{"sku": "BEER-6", "quantity": 1}]}),
            &[],
        )
        .await?;
    assert_eq!(quote.status, 200, "{}", quote.body);
    let line = &quote.body["lines"][0];
    assert_eq!(
        (
            &line["unit_price_minor"],
            &line["tax_minor"],
            &line["deposit_minor"],
            &line["deposit"]["containers"],
            &line["total_minor"]
        ),
        (&json!(1199), &json!(106), &json!(30), &json!(6), &json!(1335)),
        "{}",
        quote.body
    );

    // A case of 24 arrives: it lands as 24 cans; 24 cans are 1 full case, 4 six-packs.
    let receipt = created(
        &app,
        &manager,
        "/v1/inventory/receipts",
        &json!({"movement_id": "m-case-1", "sku": "BEER-24", "location": "nyc", "quantity": 1,
            "unit_cost": {"amount_minor": 3600, "currency": "USD"}, "supplier": "Brewery",
            "reference": "PO-1"}),
    )
    .await?;
    settle(&app, &tenant, &receipt).await?;
    assert_eq!(stock(&app, &manager).await?, (24, 1, 4));

    // s1: one six-pack and two single cans, 21+ checked.
    //  BEER-6 × 1 at 1199: tax 106, deposit 6 × 5 = 30, total 1335.
    //  BEER-CAN × 2 at 250: 500 × 8.875 % = 44.375 → 44, deposit 2 × 5 = 10, total 554.
    //  subtotal 1699, tax 150, deposit 40, total 1889, by card.
    //  Stock: 24 − 6 − 2 = 16 cans.
    let sale = |id: &str, lines: Value, subtotal: i64, tax: i64, deposit: i64| {
        let total = subtotal + tax + deposit;
        json!({"sale_id": id, "location": "nyc", "currency": "USD", "lines": lines,
            "subtotal_minor": subtotal, "discount_total_minor": 0, "tax_total_minor": tax,
            "deposit_total_minor": deposit, "total_minor": total,
            "tenders": [{"kind": "card", "amount_minor": total}], "change_minor": 0,
            "age_verification": {"method": "id_inspected", "customer_age": 30}})
    };
    let line = |sku: &str, quantity: i64, price: i64, tax: i64, deposit: i64| {
        json!({"sku": sku, "quantity": quantity, "unit_price_minor": price, "tax_minor": tax,
            "deposit_minor": deposit})
    };
    let s1 = sale(
        "s1",
        json!([line("BEER-6", 1, 1199, 106, 30), line("BEER-CAN", 2, 250, 44, 10)]),
        1699,
        150,
        40,
    );
    created(&app, &cashier, "/v1/sales", &s1).await?;
    // s2: another six-pack, voided the same day: its six cans come back.
    //  16 − 6 = 10, then + 6 = 16.
    let s2 = sale("s2", json!([line("BEER-6", 1, 1199, 106, 30)]), 1199, 106, 30);
    created(&app, &cashier, "/v1/sales", &s2).await?;
    created(&app, &manager, "/v1/sales/s2/void", &json!({"reason": "rang up twice"})).await?;
    // One single can of s1 comes back (restocked): 554 / 2 = 277 paid back, of which 22
    // tax and 5 deposit. 16 + 1 = 17 cans.
    let refund = created(
        &app,
        &manager,
        "/v1/sales/s1/refunds",
        &json!({"refund_id": "r1", "lines": [{"line_no": 2, "quantity": 1}], "restock": true,
            "reason": "dented"}),
    )
    .await?;
    settle(&app, &tenant, &refund).await?;
    // 17 cans: 0 full cases, 2 full six-packs.
    assert_eq!(stock(&app, &manager).await?, (17, 0, 2));

    // The server's pricing of s1 agrees with the till: the six-pack's 30 is six cans.
    let s1 = get(&app, &manager, "/v1/sales/s1").await?;
    assert_eq!(s1["pricing"]["exceptions"], json!([]), "{s1}");
    assert_eq!(s1["lines"][0]["deposit_minor"], 30, "{s1}");
    assert_eq!(
        s1["lines"][0]["pack"],
        json!({"base_sku": "BEER-CAN", "units": 6}),
        "{s1}"
    );

    // A count of the shelf, in cans: 15 (two missing). 15 cans: 0 cases, 2 six-packs.
    let count = created(
        &app,
        &manager,
        "/v1/inventory/counts",
        &json!({"movement_id": "m-count-1", "sku": "BEER-CAN", "location": "nyc", "counted_quantity": 15}),
    )
    .await?;
    settle(&app, &tenant, &count).await?;
    assert_eq!(stock(&app, &manager).await?, (15, 0, 2));
    // A pack shows its own full count from its base's stock, and no stock of its own.
    let case = get(&app, &manager, "/v1/products/BEER-24").await?;
    assert_eq!(case["stock"], json!({}), "{case}");
    assert_eq!(case["stock_in_packs"][0]["full_packs"]["nyc"], 0, "{case}");
    assert_eq!(case["pack"], json!({"base_sku": "BEER-CAN", "units": 24}), "{case}");
    assert_eq!(
        (
            &case["containers_per_item"],
            &case["minimum_age"],
            &case["abv_basis_points"],
            &case["base_unit"]
        ),
        (&json!(24), &json!(21), &json!(500), &json!("can")),
        "inherited from the can: {case}"
    );

    // The six-pack's barcode finds the six-pack (a cashier may look it up).
    let found = get(&app, &cashier, "/v1/products?barcode=4000000000062").await?;
    let ids: Vec<&str> = found["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|p| p["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec!["BEER-6"], "{found}");

    // The pack report (revenue = total − tax − deposit, net of voids and refunds):
    //  BEER-6: 1 pack (s2 voided on its own day), 6 cans, 1335 − 106 − 30 = 1199.
    //  BEER-CAN: 2 − 1 refunded = 1 can; 554 − 44 − 10 = 500 less 277 − 22 − 5 = 250: 250.
    //  Per base BEER-CAN: 6 + 1 = 7 cans, 1199 + 250 = 1449.
    let report = get(&app, &manager, "/v1/reports/packs?from=2020-01-01&to=2099-12-31").await?;
    assert_eq!(
        report["skus"],
        json!([
            {"sku": "BEER-6", "base_sku": "BEER-CAN", "units_per_item": 6, "items": 1, "base_units": 6,
                "revenue_minor": 1199, "currency": "USD"},
            {"sku": "BEER-CAN", "base_sku": "BEER-CAN", "units_per_item": 1, "items": 1, "base_units": 1,
                "revenue_minor": 250, "currency": "USD"}
        ]),
        "{report}"
    );
    assert_eq!(
        report["base_products"],
        json!([{"base_sku": "BEER-CAN", "base_units": 7, "revenue_minor": 1449, "currency": "USD"}]),
        "{report}"
    );
    let refused = app
        .send(
            app.http
                .get(format!(
                    "{}/v1/reports/packs?from=2020-01-01&to=2099-12-31",
                    app.address
                ))
                .bearer_auth(&cashier),
        )
        .await?;
    assert_eq!(refused.status, 403, "cashiers see no reports: {}", refused.body);

    // A replay of the tenant's stream rebuilds the same read model.
    let live = read_model::dump(&app.servers.mongo.database(&tenant.database_name())).await?;
    let config = ProjectorApp::config(&app.stream);
    let store = projector::startup::event_store(&config).await?;
    let databases = projector::startup::databases(&config).await?;
    jobs::replay(&store, &databases, &tenant, false, false).await?;
    let rebuilt = read_model::dump(&app.servers.mongo.database(&tenant.database_name())).await?;
    assert_eq!(difference(&live, &rebuilt), None);

    drop(projector);
    app.servers.mongo.database(&tenant.database_name()).drop().await?;
    Ok(())
}

#[tokio::test]
async fn packs_of_unknown_bases_packs_of_packs_wrong_roles_and_other_tenants_are_refused() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let (tenant, other) = (unique_tenant(), unique_tenant());
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let can = json!({"container_type": "can", "volume_ml": 355, "units": 1});
    created(
        &app,
        &manager,
        "/v1/products",
        &product("BEER-CAN", 250, json!({"container": can})),
    )
    .await?;
    let six = created(
        &app,
        &manager,
        "/v1/products",
        &product("BEER-6", 1299, pack("BEER-CAN", 6, "4000000000062")),
    )
    .await?;

    let refusal = |reply: &Reply| (reply.status, reply.code().to_owned(), reply.field().to_owned());
    let expect = |status: u16, code: &str, field: &str| (status, code.to_owned(), field.to_owned());
    // A pack of a product the catalog does not know.
    let unknown = app
        .post(
            "/v1/products",
            &manager,
            &product("GHOST-6", 999, pack("GHOST", 6, "4000000000079")),
            &[],
        )
        .await?;
    assert_eq!(
        refusal(&unknown),
        expect(422, "unknown_product", "details.pack.base_sku"),
        "{}",
        unknown.body
    );
    // A pack of a pack: stock is kept in one base unit only.
    let nested = app
        .post(
            "/v1/products",
            &manager,
            &product("BEER-6X4", 4999, pack("BEER-6", 4, "4000000000086")),
            &[],
        )
        .await?;
    assert_eq!(
        refusal(&nested),
        expect(422, "unknown_product", "details.pack.base_sku"),
        "{}",
        nested.body
    );
    // A pack of itself; a pack of 0 units; a container that is not the base's × units.
    for (body, field) in [
        (
            product("SELF-6", 999, pack("SELF-6", 6, "4000000000093")),
            "details.pack.base_sku",
        ),
        (
            product("ZERO", 999, pack("BEER-CAN", 0, "4000000000109")),
            "details.pack.units",
        ),
        (
            product(
                "BEER-12",
                2399,
                json!({"pack": {"base_sku": "BEER-CAN", "units": 12},
                    "container": {"container_type": "can", "volume_ml": 355, "units": 6}}),
            ),
            "details.container",
        ),
    ] {
        let reply = app.post("/v1/products", &manager, &body, &[]).await?;
        assert_eq!(refusal(&reply), expect(422, "invalid_field", field), "{}", reply.body);
    }
    // A cashier may not register a pack.
    let cashier_try = app
        .post(
            "/v1/products",
            &cashier,
            &product("BEER-4", 899, pack("BEER-CAN", 4, "4000000000116")),
            &[],
        )
        .await?;
    assert_eq!(cashier_try.status, 403, "{}", cashier_try.body);
    // Another tenant's manager cannot make a pack of this tenant's can: to that tenant
    // the SKU is unknown.
    let outsider = app.token(&other, Role::Manager).await?;
    let foreign = app
        .post(
            "/v1/products",
            &outsider,
            &product("BEER-6", 1299, pack("BEER-CAN", 6, "4000000000062")),
            &[],
        )
        .await?;
    assert_eq!(
        refusal(&foreign),
        expect(422, "unknown_product", "details.pack.base_sku"),
        "{}",
        foreign.body
    );
    // A pack is fixed: an update may not change what it holds.
    let etag = six.header("etag").unwrap_or_default().to_owned();
    let changed = app
        .write(
            reqwest::Method::PUT,
            "/v1/products/BEER-6",
            &manager,
            &json!({"details": {"name": "BEER-6", "category": "beer", "tax_class": "beer",
                "pack": {"base_sku": "BEER-CAN", "units": 8}}}),
            &[("if-match", &etag)],
        )
        .await?;
    assert_eq!(
        refusal(&changed),
        expect(422, "invalid_field", "details.pack"),
        "{}",
        changed.body
    );
    // Stock is counted, adjusted and transferred in cans, never in packs.
    for (path, body) in [
        (
            "/v1/inventory/counts",
            json!({"movement_id": "m-c", "sku": "BEER-6", "location": "main", "counted_quantity": 2}),
        ),
        (
            "/v1/inventory/adjustments",
            json!({"movement_id": "m-a", "sku": "BEER-6", "location": "main", "quantity_delta": -1,
                "reason": "breakage"}),
        ),
    ] {
        let reply = app.post(path, &manager, &body, &[]).await?;
        assert_eq!(
            refusal(&reply),
            expect(422, "stock_in_base_units", "sku"),
            "{path}: {}",
            reply.body
        );
    }
    Ok(())
}
