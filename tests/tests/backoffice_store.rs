//! The back office's store pages over plain HTTP: a location's details and its close (with
//! the `If-Match` conflict message), promotions (create the simple kinds, end one, the
//! conflict), drawer sessions over a period (over/short, approval, paid-outs) and a
//! location's taxes. Each page's happy path, the wrong role, forms without the session's
//! CSRF token, and another tenant. The real API, projector and back office run against the
//! real servers; accounts are made through the identity flow.

use reqwest::Method;
use serde_json::{Value, json};
use tests::backoffice_app::{Answer, Organization, Visit};
use tests::command_app::{get as api_get, posted, read};
use tests::{BackofficeApp, CommandApp, ProjectorApp};

struct World {
    app: CommandApp,
    _projector: ProjectorApp,
    office: BackofficeApp,
    org: Organization,
}

async fn world() -> anyhow::Result<World> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let office = BackofficeApp::spawn(&app).await?;
    let org = Organization::create(&app).await?;
    Ok(World {
        app,
        _projector: projector,
        office,
        org,
    })
}

impl World {
    async fn signed_in(&self, email: &str) -> anyhow::Result<Visit> {
        let mut visit = self.office.visit();
        visit.sign_in(email).await?;
        Ok(visit)
    }
}

/// The value of the first hidden `version` field after `marker` in the page.
fn version_in(page: &Answer, marker: &str) -> Option<String> {
    let at = page.body.find(marker)?;
    let rest = &page.body[at..];
    let field = r#"name="version" value=""#;
    let start = rest.find(field)? + field.len();
    let end = rest[start..].find('"')?;
    Some(rest[start..start + end].to_owned())
}

/// The `data-minor` value of the element with `id` in `html`.
fn minor(html: &str, id: &str) -> Option<i64> {
    let at = html.find(&format!(r#"id="{id}""#))?;
    let rest = &html[at..];
    let start = rest.find(r#"data-minor=""#)? + r#"data-minor=""#.len();
    let end = rest[start..].find('"')?;
    rest[start..start + end].parse().ok()
}

/// Follows a 303 and expects 200.
async fn follow(visit: &mut Visit, answer: &Answer) -> anyhow::Result<Answer> {
    anyhow::ensure!(answer.status == 303, "expected 303: {} {}", answer.status, answer.body);
    let page = visit.get(answer.header("location").unwrap_or("/")).await?;
    anyhow::ensure!(page.status == 200, "{} {}", page.status, page.body);
    Ok(page)
}

fn details<'a>(csrf: &'a str, version: &'a str, name: &'a str, zone: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("version", version),
        ("name", name),
        ("line1", "12 Vine St"),
        ("line2", ""),
        ("city", "Hudson"),
        ("region", "NY"),
        ("postal_code", "12534"),
        ("country", "us"),
        ("time_zone", zone),
        ("business_day_start", "04:00"),
        ("tax_jurisdiction", ""),
        ("prices_include_tax", "on"),
    ]
}

#[tokio::test]
async fn an_admin_edits_and_closes_a_location_and_a_stale_form_shows_the_newer_values() -> anyhow::Result<()> {
    let w = world().await?;
    let mut admin = w.signed_in(&w.org.admin).await?;
    let list = admin.get("/locations").await?;
    assert!(
        list.body.contains(r#"<a href="/locations/main">main</a>"#),
        "{}",
        list.body
    );
    let page = admin.get("/locations/main").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.csrf().unwrap_or_default();
    let first = version_in(&page, r#"id="location-form""#).unwrap_or_default();
    assert!(!first.is_empty(), "{}", page.body);

    // Without the session's token nothing changes.
    let mut no_token = details("", &first, "Forged", "UTC");
    no_token.remove(0);
    let refused = admin.post("/locations/main", &no_token).await?;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("security token"));

    // A bad time zone is named on the form (422), nothing recorded.
    let bad = admin
        .post("/locations/main", &details(&csrf, &first, "Main", "Mars/Olympus"))
        .await?;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("time_zone"), "{}", bad.body);

    // Saved: the API has every detail, the page shows them.
    let saved = admin
        .post(
            "/locations/main",
            &details(&csrf, &first, "Main Street", "America/New_York"),
        )
        .await?;
    let shown = follow(&mut admin, &saved).await?;
    assert!(shown.body.contains("The details are saved."), "{}", shown.body);
    assert!(shown.body.contains(r#"value="Main Street""#));
    let api = api_get(&w.app, &w.org.admin_token, "/v1/locations/main").await?;
    assert_eq!(api.body["name"], "Main Street", "{}", api.body);
    assert_eq!(api.body["time_zone"], "America/New_York");
    assert_eq!(api.body["business_day_start"], "04:00");
    assert_eq!(api.body["prices_include_tax"], true);
    assert_eq!(api.body["address"]["city"], "Hudson");
    assert_eq!(api.body["address"]["country"], "US");
    assert_eq!(api.body["address"]["line2"], Value::Null);
    assert_eq!(api.body["currency"], "USD");
    let second = version_in(&shown, r#"id="location-form""#).unwrap_or_default();
    assert_ne!(first, second);

    // A second tab still holding the first version: the conflict, with the newer values.
    let stale = admin
        .post("/locations/main", &details(&csrf, &first, "Old Tab", "UTC"))
        .await?;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.body.contains(r#"id="conflict""#), "{}", stale.body);
    assert!(
        stale
            .body
            .contains("Someone changed this location while you were editing"),
        "{}",
        stale.body
    );
    assert!(
        stale.body.contains(r#"<td id="newer-name">Main Street</td>"#),
        "{}",
        stale.body
    );
    assert!(stale.body.contains(r#"<td id="newer-time-zone">America/New_York</td>"#));
    assert!(stale.body.contains("Old Tab"), "what was tried is shown");
    assert_eq!(
        version_in(&stale, r#"id="location-form""#).as_deref(),
        Some(second.as_str()),
        "the forms are refilled from the newer version"
    );
    let api = api_get(&w.app, &w.org.admin_token, "/v1/locations/main").await?;
    assert_eq!(api.body["name"], "Main Street", "nothing of the stale tab was saved");

    // A manager reads the location but gets no forms, and a forged change is the API's 403.
    let mut manager = w.signed_in(&w.org.manager).await?;
    let read_only = manager.get("/locations/main").await?;
    assert_eq!(read_only.status, 200, "{}", read_only.body);
    assert!(!read_only.body.contains("location-form") && !read_only.body.contains("close-location-form"));
    let manager_csrf = read_only.csrf().unwrap_or_default();
    let forged = manager
        .post(
            "/locations/main",
            &details(&manager_csrf, &second, "Managers Own", "UTC"),
        )
        .await?;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.body.contains("admin role"), "{}", forged.body);
    let forged_close = manager
        .post(
            "/locations/main/close",
            &[("csrf", &manager_csrf), ("version", &second), ("reason", "forged")],
        )
        .await?;
    assert_eq!(forged_close.status, 403, "{}", forged_close.body);

    // Closing from a stale form is the conflict too; from the current one it closes.
    let stale_close = admin
        .post(
            "/locations/main/close",
            &[("csrf", &csrf), ("version", &first), ("reason", "lease ended")],
        )
        .await?;
    assert_eq!(stale_close.status, 409, "{}", stale_close.body);
    assert!(
        stale_close.body.contains(r#"<td id="newer-status">open</td>"#),
        "{}",
        stale_close.body
    );
    let closed = admin
        .post(
            "/locations/main/close",
            &[("csrf", &csrf), ("version", &second), ("reason", "lease ended")],
        )
        .await?;
    let shown = follow(&mut admin, &closed).await?;
    assert!(shown.body.contains(r#"id="location-status">closed<"#), "{}", shown.body);
    assert!(shown.body.contains(r#"id="location-closed""#));
    assert!(!shown.body.contains("location-form"), "a closed location has no forms");
    let api = api_get(&w.app, &w.org.admin_token, "/v1/locations/main").await?;
    assert_eq!(api.body["status"], "closed", "{}", api.body);

    // Another organization's admin finds nothing of it.
    let stranger = Organization::create(&w.app).await?;
    let mut other = w.signed_in(&stranger.admin).await?;
    assert_eq!(other.get("/locations/main").await?.status, 200, "their own main");
    let theirs = api_get(&w.app, &stranger.admin_token, "/v1/locations/main").await?;
    assert_eq!(theirs.body["status"], "open");
    assert_eq!(other.get("/locations/..%2Fv1%2Fusers").await?.status, 404);
    Ok(())
}

fn promotion_form<'a>(csrf: &'a str, id: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("csrf", csrf),
        ("promotion_id", id),
        ("name", "Mixed case 10 %"),
        ("currency", "USD"),
        ("kind", "mix_and_match"),
        ("skus", "RIOJA, CHABLIS"),
        ("categories", "wine"),
        ("quantity", "12"),
        ("reward", "percent_off"),
        ("reward_value", "10"),
        ("sku", ""),
        ("breaks", ""),
        ("starts_at", "2026-12-01T09:00"),
        ("ends_at", "2026-12-31T09:00"),
        ("at_main", "on"),
    ];
    for (name, value) in extra {
        match form.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => form.push((name, value)),
        }
    }
    form
}

#[tokio::test]
async fn a_manager_creates_and_ends_promotions_and_a_stale_end_shows_the_newer_values() -> anyhow::Result<()> {
    let w = world().await?;
    let mut manager = w.signed_in(&w.org.manager).await?;
    let page = manager.get("/promotions").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"id="no-promotions""#) && page.body.contains(r#"id="create-promotion""#));
    assert!(page.body.contains(r#"href="/promotions""#), "the navigation links it");
    let csrf = page.csrf().unwrap_or_default();

    // Mix and match, 10 % off a case of 12, December at main (UTC).
    let created = manager
        .post("/promotions", &promotion_form(&csrf, "case10", &[]))
        .await?;
    let list = follow(&mut manager, &created).await?;
    assert!(list.body.contains("The promotion is created."), "{}", list.body);
    assert!(list.body.contains(r#"data-promotion="case10""#));
    assert!(
        list.body.contains("any 12 of RIOJA, CHABLIS, category wine 10 % off"),
        "{}",
        list.body
    );
    assert!(list.body.contains("2026-12-01 09:00"));
    let api = api_get(&w.app, &w.org.admin_token, "/v1/promotions/case10").await?;
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(
        api.body["rule"],
        json!({"kind": "mix_and_match", "products": {"skus": ["RIOJA", "CHABLIS"], "categories": ["wine"]},
            "quantity": 12, "reward": {"kind": "percent_off", "basis_points": 1000}})
    );
    assert_eq!(api.body["starts_at"], "2026-12-01T09:00:00Z");
    assert_eq!(api.body["ends_at"], "2026-12-31T09:00:00Z");
    assert_eq!(api.body["locations"], json!(["main"]));
    assert_eq!(api.body["stackable"], false);

    // Quantity breaks on one SKU, everywhere, open-ended: 8.00 from 4, 7.50 from 12.
    let breaks = promotion_form(
        &csrf,
        "malbec4",
        &[
            ("kind", "quantity_breaks"),
            ("sku", "MALBEC"),
            ("breaks", "4 @ 8.00\r\n12 @ 7.5"),
            ("ends_at", ""),
            ("at_main", ""),
        ],
    );
    let breaks: Vec<(&str, &str)> = breaks.into_iter().filter(|(n, _)| *n != "at_main").collect();
    let created = manager.post("/promotions", &breaks).await?;
    let list = follow(&mut manager, &created).await?;
    assert!(list.body.contains("MALBEC: 4+ at $8.00, 12+ at $7.50"), "{}", list.body);
    let api = api_get(&w.app, &w.org.admin_token, "/v1/promotions/malbec4").await?;
    assert_eq!(
        api.body["rule"]["breaks"],
        json!([{"min_quantity": 4, "unit_price_minor": 800}, {"min_quantity": 12, "unit_price_minor": 750}])
    );
    assert_eq!(api.body["locations"], json!([]));
    assert_eq!(api.body["ends_at"], Value::Null);

    // Typos are named on the form and nothing is created.
    let bad = manager
        .post("/promotions", &promotion_form(&csrf, "typo", &[("quantity", "twelve")]))
        .await?;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("Items per group"), "{}", bad.body);
    assert!(bad.body.contains(r#"value="typo""#), "the form keeps what was typed");
    // The id is taken (sending the same form again is an idempotent retry, not this).
    let taken = manager
        .post("/promotions", &promotion_form(&csrf, "case10", &[("name", "Another")]))
        .await?;
    assert_eq!(taken.status, 422, "{}", taken.body);
    assert!(taken.body.contains("case10"), "{}", taken.body);
    let ends_first = manager
        .post(
            "/promotions",
            &promotion_form(&csrf, "backwards", &[("ends_at", "2026-11-01T09:00")]),
        )
        .await?;
    assert_eq!(ends_first.status, 422, "{}", ends_first.body);
    assert!(ends_first.body.contains("details.ends_at"), "{}", ends_first.body);
    assert_eq!(
        api_get(&w.app, &w.org.admin_token, "/v1/promotions/typo").await?.status,
        404
    );

    // Someone renames case10 through the API while the list is open: ending it from the
    // stale list is the conflict with the newer values, and nothing is ended.
    let stale_version = version_in(&list, r#"action="/promotions/case10/end""#).unwrap_or_default();
    assert!(!stale_version.is_empty(), "{}", list.body);
    let renamed = json!({"details": {"name": "Case of 12, 15 %", "currency": "USD",
        "rule": {"kind": "mix_and_match", "products": {"skus": ["RIOJA"], "categories": []}, "quantity": 12,
                 "reward": {"kind": "percent_off", "basis_points": 1500}},
        "starts_at": "2026-12-01T09:00:00Z", "locations": ["main"]}});
    let if_match = format!("\"{stale_version}\"");
    let put = w
        .app
        .write(
            Method::PUT,
            "/v1/promotions/case10",
            &w.org.admin_token,
            &renamed,
            &[("if-match", &if_match)],
        )
        .await?;
    assert_eq!(put.status, 201, "{}", put.body);
    let end = [
        ("csrf", csrf.as_str()),
        ("version", stale_version.as_str()),
        ("reason", ""),
    ];
    let stale = manager.post("/promotions/case10/end", &end).await?;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert!(stale.body.contains(r#"id="conflict""#), "{}", stale.body);
    assert!(
        stale.body.contains(r#"<dd id="newer-name">Case of 12, 15 %</dd>"#),
        "{}",
        stale.body
    );
    assert!(stale.body.contains("any 12 of RIOJA 15 % off"), "{}", stale.body);
    let api = api_get(&w.app, &w.org.admin_token, "/v1/promotions/case10").await?;
    assert_eq!(api.body["status"], "active");
    let current = api.body["version"].to_string();
    let ended = manager
        .post(
            "/promotions/case10/end",
            &[
                ("csrf", csrf.as_str()),
                ("version", current.as_str()),
                ("reason", "sold out"),
            ],
        )
        .await?;
    let list = follow(&mut manager, &ended).await?;
    assert!(list.body.contains("The promotion is ended."), "{}", list.body);
    assert!(list.body.contains("(sold out)"), "{}", list.body);
    assert!(!list.body.contains(r#"action="/promotions/case10/end""#));
    let api = api_get(&w.app, &w.org.admin_token, "/v1/promotions/case10").await?;
    assert_eq!(api.body["status"], "ended", "{}", api.body);

    // No token: refused before the API is asked.
    let malbec = api_get(&w.app, &w.org.admin_token, "/v1/promotions/malbec4").await?;
    let malbec_version = malbec.body["version"].to_string();
    let refused = manager
        .post(
            "/promotions/malbec4/end",
            &[("version", malbec_version.as_str()), ("reason", "")],
        )
        .await?;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("security token"));

    // A cashier has neither the page nor, forged, the actions.
    let mut cashier = w.signed_in(&w.org.cashier).await?;
    let denied = cashier.get("/promotions").await?;
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert!(denied.body.contains("manager role"));
    let cashier_csrf = cashier.csrf().await?;
    assert!(!cashier.get("/stock").await?.body.contains(r#"href="/promotions""#));
    let forged = cashier
        .post("/promotions", &promotion_form(&cashier_csrf, "cashiers", &[]))
        .await?;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let forged = cashier
        .post(
            "/promotions/malbec4/end",
            &[
                ("csrf", cashier_csrf.as_str()),
                ("version", malbec_version.as_str()),
                ("reason", ""),
            ],
        )
        .await?;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(
        api_get(&w.app, &w.org.admin_token, "/v1/promotions/cashiers")
            .await?
            .status,
        404
    );
    let malbec = api_get(&w.app, &w.org.admin_token, "/v1/promotions/malbec4").await?;
    assert_eq!(malbec.body["status"], "active");

    // Another organization's manager sees none of them.
    let stranger = Organization::create(&w.app).await?;
    let mut other = w.signed_in(&stranger.manager).await?;
    let theirs = other.get("/promotions").await?;
    assert!(theirs.body.contains(r#"id="no-promotions""#), "{}", theirs.body);
    Ok(())
}

/// A sale of 20.00 + 1.60 tax paid in cash (25.00 given, 3.40 change) in `session`.
fn cash_sale(id: &str, session: &str, at: &str) -> Value {
    json!({"sale_id": id, "terminal_id": "till-1", "location": "main", "currency": "USD",
        "lines": [{"sku": "WINE", "quantity": 2, "unit_price_minor": 1000, "tax_minor": 160}],
        "subtotal_minor": 2000, "discount_total_minor": 0, "tax_total_minor": 160, "total_minor": 2160,
        "tenders": [{"kind": "cash", "amount_minor": 2500}], "change_minor": 340, "occurred_at": at,
        "drawer_session_id": session})
}

#[tokio::test]
async fn the_drawers_page_lists_a_periods_sessions_with_over_short_approval_and_paid_outs() -> anyhow::Result<()> {
    let w = world().await?;
    let token = &w.org.admin_token;
    let now = chrono::Utc::now();
    let today = now.format("%Y-%m-%d").to_string();
    let week_ago = (now - chrono::Duration::days(6)).format("%Y-%m-%d").to_string();
    // till-1: float 100.00, a cash sale of 21.60, a 5.00 paid-out for supplies: expected
    // 10,000 + 2,160 − 500 = 11,660; counted 116.00: 60 short, within the 5.00 threshold.
    // till-2: float 50.00, a 2.50 paid-out for supplies: expected 4,750; counted 37.50:
    // 10.00 short, beyond the threshold, so it waits for approval.
    for (session, till, float) in [("s-1", "till-1", 10_000), ("s-2", "till-2", 5_000)] {
        posted(
            &w.app,
            token,
            "/v1/drawer-sessions",
            &json!({"session_id": session, "terminal_id": till, "location": "main", "opening_float_minor": float}),
        )
        .await?;
    }
    posted(&w.app, token, "/v1/sales", &cash_sale("c-1", "s-1", &now.to_rfc3339())).await?;
    for (session, movement, amount) in [("s-1", "p-1", 500), ("s-2", "p-2", 250)] {
        posted(
            &w.app,
            token,
            &format!("/v1/drawer-sessions/{session}/paid-outs"),
            &json!({"movement_id": movement, "amount_minor": amount, "reason": "supplies"}),
        )
        .await?;
    }
    posted(
        &w.app,
        token,
        "/v1/drawer-sessions/s-1/close",
        &json!({"counted_cash_minor": 11_600}),
    )
    .await?;
    let last = posted(
        &w.app,
        token,
        "/v1/drawer-sessions/s-2/close",
        &json!({"counted_cash_minor": 3_750}),
    )
    .await?;
    let s2 = read(&w.app, token, "/v1/drawer-sessions/s-2", last).await?;
    assert_eq!(
        (s2["over_short_minor"].as_i64(), s2["approval"].as_str()),
        (Some(-1000), Some("pending")),
        "{s2}"
    );

    let mut manager = w.signed_in(&w.org.manager).await?;
    let path = format!("/drawers?location=main&from={week_ago}&to={today}");
    let page = manager.get(&path).await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"<a href="/drawers/s-1">s-1</a>"#), "{}", page.body);
    assert!(page.body.contains(r#"<a href="/drawers/s-2">s-2</a>"#));
    // −60 + −1,000 = −1,060 over the listed sessions, as in the API's report.
    assert_eq!(minor(&page.body, "sessions-over-short"), Some(-1060), "{}", page.body);
    assert!(page.body.contains(r#"<td class="approval">pending</td>"#));
    assert!(page.body.contains(r#"<td class="approval">not_needed</td>"#));
    assert!(page.body.contains("1 session(s) wait for a manager"), "{}", page.body);
    assert!(page.body.contains(r#"id="by-cashier""#) && page.body.contains(r#"id="by-terminal""#));
    assert!(page.body.contains(r#"<tr data-row="till-2">"#));
    // Paid-outs by reason: 500 + 250 for supplies.
    assert!(page.body.contains(r#"data-reason="supplies""#), "{}", page.body);
    assert!(page.body.contains(r#"data-minor="750""#), "{}", page.body);
    assert!(
        !page.body.contains("cannot be listed"),
        "every closed session is listed"
    );

    // The default period is the last 7 days ending today at the location.
    let default = manager.get("/drawers").await?;
    assert_eq!(default.status, 200, "{}", default.body);
    assert!(default.body.contains(&format!(r#"value="{week_ago}""#)) && default.body.contains("s-2"));
    // A period without sessions, and periods the page refuses.
    let empty = manager
        .get("/drawers?location=main&from=2020-01-01&to=2020-01-07")
        .await?;
    assert!(empty.body.contains(r#"id="no-sessions""#), "{}", empty.body);
    assert_eq!(manager.get("/drawers?from=2026-02-01&to=2026-01-01").await?.status, 400);
    assert_eq!(manager.get("/drawers?from=2026-01-01&to=2026-03-01").await?.status, 400);
    assert_eq!(manager.get("/drawers?to=yesterday").await?.status, 400);
    assert_eq!(manager.get("/drawers?location=nowhere").await?.status, 404);

    // A cashier gets neither the page nor the link; another organization sees none of it.
    let mut cashier = w.signed_in(&w.org.cashier).await?;
    let denied = cashier.get(&path).await?;
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert!(!cashier.get("/stock").await?.body.contains(r#"href="/drawers""#));
    let stranger = Organization::create(&w.app).await?;
    let mut other = w.signed_in(&stranger.manager).await?;
    let theirs = other.get(&path).await?;
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert!(theirs.body.contains(r#"id="no-sessions""#) && !theirs.body.contains("s-1"));
    Ok(())
}

fn new_york() -> Value {
    json!({
        "id": "us-ny", "name": "New York City", "currency": "USD",
        "rounding": {"scope": "per_line", "mode": "half_up"},
        "taxes": [{"tax_id": "ny-sales", "name": "NY sales tax", "applies_to": ["beer", "wine"],
            "versions": [{"effective_from": "2020-01-01", "rate": {"kind": "percentage", "rate_ppm": 80000}},
                         {"effective_from": "2021-01-01", "rate": {"kind": "percentage", "rate_ppm": 88750}},
                         {"effective_from": "2099-01-01", "rate": {"kind": "not_levied"}}]}],
        "deposits": [{"deposit_id": "ny-bottle-bill", "name": "NY 5¢ deposit", "container_types": ["can"],
            "below_volume_ml": 3785, "versions": [{"effective_from": "1983-07-01", "amount_minor": 5}]}]
    })
}

#[tokio::test]
async fn the_taxes_page_shows_the_locations_jurisdiction_with_the_rates_in_force() -> anyhow::Result<()> {
    let w = world().await?;
    let token = &w.org.admin_token;
    posted(
        &w.app,
        token,
        "/v1/tax-jurisdictions",
        &json!({"jurisdiction": new_york()}),
    )
    .await?;
    let seq = posted(
        &w.app,
        token,
        "/v1/locations",
        &json!({"location_id": "nyc", "details": {"name": "Brooklyn", "time_zone": "America/New_York",
            "currency": "USD", "tax_jurisdiction": "us-ny"}}),
    )
    .await?;
    read(&w.app, token, "/v1/locations/nyc", seq).await?;

    // Every role reads it; it has no form but the sign-out.
    let mut cashier = w.signed_in(&w.org.cashier).await?;
    let page = cashier.get("/taxes?location=nyc").await?;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(r#"id="jurisdiction">New York City (us-ny)<"#),
        "{}",
        page.body
    );
    assert!(page.body.contains("per line, half up"));
    assert!(page.body.contains("NY sales tax (ny-sales)"));
    assert!(page.body.contains(r#"<td class="rate">8 %</td>"#), "{}", page.body);
    assert!(page.body.contains(r#"<td class="rate">8.875 %</td>"#));
    assert!(page.body.contains(r#"<td class="rate">not levied</td>"#));
    // The 2021 rate is the one in force today (the 2099 repeal is ahead).
    let current = page
        .body
        .find(r#"class="current""#)
        .map(|at| &page.body[at..])
        .unwrap_or_default();
    assert!(current.contains("2021-01-01"), "{}", page.body);
    assert!(page.body.contains("NY 5¢ deposit") && page.body.contains("$0.05"));
    assert!(page.body.contains("0–3785 ml"));
    assert!(page.body.contains(r#"id="price-mode">exclude tax"#));
    assert_eq!(
        page.body.matches(r#"method="post""#).count(),
        1,
        "only the sign-out form"
    );
    assert!(page.body.contains(r#"href="/taxes""#), "every role has the link");

    // A location without a jurisdiction says so.
    let main = cashier.get("/taxes?location=main").await?;
    assert!(main.body.contains(r#"id="no-jurisdiction""#), "{}", main.body);

    // Another organization has no nyc; a visitor signs in first.
    let stranger = Organization::create(&w.app).await?;
    let mut other = w.signed_in(&stranger.manager).await?;
    assert_eq!(other.get("/taxes?location=nyc").await?.status, 404);
    let mut visitor = w.office.visit();
    assert_eq!(
        visitor.get("/taxes").await?.status,
        303,
        "signed-out visitors sign in first"
    );
    Ok(())
}
