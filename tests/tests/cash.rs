//! Cash management against the real servers: a cashier's shift with a float, cash sales,
//! a void, a cash refund, a paid-in, a paid-out, a safe drop and a count closes with the
//! over/short worked out by hand below; a blind close hides the expected cash from the
//! cashier but not from the manager, and an over/short past the threshold waits for a
//! manager's approval; two terminals' sessions add up to the location's day; a sale that
//! arrives after its day was closed is an amendment on that day, and voids keep to the
//! tenant's void window; a replay gives the same read model; and abuse (another tenant's session, someone else's session, a
//! retried opening, a closed session, bad amounts) is refused naming the field with
//! nothing published. The rules are in docs/cash.md.

use std::time::Duration;

use events::{Role, TenantId};
use serde_json::{Value, json};
use tests::command_app::{Store, figures, get, posted, read};
use tests::projector_app::wait_for_checkpoint;
use tests::read_model::{self, difference};
use tests::tokens::{account_user, provision};
use tests::{CommandApp, ProjectorApp, unique_tenant};

const WAIT: Duration = Duration::from_secs(60);
const DAY: &str = "2026-11-27";

/// `2026-11-27T<hh:mm>:00Z`: every command of these tests happens on that UTC day.
fn at(time: &str) -> String {
    format!("{DAY}T{time}:00Z")
}

/// A sale of one line (`quantity × price + tax`) on `terminal`, paid by card or with
/// `cash` (change given back), naming `session` if given.
fn sale(id: &str, terminal: &str, line: (i64, i64, i64), pay: Pay, session: Option<&str>, time: &str) -> Value {
    let (quantity, price, tax) = line;
    let subtotal = quantity * price;
    let total = subtotal + tax;
    let (tender, change) = match pay {
        Pay::Card => (json!({"kind": "card", "amount_minor": total}), 0),
        Pay::Cash(given) => (json!({"kind": "cash", "amount_minor": given}), given - total),
    };
    let mut body = json!({"sale_id": id, "terminal_id": terminal, "location": "main", "currency": "USD",
        "lines": [{"sku": "WINE-1", "quantity": quantity, "unit_price_minor": price, "tax_minor": tax}],
        "subtotal_minor": subtotal, "discount_total_minor": 0, "tax_total_minor": tax, "total_minor": total,
        "tenders": [tender], "change_minor": change, "occurred_at": at(time)});
    if let Some(session) = session {
        body["drawer_session_id"] = json!(session);
    }
    body
}

#[derive(Clone, Copy)]
enum Pay {
    Card,
    Cash(i64),
}

fn open(session: &str, terminal: &str, float: i64, time: &str) -> Value {
    json!({"session_id": session, "terminal_id": terminal, "location": "main", "opening_float_minor": float,
        "occurred_at": at(time)})
}

/// A second cashier of `tenant`, on terminal `till-2`.
async fn second_cashier(app: &CommandApp, tenant: &TenantId) -> anyhow::Result<String> {
    let user = format!("cashier2-{tenant}");
    provision(tenant, &user, Role::Cashier).await?;
    app.tokens
        .signer()
        .token(tenant, &user, Role::Cashier, Some("till-2"))
        .map_err(|e| anyhow::anyhow!("signing a token: {e}"))
}

#[tokio::test]
async fn a_shift_with_sales_a_void_a_refund_paid_in_out_and_a_safe_drop_closes_with_the_hand_computed_over_short()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let Store {
        tenant,
        cashier,
        manager,
    } = app.backdated_store().await?;

    // The float: 100.00.
    posted(
        &app,
        &cashier,
        "/v1/drawer-sessions",
        &open("shift-1", "till-1", 10_000, "09:00"),
    )
    .await?;
    // a: 2 × 12.50 + 2.00 tax = 27.00, paid 30.00 cash, 3.00 change: 2700 into the drawer.
    let a = sale("a", "till-1", (2, 1250, 200), Pay::Cash(3000), Some("shift-1"), "09:10");
    posted(&app, &cashier, "/v1/sales", &a).await?;
    // b: 8.99 + 0.72 tax = 9.71, paid 10.00 cash, 0.29 change: 971.
    let b = sale("b", "till-1", (1, 899, 72), Pay::Cash(1000), Some("shift-1"), "09:20");
    posted(&app, &cashier, "/v1/sales", &b).await?;
    // c: 15.00 + 1.20 tax by card: no cash.
    let c = sale("c", "till-1", (1, 1500, 120), Pay::Card, Some("shift-1"), "09:30");
    posted(&app, &cashier, "/v1/sales", &c).await?;
    // d: 5.00 + 0.40 tax = 5.40 exact cash, then voided from the same drawer: 540 in, 540 out.
    let d = sale("d", "till-1", (1, 500, 40), Pay::Cash(540), Some("shift-1"), "09:40");
    posted(&app, &cashier, "/v1/sales", &d).await?;
    posted(
        &app,
        &manager,
        "/v1/sales/d/void",
        &json!({"reason": "wrong item", "drawer_session_id": "shift-1", "occurred_at": at("09:45")}),
    )
    .await?;
    // One of a's two bottles comes back: 2700 / 2 = 1350 paid back in cash (a's tender).
    posted(
        &app,
        &manager,
        "/v1/sales/a/refunds",
        &json!({"refund_id": "r-1", "lines": [{"line_no": 1, "quantity": 1}], "reason": "corked",
            "drawer_session_id": "shift-1", "occurred_at": at("10:00")}),
    )
    .await?;
    let movement = |id: &str, amount: i64, reason: Option<&str>, time: &str| {
        let mut body = json!({"movement_id": id, "amount_minor": amount, "note": "see slip", "occurred_at": at(time)});
        if let Some(reason) = reason {
            body["reason"] = json!(reason);
        }
        body
    };
    posted(
        &app,
        &cashier,
        "/v1/drawer-sessions/shift-1/paid-ins",
        &movement("in-1", 500, Some("change_fund"), "10:10"),
    )
    .await?;
    posted(
        &app,
        &cashier,
        "/v1/drawer-sessions/shift-1/paid-outs",
        &movement("out-1", 1500, Some("vendor_payment"), "10:20"),
    )
    .await?;
    let dropped = posted(
        &app,
        &cashier,
        "/v1/drawer-sessions/shift-1/safe-drops",
        &movement("drop-1", 2000, None, "10:30"),
    )
    .await?;

    // Expected: 10000 float + (2700 + 971 + 0 + 540) sales − 1350 refund − 540 void
    //           + 500 paid in − 1500 paid out − 2000 dropped = 9321.
    let x = read(&app, &cashier, "/v1/drawer-sessions/shift-1", dropped).await?;
    assert_eq!(x["report"], "x", "{x}");
    assert_eq!(x["status"], "open");
    assert_eq!(
        figures(
            &x,
            &[
                "opening_float_minor",
                "cash_sale_count",
                "cash_sales_minor",
                "cash_refunds_minor",
                "cash_voids_minor",
                "paid_in_minor",
                "paid_out_minor",
                "safe_drops_minor",
                "expected_cash_minor",
            ]
        ),
        [10_000, 4, 4211, 1350, 540, 500, 1500, 2000, 9321],
        "{x}"
    );
    assert_eq!(x["over_short_minor"], Value::Null);
    assert_eq!(x["movements"].as_array().map(Vec::len), Some(3));

    // The count: 4 × 20.00 + 2 × 5.00 + 3 × 1.00 + 1 × 0.25 = 93.25: 4 cents over.
    let closed = posted(
        &app,
        &cashier,
        "/v1/drawer-sessions/shift-1/close",
        &json!({"counted_cash_minor": 9325, "occurred_at": at("17:00"), "denominations": [
            {"value_minor": 2000, "count": 4}, {"value_minor": 500, "count": 2},
            {"value_minor": 100, "count": 3}, {"value_minor": 25, "count": 1}]}),
    )
    .await?;
    let z = read(&app, &manager, "/v1/drawer-sessions/shift-1", closed).await?;
    assert_eq!((&z["report"], &z["status"]), (&json!("z"), &json!("closed")), "{z}");
    assert_eq!(
        figures(&z, &["expected_cash_minor", "counted_cash_minor", "over_short_minor"]),
        [9321, 9325, 4],
        "{z}"
    );
    // 4 is within the default threshold of 500.
    assert_eq!(z["approval"], "not_needed");
    assert_eq!(z["closed_by"], account_user(&tenant, Role::Cashier));

    // The day: its expected cash is the drawer's net cash: 4211 − 540 (voided the same day,
    // so d never was takings) − 1350 = 2321 beyond the float.
    let days = read(
        &app,
        &manager,
        &format!("/v1/reports/daily?date={DAY}&location=main"),
        closed,
    )
    .await?;
    let day = &days["items"][0];
    assert_eq!(day["expected_cash_minor"], 2321, "{day}");
    assert_eq!(
        figures(
            day,
            &[
                "drawers.net_cash_minor",
                "drawers.opening_float_minor",
                "drawers.expected_cash_minor",
                "drawers.counted_cash_minor",
                "drawers.over_short_minor",
                "drawers.open_count",
            ]
        ),
        [2321, 10_000, 9321, 9325, 4, 0],
        "{day}"
    );
    assert_eq!(day["drawers"]["sessions"], json!(["shift-1"]));

    let period = format!("from={DAY}&to={DAY}");
    let paid_outs = read(&app, &manager, &format!("/v1/reports/paid-outs?{period}"), closed).await?;
    assert_eq!(
        paid_outs["items"],
        json!([{"reason": "vendor_payment", "count": 1, "amount_minor": 1500}])
    );
    let over_short = read(&app, &manager, &format!("/v1/reports/over-short?{period}"), closed).await?;
    let row = &over_short["by_cashier"][0];
    assert_eq!(row["id"], account_user(&tenant, Role::Cashier), "{over_short}");
    assert_eq!(
        figures(row, &["session_count", "over_short_minor", "over_minor", "short_minor"]),
        [1, 4, 4, 0]
    );
    assert_eq!(over_short["by_terminal"][0]["id"], "till-1");
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_blind_close_hides_the_expected_cash_from_cashiers_and_two_terminals_add_up_to_the_day_and_replay()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let Store {
        tenant,
        cashier: first,
        manager,
    } = app.backdated_store().await?;
    let admin = app.token(&tenant, Role::Admin).await?;
    let second = second_cashier(&app, &tenant).await?;

    // Blind close, and an over/short beyond 1.00 needs a manager.
    let settings = json!({"version": 0, "blind_close": true, "approval_threshold_minor": 100});
    let set = app
        .write(reqwest::Method::PUT, "/v1/settings/cash", &admin, &settings, &[])
        .await?;
    assert_eq!(set.status, 201, "{}", set.body);
    let stale = app
        .write(reqwest::Method::PUT, "/v1/settings/cash", &admin, &settings, &[])
        .await?;
    assert_eq!(stale.header("idempotent-replayed"), Some("true"), "a retry replays");
    let by_manager = app
        .write(reqwest::Method::PUT, "/v1/settings/cash", &manager, &settings, &[])
        .await?;
    assert_eq!(by_manager.status, 403, "settings are an admin's");
    let shown = get(&app, &manager, "/v1/settings/cash").await?;
    assert_eq!(
        shown.body,
        json!({"version": set.body["stream_sequence"], "blind_close": true, "approval_threshold_minor": 100,
            "void_window": null})
    );
    assert_eq!(get(&app, &first, "/v1/settings/cash").await?.status, 403);

    // Two tills, two floats of 50.00.
    posted(
        &app,
        &first,
        "/v1/drawer-sessions",
        &open("s-a", "till-1", 5000, "08:00"),
    )
    .await?;
    posted(
        &app,
        &second,
        "/v1/drawer-sessions",
        &open("s-b", "till-2", 5000, "08:00"),
    )
    .await?;
    // Till 1: 20.00 exact cash. Till 2: 30.00 paid with 50.00, 20.00 change: 3000.
    posted(
        &app,
        &first,
        "/v1/sales",
        &sale("a1", "till-1", (1, 2000, 0), Pay::Cash(2000), Some("s-a"), "09:00"),
    )
    .await?;
    posted(
        &app,
        &second,
        "/v1/sales",
        &sale("b1", "till-2", (1, 3000, 0), Pay::Cash(5000), Some("s-b"), "09:00"),
    )
    .await?;
    // Till 1 counts 70.00 (expected 5000 + 2000: even); till 2 counts 75.00 (expected
    // 5000 + 3000 = 8000: 5.00 short, past the threshold).
    posted(
        &app,
        &first,
        "/v1/drawer-sessions/s-a/close",
        &json!({"counted_cash_minor": 7000, "occurred_at": at("17:00")}),
    )
    .await?;
    let last = posted(
        &app,
        &second,
        "/v1/drawer-sessions/s-b/close",
        &json!({"counted_cash_minor": 7500, "occurred_at": at("17:00")}),
    )
    .await?;

    // The cashiers see their counts, not what was expected; the manager sees everything.
    for (token, session) in [(&first, "s-a"), (&second, "s-b")] {
        let seen = read(&app, token, &format!("/v1/drawer-sessions/{session}"), last).await?;
        assert_eq!(seen["expected_hidden"], true, "{seen}");
        assert_eq!(
            (
                &seen["expected_cash_minor"],
                &seen["over_short_minor"],
                &seen["approval"]
            ),
            (&Value::Null, &Value::Null, &Value::Null),
            "{seen}"
        );
        assert!(seen["counted_cash_minor"].is_i64());
    }
    // A cashier does not read another cashier's session.
    let other = get(&app, &first, &format!("/v1/drawer-sessions/s-b?min_sequence={last}")).await?;
    assert_eq!(other.status, 403);
    let a = read(&app, &manager, "/v1/drawer-sessions/s-a", last).await?;
    assert_eq!(
        figures(&a, &["expected_cash_minor", "over_short_minor"]),
        [7000, 0],
        "{a}"
    );
    assert_eq!(
        (&a["approval"], &a["expected_hidden"]),
        (&json!("not_needed"), &json!(false))
    );
    let b = read(&app, &manager, "/v1/drawer-sessions/s-b", last).await?;
    assert_eq!(
        figures(&b, &["expected_cash_minor", "over_short_minor"]),
        [8000, -500],
        "{b}"
    );
    assert_eq!(b["approval"], "pending");

    // The approval names the over/short the manager saw.
    let wrong = app
        .post(
            "/v1/drawer-sessions/s-b/approve",
            &manager,
            &json!({"over_short_minor": -400, "note": "ok"}),
            &[],
        )
        .await?;
    assert_eq!(
        (wrong.status, wrong.field()),
        (422, "over_short_minor"),
        "{}",
        wrong.body
    );
    let by_cashier = app
        .post(
            "/v1/drawer-sessions/s-b/approve",
            &second,
            &json!({"over_short_minor": -500, "note": "ok"}),
            &[],
        )
        .await?;
    assert_eq!(by_cashier.status, 403);
    let not_needed = app
        .post(
            "/v1/drawer-sessions/s-a/approve",
            &manager,
            &json!({"over_short_minor": 0, "note": "ok"}),
            &[],
        )
        .await?;
    assert_eq!((not_needed.status, not_needed.code()), (409, "nothing_to_approve"));
    let approved = posted(
        &app,
        &manager,
        "/v1/drawer-sessions/s-b/approve",
        &json!({"over_short_minor": -500, "note": "miscounted change, talked to Sam"}),
    )
    .await?;
    let again = app
        .post(
            "/v1/drawer-sessions/s-b/approve",
            &manager,
            &json!({"over_short_minor": -500, "note": "twice"}),
            &[],
        )
        .await?;
    assert_eq!((again.status, again.code()), (409, "nothing_to_approve"));
    let b = read(&app, &manager, "/v1/drawer-sessions/s-b", approved).await?;
    assert_eq!(b["approval"], "approved", "{b}");

    // The day: cash 2000 + 3000 = 5000 beyond the floats, all of it through the two drawers.
    let days = read(
        &app,
        &manager,
        &format!("/v1/reports/daily?date={DAY}&location=main"),
        approved,
    )
    .await?;
    let day = &days["items"][0];
    assert_eq!(day["expected_cash_minor"], 5000, "{day}");
    assert_eq!(day["drawers"]["sessions"], json!(["s-a", "s-b"]));
    assert_eq!(
        figures(
            day,
            &[
                "drawers.net_cash_minor",
                "drawers.opening_float_minor",
                "drawers.expected_cash_minor",
                "drawers.counted_cash_minor",
                "drawers.over_short_minor",
            ]
        ),
        [5000, 10_000, 15_000, 14_500, -500],
        "{day}"
    );
    let over_short = read(
        &app,
        &manager,
        &format!("/v1/reports/over-short?from={DAY}&to={DAY}"),
        approved,
    )
    .await?;
    let terminals: Vec<(String, i64)> = over_short["by_terminal"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        r["id"].as_str().unwrap_or_default().to_owned(),
                        r["over_short_minor"].as_i64().unwrap_or(i64::MIN),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        terminals,
        [("till-1".to_owned(), 0), ("till-2".to_owned(), -500)],
        "{over_short}"
    );
    assert_eq!(over_short["by_cashier"].as_array().map(Vec::len), Some(2));
    let bad_period = get(
        &app,
        &manager,
        &format!("/v1/reports/over-short?from={DAY}&to=2026-11-26"),
    )
    .await?;
    assert_eq!((bad_period.status, bad_period.field()), (422, "to"));

    // A replay from the stream rebuilds the same read model, drawer sessions included.
    wait_for_checkpoint(&app.servers, &tenant, approved, WAIT).await?;
    let (live, rebuilt) = read_model::live_and_replayed(&app, &tenant).await?;
    assert_eq!(live.get("drawer_sessions").map(Vec::len), Some(2));
    assert_eq!(difference(&live, &rebuilt), None);
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn abuse_is_refused_naming_the_field_with_nothing_published_and_late_sales_are_kept_and_flagged()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let Store {
        tenant,
        cashier,
        manager,
    } = app.backdated_store().await?;
    let second = second_cashier(&app, &tenant).await?;
    let intruder_tenant = unique_tenant();
    app.open_location(&intruder_tenant, "main", "UTC", "00:00", "USD")
        .await?;
    let intruder = app.token(&intruder_tenant, Role::Manager).await?;

    let opening = open("shift-x", "till-1", 10_000, "08:00");
    let opened = app.post("/v1/drawer-sessions", &cashier, &opening, &[]).await?;
    assert_eq!(opened.status, 201, "{}", opened.body);
    // A retried opening replays the first answer; the same id with another float is a conflict.
    let retried = app.post("/v1/drawer-sessions", &cashier, &opening, &[]).await?;
    assert_eq!(
        (retried.status, retried.header("idempotent-replayed")),
        (201, Some("true"))
    );
    assert_eq!(retried.body["event_id"], opened.body["event_id"]);
    let other = app
        .post(
            "/v1/drawer-sessions",
            &cashier,
            &open("shift-x", "till-1", 9_000, "08:00"),
            &[],
        )
        .await?;
    assert_eq!((other.status, other.code()), (409, "drawer_session_exists"));
    let before = app.tenant_messages(&tenant).await?.len();

    let paid_out = |id: &str, amount: i64| json!({"movement_id": id, "amount_minor": amount, "reason": "supplies"});
    // Another tenant's session is unknown to the intruder.
    let foreign = app
        .post(
            "/v1/drawer-sessions/shift-x/paid-outs",
            &intruder,
            &paid_out("p-1", 100),
            &[],
        )
        .await?;
    assert_eq!((foreign.status, foreign.code()), (404, "not_found"));
    let foreign = app
        .post(
            "/v1/drawer-sessions/shift-x/close",
            &intruder,
            &json!({"counted_cash_minor": 0}),
            &[],
        )
        .await?;
    assert_eq!(foreign.status, 404);
    // Another cashier can neither move cash in nor close someone else's session.
    let not_theirs = app
        .post(
            "/v1/drawer-sessions/shift-x/close",
            &second,
            &json!({"counted_cash_minor": 0}),
            &[],
        )
        .await?;
    assert_eq!((not_theirs.status, not_theirs.code()), (403, "forbidden"));
    let not_theirs = app
        .post(
            "/v1/drawer-sessions/shift-x/paid-outs",
            &second,
            &paid_out("p-2", 100),
            &[],
        )
        .await?;
    assert_eq!(not_theirs.status, 403);
    // Bad amounts name their field.
    for (path, body, field) in [
        (
            "/v1/drawer-sessions",
            open("shift-y", "till-1", -1, "08:00"),
            "opening_float_minor",
        ),
        (
            "/v1/drawer-sessions/shift-x/paid-outs",
            paid_out("p-3", 0),
            "amount_minor",
        ),
        (
            "/v1/drawer-sessions/shift-x/paid-outs",
            paid_out("p-4", -500),
            "amount_minor",
        ),
        (
            "/v1/drawer-sessions/shift-x/paid-outs",
            json!({"movement_id": "p-5", "amount_minor": 100, "reason": "bribe"}),
            "reason",
        ),
        (
            "/v1/drawer-sessions/shift-x/close",
            json!({"counted_cash_minor": -1}),
            "counted_cash_minor",
        ),
        (
            "/v1/drawer-sessions/shift-x/close",
            json!({"counted_cash_minor": 1000, "denominations": [{"value_minor": 500, "count": 1}]}),
            "denominations",
        ),
        (
            "/v1/drawer-sessions/shift-x/close",
            json!({"counted_cash_minor": 0, "denominations": [{"value_minor": 500, "count": -1}]}),
            "denominations[0].count",
        ),
    ] {
        let reply = app.post(path, &cashier, &body, &[]).await?;
        assert_eq!((reply.status, reply.field()), (422, field), "{path} {}", reply.body);
    }
    // A refund naming an unknown session is refused before anything is decided.
    posted(
        &app,
        &cashier,
        "/v1/sales",
        &sale("s-1", "till-1", (1, 1000, 0), Pay::Cash(1000), Some("shift-x"), "09:00"),
    )
    .await?;
    let sold = app.tenant_messages(&tenant).await?.len();
    assert_eq!(sold, before + 1, "only the sale was published");
    let refund = |session: &str| {
        json!({"refund_id": "r-1", "lines": [{"line_no": 1, "quantity": 1}], "reason": "broken",
            "drawer_session_id": session})
    };
    let unknown = app
        .post("/v1/sales/s-1/refunds", &manager, &refund("nope"), &[])
        .await?;
    assert_eq!(
        (unknown.status, unknown.code(), unknown.field()),
        (422, "unknown_drawer_session", "drawer_session_id")
    );

    // Closed: paid-outs, refunds and voids naming it are refused.
    let closed = posted(
        &app,
        &cashier,
        "/v1/drawer-sessions/shift-x/close",
        &json!({"counted_cash_minor": 11_000}),
    )
    .await?;
    let late = app
        .post(
            "/v1/drawer-sessions/shift-x/paid-outs",
            &cashier,
            &paid_out("p-6", 100),
            &[],
        )
        .await?;
    assert_eq!(
        (late.status, late.code(), late.field()),
        (422, "drawer_session_closed", "session_id")
    );
    let late = app
        .post("/v1/sales/s-1/refunds", &manager, &refund("shift-x"), &[])
        .await?;
    assert_eq!(
        (late.status, late.code(), late.field()),
        (422, "drawer_session_closed", "drawer_session_id")
    );
    let late = app
        .post(
            "/v1/sales/s-1/void",
            &manager,
            &json!({"reason": "x", "drawer_session_id": "shift-x"}),
            &[],
        )
        .await?;
    assert_eq!((late.status, late.field()), (422, "drawer_session_id"));
    let closing_twice = app
        .post(
            "/v1/drawer-sessions/shift-x/close",
            &manager,
            &json!({"counted_cash_minor": 1}),
            &[],
        )
        .await?;
    assert_eq!(
        (closing_twice.status, closing_twice.code()),
        (422, "drawer_session_closed")
    );
    assert_eq!(
        app.tenant_messages(&tenant).await?.len(),
        sold + 1,
        "nothing refused was published (only the close)"
    );

    // A till that was offline uploads a sale it rang up on the closed session, and another
    // naming a session nobody opened: both are recorded, flagged, and leave the count alone.
    posted(
        &app,
        &cashier,
        "/v1/sales",
        &sale(
            "s-late",
            "till-1",
            (1, 700, 0),
            Pay::Cash(700),
            Some("shift-x"),
            "16:00",
        ),
    )
    .await?;
    let last = posted(
        &app,
        &cashier,
        "/v1/sales",
        &sale("s-lost", "till-1", (1, 300, 0), Pay::Cash(300), Some("ghost"), "16:05"),
    )
    .await?;
    let late = read(&app, &manager, "/v1/sales/s-late", last).await?;
    assert_eq!(
        (&late["drawer_session_id"], &late["drawer_flag"]),
        (&json!("shift-x"), &json!("session_closed"))
    );
    let lost = read(&app, &manager, "/v1/sales/s-lost", last).await?;
    assert_eq!(lost["drawer_flag"], "unknown_session");
    let counted = read(&app, &manager, "/v1/sales/s-1", last).await?;
    assert!(counted.get("drawer_flag").is_none(), "{counted}");
    let session = read(&app, &manager, "/v1/drawer-sessions/shift-x", closed.max(last)).await?;
    // 10000 + 1000 = 11000 expected, 11000 counted: even, whatever arrived later.
    assert_eq!(
        figures(
            &session,
            &["expected_cash_minor", "over_short_minor", "cash_sale_count"]
        ),
        [11_000, 0, 1],
        "{session}"
    );
    assert_eq!(session["flagged_sales"][0]["sale_id"], "s-late");
    assert_eq!(session["flagged_sales"][0]["flag"], "session_closed");
    assert_eq!(session["flagged_sales"][0]["cash_minor"], 700);
    // The intruder cannot read it either.
    let foreign = get(&app, &intruder, "/v1/drawer-sessions/shift-x").await?;
    assert_eq!(foreign.status, 404);
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_late_offline_sale_after_the_day_close_is_an_amendment_on_its_day_and_voids_keep_to_the_window()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    let opened = app.open_location(&tenant, "main", "UTC", "00:00", "USD").await?;
    let admin = app.token(&tenant, Role::Admin).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let settings = json!({"version": 0, "blind_close": false, "approval_threshold_minor": 500,
        "void_window": "same_business_day"});
    let set = app
        .write(reqwest::Method::PUT, "/v1/settings/cash", &admin, &settings, &[])
        .await?;
    assert_eq!(set.status, 201, "{}", set.body);

    // e1: 10.00 cash on the 27th, before the close.
    posted(
        &app,
        &cashier,
        "/v1/sales",
        &sale("e1", "till-1", (1, 1000, 0), Pay::Cash(1000), None, "10:00"),
    )
    .await?;
    let close = format!("/v1/locations/main/days/{DAY}/close");
    let note = json!({"note": "drawers counted"});
    let closed = app.post(&close, &manager, &note, &[]).await?;
    assert_eq!(closed.status, 201, "{}", closed.body);
    // A retried close replays; a second, different close is a conflict.
    let retried = app.post(&close, &manager, &note, &[]).await?;
    assert_eq!(retried.header("idempotent-replayed"), Some("true"));
    let twice = app.post(&close, &manager, &json!({"note": "again"}), &[]).await?;
    assert_eq!((twice.status, twice.code()), (409, "day_closed"));
    let by_cashier = app.post(&close, &cashier, &note, &[]).await?;
    assert_eq!(by_cashier.status, 403);
    let future = app
        .post("/v1/locations/main/days/2099-01-01/close", &manager, &note, &[])
        .await?;
    assert_eq!((future.status, future.field()), (422, "date"));
    let sloppy = app
        .post("/v1/locations/main/days/2026-11-7/close", &manager, &note, &[])
        .await?;
    assert_eq!((sloppy.status, sloppy.field()), (422, "date"));
    let nowhere = app
        .post("/v1/locations/nowhere/days/2026-11-27/close", &manager, &note, &[])
        .await?;
    assert_eq!(nowhere.status, 404);
    // Closing a day does not change the location's version: an admin's edit still applies.
    let version = opened.header("etag").unwrap_or_default().to_owned();
    let renamed = app
        .write(
            reqwest::Method::PUT,
            "/v1/locations/main",
            &admin,
            &json!({"details": {"name": "Main Street", "time_zone": "UTC", "currency": "USD"}}),
            &[("if-match", &version)],
        )
        .await?;
    assert_eq!(renamed.status, 201, "{}", renamed.body);

    // e2: 5.00 cash rung up at 18:00 on the 27th by a till that was offline, uploaded now.
    posted(
        &app,
        &cashier,
        "/v1/sales",
        &sale("e2", "till-1", (1, 500, 0), Pay::Cash(500), None, "18:00"),
    )
    .await?;
    // The window is the sale's business day: a void today is refused, one dated the 27th
    // (entered late, like the sale) is accepted and is an amendment too.
    let late_void = app
        .post("/v1/sales/e1/void", &manager, &json!({"reason": "test"}), &[])
        .await?;
    assert_eq!(
        (late_void.status, late_void.code()),
        (409, "void_window_passed"),
        "{}",
        late_void.body
    );
    let last = posted(
        &app,
        &manager,
        "/v1/sales/e1/void",
        &json!({"reason": "customer changed mind", "occurred_at": at("20:00")}),
    )
    .await?;

    // The 27th: e1 was voided the same day, so only e2 counts: 1 sale, 500 cash.
    let days = read(
        &app,
        &manager,
        &format!("/v1/reports/daily?date={DAY}&location=main"),
        last,
    )
    .await?;
    let day = &days["items"][0];
    assert_eq!(
        figures(
            day,
            &["sale_count", "tenders.cash", "voids.count", "expected_cash_minor"]
        ),
        [1, 500, 1, 500],
        "{day}"
    );
    assert!(day["closed_at"].is_string(), "{day}");
    assert_eq!(day["closed_by"], account_user(&tenant, Role::Manager));
    let amendments: Vec<(String, String, i64, i64)> = day["amendments"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|a| {
                    (
                        a["kind"].as_str().unwrap_or_default().to_owned(),
                        a["reference"].as_str().unwrap_or_default().to_owned(),
                        a["total_minor"].as_i64().unwrap_or(i64::MIN),
                        a["cash_minor"].as_i64().unwrap_or(i64::MIN),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        amendments,
        [
            ("sale".to_owned(), "e2".to_owned(), 500, 500),
            ("void".to_owned(), "e1".to_owned(), -1000, -1000)
        ],
        "{day}"
    );
    // Each amendment says when it happened and when it arrived (after the close).
    let arrived = day["amendments"][0]["recorded_at"].as_str().unwrap_or_default();
    assert!(arrived > day["closed_at"].as_str().unwrap_or_default(), "{day}");
    let happened = day["amendments"][0]["occurred_at"].as_str().unwrap_or_default();
    assert!(happened.starts_with("2026-11-27T18:00:00"), "{day}");

    // The amendments are facts of the stream order: a replay rebuilds them the same.
    wait_for_checkpoint(&app.servers, &tenant, last, WAIT).await?;
    let (live, rebuilt) = read_model::live_and_replayed(&app, &tenant).await?;
    assert_eq!(difference(&live, &rebuilt), None);
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_terminal_has_one_open_session_and_a_day_does_not_close_over_open_drawers() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let Store {
        tenant,
        cashier,
        manager,
    } = app.backdated_store().await?;
    let second = second_cashier(&app, &tenant).await?;

    let first = posted(
        &app,
        &cashier,
        "/v1/drawer-sessions",
        &open("s-1", "till-1", 10_000, "08:00"),
    )
    .await?;
    wait_for_checkpoint(&app.servers, &tenant, first, WAIT).await?;
    // A second session on the same till while s-1 is open: refused, naming s-1.
    let before = app.tenant_messages(&tenant).await?.len();
    let again = app
        .post(
            "/v1/drawer-sessions",
            &cashier,
            &open("s-2", "till-1", 10_000, "09:00"),
            &[],
        )
        .await?;
    assert_eq!(
        (again.status, again.code()),
        (409, "terminal_session_open"),
        "{}",
        again.body
    );
    assert!(
        again.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("s-1")),
        "{}",
        again.body
    );
    // Another till opens its own.
    let other = open("t2-1", "till-2", 5_000, "09:00");
    let other_seq = posted(&app, &second, "/v1/drawer-sessions", &other).await?;
    wait_for_checkpoint(&app.servers, &tenant, other_seq, WAIT).await?;
    // The day does not close while either drawer is open.
    let close_day = format!("/v1/locations/main/days/{DAY}/close");
    let refused = app
        .post(&close_day, &manager, &json!({"occurred_at": at("23:00")}), &[])
        .await?;
    assert_eq!(
        (refused.status, refused.code()),
        (409, "drawer_sessions_open"),
        "{}",
        refused.body
    );
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("s-1") && m.contains("t2-1")),
        "{}",
        refused.body
    );
    assert_eq!(
        app.tenant_messages(&tenant).await?.len(),
        before + 1,
        "only t2-1's opening"
    );

    // s-1 closes; the next shift on till-1 opens at once, before the projector has seen
    // the close (the close is confirmed from the session's own events).
    posted(
        &app,
        &cashier,
        "/v1/drawer-sessions/s-1/close",
        &json!({"counted_cash_minor": 10_000, "occurred_at": at("12:00")}),
    )
    .await?;
    posted(
        &app,
        &cashier,
        "/v1/drawer-sessions",
        &open("s-2", "till-1", 10_000, "12:05"),
    )
    .await?;
    // A manager closes the remaining drawers, anyone's, and then the day.
    for session in ["s-2", "t2-1"] {
        posted(
            &app,
            &manager,
            &format!("/v1/drawer-sessions/{session}/close"),
            &json!({"counted_cash_minor": 0, "occurred_at": at("22:00")}),
        )
        .await?;
    }
    let closed = app
        .post(&close_day, &manager, &json!({"occurred_at": at("23:00")}), &[])
        .await?;
    assert_eq!(closed.status, 201, "{}", closed.body);
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn drawer_sessions_over_a_period_are_listed_by_day_with_over_short_approval_and_paid_outs_in_pages()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let Store {
        tenant,
        cashier,
        manager,
    } = app.backdated_store().await?;
    app.open_location(&tenant, "north", "UTC", "00:00", "USD").await?;
    let on = |day: &str, time: &str| format!("2026-11-{day}T{time}:00Z");
    let open_at = |session: &str, location: &str, terminal: &str, float: i64, when: String| {
        json!({"session_id": session, "terminal_id": terminal, "location": location,
            "opening_float_minor": float, "occurred_at": when})
    };
    let paid_out = |id: &str, amount: i64, reason: &str, when: String| json!({"movement_id": id, "amount_minor": amount, "reason": reason, "occurred_at": when});

    // s-a, main, the 25th: float 100.00, paid out 15.00 to a vendor: expected
    // 10000 − 1500 = 8500; counted 84.50: −50, within the default 500: not_needed.
    // s-b, main, the 26th: float 50.00, paid out 2.00 for supplies: expected 4800;
    // counted 40.00: −800, beyond 500: pending a manager's approval.
    for (session, day, float, out, reason, counted) in [
        ("s-a", "25", 10_000, 1500, "vendor_payment", 8450),
        ("s-b", "26", 5000, 200, "supplies", 4000),
    ] {
        let base = format!("/v1/drawer-sessions/{session}");
        let open = open_at(session, "main", "till-1", float, on(day, "09:00"));
        posted(&app, &cashier, "/v1/drawer-sessions", &open).await?;
        let out = paid_out(&format!("o-{session}"), out, reason, on(day, "10:00"));
        posted(&app, &cashier, &format!("{base}/paid-outs"), &out).await?;
        let close = json!({"counted_cash_minor": counted, "occurred_at": on(day, "17:00")});
        posted(&app, &cashier, &format!("{base}/close"), &close).await?;
    }
    // s-c, north, the 26th (a second cashier's, on till-2): float 20.00, still open:
    // expected 2000, no over/short yet.
    let second = second_cashier(&app, &tenant).await?;
    posted(
        &app,
        &second,
        "/v1/drawer-sessions",
        &open_at("s-c", "north", "till-2", 2000, on("26", "09:30")),
    )
    .await?;
    // s-d, main, the 28th: outside the period.
    let last = posted(
        &app,
        &cashier,
        "/v1/drawer-sessions",
        &open_at("s-d", "main", "till-1", 1000, on("28", "09:00")),
    )
    .await?;

    let main = read(
        &app,
        &manager,
        "/v1/drawer-sessions?location=main&from=2026-11-25&to=2026-11-27",
        last,
    )
    .await?;
    let items = main["items"].as_array().cloned().unwrap_or_default();
    let ids: Vec<&str> = items.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, ["s-a", "s-b"], "{main}");
    assert_eq!(main["next_cursor"], Value::Null);
    let fields = [
        "opening_float_minor",
        "paid_out_minor",
        "expected_cash_minor",
        "counted_cash_minor",
        "over_short_minor",
    ];
    assert_eq!(
        figures(&items[0], &fields),
        [10_000, 1500, 8500, 8450, -50],
        "{}",
        items[0]
    );
    assert_eq!(
        figures(&items[1], &fields),
        [5000, 200, 4800, 4000, -800],
        "{}",
        items[1]
    );
    assert_eq!(
        (&items[0]["approval"], &items[1]["approval"]),
        (&json!("not_needed"), &json!("pending"))
    );
    assert_eq!(items[0]["business_date"], "2026-11-25");
    assert_eq!(items[1]["movements"][0]["reason"], "supplies", "{}", items[1]);
    assert_eq!(items[1]["movements"][0]["amount_minor"], 200);

    // Every location, one session a page: by business day, then id.
    let mut pages = Vec::new();
    let mut path = "/v1/drawer-sessions?from=2026-11-25&to=2026-11-27&limit=1".to_owned();
    loop {
        let page = read(&app, &manager, &path, last).await?;
        pages.push(page["items"][0]["id"].as_str().unwrap_or_default().to_owned());
        assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/drawer-sessions?from=2026-11-25&to=2026-11-27&limit=1&cursor={cursor}"),
            None => break,
        }
        anyhow::ensure!(pages.len() < 10, "paging does not end: {pages:?}");
    }
    assert_eq!(pages, ["s-a", "s-b", "s-c"]);
    let north = read(
        &app,
        &manager,
        "/v1/drawer-sessions?location=north&from=2026-11-26&to=2026-11-26",
        last,
    )
    .await?;
    assert_eq!(figures(&north["items"][0], &["expected_cash_minor"]), [2000], "{north}");
    assert_eq!(
        (&north["items"][0]["over_short_minor"], &north["items"][0]["approval"]),
        (&Value::Null, &Value::Null)
    );

    // Abuse: a cashier, another tenant's location, bad periods, bad paging.
    let refused = get(&app, &cashier, "/v1/drawer-sessions?from=2026-11-25&to=2026-11-27").await?;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let anonymous = app
        .send(app.http.get(format!(
            "{}/v1/drawer-sessions?from=2026-11-25&to=2026-11-27",
            app.address
        )))
        .await?;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let stranger_tenant = unique_tenant();
    let stranger = app.token(&stranger_tenant, Role::Manager).await?;
    let theirs = get(
        &app,
        &stranger,
        "/v1/drawer-sessions?location=main&from=2026-11-25&to=2026-11-27",
    )
    .await?;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
    let nowhere = get(
        &app,
        &manager,
        "/v1/drawer-sessions?location=nowhere&from=2026-11-25&to=2026-11-27",
    )
    .await?;
    assert_eq!(nowhere.status, 404, "{}", nowhere.body);
    for (query, field) in [
        ("from=2026-11-27&to=2026-11-25", "to"),
        // 2026-09-01 ..= 2026-12-01 is 92 days: one more is too many.
        ("from=2026-09-01&to=2026-12-02", "to"),
        ("from=yesterday&to=2026-11-25", "from"),
        ("from=2026-11-25&to=2026-11-27&limit=0", "limit"),
        ("from=2026-11-25&to=2026-11-27&cursor=nonsense", "cursor"),
    ] {
        let bad = get(&app, &manager, &format!("/v1/drawer-sessions?{query}")).await?;
        assert_eq!((bad.status, bad.field()), (422, field), "{query}: {}", bad.body);
    }
    let quarter = read(
        &app,
        &manager,
        "/v1/drawer-sessions?from=2026-09-01&to=2026-12-01",
        last,
    )
    .await?;
    assert_eq!(quarter["items"].as_array().map(Vec::len), Some(4), "{quarter}");
    projector.stop().await?;
    Ok(())
}
