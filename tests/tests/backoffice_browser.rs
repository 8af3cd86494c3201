//! The back office in a real headless Chromium (Debian's `chromium` through
//! `chromedriver`, over WebDriver): sign up and verify an organization through the pages,
//! sign in, see the day's sales posted through the API on the dashboard and in the Z
//! report, download its CSV, void a sale from the sales page and see the report change,
//! edit a product in two tabs and get the conflict message; and, in the browser itself,
//! the cookie is HttpOnly and SameSite=Strict, nothing is in the page's storage, the CSP
//! blocks inline script, a form without its CSRF token is refused, a cashier has no void
//! button and a void forged in the cashier's browser is refused, and another tenant's sale
//! is not shown. Screenshots go to `<target>/tmp/backoffice-screenshots/`.
//!
//! Skipped where Chromium is not installed, except under CI (`.ci/run` installs it).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use tests::backoffice_app::{Organization, PASSWORD, mailed_token, unique_email};
use tests::webdriver::{self, Browser};
use tests::{BackofficeApp, CommandApp, ProjectorApp, eventually};

/// A sale paid in cash, happening now unless `at` is given.
fn sale(id: &str, sku: &str, quantity: i64, price: i64, tax: i64, at: Option<&str>) -> Value {
    let subtotal = quantity * price;
    let mut body = json!({"sale_id": id, "terminal_id": "till-1", "location": "main", "currency": "USD",
        "lines": [{"sku": sku, "quantity": quantity, "unit_price_minor": price, "tax_minor": tax}],
        "subtotal_minor": subtotal, "discount_total_minor": 0, "tax_total_minor": tax, "total_minor": subtotal + tax,
        "tenders": [{"kind": "cash", "amount_minor": subtotal + tax}], "change_minor": 0});
    if let Some(at) = at {
        body["occurred_at"] = json!(at);
    }
    body
}

async fn api(
    app: &CommandApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> anyhow::Result<Value> {
    let mut request = app.http.request(method, format!("{}{path}", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let reply = app.send(request).await?;
    anyhow::ensure!(
        (200..300).contains(&reply.status),
        "{path}: {} {}",
        reply.status,
        reply.body
    );
    Ok(reply.body)
}

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("backoffice-screenshots")
}

/// Waits until the element `css` holds `text`.
async fn wait_text(browser: &Browser, css: &str, text: &str) -> anyhow::Result<String> {
    eventually(&format!("'{text}' in {css}"), Duration::from_secs(15), || async move {
        let found = match browser.find_all(css).await?.is_empty() {
            true => None,
            false => Some(browser.text(css).await?),
        };
        Ok(found.filter(|t| t.contains(text)))
    })
    .await
}

async fn data_minor(browser: &Browser, css: &str) -> anyhow::Result<i64> {
    let value = browser.attribute(css, "data-minor").await?.unwrap_or_default();
    Ok(value.parse()?)
}

async fn sign_in(browser: &Browser, email: &str, lands_on: &str) -> anyhow::Result<()> {
    browser.open("/login").await?;
    browser.fill("#email", email).await?;
    browser.fill("#password", PASSWORD).await?;
    browser.click("#login button[type=submit]").await?;
    eventually(
        &format!("landing on {lands_on}"),
        Duration::from_secs(15),
        || async move { Ok(browser.url().await?.contains(lands_on).then_some(())) },
    )
    .await
}

#[tokio::test]
async fn a_manager_works_through_the_day_in_a_real_browser_and_the_abuse_cases_are_refused() -> anyhow::Result<()> {
    if !webdriver::available()? {
        eprintln!(
            "skipped: {} or {} is not installed",
            webdriver::CHROMIUM,
            webdriver::CHROMEDRIVER
        );
        return Ok(());
    }
    let app = CommandApp::spawn().await?;
    let _projector = ProjectorApp::spawn(&app.stream).await?;
    let office = BackofficeApp::spawn(&app).await?;
    let browser = Browser::start(&office.address).await?;
    let shots = screenshots();

    // Sign up and verify through the pages (the mail's link points at /verify).
    let admin = unique_email("owner");
    browser.open("/signup").await?;
    browser.fill("#organization_name", "Corner Wines").await?;
    browser.fill("#admin_name", "Ada").await?;
    browser.fill("#email", &admin).await?;
    browser.click("#signup button[type=submit]").await?;
    wait_text(&browser, "h1", "Check your mail").await?;
    let token = mailed_token(&app, &admin, "Verification token: ").await?;
    browser.open(&format!("/verify?token={token}")).await?;
    browser.fill("#password", PASSWORD).await?;
    browser.click("#choose-password button[type=submit]").await?;
    wait_text(&browser, ".notice", "Your password is saved").await?;

    // The organization's data, posted through the API as its admin.
    let login = api(
        &app,
        reqwest::Method::POST,
        "/v1/auth/login",
        None,
        Some(&json!({"email": admin, "password": PASSWORD})),
    )
    .await?;
    let admin_token = login["access_token"].as_str().unwrap_or_default().to_owned();
    let admin_token = admin_token.as_str();
    api(
        &app,
        reqwest::Method::POST,
        "/v1/locations",
        Some(admin_token),
        Some(&tests::command_app::location_body("main", "UTC", "00:00", "USD")),
    )
    .await?;
    let cashier = Organization::invite(&app, admin_token, "cashier").await?;
    // Today's sales (a void on the sale's own day takes it out of the day's takings; a
    // later day's void would leave that day as it was: docs/reports.md).
    // Spread over the last hours of today (UTC) for the hourly chart.
    let now = chrono::Utc::now();
    let earlier = |hours: i64| {
        let at = now - chrono::Duration::hours(hours);
        if at.date_naive() == now.date_naive() { at } else { now }.to_rfc3339()
    };
    let mut last = 0;
    for (id, sku, quantity, price, tax, hours) in [
        ("d-1", "WINE", 2, 1000, 160, 2),
        ("d-2", "GIN", 1, 3000, 240, 1),
        ("d-3", "BEER", 6, 250, 120, 0),
    ] {
        let at = earlier(hours);
        let body = sale(id, sku, quantity, price, tax, Some(at.as_str()));
        let posted = api(&app, reqwest::Method::POST, "/v1/sales", Some(admin_token), Some(&body)).await?;
        last = posted["stream_sequence"].as_u64().unwrap_or_default();
    }
    let d3 = api(
        &app,
        reqwest::Method::GET,
        &format!("/v1/sales/d-3?min_sequence={last}"),
        Some(admin_token),
        None,
    )
    .await?;
    let day = d3["business_date"].as_str().unwrap_or_default().to_owned();
    let z = api(
        &app,
        reqwest::Method::GET,
        &format!("/v1/reports/daily?date={day}&location=main"),
        Some(admin_token),
        None,
    )
    .await?;
    let row = &z["items"][0];
    assert_eq!(row["total_minor"], 2160 + 3240 + 1620, "by hand");

    // Sign in through the form; the dashboard shows the API's numbers.
    sign_in(&browser, &admin, "/dashboard").await?;
    browser.open(&format!("/dashboard?location=main&date={day}")).await?;
    assert_eq!(
        data_minor(&browser, "#total").await?,
        row["total_minor"].as_i64().unwrap_or_default()
    );
    assert_eq!(
        data_minor(&browser, "#net").await?,
        row["net_minor"].as_i64().unwrap_or_default()
    );
    assert_eq!(
        data_minor(&browser, "#tax").await?,
        row["tax_minor"].as_i64().unwrap_or_default()
    );
    assert_eq!(browser.text("#sale-count").await?, "3");
    assert_eq!(browser.text("#total").await?, "$70.20");
    assert_eq!(browser.find_all("#chart-hours rect.bar").await?.len(), 24);
    assert_eq!(browser.find_all("#chart-days rect.bar").await?.len(), 30);
    browser.screenshot(&shots.join("dashboard.png")).await?;

    // The Z report and its CSV download, byte for byte the API's.
    browser.open(&format!("/reports/z?location=main&date={day}")).await?;
    assert_eq!(data_minor(&browser, "#z-total").await?, 7020);
    assert_eq!(
        data_minor(&browser, "#z-expected-cash").await?,
        row["expected_cash_minor"].as_i64().unwrap_or_default()
    );
    browser.screenshot(&shots.join("z-report.png")).await?;
    browser.click("#csv").await?;
    let csv = browser.downloaded(&format!("z-report-main-{day}.csv")).await?;
    let api_csv = app
        .http
        .get(format!("{}/v1/reports/daily?date={day}&location=main", app.address))
        .bearer_auth(admin_token)
        .header("accept", "text/csv")
        .send()
        .await?
        .text()
        .await?;
    assert_eq!(csv, api_csv);
    // sale_count, gross, discounts, net, tax, deposits, total.
    assert!(
        csv.contains(&format!("{day},main,USD,3,6500,0,6500,520,0,7020")),
        "{csv}"
    );

    // The session cookie, as the browser holds it; nothing in the page's reach.
    let cookies = browser.cookies().await?;
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert_eq!(cookies[0]["name"], "bo_session");
    assert_eq!(cookies[0]["httpOnly"], true);
    assert_eq!(cookies[0]["sameSite"], "Strict");
    assert_eq!(browser.execute("return document.cookie", json!([])).await?, "");
    assert_eq!(
        browser
            .execute("return localStorage.length + sessionStorage.length", json!([]))
            .await?,
        0
    );
    // The CSP stops an injected inline script.
    let blocked = browser
        .execute(
            "var s = document.createElement('script'); s.textContent = 'window.injected = 1'; \
             document.body.appendChild(s); return window.injected === undefined;",
            json!([]),
        )
        .await?;
    assert_eq!(blocked, true, "the Content-Security-Policy blocks inline script");

    // Void a sale from the sales page; the report changes.
    browser.open(&format!("/sales?location=main&date={day}")).await?;
    browser.click("tr[data-sale=d-2] a").await?;
    wait_text(&browser, "h1", "Sale d-2").await?;
    browser.fill("#void-reason", "rung up twice").await?;
    browser.click("#void-button").await?;
    wait_text(&browser, ".notice", "The sale is voided.").await?;
    assert_eq!(browser.text("#sale-status").await?, "voided");
    browser.open(&format!("/reports/z?location=main&date={day}")).await?;
    assert_eq!(data_minor(&browser, "#z-total").await?, 7020 - 3240);
    assert_eq!(browser.text("#z-voids-count").await?, "1");

    // A form built without the CSRF token, posted from the page: refused.
    browser
        .execute(
            "var f = document.createElement('form'); f.method = 'post'; f.action = '/sales/d-1/void'; \
             var r = document.createElement('input'); r.name = 'reason'; r.value = 'no token'; f.appendChild(r); \
             document.body.appendChild(f); f.submit();",
            json!([]),
        )
        .await?;
    wait_text(&browser, "h1", "Form refused").await?;

    // The same product edited in two tabs: the later save gets the conflict message.
    let registered = api(
        &app,
        reqwest::Method::POST,
        "/v1/products",
        Some(admin_token),
        Some(&json!({"sku": "WINE",
        "details": {"name": "Rioja", "category": "wine", "tax_class": "standard"},
        "price": {"amount_minor": 1000, "currency": "USD"}})),
    )
    .await?;
    let product = format!("/products/WINE?seq={}", registered["stream_sequence"]);
    let first = browser.tab().await?;
    browser.open(&product).await?;
    wait_text(&browser, "h1", "Rioja").await?;
    let second = browser.new_tab().await?;
    browser.switch_to(&second).await?;
    browser.open(&product).await?;
    browser.fill("#name", "Rioja Reserva").await?;
    browser.click("#save-details").await?;
    wait_text(&browser, ".notice", "The details are saved.").await?;
    browser.switch_to(&first).await?;
    browser.fill("#name", "Rioja Crianza").await?;
    browser.click("#save-details").await?;
    wait_text(&browser, "#conflict h2", "Someone changed this product").await?;
    assert_eq!(browser.text("#newer-name").await?, "Rioja Reserva");
    assert_eq!(
        browser.attribute("#name", "value").await?.as_deref(),
        Some("Rioja Reserva")
    );
    browser.screenshot(&shots.join("conflict.png")).await?;

    // Another tenant's sale is not shown.
    let other = Organization::create(&app).await?;
    let theirs = api(
        &app,
        reqwest::Method::POST,
        "/v1/sales",
        Some(&other.admin_token),
        Some(&sale("their-sale", "GIN", 1, 3000, 0, Some("2026-11-24T10:00:00Z"))),
    )
    .await?;
    api(
        &app,
        reqwest::Method::GET,
        &format!("/v1/sales/their-sale?min_sequence={}", theirs["stream_sequence"]),
        Some(&other.admin_token),
        None,
    )
    .await?;
    browser.open("/sales/their-sale").await?;
    wait_text(&browser, "h1", "Not found").await?;
    assert!(!browser.text("main").await?.contains("GIN"));

    // A cashier: no sales, no void button; a void forged in the cashier's own browser, with
    // the session's token, is refused by role.
    browser.open("/stock").await?;
    browser.click("#sign-out").await?;
    wait_text(&browser, "h1", "Sign in").await?;
    sign_in(&browser, &cashier, "/stock").await?;
    assert!(!browser.exists("a[href='/sales']").await?);
    browser.open("/sales/d-1").await?;
    wait_text(&browser, "h1", "Not allowed").await?;
    assert!(!browser.exists("#void-button").await?);
    browser.open("/stock").await?;
    browser
        .execute(
            "var token = document.querySelector('input[name=csrf]'); \
             var f = document.createElement('form'); f.method = 'post'; f.action = '/sales/d-1/void'; \
             var r = document.createElement('input'); r.name = 'reason'; r.value = 'forged'; f.appendChild(r); \
             f.appendChild(token.cloneNode()); \
             document.body.appendChild(f); f.submit();",
            json!([]),
        )
        .await?;
    let refused = wait_text(&browser, "main", "manager").await?;
    assert!(refused.contains("Not allowed"), "{refused}");
    let d1 = api(&app, reqwest::Method::GET, "/v1/sales/d-1", Some(admin_token), None).await?;
    assert_eq!(d1["status"], "completed", "the forged void changed nothing");
    eprintln!("screenshots in {}", shots.display());
    Ok(())
}

/// The operator's side in the real browser: a tenant's events were parked by a projector
/// started with `PARK_AFTER_DELIVERIES=0` (every message "delivered too many times", as
/// when its deployment kept failing); the projector runs again with the right setting, and
/// the operator signs in to the console, finds the tenant in the tenant list with its
/// parked count, opens it, re-drives the parked event and sees it gone (and the read model
/// has it).
#[tokio::test]
async fn an_operator_redrives_a_parked_event_in_a_real_browser() -> anyhow::Result<()> {
    if !webdriver::available()? {
        eprintln!(
            "skipped: {} or {} is not installed",
            webdriver::CHROMIUM,
            webdriver::CHROMEDRIVER
        );
        return Ok(());
    }
    let app = CommandApp::spawn().await?;
    let tenant = tests::unique_tenant();
    let joined = tests::generator::mixed_events(&tenant, 11, 1);
    let misconfigured = ProjectorApp::spawn_with(&app.stream, |c| c.park_after_deliveries = 0).await?;
    let parked = tests::generator::publish(&app.servers.jetstream, &app.stream.scheme, &joined).await?[0];
    tests::projector_app::wait_for_checkpoint(&app.servers, &tenant, parked, Duration::from_secs(30)).await?;
    misconfigured.stop().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let admin = projector.admin.clone();
    let office = BackofficeApp::spawn_with(&app, |c| c.projector_admin_url = Some(admin)).await?;
    let browser = Browser::start(&office.address).await?;
    let shots = screenshots();

    browser.open("/operator/login").await?;
    browser.fill("#token", tests::projector_app::ADMIN_TOKEN).await?;
    browser.click("#operator-login button[type=submit]").await?;
    wait_text(&browser, "h1", "Operator console").await?;
    // The tenant list, from just before the tenant's id.
    let id = tenant.as_str();
    browser
        .open(&format!("/operator?after={}", &id[..id.len() - 1]))
        .await?;
    let row = format!("tr[data-tenant='{id}']");
    assert_eq!(browser.text(&format!("{row} .placement")).await?, "main");
    assert_eq!(browser.text(&format!("{row} .parked")).await?, "1");
    assert_eq!(browser.text(&format!("{row} .lag")).await?, "0");
    browser.screenshot(&shots.join("operator.png")).await?;
    browser.click(&format!("{row} a")).await?;
    wait_text(&browser, "h1", &format!("Tenant {id}")).await?;
    let event = format!("tr[data-sequence='{parked}']");
    assert!(browser.text(&event).await?.contains("delivered 1 times"));
    browser.screenshot(&shots.join("operator-parked.png")).await?;
    browser.click(&format!("{event} button")).await?;
    wait_text(&browser, ".notice", "re-driven and applied").await?;
    assert!(!browser.exists(&event).await?);
    assert_eq!(browser.text("#parked-count").await?, "0");
    assert_eq!(browser.text("#lag").await?, "0");
    browser.screenshot(&shots.join("operator-redrive.png")).await?;
    // The read model has the user the event brought.
    let users = app
        .servers
        .mongo
        .database(&tenant.database_name())
        .collection::<bson::Document>("users");
    assert!(users.find_one(bson::doc! {"_id": "u-admin"}).await?.is_some());
    projector.stop().await?;
    Ok(())
}
