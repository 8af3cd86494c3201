//! Promotions against the real servers: a mixed case of wine at 10 % off quoted, sold and
//! partly refunded; two overlapping promotions resolved by the stacking rule; promotions
//! outside their window or location not applying; an offline sale flagged; the
//! promotion report; a replay giving the same read model; and the abuse cases. Every
//! number is worked out by hand in the comments (the rules: docs/promotions.md).

use std::time::Duration;

use events::Role;
use serde_json::{Value, json};
use tests::command_app::{Reply, created};
use tests::projector_app::wait_for_checkpoint;
use tests::{CommandApp, ProjectorApp, unique_tenant};

const WAIT: Duration = Duration::from_secs(60);

/// Wine is untaxed in this jurisdiction (its one tax is on beer), so the wine lines'
/// totals are their price after discount and the arithmetic stays about promotions.
fn jurisdiction() -> Value {
    json!({
        "id": "us-nj", "name": "New Jersey", "currency": "USD",
        "rounding": {"scope": "per_line", "mode": "half_up"},
        "taxes": [{"tax_id": "nj-sales", "name": "NJ sales tax", "applies_to": ["beer"],
            "versions": [{"effective_from": "2018-01-01", "rate": {"kind": "percentage", "rate_ppm": 66250}}]}]
    })
}

fn wine(sku: &str, price: i64) -> Value {
    json!({"sku": sku, "occurred_at": "2026-10-01T12:00:00Z",
        "details": {"name": sku, "category": "wine", "tax_class": "wine"},
        "price": {"amount_minor": price, "currency": "USD"}})
}

/// The mixed case: any 12 bottles of RIOJA, CHABLIS or MALBEC, 10 % off, at `nyc` only,
/// from the 1st to the 28th of November 2026.
fn mixed_case() -> Value {
    json!({"promotion_id": "case10", "details": {
        "name": "Mixed case 10 %", "currency": "USD",
        "rule": {"kind": "mix_and_match", "products": {"skus": ["RIOJA", "CHABLIS", "MALBEC"]},
            "quantity": 12, "reward": {"kind": "percent_off", "basis_points": 1000}},
        "starts_at": "2026-11-01T00:00:00Z", "ends_at": "2026-11-28T00:00:00Z", "locations": ["nyc"]}})
}

/// Malbec by four or more: 8.00 a bottle instead of 8.99, everywhere, from November on.
fn malbec_breaks() -> Value {
    json!({"promotion_id": "malbec4", "details": {
        "name": "Malbec by 4", "currency": "USD",
        "rule": {"kind": "quantity_breaks", "sku": "MALBEC",
            "breaks": [{"min_quantity": 4, "unit_price_minor": 800}]},
        "starts_at": "2026-11-01T00:00:00Z"}})
}

fn sequence(reply: &Reply) -> u64 {
    reply.body["stream_sequence"].as_u64().unwrap_or_default()
}

/// A sale paid by card: `(sku, quantity, unit price, discount)` per line, untaxed.
fn sale(id: &str, at: &str, lines: &[(&str, i64, i64, i64)]) -> Value {
    let subtotal: i64 = lines.iter().map(|(_, q, p, _)| q * p).sum();
    let discounts: i64 = lines.iter().map(|(_, _, _, d)| d).sum();
    let total = subtotal - discounts;
    json!({
        "sale_id": id, "location": "nyc", "currency": "USD", "occurred_at": at,
        "lines": lines.iter().map(|(sku, q, p, d)| json!({"sku": sku, "quantity": q, "unit_price_minor": p,
            "discount_minor": d, "tax_minor": 0})).collect::<Vec<_>>(),
        "subtotal_minor": subtotal, "discount_total_minor": discounts, "tax_total_minor": 0, "total_minor": total,
        "tenders": [{"kind": "card", "amount_minor": total}], "change_minor": 0
    })
}

/// Each line's (discount, [(promotion, amount)]).
fn discounts(quote: &Value) -> Vec<(i64, Vec<(String, i64)>)> {
    quote["lines"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|l| {
                    let applied = l["promotions"]
                        .as_array()
                        .map(|p| {
                            p.iter()
                                .map(|a| {
                                    (
                                        a["promotion_id"].as_str().unwrap_or_default().to_owned(),
                                        a["amount_minor"].as_i64().unwrap_or_default(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (l["discount_minor"].as_i64().unwrap_or(-1), applied)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn case(amount: i64) -> Vec<(String, i64)> {
    vec![("case10".to_owned(), amount)]
}

#[tokio::test]
async fn a_mixed_case_gets_ten_percent_by_the_stacking_rule_within_its_window_and_refunds_give_back_its_share()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.allow_backdating(&tenant).await?;
    let admin = app.token(&tenant, Role::Admin).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    app.configure_jurisdiction(&admin, jurisdiction()).await?;
    for id in ["nyc", "hoboken"] {
        let body = json!({"location_id": id, "details": {"name": id, "time_zone": "America/New_York",
            "currency": "USD", "tax_jurisdiction": "us-nj"}});
        created(&app, &admin, "/v1/locations", &body).await?;
    }
    for (sku, price) in [("RIOJA", 1299), ("CHABLIS", 1599), ("MALBEC", 899)] {
        created(&app, &manager, "/v1/products", &wine(sku, price)).await?;
    }

    // Abuse first: a cashier cannot create a promotion; bad input is 422 naming the
    // field, and nothing is recorded.
    let refused = app.post("/v1/promotions", &cashier, &mixed_case(), &[]).await?;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let before = app.tenant_messages(&tenant).await?.len();
    for (change, field) in [
        (
            json!({"rule": {"kind": "mix_and_match", "products": {"skus": ["RIOJA"]}, "quantity": 0,
            "reward": {"kind": "percent_off", "basis_points": 1000}}}),
            "details.rule.quantity",
        ),
        (
            json!({"rule": {"kind": "mix_and_match", "products": {"skus": ["RIOJA"]}, "quantity": 12,
            "reward": {"kind": "percent_off", "basis_points": 20000}}}),
            "details.rule.reward.basis_points",
        ),
        (
            json!({"rule": {"kind": "mix_and_match", "products": {}, "quantity": 12,
            "reward": {"kind": "percent_off", "basis_points": 1000}}}),
            "details.rule.products",
        ),
        (json!({"ends_at": "2026-10-01T00:00:00Z"}), "details.ends_at"),
        (json!({"name": " "}), "details.name"),
        (
            json!({"rule": {"kind": "quantity_breaks", "sku": "MALBEC",
            "breaks": [{"min_quantity": 6, "unit_price_minor": 800}, {"min_quantity": 4, "unit_price_minor": 700}]}}),
            "details.rule.breaks[1].min_quantity",
        ),
    ] {
        let mut body = mixed_case();
        if let (Some(details), Some(change)) = (body["details"].as_object_mut(), change.as_object()) {
            details.extend(change.clone());
        }
        let reply = app.post("/v1/promotions", &manager, &body, &[]).await?;
        assert_eq!((reply.status, reply.field()), (422, field), "{}", reply.body);
    }
    assert_eq!(app.tenant_messages(&tenant).await?.len(), before);

    created(&app, &manager, "/v1/promotions", &mixed_case()).await?;
    let again = app.post("/v1/promotions", &manager, &malbec_breaks(), &[]).await?;
    assert_eq!(again.status, 201, "{}", again.body);
    let duplicate = app
        .post(
            "/v1/promotions",
            &manager,
            &json!({"promotion_id": "case10", "details": malbec_breaks()["details"]}),
            &[],
        )
        .await?;
    assert_eq!((duplicate.status, duplicate.code()), (409, "promotion_exists"));
    wait_for_checkpoint(&app.servers, &tenant, sequence(&again), WAIT).await?;

    let quote = |location: &'static str, at: &'static str, lines: Value| {
        let body = json!({"location": location, "at": at, "lines": lines});
        let (app, cashier) = (&app, &cashier);
        async move {
            let reply = app.post("/v1/pricing/quotes", cashier, &body, &[]).await?;
            anyhow::ensure!(reply.status == 200, "{} {}", reply.status, reply.body);
            anyhow::Ok(reply.body)
        }
    };
    let mixed = json!([{"sku": "RIOJA", "quantity": 4}, {"sku": "CHABLIS", "quantity": 4},
        {"sku": "MALBEC", "quantity": 4}]);

    // The mixed case at nyc on the 25th. Both promotions cover the Malbec line:
    //  case10: 4 × 1299 + 4 × 1599 + 4 × 899 = 5196 + 6396 + 3596 = 15188;
    //          10 % = 1518.8 → 1519 (half up).
    //  malbec4: 4 bottles reach the break: 4 × (899 − 800) = 396.
    // Neither stacks, so the best for the customer wins (1519 > 396) and takes every line
    // it used; malbec4 has no free line left and gives nothing.
    // 1519 split by largest remainder over 5196 : 6396 : 3596 → 519.6, 639.6, 359.6:
    // floors 519 + 639 + 359 = 1517, the 2 units left go to the largest remainders, all
    // .6, so to the earlier lines: 520, 640, 359.
    let at_nyc = quote("nyc", "2026-11-25T15:00:00Z", mixed.clone()).await?;
    assert_eq!(
        discounts(&at_nyc),
        vec![(520, case(520)), (640, case(640)), (359, case(359))],
        "{at_nyc}"
    );
    // 15188 − 1519 = 13669, untaxed.
    assert_eq!(at_nyc["discount_minor"], 1519, "{at_nyc}");
    assert_eq!(at_nyc["total_minor"], 13669, "{at_nyc}");

    // Not at hoboken (case10 is for nyc only), where only malbec4 applies: 396 on line 3.
    let at_hoboken = quote("hoboken", "2026-11-25T15:00:00Z", mixed.clone()).await?;
    let malbec = |amount: i64| vec![("malbec4".to_owned(), amount)];
    assert_eq!(
        discounts(&at_hoboken),
        vec![(0, vec![]), (0, vec![]), (396, malbec(396))],
        "{at_hoboken}"
    );
    // Not after its end (the 28th) nor before its start (the 1st): at nyc on the 29th only
    // malbec4 applies; on 31 October, when malbec4 had not started either, nothing does.
    let after = quote("nyc", "2026-11-29T15:00:00Z", mixed.clone()).await?;
    assert_eq!(discounts(&after)[0], (0, vec![]), "{after}");
    assert_eq!(discounts(&after)[2], (396, malbec(396)), "{after}");
    let before = quote("nyc", "2026-10-31T15:00:00Z", mixed.clone()).await?;
    assert_eq!(
        discounts(&before),
        vec![(0, vec![]), (0, vec![]), (0, vec![])],
        "{before}"
    );
    // Eight Malbecs alone do not make a case of 12, so the break wins: 8 × 99 = 792.
    let eight = quote("nyc", "2026-11-25T15:00:00Z", json!([{"sku": "MALBEC", "quantity": 8}])).await?;
    assert_eq!(discounts(&eight), vec![(792, malbec(792))], "{eight}");

    // The sales. s1 as quoted; s3 eight Malbecs as quoted; s2 from a till that was
    // offline and gave no discount: recorded as sold and flagged, three times.
    let s1 = sale(
        "s1",
        "2026-11-25T15:00:00Z",
        &[
            ("RIOJA", 4, 1299, 520),
            ("CHABLIS", 4, 1599, 640),
            ("MALBEC", 4, 899, 359),
        ],
    );
    created(&app, &cashier, "/v1/sales", &s1).await?;
    let s2 = sale(
        "s2",
        "2026-11-25T16:00:00Z",
        &[("RIOJA", 4, 1299, 0), ("CHABLIS", 4, 1599, 0), ("MALBEC", 4, 899, 0)],
    );
    created(&app, &cashier, "/v1/sales", &s2).await?;
    created(
        &app,
        &cashier,
        "/v1/sales",
        &sale("s3", "2026-11-25T17:00:00Z", &[("MALBEC", 8, 899, 792)]),
    )
    .await?;

    // One Malbec of s1 comes back. The line's promotion share is 359 over 4 bottles;
    // after k bottles R(k) = round_half_up(359 × k / 4): R(1) = 89.75 → 90. The bottle
    // gives back 899 − 90 = 809. The other three later: R(4) − R(1) = 359 − 90 = 269 of
    // discount, 3 × 899 − 269 = 2428. Together 809 + 2428 = 3237 = 3596 − 359: the line
    // exactly.
    let refund = |id: &'static str, quantity: i64, at: &'static str| {
        let body = json!({"refund_id": id, "lines": [{"line_no": 3, "quantity": quantity}], "restock": true,
            "reason": "corked", "occurred_at": at});
        let (app, manager) = (&app, &manager);
        async move { created(app, manager, "/v1/sales/s1/refunds", &body).await }
    };
    refund("r1", 1, "2026-11-25T18:00:00Z").await?;
    let last = refund("r2", 3, "2026-11-25T19:00:00Z").await?;
    wait_for_checkpoint(&app.servers, &tenant, sequence(&last), WAIT).await?;

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
    let sold = get("/v1/sales/s1".into()).await?;
    assert_eq!(sold["refunds"][0]["total_minor"], 809, "{sold}");
    assert_eq!(sold["refunds"][1]["total_minor"], 2428, "{sold}");
    assert_eq!(sold["pricing"]["exceptions"], json!([]), "{sold}");

    // s2 is flagged on each line with what the server would have given.
    let exceptions = get("/v1/reports/pricing-exceptions?date=2026-11-25&location=nyc".into()).await?;
    let flagged: Vec<(String, i64, String, i64, i64)> = exceptions["items"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        r["sale_id"].as_str().unwrap_or_default().to_owned(),
                        r["line_no"].as_i64().unwrap_or_default(),
                        r["difference"]["kind"].as_str().unwrap_or_default().to_owned(),
                        r["difference"]["recorded_minor"].as_i64().unwrap_or(-1),
                        r["difference"]["expected_minor"].as_i64().unwrap_or(-1),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let differs = |line: i64, expected: i64| ("s2".to_owned(), line, "discount_differs".to_owned(), 0, expected);
    assert_eq!(
        flagged,
        vec![differs(1, 520), differs(2, 640), differs(3, 359)],
        "{exceptions}"
    );

    // The report of the 25th. case10: s1 only (s2 kept its own discount): 3 lines, 12
    // bottles, 4 refunded; 1519 given, 359 of it given back with the Malbecs (R(4)),
    // cost 1160. malbec4: s3, 8 bottles, 792.
    let report = get("/v1/reports/promotions?from=2026-11-25&to=2026-11-25".into()).await?;
    assert_eq!(
        report["items"],
        json!([
            {"promotion_id": "case10", "name": "Mixed case 10 %", "currency": "USD", "sale_count": 1,
             "line_count": 3, "units_sold": 12, "units_refunded": 4, "units": 8, "discount_minor": 1519,
             "refunded_discount_minor": 359, "cost_minor": 1160},
            {"promotion_id": "malbec4", "name": "Malbec by 4", "currency": "USD", "sale_count": 1,
             "line_count": 1, "units_sold": 8, "units_refunded": 0, "units": 8, "discount_minor": 792,
             "refunded_discount_minor": 0, "cost_minor": 792}
        ]),
        "{report}"
    );
    let csv = app
        .http
        .get(format!(
            "{}/v1/reports/promotions?from=2026-11-01&to=2026-11-30",
            app.address
        ))
        .bearer_auth(&manager)
        .header("accept", "text/csv")
        .send()
        .await?
        .text()
        .await?;
    assert_eq!(
        csv,
        "promotion_id,name,currency,sale_count,line_count,units_sold,units_refunded,units,discount_minor,refunded_discount_minor,cost_minor\r\n\
         case10,Mixed case 10 %,USD,1,3,12,4,8,1519,359,1160\r\n\
         malbec4,Malbec by 4,USD,1,1,8,0,8,792,0,792\r\n"
    );
    let bad = app
        .send(
            app.http
                .get(format!(
                    "{}/v1/reports/promotions?from=2026-11-30&to=2026-11-01",
                    app.address
                ))
                .bearer_auth(&manager),
        )
        .await?;
    assert_eq!((bad.status, bad.field()), (422, "to"), "{}", bad.body);
    let cashier_report = app
        .send(
            app.http
                .get(format!(
                    "{}/v1/reports/promotions?from=2026-11-25&to=2026-11-25",
                    app.address
                ))
                .bearer_auth(&cashier),
        )
        .await?;
    assert_eq!(cashier_report.status, 403);

    // Ending malbec4 now: it cannot be changed afterwards.
    let listed = get("/v1/promotions".into()).await?;
    let version = listed["items"][1]["version"].as_u64().unwrap_or_default().to_string();
    let ended = app
        .post(
            "/v1/promotions/malbec4/end",
            &manager,
            &json!({"reason": "sold out"}),
            &[("if-match", &version)],
        )
        .await?;
    assert_eq!(ended.status, 201, "{}", ended.body);
    let changed = app
        .write(
            reqwest::Method::PUT,
            "/v1/promotions/malbec4",
            &manager,
            &json!({"details": malbec_breaks()["details"]}),
            &[("if-match", ended.header("etag").unwrap_or_default())],
        )
        .await?;
    assert_eq!(
        (changed.status, changed.code()),
        (409, "promotion_ended"),
        "{}",
        changed.body
    );
    wait_for_checkpoint(&app.servers, &tenant, sequence(&ended), WAIT).await?;
    let read = get("/v1/promotions/malbec4".into()).await?;
    assert_eq!(read["status"], "ended", "{read}");

    // Another tenant sees none of it.
    let other = unique_tenant();
    let stranger = app.token(&other, Role::Manager).await?;
    let theirs = app
        .send(
            app.http
                .get(format!("{}/v1/promotions", app.address))
                .bearer_auth(&stranger),
        )
        .await?;
    assert_eq!(
        (theirs.status, &theirs.body["items"]),
        (200, &json!([])),
        "{}",
        theirs.body
    );
    let one = app
        .send(
            app.http
                .get(format!("{}/v1/promotions/case10", app.address))
                .bearer_auth(&stranger),
        )
        .await?;
    assert_eq!(one.status, 404, "{}", one.body);

    // A replay gives the same read model: promotions and the sales' promotion shares.
    let (live, rebuilt) = tests::read_model::live_and_replayed(&app, &tenant).await?;
    assert_eq!(live["promotions"].len(), 2);
    assert_eq!(tests::read_model::difference(&live, &rebuilt), None);
    projector.stop().await?;
    Ok(())
}
