//! Purchasing and cost against the real servers: a purchase order for 10 cases received in
//! two deliveries (one with a damaged case) gives the right stock, order status and
//! moving average cost; sales after each delivery carry the cost of goods worked out by
//! hand below; a void returns its cost; the margin report and the valuation at two dates
//! match; a reorder suggestion counts what is on order; a replay rebuilds the same read
//! model; an over-delivery is accepted. Abuse: a cashier cannot order, another tenant
//! sees nothing, bad input is 422 naming the field, a delivery naming more lines than the
//! order has is refused.
//!
//! Dates are relative to today (the sales must stay inside the reorder report's velocity
//! window): D1 is three days ago, D2 two days ago, both in a UTC store.

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use events::Role;
use serde_json::{Value, json};
use tests::command_app::{figures as numbers, get, posted};
use tests::projector_app::wait_for_checkpoint;
use tests::read_model::{self, difference};
use tests::{CommandApp, ProjectorApp, unique_tenant};

const WAIT: Duration = Duration::from_secs(60);

async fn put(app: &CommandApp, token: &str, path: &str, body: &Value) -> anyhow::Result<u64> {
    let reply = app.write(reqwest::Method::PUT, path, token, body, &[]).await?;
    anyhow::ensure!(reply.status == 201, "{path}: {} {}", reply.status, reply.body);
    Ok(reply.body["stream_sequence"].as_u64().unwrap_or_default())
}

async fn items(app: &CommandApp, token: &str, path: &str) -> anyhow::Result<Vec<Value>> {
    let reply = get(app, token, path).await?;
    anyhow::ensure!(reply.status == 200, "{path}: {} {}", reply.status, reply.body);
    Ok(reply.body["items"].as_array().cloned().unwrap_or_default())
}

/// A card sale of `quantity` GIN at 20.00 each, no tax.
fn sale(id: &str, quantity: i64, at: &str) -> Value {
    let total = quantity * 2000;
    json!({"sale_id": id, "terminal_id": "till-1", "location": "main", "currency": "USD",
        "lines": [{"sku": "GIN", "quantity": quantity, "unit_price_minor": 2000, "discount_minor": 0, "tax_minor": 0}],
        "subtotal_minor": total, "discount_total_minor": 0, "tax_total_minor": 0, "total_minor": total,
        "tenders": [{"kind": "card", "amount_minor": total}], "change_minor": 0, "occurred_at": at})
}

#[tokio::test]
async fn a_purchase_order_received_in_two_deliveries_costs_the_sales_after_it_and_values_the_stock()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.allow_backdating(&tenant).await?;
    app.open_location(&tenant, "main", "UTC", "00:00", "USD").await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let today = Utc::now().date_naive();
    let day = |back: u64| -> NaiveDate { today - chrono::Days::new(back) };
    let (d1, d2) = (day(3), day(2));
    let at = |date: NaiveDate, time: &str| format!("{date}T{time}:00Z");

    posted(
        &app,
        &manager,
        "/v1/products",
        &json!({"sku": "GIN", "details": {"name": "Dry Gin", "category": "spirits", "tax_class": "alcohol",
            "barcodes": [], "minimum_age": null, "reorder_point": null},
            "price": {"amount_minor": 2000, "currency": "USD"}}),
    )
    .await?;
    // Acme sells GIN in cases of 12 at 144.00 a case (12.00 a unit), 3 days' lead time.
    posted(
        &app,
        &manager,
        "/v1/suppliers",
        &json!({"supplier_id": "acme", "name": "Acme Spirits", "items": [{"sku": "GIN", "supplier_code": "AC-GIN",
            "case_size": 12, "case_cost": {"amount_minor": 14400, "currency": "USD"}, "lead_time_days": 3}]}),
    )
    .await?;

    // Abuse before anything is ordered.
    let po_body = json!({"po_id": "po-1", "supplier_id": "acme", "location": "main", "lines": [{"sku": "GIN", "cases": 10}],
        "occurred_at": at(d1, "08:00")});
    let by_cashier = app.post("/v1/purchase-orders", &cashier, &po_body, &[]).await?;
    assert_eq!((by_cashier.status, by_cashier.code()), (403, "forbidden"));
    let mut zero = po_body.clone();
    zero["lines"][0]["cases"] = json!(0);
    let zero = app.post("/v1/purchase-orders", &manager, &zero, &[]).await?;
    assert_eq!(
        (zero.status, zero.code(), zero.field()),
        (422, "invalid_field", "lines[0].cases")
    );
    let mut unsold = po_body.clone();
    unsold["lines"] = json!([{"sku": "GIN", "cases": 1}, {"sku": "VODKA", "cases": 1}]);
    let unsold = app.post("/v1/purchase-orders", &manager, &unsold, &[]).await?;
    assert_eq!(
        (unsold.status, unsold.code(), unsold.field()),
        (422, "not_supplied", "lines[1].sku")
    );
    let mut nobody = po_body.clone();
    nobody["supplier_id"] = json!("nobody");
    let nobody = app.post("/v1/purchase-orders", &manager, &nobody, &[]).await?;
    assert_eq!(
        (nobody.status, nobody.code(), nobody.field()),
        (422, "unknown_supplier", "supplier_id")
    );
    let mut foreign = po_body.clone();
    foreign["tenant_id"] = json!(unique_tenant().as_str());
    let foreign = app.post("/v1/purchase-orders", &manager, &foreign, &[]).await?;
    assert_eq!((foreign.status, foreign.code()), (403, "tenant_mismatch"));

    // PO for 10 cases; a draft cannot be received; submitted, 120 units are on order.
    posted(&app, &manager, "/v1/purchase-orders", &po_body).await?;
    let delivery1 = json!({"receipt_id": "r-1", "reference": "DN-1", "occurred_at": at(d1, "10:00"),
        "lines": [{"line_no": 1, "cases_received": 6, "cases_damaged": 1}]});
    let early = app
        .post("/v1/purchase-orders/po-1/receipts", &manager, &delivery1, &[])
        .await?;
    assert_eq!((early.status, early.code()), (409, "purchase_order_status"));
    let submitted = posted(
        &app,
        &manager,
        "/v1/purchase-orders/po-1/submit",
        &json!({"occurred_at": at(d1, "08:30")}),
    )
    .await?;
    let product = get(&app, &manager, &format!("/v1/products/GIN?min_sequence={submitted}")).await?;
    assert_eq!(product.body["on_order"]["main"], json!(120));

    // More lines than the order has: 422 naming the line that is not there.
    let too_many = json!({"receipt_id": "r-x", "lines": [{"line_no": 1, "cases_received": 1}, {"line_no": 2, "cases_received": 1}]});
    let too_many = app
        .post("/v1/purchase-orders/po-1/receipts", &manager, &too_many, &[])
        .await?;
    assert_eq!(
        (too_many.status, too_many.code(), too_many.field()),
        (422, "unknown_order_line", "lines[1].line_no")
    );
    let too_damaged = json!({"receipt_id": "r-x", "lines": [{"line_no": 1, "cases_received": 1, "cases_damaged": 2}]});
    let too_damaged = app
        .post("/v1/purchase-orders/po-1/receipts", &manager, &too_damaged, &[])
        .await?;
    assert_eq!(
        (too_damaged.status, too_damaged.field()),
        (422, "lines[0].cases_damaged")
    );

    // Delivery 1 (D1 10:00): 6 cases, 1 damaged. 5 cases = 60 units on the shelf worth
    // 5 × 14400 = 72000; average 72000 / 60 = 1200. On order: 120 − 6 × 12 = 48.
    let first = posted(&app, &manager, "/v1/purchase-orders/po-1/receipts", &delivery1).await?;
    let retry = app
        .post("/v1/purchase-orders/po-1/receipts", &manager, &delivery1, &[])
        .await?;
    assert_eq!((retry.status, retry.header("idempotent-replayed")), (201, Some("true")));
    let order = get(
        &app,
        &manager,
        &format!("/v1/purchase-orders/po-1?min_sequence={first}"),
    )
    .await?;
    assert_eq!(order.body["status"], json!("partially_received"));
    assert_eq!(
        numbers(
            &order.body["lines"][0],
            &[
                "cases_delivered",
                "cases_damaged",
                "cases_outstanding",
                "units_accepted"
            ]
        ),
        [6, 1, 4, 60]
    );
    let product = get(&app, &manager, &format!("/v1/products/GIN?min_sequence={first}")).await?;
    assert_eq!(
        numbers(
            &product.body,
            &["stock.main", "stock_value.main", "unit_cost.main", "on_order.main"]
        ),
        [60, 72000, 1200, 48]
    );

    // Sale s1 (D1 12:00): 10 units. Cost = 72000 × 10 / 60 = 12000. Left: 50 worth 60000.
    let s1 = posted(&app, &cashier, "/v1/sales", &sale("s1", 10, &at(d1, "12:00"))).await?;
    let sold = get(&app, &manager, &format!("/v1/sales/s1?min_sequence={s1}")).await?;
    assert_eq!(sold.body["lines"][0]["cost_minor"], json!(12000));

    // A receipt without an order (D1 15:00): 20 units at 15.00 = 30000. Stock 70 worth
    // 90000; average 90000 / 70 = 1285.71 → 1286.
    posted(
        &app,
        &manager,
        "/v1/inventory/receipts",
        &json!({"movement_id": "m-1", "sku": "GIN", "location": "main", "quantity": 20,
            "unit_cost": {"amount_minor": 1500, "currency": "USD"}, "supplier": "Cash and carry", "reference": "INV-9",
            "occurred_at": at(d1, "15:00")}),
    )
    .await?;

    // Delivery 2 (D2 10:00): the 4 outstanding cases, none damaged: 48 units worth 57600.
    // Stock 118 worth 147600; average 147600 / 118 = 1250.85 → 1251. Received in full.
    let second = posted(
        &app,
        &manager,
        "/v1/purchase-orders/po-1/receipts",
        &json!({"receipt_id": "r-2", "occurred_at": at(d2, "10:00"), "lines": [{"line_no": 1, "cases_received": 4}]}),
    )
    .await?;
    let order = get(
        &app,
        &manager,
        &format!("/v1/purchase-orders/po-1?min_sequence={second}"),
    )
    .await?;
    assert_eq!(order.body["status"], json!("received"));
    assert_eq!(
        numbers(
            &order.body["lines"][0],
            &[
                "cases_delivered",
                "cases_damaged",
                "cases_outstanding",
                "units_accepted"
            ]
        ),
        [10, 1, 0, 108]
    );
    let product = get(&app, &manager, &format!("/v1/products/GIN?min_sequence={second}")).await?;
    assert_eq!(
        numbers(&product.body, &["stock.main", "stock_value.main", "unit_cost.main"]),
        [118, 147600, 1251]
    );
    assert!(product.body.get("on_order").is_none(), "{}", product.body);
    let late = app
        .post(
            "/v1/purchase-orders/po-1/receipts",
            &manager,
            &json!({"receipt_id": "r-3", "lines": [{"line_no": 1, "cases_received": 1}]}),
            &[],
        )
        .await?;
    assert_eq!((late.status, late.code()), (409, "purchase_order_status"));

    // Sale s2 (D2 12:00): 18 units. Cost = 147600 × 18 / 118 = 22515.25 → 22515.
    // Left: 100 worth 125085.
    let s2 = posted(&app, &cashier, "/v1/sales", &sale("s2", 18, &at(d2, "12:00"))).await?;
    // Sale s3 (D2 13:00): 5 units, cost 125085 × 5 / 100 = 6254.25 → 6254; voided at 13:30,
    // which puts the 5 units back with those 6254: 100 worth 125085 again.
    let s3 = posted(&app, &cashier, "/v1/sales", &sale("s3", 5, &at(d2, "13:00"))).await?;
    let voided = posted(
        &app,
        &manager,
        "/v1/sales/s3/void",
        &json!({"reason": "wrong basket", "occurred_at": at(d2, "13:30")}),
    )
    .await?;
    let sold = get(&app, &manager, &format!("/v1/sales/s2?min_sequence={s2}")).await?;
    assert_eq!(sold.body["lines"][0]["cost_minor"], json!(22515));
    let sold = get(&app, &manager, &format!("/v1/sales/s3?min_sequence={s3}")).await?;
    assert_eq!(sold.body["lines"][0]["cost_minor"], json!(6254));
    let product = get(&app, &manager, &format!("/v1/products/GIN?min_sequence={voided}")).await?;
    assert_eq!(
        numbers(&product.body, &["stock.main", "stock_value.main", "unit_cost.main"]),
        [100, 125085, 1251]
    );

    // Margin over D1..D2 (the voided s3 left out):
    //   s1: revenue 20000, cost 12000; s2: revenue 36000, cost 22515.
    //   GIN: 28 units, 56000 − 34515 = 21485; 21485 × 10000 / 56000 = 3836.6 → 3837 bp.
    //   D1: 8000 margin, 4000 bp. D2: 36000 − 22515 = 13485; 13485 × 10000 / 36000 = 3745.8 → 3746.
    let period = format!("from={d1}&to={d2}&min_sequence={voided}");
    let fields = ["units", "revenue_minor", "cost_minor", "margin_minor", "margin_bp"];
    let by_product = items(&app, &manager, &format!("/v1/reports/margin?{period}")).await?;
    assert_eq!(by_product.len(), 1);
    assert_eq!(by_product[0]["key"], json!("GIN"));
    assert_eq!(numbers(&by_product[0], &fields), [28, 56000, 34515, 21485, 3837]);
    let by_category = items(&app, &manager, &format!("/v1/reports/margin?{period}&by=category")).await?;
    assert_eq!(by_category[0]["key"], json!("spirits"));
    assert_eq!(numbers(&by_category[0], &fields), [28, 56000, 34515, 21485, 3837]);
    let by_location = items(&app, &manager, &format!("/v1/reports/margin?{period}&by=location")).await?;
    assert_eq!(by_location[0]["key"], json!("main"));
    let by_day = items(&app, &manager, &format!("/v1/reports/margin?{period}&by=day")).await?;
    assert_eq!(by_day.len(), 2);
    assert_eq!(by_day[0]["key"], json!(d1.to_string()));
    assert_eq!(numbers(&by_day[0], &fields), [10, 20000, 12000, 8000, 4000]);
    assert_eq!(numbers(&by_day[1], &fields), [18, 36000, 22515, 13485, 3746]);
    let csv = app
        .send(
            app.http
                .get(format!("{}/v1/reports/margin?{period}", app.address))
                .bearer_auth(&manager)
                .header("accept", "text/csv"),
        )
        .await?;
    assert_eq!(csv.status, 200);

    // Valuation at the end of D1: delivery 1 (+60, +72000), s1 (−10, −12000), the receipt
    // (+20, +30000) = 70 units worth 90000. At the end of D2: + delivery 2 (+48, +57600),
    // s2 (−18, −22515), s3 and its void (±5, ±6254) = 100 worth 125085.
    for (date, expected) in [(d1, [70, 90000]), (d2, [100, 125085])] {
        let rows = items(
            &app,
            &manager,
            &format!("/v1/reports/valuation?at={date}&min_sequence={voided}"),
        )
        .await?;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["location"], json!("main"));
        assert_eq!(numbers(&rows[0], &["units", "value_minor"]), expected, "{date}");
    }
    let bad = get(&app, &manager, "/v1/reports/valuation?at=yesterday").await?;
    assert_eq!((bad.status, bad.field()), (422, "at"));

    // Reorder at main: point 140, par 150. On hand 100, nothing on order: 100 ≤ 140.
    // Sold in the last 28 days: 10 + 18 + 5 − 5 = 28, so 28 × 3 / 28 = 3 sell during the
    // lead time. Need 150 + 3 − 100 = 53 → ceil(53 / 12) = 5 cases (60 units, 72000).
    let levels = put(
        &app,
        &manager,
        "/v1/products/GIN/reorder-levels",
        &json!({"location": "main", "reorder_point": 140, "par_level": 150}),
    )
    .await?;
    let suggestion_fields = [
        "on_hand",
        "on_order",
        "units_sold",
        "lead_time_demand",
        "suggested_cases",
        "suggested_units",
        "order_cost_minor",
    ];
    let rows = items(
        &app,
        &manager,
        &format!("/v1/reports/reorder?location=main&min_sequence={levels}"),
    )
    .await?;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["supplier_id"], json!("acme"));
    assert_eq!(numbers(&rows[0], &suggestion_fields), [100, 0, 28, 3, 5, 60, 72000]);
    let low = items(
        &app,
        &manager,
        &format!("/v1/reports/low-stock?location=main&min_sequence={levels}"),
    )
    .await?;
    assert_eq!(
        numbers(&low[0], &["on_hand", "reorder_point", "par_level"]),
        [100, 140, 150]
    );

    // An open order of 3 cases (36 units) counts: position 136 ≤ 140, need 153 − 136 = 17
    // → 2 cases.
    posted(
        &app,
        &manager,
        "/v1/purchase-orders",
        &json!({"po_id": "po-2", "supplier_id": "acme", "location": "main", "lines": [{"sku": "GIN", "cases": 3}]}),
    )
    .await?;
    let open = posted(&app, &manager, "/v1/purchase-orders/po-2/submit", &json!({})).await?;
    let rows = items(
        &app,
        &manager,
        &format!("/v1/reports/reorder?location=main&min_sequence={open}"),
    )
    .await?;
    assert_eq!(numbers(&rows[0], &suggestion_fields), [100, 36, 28, 3, 2, 24, 28800]);
    // Over-delivery: 4 cases arrive on the 3-case order. All 48 units go on the shelf, the
    // order is received, and only its 36 units come off "on order".
    let over = posted(
        &app,
        &manager,
        "/v1/purchase-orders/po-2/receipts",
        &json!({"receipt_id": "r-4", "lines": [{"line_no": 1, "cases_received": 4}]}),
    )
    .await?;
    let order = get(&app, &manager, &format!("/v1/purchase-orders/po-2?min_sequence={over}")).await?;
    assert_eq!(order.body["status"], json!("received"));
    assert_eq!(
        numbers(
            &order.body["lines"][0],
            &["cases_delivered", "cases_outstanding", "units_accepted"]
        ),
        [4, 0, 48]
    );
    let product = get(&app, &manager, &format!("/v1/products/GIN?min_sequence={over}")).await?;
    assert_eq!(product.body["stock"]["main"], json!(148));
    assert!(product.body.get("on_order").is_none(), "{}", product.body);
    let cancel = app
        .post(
            "/v1/purchase-orders/po-1/cancel",
            &manager,
            &json!({"reason": "x"}),
            &[],
        )
        .await?;
    assert_eq!((cancel.status, cancel.code()), (409, "purchase_order_status"));
    let closed = posted(&app, &manager, "/v1/purchase-orders/po-1/close", &json!({})).await?;
    let last = lists_of_suppliers_and_orders(&app, &manager, &cashier, closed).await?;

    // Another tenant's manager sees no such order and cannot touch it.
    let other = unique_tenant();
    let stranger = app.token(&other, Role::Manager).await?;
    let peek = get(&app, &stranger, "/v1/purchase-orders/po-1").await?;
    assert_eq!(peek.status, 404);
    for path in ["/v1/purchase-orders", "/v1/suppliers"] {
        assert_eq!(items(&app, &stranger, path).await?, Vec::<Value>::new(), "{path}");
    }
    assert_eq!(get(&app, &stranger, "/v1/suppliers/acme").await?.status, 404);
    let touch = app
        .post("/v1/purchase-orders/po-2/close", &stranger, &json!({}), &[])
        .await?;
    assert_eq!(touch.status, 404);

    // A replay from the stream rebuilds the same read model, costs included.
    wait_for_checkpoint(&app.servers, &tenant, last, WAIT).await?;
    let (live, rebuilt) = read_model::live_and_replayed(&app, &tenant).await?;
    assert_eq!(difference(&live, &rebuilt), None);
    projector.stop().await?;
    Ok(())
}

/// The read-model lists once po-1 (closed, two deliveries) and po-2 (received) are in
/// (`closed` is po-1's close): a draft po-3 and a second supplier are added, then the
/// lists, their filters and pages, one supplier and one order are checked, and a cashier
/// is refused. Answers the last command's sequence.
async fn lists_of_suppliers_and_orders(
    app: &CommandApp,
    manager: &str,
    cashier: &str,
    closed: u64,
) -> anyhow::Result<u64> {
    // A second supplier, renamed afterwards (the list shows the new name), and a draft.
    posted(
        app,
        manager,
        "/v1/suppliers",
        &json!({"supplier_id": "bevco", "name": "Bev Co", "items": [{"sku": "GIN", "supplier_code": "B-1",
            "case_size": 6, "case_cost": {"amount_minor": 7500, "currency": "USD"}, "lead_time_days": 5}]}),
    )
    .await?;
    put(
        app,
        manager,
        "/v1/suppliers/bevco",
        &json!({"name": "Bev Co Ltd", "items": [{"sku": "GIN", "supplier_code": "B-1",
            "case_size": 6, "case_cost": {"amount_minor": 7800, "currency": "USD"}, "lead_time_days": 5}]}),
    )
    .await?;
    let drafted = posted(
        app,
        manager,
        "/v1/purchase-orders",
        &json!({"po_id": "po-3", "supplier_id": "bevco", "location": "main", "expected_on": "2030-01-02",
            "lines": [{"sku": "GIN", "cases": 2}]}),
    )
    .await?;
    assert!(drafted > closed);
    let ids = |rows: &[Value]| -> Vec<String> {
        rows.iter()
            .map(|r| r["po_id"].as_str().or(r["id"].as_str()).unwrap_or_default().to_owned())
            .collect()
    };
    let list = |query: &str| format!("/v1/purchase-orders?{query}min_sequence={drafted}");
    assert_eq!(ids(&items(app, manager, &list("")).await?), ["po-1", "po-2", "po-3"]);
    assert_eq!(ids(&items(app, manager, &list("status=closed&")).await?), ["po-1"]);
    assert_eq!(
        ids(&items(app, manager, &list("status=received&location=main&")).await?),
        ["po-2"]
    );
    assert_eq!(ids(&items(app, manager, &list("supplier=bevco&")).await?), ["po-3"]);
    assert_eq!(
        ids(&items(app, manager, &list("location=elsewhere&")).await?),
        Vec::<String>::new()
    );
    // Pages of one of acme's orders: po-1, then po-2, then nothing and no further cursor.
    let first = get(app, manager, &list("supplier=acme&limit=1&")).await?;
    assert_eq!(ids(first.body["items"].as_array().map_or(&[][..], |v| v)), ["po-1"]);
    let cursor = first.body["next_cursor"].as_str().unwrap_or_default().to_owned();
    let next = get(app, manager, &list(&format!("supplier=acme&limit=1&cursor={cursor}&"))).await?;
    assert_eq!(ids(next.body["items"].as_array().map_or(&[][..], |v| v)), ["po-2"]);
    let end = get(app, manager, &list("supplier=acme&limit=1&cursor=po-2&")).await?;
    assert_eq!(end.body["items"], json!([]));
    assert!(end.body["next_cursor"].is_null(), "{}", end.body);
    let bad = get(app, manager, &list("status=shipped&")).await?;
    assert_eq!((bad.status, bad.code(), bad.field()), (422, "invalid_field", "status"));

    // po-1: 10 cases at 144.00 ordered (144000); delivery r-1 was 6 cases, 1 damaged, 60
    // units on the shelf, note DN-1; r-2 the 4 others, 48 units.
    let po1 = get(
        app,
        manager,
        &format!("/v1/purchase-orders/po-1?min_sequence={drafted}"),
    )
    .await?;
    assert_eq!(po1.body["status"], json!("closed"));
    assert_eq!(po1.body["receipts"], json!(["r-1", "r-2"]));
    assert_eq!(po1.body["ordered_cost_minor"], json!(144000));
    assert_eq!(po1.body["deliveries"][0]["reference"], json!("DN-1"));
    assert_eq!(
        numbers(
            &po1.body["deliveries"][0],
            &["cases_received", "cases_damaged", "units_accepted"]
        ),
        [6, 1, 60]
    );
    assert_eq!(
        numbers(
            &po1.body["deliveries"][1],
            &["cases_received", "cases_damaged", "units_accepted"]
        ),
        [4, 0, 48]
    );
    // po-2 had one case over its 3.
    let po2 = get(
        app,
        manager,
        &format!("/v1/purchase-orders/po-2?min_sequence={drafted}"),
    )
    .await?;
    assert_eq!(po2.body["lines"][0]["cases_over"], json!(1));
    let po3 = get(
        app,
        manager,
        &format!("/v1/purchase-orders/po-3?min_sequence={drafted}"),
    )
    .await?;
    assert_eq!(
        (
            &po3.body["status"],
            &po3.body["expected_on"],
            &po3.body["lines"][0]["case_cost_minor"]
        ),
        (&json!("draft"), &json!("2030-01-02"), &json!(7800))
    );
    assert_eq!(get(app, manager, "/v1/purchase-orders/po-9").await?.status, 404);

    let suppliers = items(app, manager, &format!("/v1/suppliers?min_sequence={drafted}")).await?;
    assert_eq!(ids(&suppliers), ["acme", "bevco"]);
    assert_eq!(suppliers[1]["name"], json!("Bev Co Ltd"));
    assert_eq!(
        numbers(
            &suppliers[0]["items"][0],
            &["case_size", "case_cost_minor", "lead_time_days"]
        ),
        [12, 14400, 3]
    );
    let acme = get(app, manager, "/v1/suppliers/acme").await?;
    assert_eq!((acme.status, &acme.body["name"]), (200, &json!("Acme Spirits")));
    assert_eq!(get(app, manager, "/v1/suppliers/nobody").await?.status, 404);

    // Cashiers see neither list.
    for path in [
        "/v1/purchase-orders",
        "/v1/purchase-orders/po-1",
        "/v1/suppliers",
        "/v1/suppliers/acme",
    ] {
        let refused = get(app, cashier, path).await?;
        assert_eq!((refused.status, refused.code()), (403, "forbidden"), "{path}");
    }
    Ok(drafted)
}

#[tokio::test]
async fn a_sale_redelivered_after_a_crash_between_its_product_and_its_sale_keeps_its_cost_of_goods()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.open_location(&tenant, "main", "UTC", "00:00", "USD").await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    posted(
        &app,
        &manager,
        "/v1/products",
        &json!({"sku": "GIN", "details": {"name": "Dry Gin", "category": "spirits", "tax_class": "alcohol"},
            "price": {"amount_minor": 2000, "currency": "USD"}}),
    )
    .await?;
    // 10 units at 5.00 each; a sale of 3 takes 3 × 500 = 1500 out of the stock's value.
    posted(
        &app,
        &manager,
        "/v1/inventory/receipts",
        &json!({"movement_id": "m-1", "sku": "GIN", "location": "main", "quantity": 10,
            "unit_cost": {"amount_minor": 500, "currency": "USD"}, "supplier": "Cash and carry", "reference": "INV-1"}),
    )
    .await?;
    let now = Utc::now().to_rfc3339();
    let sold = posted(&app, &manager, "/v1/sales", &sale("s-1", 3, &now)).await?;
    wait_for_checkpoint(&app.servers, &tenant, sold, WAIT).await?;
    projector.stop().await?;
    let db = app.servers.mongo.database(&tenant.database_name());
    let sales = db.collection::<bson::Document>("sales");
    let stored = sales
        .find_one(bson::doc! {"_id": "s-1"})
        .await?
        .ok_or_else(|| anyhow::anyhow!("sale s-1 not projected"))?;
    let cost = |doc: &bson::Document| -> i64 {
        doc.get_array("lines")
            .ok()
            .and_then(|lines| lines.first())
            .and_then(|line| line.as_document())
            .and_then(|line| line.get_i64("cost_minor").ok())
            .unwrap_or(i64::MIN)
    };
    assert_eq!(cost(&stored), 1500);

    // The crash: the product (stock 7, value 3500) and the transactions were written, the
    // sale and the checkpoint were not. Then everything is delivered again.
    sales.delete_one(bson::doc! {"_id": "s-1"}).await?;
    db.collection::<bson::Document>("checkpoints")
        .update_many(bson::doc! {}, bson::doc! {"$set": {"last_sequence": (sold - 1) as i64}})
        .await?;
    let js_stream = app.servers.jetstream.get_stream(&app.stream.name).await?;
    for partition in 0..app.stream.scheme.partitions() {
        js_stream
            .reset_consumer(&format!("projector-p{partition}"), Some(1))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let again = ProjectorApp::spawn(&app.stream).await?;
    wait_for_checkpoint(&app.servers, &tenant, sold, WAIT).await?;
    again.stop().await?;
    let redone = sales
        .find_one(bson::doc! {"_id": "s-1"})
        .await?
        .ok_or_else(|| anyhow::anyhow!("sale s-1 not projected again"))?;
    assert_eq!(cost(&redone), 1500, "the cost comes from the sale's own transaction");
    let product = db
        .collection::<bson::Document>("products")
        .find_one(bson::doc! {"_id": "GIN"})
        .await?
        .ok_or_else(|| anyhow::anyhow!("no product"))?;
    assert_eq!(
        product.get_document("stock")?.get_i64("main")?,
        7,
        "the product was not moved twice"
    );
    Ok(())
}

#[tokio::test]
async fn a_supplier_item_linked_to_a_pack_receives_cases_in_the_base_units_of_the_pack() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.open_location(&tenant, "main", "UTC", "00:00", "USD").await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let product = |sku: &str, extra: Value| {
        let mut details = json!({"name": sku, "category": "spirits", "tax_class": "alcohol", "barcodes": []});
        if let (Some(details), Some(extra)) = (details.as_object_mut(), extra.as_object()) {
            details.extend(extra.clone());
        }
        json!({"sku": sku, "details": details, "price": {"amount_minor": 1000, "currency": "USD"}})
    };
    posted(&app, &manager, "/v1/products", &product("GIN", json!({}))).await?;
    posted(&app, &manager, "/v1/products", &product("VODKA", json!({}))).await?;
    posted(
        &app,
        &manager,
        "/v1/products",
        &product("GIN-6", json!({"pack": {"base_sku": "GIN", "units": 6}})),
    )
    .await?;
    // The supplier's case of GIN is the catalog's six-pack GIN-6, at 30.00 a case.
    let item = |pack_sku: &str, case_size: i64| {
        json!({"sku": "GIN", "supplier_code": "AC-6", "case_size": case_size,
            "case_cost": {"amount_minor": 3000, "currency": "USD"}, "lead_time_days": 2, "pack_sku": pack_sku})
    };
    let supplier = |items: Value| json!({"supplier_id": "acme", "name": "Acme", "items": items});
    for (items, code, field) in [
        (json!([item("NOPE", 6)]), "unknown_product", "items[0].pack_sku"),
        (json!([item("VODKA", 6)]), "invalid_field", "items[0].pack_sku"),
        (json!([item("GIN-6", 12)]), "invalid_field", "items[0].case_size"),
        (
            json!([{"sku": "GIN-6", "supplier_code": "AC-6", "case_size": 1,
                "case_cost": {"amount_minor": 3000, "currency": "USD"}}]),
            "stock_in_base_units",
            "items[0].sku",
        ),
    ] {
        let refused = app.post("/v1/suppliers", &manager, &supplier(items), &[]).await?;
        assert_eq!(
            (refused.status, refused.code(), refused.field()),
            (422, code, field),
            "{}",
            refused.body
        );
    }
    posted(&app, &manager, "/v1/suppliers", &supplier(json!([item("GIN-6", 6)]))).await?;
    posted(
        &app,
        &manager,
        "/v1/purchase-orders",
        &json!({"po_id": "po-p", "supplier_id": "acme", "location": "main", "lines": [{"sku": "GIN", "cases": 2}]}),
    )
    .await?;
    posted(&app, &manager, "/v1/purchase-orders/po-p/submit", &json!({})).await?;
    // Two cases arrive: 2 × 6 = 12 units of GIN worth 2 × 3000 = 6000. The same case
    // received without an order as the pack GIN-6 (1 pack at 30.00) lands the same way:
    // 6 more units worth 3000. GIN: 18 units worth 9000, 500 each; GIN-6 holds no stock.
    posted(
        &app,
        &manager,
        "/v1/purchase-orders/po-p/receipts",
        &json!({"receipt_id": "r-p", "lines": [{"line_no": 1, "cases_received": 2}]}),
    )
    .await?;
    let loose = posted(
        &app,
        &manager,
        "/v1/inventory/receipts",
        &json!({"movement_id": "m-p", "sku": "GIN-6", "location": "main", "quantity": 1,
            "unit_cost": {"amount_minor": 3000, "currency": "USD"}, "supplier": "Acme", "reference": "INV-1"}),
    )
    .await?;
    let gin = get(&app, &manager, &format!("/v1/products/GIN?min_sequence={loose}")).await?;
    assert_eq!(
        numbers(&gin.body, &["stock.main", "stock_value.main", "unit_cost.main"]),
        [18, 9000, 500]
    );
    let six = get(&app, &manager, "/v1/products/GIN-6").await?;
    assert!(six.body["stock"]["main"].as_i64().unwrap_or(0) == 0, "{}", six.body);
    let order = get(
        &app,
        &manager,
        &format!("/v1/purchase-orders/po-p?min_sequence={loose}"),
    )
    .await?;
    assert_eq!(
        (&order.body["status"], &order.body["lines"][0]["pack_sku"]),
        (&json!("received"), &json!("GIN-6"))
    );
    assert_eq!(
        numbers(&order.body["lines"][0], &["case_size", "units_accepted"]),
        [6, 12]
    );
    let acme = get(&app, &manager, "/v1/suppliers/acme").await?;
    assert_eq!(acme.body["items"][0]["pack_sku"], json!("GIN-6"));
    projector.stop().await?;
    Ok(())
}
