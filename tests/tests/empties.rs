//! Empties returned at the counter against the real servers: a customer brings back cans
//! and bottles, the cashier pays their container deposits out of the open drawer, and the
//! drawer's expected cash, the Z report's deposits held and expected cash, and the
//! amendments of a closed day move by exactly the cash paid. An offline till that paid
//! last week's deposit amount is recorded as paid, never refused, and counted as a
//! difference. Abuse (unknown schemes, bad counts, another cashier's or tenant's session,
//! a store without deposit schemes, a reused id) is refused naming the field with nothing
//! published; a replay rebuilds the same read model. Every figure is worked out by hand in
//! the comments (the rules: docs/cash.md, "Empties").

use std::time::Duration;

use events::Role;
use serde_json::{Value, json};
use tests::command_app::{figures, posted, read};
use tests::projector_app::wait_for_checkpoint;
use tests::read_model::{self, difference};
use tests::tokens::provision;
use tests::{CommandApp, ProjectorApp, unique_tenant};

const WAIT: Duration = Duration::from_secs(60);

/// A California-like deposit law: 5¢ per can or bottle under 710 ml, 10¢ from 710 ml;
/// the small amount goes up to 6¢ on 2026-11-15 (a made-up change, to have an old amount
/// an offline till can still use).
fn california() -> Value {
    json!({
        "id": "us-ca", "name": "Los Angeles", "currency": "USD",
        "rounding": {"scope": "per_line", "mode": "half_up"},
        "taxes": [{"tax_id": "ca-sales", "name": "CA sales tax", "applies_to": ["beer"],
            "versions": [{"effective_from": "2020-01-01", "rate": {"kind": "percentage", "rate_ppm": 95000}}]}],
        "deposits": [
            {"deposit_id": "crv-small", "name": "CRV", "container_types": ["can", "glass_bottle"],
                "below_volume_ml": 710,
                "versions": [{"effective_from": "2010-01-01", "amount_minor": 5},
                             {"effective_from": "2026-11-15", "amount_minor": 6}]},
            {"deposit_id": "crv-large", "name": "CRV 24 oz+", "container_types": ["can", "glass_bottle"],
                "min_volume_ml": 710,
                "versions": [{"effective_from": "2010-01-01", "amount_minor": 10}]}
        ]
    })
}

fn empties(id: &str, lines: &[(&str, u32)], paid: Option<i64>, at: &str) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(scheme, count)| json!({"deposit_id": scheme, "count": count}))
        .collect();
    let mut body = json!({"movement_id": id, "lines": lines, "occurred_at": at});
    if let Some(paid) = paid {
        body["paid_minor"] = json!(paid);
    }
    body
}

#[tokio::test]
async fn empties_pay_out_the_schemes_deposits_from_the_drawer_and_the_z_report_and_an_old_amount_is_kept_as_paid()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.allow_backdating(&tenant).await?; // fixed past dates
    let admin = app.token(&tenant, Role::Admin).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    app.configure_jurisdiction(&admin, california()).await?;
    let store = json!({"location_id": "la", "details": {"name": "LA", "time_zone": "America/Los_Angeles",
        "currency": "USD", "tax_jurisdiction": "us-ca", "business_day_start": "04:00"}});
    posted(&app, &admin, "/v1/locations", &store).await?;

    // 2026-11-20 in Los Angeles (UTC−8): the shift opens at 09:00 local with 100.00.
    let open = json!({"session_id": "la-shift", "terminal_id": "till-1", "location": "la",
        "opening_float_minor": 10_000, "occurred_at": "2026-11-20T17:00:00Z"});
    posted(&app, &cashier, "/v1/drawer-sessions", &open).await?;
    let path = "/v1/drawer-sessions/la-shift/empties-returns";
    // e-1 at 10:00 local: 24 small cans and 3 large bottles, the server's amounts:
    //   24 × 6 = 144, 3 × 10 = 30 → 174 paid.
    let first = app
        .post(
            path,
            &cashier,
            &empties(
                "e-1",
                &[("crv-small", 24), ("crv-large", 3)],
                None,
                "2026-11-20T18:00:00Z",
            ),
            &[],
        )
        .await?;
    assert_eq!(first.status, 201, "{}", first.body);
    // A retry of e-1 (lost answer) is answered again, not paid twice.
    let retried = app
        .post(
            path,
            &cashier,
            &empties(
                "e-1",
                &[("crv-small", 24), ("crv-large", 3)],
                None,
                "2026-11-20T18:00:00Z",
            ),
            &[],
        )
        .await?;
    assert_eq!(
        (retried.status, retried.header("idempotent-replayed")),
        (201, Some("true"))
    );
    assert_eq!(retried.body["event_id"], first.body["event_id"]);
    // e-2 at 11:00 local, from a till that still had the old 5¢: 24 small cans, paid
    //   24 × 5 = 120; the server's amount is 24 × 6 = 144. Kept as paid, a difference.
    let second = posted(
        &app,
        &cashier,
        path,
        &empties("e-2", &[("crv-small", 24)], Some(120), "2026-11-20T19:00:00Z"),
    )
    .await?;
    // e-3 at 02:30 local on the 21st: before the 04:00 day start, so still the 20th's
    //   business day: 2 large → 20.
    let third = posted(
        &app,
        &cashier,
        path,
        &empties("e-3", &[("crv-large", 2)], None, "2026-11-21T10:30:00Z"),
    )
    .await?;

    // The drawer: 10000 − 174 − 120 − 20 = 9686 expected; the movements list the three.
    let session = read(&app, &manager, "/v1/drawer-sessions/la-shift", third).await?;
    assert_eq!(
        figures(
            &session,
            &["empties_paid_minor", "expected_cash_minor", "paid_out_minor"]
        ),
        [314, 9686, 0],
        "{session}"
    );
    let kinds: Vec<(&str, i64)> = session["movements"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| {
                    (
                        m["kind"].as_str().unwrap_or(""),
                        m["amount_minor"].as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        kinds,
        [("empties_return", 174), ("empties_return", 120), ("empties_return", 20)]
    );

    // The Z report of the 20th at la: three returns, 24 + 3 + 24 + 2 = 53 containers,
    //   the server's deposits 174 + 144 + 20 = 338, cash paid 174 + 120 + 20 = 314, one
    //   difference (e-2). No sales: deposits held 0 − 314 = −314, expected cash −314.
    let day = read(&app, &manager, "/v1/reports/daily?date=2026-11-20&location=la", third).await?;
    let row = &day["items"][0];
    assert_eq!(
        figures(
            row,
            &[
                "empties.count",
                "empties.containers",
                "empties.deposit_minor",
                "empties.paid_minor",
                "empties.differing_count",
                "deposits_after_refunds_minor",
                "expected_cash_minor",
                "drawers.net_cash_minor",
            ]
        ),
        [3, 53, 338, 314, 1, -314, -314, -314],
        "{day}"
    );
    let csv = app
        .http
        .get(format!("{}/v1/reports/daily?date=2026-11-20&location=la", app.address))
        .bearer_auth(&manager)
        .header("accept", "text/csv")
        .send()
        .await?
        .text()
        .await?;
    // The last five columns are the empties: count, containers, deposit, paid, differing.
    assert!(
        csv.lines().next().is_some_and(|header| header.ends_with(
            "empties_count,empties_containers,empties_deposit_minor,empties_paid_minor,empties_differing_count"
        )) && csv.lines().nth(1).is_some_and(|row| row.ends_with(",3,53,338,314,1")),
        "{csv}"
    );

    // The shift closes with the drawer counted right, and the manager closes the 20th.
    posted(
        &app,
        &cashier,
        "/v1/drawer-sessions/la-shift/close",
        &json!({"counted_cash_minor": 9686, "occurred_at": "2026-11-21T11:00:00Z"}),
    )
    .await?;
    let close = json!({"occurred_at": "2026-11-21T13:00:00Z"});
    posted(&app, &manager, "/v1/locations/la/days/2026-11-20/close", &close).await?;
    // The next morning's shift uploads a return a till queued offline at 15:00 local on
    // the 20th: it counts on the 20th, listed as an amendment: 1 large → −10 cash.
    let open = json!({"session_id": "la-shift-2", "terminal_id": "till-1", "location": "la",
        "opening_float_minor": 10_000, "occurred_at": "2026-11-21T17:00:00Z"});
    posted(&app, &cashier, "/v1/drawer-sessions", &open).await?;
    let late = posted(
        &app,
        &cashier,
        "/v1/drawer-sessions/la-shift-2/empties-returns",
        &empties("e-4", &[("crv-large", 1)], None, "2026-11-20T23:00:00Z"),
    )
    .await?;
    let day = read(&app, &manager, "/v1/reports/daily?date=2026-11-20&location=la", late).await?;
    let row = &day["items"][0];
    assert_eq!(
        figures(row, &["empties.count", "empties.paid_minor", "expected_cash_minor"]),
        [4, 324, -324]
    );
    assert_eq!(row["amendments"][0]["kind"], "empties_return", "{day}");
    assert_eq!(
        figures(&row["amendments"][0], &["total_minor", "cash_minor"]),
        [-10, -10]
    );
    let _ = second;

    // A replay from the stream rebuilds the same read model.
    wait_for_checkpoint(&app.servers, &tenant, late, WAIT).await?;
    let (live, rebuilt) = read_model::live_and_replayed(&app, &tenant).await?;
    assert_eq!(difference(&live, &rebuilt), None);
    projector.stop().await?;
    Ok(())
}

#[tokio::test]
async fn bad_empties_are_refused_naming_the_field_and_nothing_is_published() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    let admin = app.token(&tenant, Role::Admin).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    app.configure_jurisdiction(&admin, california()).await?;
    let store = json!({"location_id": "la", "details": {"name": "LA", "time_zone": "America/Los_Angeles",
        "currency": "USD", "tax_jurisdiction": "us-ca"}});
    posted(&app, &admin, "/v1/locations", &store).await?;
    app.open_locations(&tenant).await?; // `main`: no tax jurisdiction, so no deposit schemes
    let open = |session: &str, location: &str| json!({"session_id": session, "terminal_id": "till-1", "location": location, "opening_float_minor": 5_000});
    posted(&app, &cashier, "/v1/drawer-sessions", &open("s-la", "la")).await?;
    posted(&app, &cashier, "/v1/drawer-sessions", &open("s-main", "main")).await?;
    let now = chrono::Utc::now().to_rfc3339();
    posted(
        &app,
        &cashier,
        "/v1/drawer-sessions/s-la/empties-returns",
        &empties("ok-1", &[("crv-small", 6)], None, &now),
    )
    .await?;
    let before = app.tenant_messages(&tenant).await?.len();

    let la = "/v1/drawer-sessions/s-la/empties-returns";
    for (path, body, field) in [
        (la, empties("b-1", &[("pfand", 6)], None, &now), "lines[0].deposit_id"),
        (la, empties("b-2", &[("crv-small", 0)], None, &now), "lines[0].count"),
        (
            la,
            empties("b-3", &[("crv-small", 1), ("crv-small", 2)], None, &now),
            "lines[1].deposit_id",
        ),
        (la, empties("b-4", &[], None, &now), "lines"),
        (la, empties("b-5", &[("crv-small", 1)], Some(-5), &now), "paid_minor"),
        (
            "/v1/drawer-sessions/s-main/empties-returns",
            empties("b-6", &[("crv-small", 1)], None, &now),
            "lines[0].deposit_id",
        ),
    ] {
        let reply = app.post(path, &cashier, &body, &[]).await?;
        assert_eq!((reply.status, reply.field()), (422, field), "{body}: {}", reply.body);
    }
    // The same movement id with other contents is a conflict, not a second payment.
    let reused = app
        .post(la, &cashier, &empties("ok-1", &[("crv-small", 7)], None, &now), &[])
        .await?;
    assert_eq!(
        (reused.status, reused.code()),
        (409, "cash_movement_exists"),
        "{}",
        reused.body
    );
    // Another cashier of the tenant cannot pay out of this cashier's drawer.
    let other = format!("cashier2-{tenant}");
    provision(&tenant, &other, Role::Cashier).await?;
    let other = app
        .tokens
        .signer()
        .token(&tenant, &other, Role::Cashier, Some("till-2"))
        .map_err(|e| anyhow::anyhow!("signing a token: {e}"))?;
    let not_theirs = app
        .post(la, &other, &empties("b-7", &[("crv-small", 1)], None, &now), &[])
        .await?;
    assert_eq!((not_theirs.status, not_theirs.code()), (403, "forbidden"));
    // Another tenant does not see the session at all.
    let stranger_tenant = unique_tenant();
    let stranger = app.token(&stranger_tenant, Role::Manager).await?;
    let foreign = app
        .post(la, &stranger, &empties("b-8", &[("crv-small", 1)], None, &now), &[])
        .await?;
    assert_eq!((foreign.status, foreign.code()), (404, "not_found"));
    // A closed session pays nothing more.
    posted(
        &app,
        &cashier,
        "/v1/drawer-sessions/s-main/close",
        &json!({"counted_cash_minor": 5_000}),
    )
    .await?;
    let closed = app
        .post(
            "/v1/drawer-sessions/s-main/empties-returns",
            &cashier,
            &empties("b-9", &[("crv-small", 1)], None, &now),
            &[],
        )
        .await?;
    assert_eq!((closed.status, closed.code()), (422, "drawer_session_closed"));
    let after = app.tenant_messages(&tenant).await?.len();
    assert_eq!(after, before + 1, "only the close was published");
    Ok(())
}
