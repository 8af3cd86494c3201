//! Identity end to end: signup → verify (reading the outbox) → login → a sale with that
//! token → the sale in the tenant's read model; every error path; refresh rotation and
//! reuse detection; deactivation; role checks on user management.

use std::time::Duration;

use bson::doc;
use serde_json::{Value, json};
use tests::command_app::Reply;
use tests::{CommandApp, ProjectorApp, eventually};

const PASSWORD: &str = "Correct-horse-battery-7";

fn unique_email(stem: &str) -> String {
    format!("{stem}-{}@Example.com", uuid::Uuid::now_v7().simple())
}

async fn post(app: &CommandApp, path: &str, body: &Value) -> anyhow::Result<Reply> {
    app.send(app.http.post(format!("{}{path}", app.address)).json(body))
        .await
}

/// The mails sent to `email`, oldest first.
async fn mails(app: &CommandApp, email: &str) -> anyhow::Result<Vec<bson::Document>> {
    use futures::TryStreamExt;
    let outbox = app
        .servers
        .mongo
        .database("liquor_pos_main")
        .collection::<bson::Document>("outbox");
    Ok(outbox
        .find(doc! {"to": email.to_lowercase()})
        .sort(doc! {"sent_at": 1, "_id": 1})
        .await?
        .try_collect()
        .await?)
}

async fn outbox_token(app: &CommandApp, email: &str) -> anyhow::Result<String> {
    mail_token(app, email, "Verification token: ", "verify").await
}

/// The token on the line starting with `label` in the newest mail to `email` carrying one,
/// checked to be in the mail's `<page>?token=` link too.
async fn mail_token(app: &CommandApp, email: &str, label: &str, page: &str) -> anyhow::Result<String> {
    let token = eventually("a mail with a token", Duration::from_secs(5), || async move {
        let mails = mails(app, email).await?;
        Ok(mails.iter().rev().find_map(|mail| {
            let body = mail.get_str("body").ok()?;
            let token = body.lines().find_map(|l| l.strip_prefix(label))?;
            body.contains(&format!("{page}?token={token}"))
                .then(|| token.to_owned())
        }))
    })
    .await?;
    Ok(token)
}

/// Invites `email` as `role` with the admin token `admin`, accepts with [`PASSWORD`] and
/// returns the new user's id.
async fn invite(app: &CommandApp, admin: &str, email: &str, role: &str) -> anyhow::Result<String> {
    let invited = app
        .post(
            "/v1/users",
            admin,
            &json!({"name": role, "email": email, "role": role}),
            &[],
        )
        .await?;
    assert_eq!(
        (invited.status, invited.body["status"].as_str()),
        (201, Some("invited")),
        "{}",
        invited.body
    );
    let token = mail_token(app, email, "Invitation token: ", "accept-invitation").await?;
    let accepted = post(
        app,
        "/v1/auth/accept-invitation",
        &json!({"token": token, "password": PASSWORD}),
    )
    .await?;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    assert_eq!(accepted.body["user_id"], invited.body["id"]);
    Ok(invited.body["id"].as_str().unwrap_or_default().to_owned())
}

/// Signs up and verifies an organization; returns (organization id, admin login reply).
async fn organization(app: &CommandApp, email: &str) -> anyhow::Result<(String, Reply)> {
    let signup = post(
        app,
        "/v1/auth/signup",
        &json!({"organization_name": "Corner Wines", "admin_name": "Ada", "email": email}),
    )
    .await?;
    assert_eq!(signup.status, 202, "{}", signup.body);
    let token = outbox_token(app, email).await?;
    let verified = post(app, "/v1/auth/verify", &json!({"token": token, "password": PASSWORD})).await?;
    assert_eq!(verified.status, 201, "{}", verified.body);
    let organization = verified.body["organization_id"].as_str().unwrap_or_default().to_owned();
    let login = post(app, "/v1/auth/login", &json!({"email": email, "password": PASSWORD})).await?;
    assert_eq!(login.status, 200, "{}", login.body);
    Ok((organization, login))
}

#[tokio::test]
async fn signup_verify_login_then_sell_and_see_the_sale() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let email = unique_email("owner");
    let (organization, login) = organization(&app, &email).await?;
    assert_eq!(login.body["organization_id"], organization);
    assert_eq!(login.body["role"], "admin");
    let access = login.body["access_token"].as_str().unwrap_or_default().to_owned();

    let opened = app
        .post(
            "/v1/locations",
            &access,
            &tests::command_app::location_body("main", "UTC", "00:00", "USD"),
            &[],
        )
        .await?;
    assert_eq!(opened.status, 201, "{}", opened.body);
    let sale = json!({"sale_id": "first-sale", "terminal_id": "till-1", "location": "main", "currency": "USD",
        "lines": [{"sku": "CHIPS", "quantity": 2, "unit_price_minor": 250}], "subtotal_minor": 500, "discount_total_minor": 0,
        "tax_total_minor": 0, "total_minor": 500, "tenders": [{"kind": "cash", "amount_minor": 500}], "change_minor": 0});
    let posted = app.post("/v1/sales", &access, &sale, &[]).await?;
    assert_eq!(posted.status, 201, "{}", posted.body);
    let sequence = posted.body["stream_sequence"].as_u64().unwrap_or_default();
    let read = app
        .send(
            app.http
                .get(format!("{}/v1/sales/first-sale?min_sequence={sequence}", app.address))
                .bearer_auth(&access),
        )
        .await?;
    assert_eq!(
        (read.status, read.body["total_minor"].as_i64()),
        (200, Some(500)),
        "{}",
        read.body
    );

    // The tenant database exists with its indexes, and its users read model has the admin.
    let db = app.servers.mongo.database(&format!("tenant_{organization}"));
    let indexes = db.collection::<bson::Document>("sales").list_index_names().await?;
    assert!(indexes.iter().any(|n| n == "occurred_at"), "{indexes:?}");
    let admin = db
        .collection::<bson::Document>("users")
        .find_one(doc! {})
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user projected"))?;
    assert_eq!(
        (admin.get_str("email")?, admin.get_str("role")?),
        (email.to_lowercase().as_str(), "admin")
    );
    // No password or hash reaches the event stream.
    for message in app.tenant_messages(&events::TenantId::parse(&organization)?).await? {
        let text = String::from_utf8_lossy(&message.payload);
        assert!(!text.contains(PASSWORD) && !text.contains("argon2"), "{text}");
    }
    projector.stop().await?;
    db.drop().await?;
    app.stream.delete().await
}

#[tokio::test]
async fn every_identity_error_is_a_clear_4xx() -> anyhow::Result<()> {
    let app = CommandApp::spawn_with(|c| c.login_free_attempts = 3).await?;
    let email = unique_email("errors");
    let base = json!({"organization_name": "Shop", "admin_name": "Bo", "email": email});
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    for (body, status, field) in [
        (with("email", json!("not-an-email")), 422, "email"),
        // The password is chosen at verification, by whoever reads the mail.
        (with("password", json!(PASSWORD)), 422, "password"),
        (with("email", json!("x@a..b")), 422, "email"),
        (with("email", json!("ad\u{200b}a@example.com")), 422, "email"),
        (with("email", json!("<script>")), 422, "email"),
        (with("email", json!("<script>@example.com")), 422, "email"),
        (with("organization_name", json!("  ")), 422, "organization_name"),
        (with("extra", json!(1)), 422, "extra"),
        (json!({"email": email}), 422, "organization_name"),
    ] {
        let reply = post(&app, "/v1/auth/signup", &body).await?;
        assert_eq!((reply.status, reply.field()), (status, field), "{body}: {}", reply.body);
    }
    assert_eq!(post(&app, "/v1/auth/signup", &base).await?.status, 202);

    let unknown = post(&app, "/v1/auth/verify", &json!({"token": "nope", "password": PASSWORD})).await?;
    assert_eq!((unknown.status, unknown.field()), (422, "token"));
    let token = outbox_token(&app, &email).await?;
    let no_password = post(&app, "/v1/auth/verify", &json!({"token": token})).await?;
    assert_eq!((no_password.status, no_password.field()), (422, "password"));
    for weak in ["short", "password1234", "password12345678", "passwordpassword"] {
        let reply = post(&app, "/v1/auth/verify", &json!({"token": token, "password": weak})).await?;
        assert_eq!(
            (reply.status, reply.field()),
            (422, "password"),
            "{weak}: {}",
            reply.body
        );
    }
    // A refused password leaves the link usable.
    assert_eq!(
        post(&app, "/v1/auth/verify", &json!({"token": token, "password": PASSWORD}))
            .await?
            .status,
        201
    );
    let used = post(&app, "/v1/auth/verify", &json!({"token": token, "password": PASSWORD})).await?;
    assert_eq!((used.status, used.code()), (409, "token_used"));

    let late_email = unique_email("late");
    assert_eq!(
        post(&app, "/v1/auth/signup", &with("email", json!(late_email)))
            .await?
            .status,
        202
    );
    let late_token = outbox_token(&app, &late_email).await?;
    app.servers
        .mongo
        .database("liquor_pos_main")
        .collection::<bson::Document>("pendingorganizations")
        .update_one(
            doc! {"email": late_email.to_lowercase()},
            doc! {"$set": {"expires_at": bson::DateTime::from_millis(0)}},
        )
        .await?;
    let expired = post(
        &app,
        "/v1/auth/verify",
        &json!({"token": late_token, "password": PASSWORD}),
    )
    .await?;
    assert_eq!((expired.status, expired.code()), (409, "token_expired"));

    let wrong_password = post(
        &app,
        "/v1/auth/login",
        &json!({"email": email, "password": "Wrong-password-123"}),
    )
    .await?;
    let unknown_email = post(
        &app,
        "/v1/auth/login",
        &json!({"email": unique_email("ghost"), "password": PASSWORD}),
    )
    .await?;
    assert_eq!((wrong_password.status, unknown_email.status), (401, 401));
    assert_eq!(wrong_password.code(), "invalid_credentials", "{}", wrong_password.body);
    assert!(
        !wrong_password.body.to_string().contains("bearer"),
        "a login failure is not about bearer tokens: {}",
        wrong_password.body
    );
    assert_eq!(
        wrong_password.body, unknown_email.body,
        "unknown email and wrong password must be indistinguishable"
    );
    assert_eq!(
        post(&app, "/v1/auth/login", &json!({"email": email})).await?.status,
        422
    );
    // Three failures of this email from this address: it must wait, even with the right password.
    let _ = post(
        &app,
        "/v1/auth/login",
        &json!({"email": email, "password": "Wrong-password-123"}),
    )
    .await?;
    let _ = post(
        &app,
        "/v1/auth/login",
        &json!({"email": email, "password": "Wrong-password-123"}),
    )
    .await?;
    let limited = post(&app, "/v1/auth/login", &json!({"email": email, "password": PASSWORD})).await?;
    assert_eq!(
        (limited.status, limited.code()),
        (429, "too_many_attempts"),
        "{}",
        limited.body
    );
    assert!(limited.header("retry-after").is_some());

    let bad_refresh = post(&app, "/v1/auth/refresh", &json!({"refresh_token": "made-up"})).await?;
    assert_eq!(bad_refresh.status, 401);
    app.stream.delete().await
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() -> anyhow::Result<()> {
    // No grace period: any second use is a reuse (the grace has its own test).
    let app = CommandApp::spawn_with(|c| c.refresh_reuse_grace_secs = 0).await?;
    let email = unique_email("rotate");
    let (_, login) = organization(&app, &email).await?;
    let first = login.body["refresh_token"].as_str().unwrap_or_default().to_owned();
    let rotated = post(&app, "/v1/auth/refresh", &json!({"refresh_token": first})).await?;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let second = rotated.body["refresh_token"].as_str().unwrap_or_default().to_owned();
    assert_ne!(first, second);
    // The new access token works.
    let token = rotated.body["access_token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        app.send(app.http.get(format!("{}/v1/users", app.address)).bearer_auth(&token))
            .await?
            .status,
        200
    );

    // Presenting the first one again: refused, and the whole family with it.
    let reuse = post(&app, "/v1/auth/refresh", &json!({"refresh_token": first})).await?;
    assert_eq!(reuse.status, 401);
    let victim = post(&app, "/v1/auth/refresh", &json!({"refresh_token": second})).await?;
    assert_eq!(victim.status, 401, "the family must be revoked after reuse");

    // A fresh login is a new family; logout ends it.
    let again = post(&app, "/v1/auth/login", &json!({"email": email, "password": PASSWORD})).await?;
    let third = again.body["refresh_token"].as_str().unwrap_or_default().to_owned();
    let out = app
        .send(
            app.http
                .post(format!("{}/v1/auth/logout", app.address))
                .json(&json!({"refresh_token": third})),
        )
        .await?;
    assert_eq!(out.status, 204);
    assert_eq!(
        post(&app, "/v1/auth/refresh", &json!({"refresh_token": third}))
            .await?
            .status,
        401
    );
    app.stream.delete().await
}

#[tokio::test]
async fn admins_manage_users_cashiers_cannot_and_deactivation_stops_refresh() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let (organization, login) = organization(&app, &unique_email("admin")).await?;
    let admin = login.body["access_token"].as_str().unwrap_or_default().to_owned();
    let cashier_email = unique_email("cashier");
    let cashier_id = invite(&app, &admin, &cashier_email, "cashier").await?;
    let listed = app
        .send(app.http.get(format!("{}/v1/users", app.address)).bearer_auth(&admin))
        .await?;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(2));

    let cashier_login = post(
        &app,
        "/v1/auth/login",
        &json!({"email": cashier_email, "password": PASSWORD}),
    )
    .await?;
    assert_eq!(
        (cashier_login.status, cashier_login.body["role"].as_str()),
        (200, Some("cashier"))
    );
    let cashier = cashier_login.body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let cashier_refresh = cashier_login.body["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let forbidden = app
        .post(
            "/v1/users",
            &cashier,
            &json!({"name": "Eve", "email": unique_email("eve"), "role": "admin"}),
            &[],
        )
        .await?;
    assert_eq!((forbidden.status, forbidden.code()), (403, "forbidden"));
    let forbidden_role = app
        .write(
            reqwest::Method::PUT,
            &format!("/v1/users/{cashier_id}/role"),
            &cashier,
            &json!({"role": "admin"}),
            &[],
        )
        .await?;
    assert_eq!(forbidden_role.status, 403);
    assert_eq!(
        app.send(app.http.get(format!("{}/v1/users", app.address)).bearer_auth(&cashier))
            .await?
            .status,
        403
    );

    let promoted = app
        .write(
            reqwest::Method::PUT,
            &format!("/v1/users/{cashier_id}/role"),
            &admin,
            &json!({"role": "manager"}),
            &[],
        )
        .await?;
    assert_eq!(promoted.status, 201, "{}", promoted.body);
    let deactivated = app
        .post(
            &format!("/v1/users/{cashier_id}/deactivate"),
            &admin,
            &json!({"reason": "left"}),
            &[],
        )
        .await?;
    assert_eq!(deactivated.status, 201, "{}", deactivated.body);
    let last = deactivated.body["stream_sequence"].as_u64().unwrap_or_default();
    assert_eq!(
        post(&app, "/v1/auth/refresh", &json!({"refresh_token": cashier_refresh}))
            .await?
            .status,
        401
    );
    assert_eq!(
        post(
            &app,
            "/v1/auth/login",
            &json!({"email": cashier_email, "password": PASSWORD})
        )
        .await?
        .status,
        401
    );
    let other_org = app
        .post(
            &format!("/v1/users/{cashier_id}/deactivate"),
            &app.token(&tests::unique_tenant(), events::Role::Admin).await?,
            &json!({}),
            &[],
        )
        .await?;
    assert_eq!(
        other_org.status, 404,
        "an admin of another tenant cannot touch this user"
    );

    tests::projector_app::wait_for_checkpoint(
        &app.servers,
        &events::TenantId::parse(&organization)?,
        last,
        Duration::from_secs(30),
    )
    .await?;
    let db = app.servers.mongo.database(&format!("tenant_{organization}"));
    let projected = db
        .collection::<bson::Document>("users")
        .find_one(doc! {"_id": &cashier_id})
        .await?
        .ok_or_else(|| anyhow::anyhow!("cashier not projected"))?;
    assert_eq!(
        (projected.get_str("role")?, projected.get_bool("active")?),
        ("manager", false)
    );
    projector.stop().await?;
    db.drop().await?;
    app.stream.delete().await
}

#[tokio::test]
async fn password_work_runs_off_the_runtime_and_past_its_bound_answers_503_with_retry_after() -> anyhow::Result<()> {
    // One hashing slot and one waiting place: a burst of logins must be refused, not queued
    // without bound, while other requests stay fast.
    let app = CommandApp::spawn_with(|c| {
        c.password_hash_workers = 1;
        c.password_hash_queue = 1;
    })
    .await?;
    let logins = futures::future::join_all((0..16).map(|_| {
        let body = json!({"email": unique_email("burst"), "password": PASSWORD});
        let app = &app;
        async move { post(app, "/v1/auth/login", &body).await }
    }));
    let health = async {
        let mut times = Vec::new();
        for _ in 0..10 {
            let started = std::time::Instant::now();
            let reply = app.get("/health").await?;
            assert_eq!(reply.status, 200);
            times.push(started.elapsed());
        }
        times.sort();
        anyhow::Ok(times)
    };
    let (replies, health) = tokio::join!(logins, health);
    let replies = replies.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let health = health?;
    let refused: Vec<&Reply> = replies.iter().filter(|r| r.status == 503).collect();
    assert!(
        !refused.is_empty(),
        "16 logins on 1 slot + 1 place: some must be refused"
    );
    for reply in &refused {
        assert_eq!(reply.code(), "overloaded", "{}", reply.body);
        assert!(reply.header("retry-after").is_some());
    }
    assert!(
        replies.iter().all(|r| r.status == 503 || r.status == 401),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let median = health[health.len() / 2];
    eprintln!(
        "/health during the burst: median {median:?}, worst {:?}",
        health[health.len() - 1]
    );
    assert!(median < Duration::from_millis(100), "/health median {median:?}");
    app.stream.delete().await
}

/// A made-up client address (documentation range), sent as `X-Forwarded-For` through the
/// test app's trusted proxy (127.0.0.1), so per-address counters are this test's own.
fn unique_address() -> String {
    let n = uuid::Uuid::now_v7().as_u128();
    format!("2001:db8:{:x}:{:x}::1", (n >> 16) as u16, n as u16)
}

async fn post_from(app: &CommandApp, address: &str, path: &str, body: &Value) -> anyhow::Result<Reply> {
    app.send(
        app.http
            .post(format!("{}{path}", app.address))
            .header("x-forwarded-for", address)
            .json(body),
    )
    .await
}

fn signup_body(email: &str) -> Value {
    json!({"organization_name": "Corner Wines", "admin_name": "Ada", "email": email})
}

#[tokio::test]
async fn signup_answers_the_same_whatever_the_email_and_only_the_mailbox_learns_more() -> anyhow::Result<()> {
    // Limits are another test's subject: here one address signs up several times.
    let app = CommandApp::spawn_with(|c| c.signup_attempts_per_email = 100).await?;
    let taken = unique_email("taken");
    organization(&app, &taken).await?;
    let pending = unique_email("pending");
    let first = post(&app, "/v1/auth/signup", &signup_body(&pending)).await?;
    let old_token = outbox_token(&app, &pending).await?;

    let mut new_times = Vec::new();
    let mut taken_times = Vec::new();
    let mut answers = vec![first];
    for _ in 0..3 {
        let started = std::time::Instant::now();
        answers.push(post(&app, "/v1/auth/signup", &signup_body(&unique_email("fresh"))).await?);
        new_times.push(started.elapsed());
        let started = std::time::Instant::now();
        answers.push(post(&app, "/v1/auth/signup", &signup_body(&taken.to_uppercase())).await?);
        taken_times.push(started.elapsed());
    }
    answers.push(post(&app, "/v1/auth/signup", &signup_body(&pending)).await?);
    for answer in &answers {
        assert_eq!(
            (answer.status, &answer.body),
            (202, &json!({"status": "verification_sent"})),
            "every signup answers alike"
        );
    }
    new_times.sort();
    taken_times.sort();
    eprintln!("signup: new address {new_times:?}, address with an account {taken_times:?}");
    // Both answers come from the same code before anything depends on the address, so they
    // differ by scheduling noise only (the finding was 1.4 ms against 20 ms: a hash).
    assert!(
        taken_times[1] * 3 + Duration::from_millis(5) > new_times[1],
        "an address with an account must not answer much faster: {taken_times:?} vs {new_times:?}"
    );

    // Only the mailbox learns that it has an account.
    let told = eventually(
        "the mail to the address with an account",
        Duration::from_secs(5),
        || async {
            Ok(mails(&app, &taken)
                .await?
                .into_iter()
                .find(|m| m.get_str("body").is_ok_and(|b| b.contains("already has an account"))))
        },
    )
    .await?;
    assert!(!told.get_str("body")?.contains("Verification token"), "{told}");
    // A second signup for a pending address replaces the first: only the newest link works.
    let new_token = eventually("the second verification mail", Duration::from_secs(5), || async {
        let token = outbox_token(&app, &pending).await?;
        Ok((token != old_token).then_some(token))
    })
    .await?;
    let stale = post(
        &app,
        "/v1/auth/verify",
        &json!({"token": old_token, "password": PASSWORD}),
    )
    .await?;
    assert_eq!((stale.status, stale.field()), (422, "token"), "{}", stale.body);
    let verified = post(
        &app,
        "/v1/auth/verify",
        &json!({"token": new_token, "password": PASSWORD}),
    )
    .await?;
    assert_eq!(verified.status, 201, "{}", verified.body);
    app.stream.delete().await
}

#[tokio::test]
async fn signups_are_limited_per_email_and_per_address_by_all_replicas_together() -> anyhow::Result<()> {
    let limits = |c: &mut command_api::Config| {
        c.signup_attempts_per_email = 2;
        c.signup_attempts_per_address = 3;
    };
    // Two replicas of the API sharing the database.
    let (a, b) = (
        CommandApp::spawn_with(limits).await?,
        CommandApp::spawn_with(limits).await?,
    );

    let email = unique_email("limited");
    let first = post_from(&a, &unique_address(), "/v1/auth/signup", &signup_body(&email)).await?;
    let second = post_from(&b, &unique_address(), "/v1/auth/signup", &signup_body(&email)).await?;
    assert_eq!((first.status, second.status), (202, 202));
    let third = post_from(&a, &unique_address(), "/v1/auth/signup", &signup_body(&email)).await?;
    assert_eq!(
        (third.status, third.code()),
        (429, "too_many_attempts"),
        "{}",
        third.body
    );
    let wait: u64 = third.header("retry-after").unwrap_or_default().parse()?;
    assert!((1..=3600).contains(&wait), "Retry-After {wait}");
    eventually("the two signup mails", Duration::from_secs(5), || async {
        Ok((mails(&a, &email).await?.len() == 2).then_some(()))
    })
    .await?;

    let address = unique_address();
    for app in [&a, &b, &a] {
        let reply = post_from(app, &address, "/v1/auth/signup", &signup_body(&unique_email("many"))).await?;
        assert_eq!(reply.status, 202, "{}", reply.body);
    }
    let over = post_from(&b, &address, "/v1/auth/signup", &signup_body(&unique_email("many"))).await?;
    assert_eq!((over.status, over.code()), (429, "too_many_attempts"), "{}", over.body);
    assert!(over.header("retry-after").is_some());
    a.stream.delete().await?;
    b.stream.delete().await
}

#[tokio::test]
async fn failed_logins_slow_down_their_own_address_and_never_lock_the_user_out() -> anyhow::Result<()> {
    let policy = |c: &mut command_api::Config| {
        c.login_free_attempts = 3;
        c.login_attempts_per_address = 6;
    };
    let (a, b) = (
        CommandApp::spawn_with(policy).await?,
        CommandApp::spawn_with(policy).await?,
    );
    let email = unique_email("victim");
    organization(&a, &email).await?;
    let wrong = json!({"email": email, "password": "Not-the-password-123"});
    let right = json!({"email": email, "password": PASSWORD});

    // Twelve wrong passwords from four addresses (more than the old per-email lockout).
    let attackers: Vec<String> = (0..4).map(|_| unique_address()).collect();
    for attacker in &attackers {
        for _ in 0..3 {
            let reply = post_from(&a, attacker, "/v1/auth/login", &wrong).await?;
            assert_eq!(
                (reply.status, reply.code()),
                (401, "invalid_credentials"),
                "{}",
                reply.body
            );
        }
        // The fourth try from the same address, on the other replica, must wait.
        let blocked = post_from(&b, attacker, "/v1/auth/login", &right).await?;
        assert_eq!(
            (blocked.status, blocked.code()),
            (429, "too_many_attempts"),
            "{}",
            blocked.body
        );
        assert_eq!(blocked.header("retry-after"), Some("1"));
    }
    // The user, from their own address, is not locked out.
    let user = post_from(&b, &unique_address(), "/v1/auth/login", &right).await?;
    assert_eq!(user.status, 200, "{}", user.body);

    // The wait doubles: once the first second has passed, one more failure costs two.
    let attacker = &attackers[0];
    eventually("the first backoff to end", Duration::from_secs(5), || async {
        let reply = post_from(&a, attacker, "/v1/auth/login", &wrong).await?;
        Ok((reply.status == 401).then_some(()))
    })
    .await?;
    let blocked = post_from(&a, attacker, "/v1/auth/login", &wrong).await?;
    assert_eq!((blocked.status, blocked.header("retry-after")), (429, Some("2")));

    // One address failing for many emails is stopped whatever the email.
    let sprayer = unique_address();
    for _ in 0..6 {
        let guess = json!({"email": unique_email("spray"), "password": "Guess-password-123"});
        assert_eq!(post_from(&a, &sprayer, "/v1/auth/login", &guess).await?.status, 401);
    }
    let stopped = post_from(&b, &sprayer, "/v1/auth/login", &right).await?;
    assert_eq!(
        (stopped.status, stopped.code()),
        (429, "too_many_attempts"),
        "{}",
        stopped.body
    );
    let user = post_from(&a, &unique_address(), "/v1/auth/login", &right).await?;
    assert_eq!(user.status, 200, "{}", user.body);
    a.stream.delete().await?;
    b.stream.delete().await
}

fn a_sale() -> Value {
    json!({"sale_id": uuid::Uuid::now_v7().simple().to_string(), "terminal_id": "till-1", "location": "main", "currency": "USD",
        "lines": [{"sku": "CHIPS", "quantity": 1, "unit_price_minor": 250}], "subtotal_minor": 250, "discount_total_minor": 0,
        "tax_total_minor": 0, "total_minor": 250, "tenders": [{"kind": "cash", "amount_minor": 250}], "change_minor": 0})
}

/// Waits until `request` answers `status`.
async fn until_status<F, Fut>(what: &str, status: u16, request: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Reply>>,
{
    let mut request = request;
    eventually(what, Duration::from_secs(10), || {
        let reply = request();
        async move { Ok((reply.await?.status == status).then_some(())) }
    })
    .await
}

#[tokio::test]
async fn deactivation_demotion_and_logout_end_access_tokens_within_seconds() -> anyhow::Result<()> {
    let app = CommandApp::spawn_with(|c| c.token_recheck_secs = 1).await?;
    let (_, login) = organization(&app, &unique_email("owner")).await?;
    let admin = login.body["access_token"].as_str().unwrap_or_default().to_owned();
    let admin_refresh = login.body["refresh_token"].as_str().unwrap_or_default().to_owned();
    let mut staff = Vec::new();
    for role in ["cashier", "manager"] {
        let email = unique_email(role);
        let id = invite(&app, &admin, &email, role).await?;
        let login = post(&app, "/v1/auth/login", &json!({"email": email, "password": PASSWORD})).await?;
        assert_eq!(login.status, 200, "{}", login.body);
        staff.push((id, login.body["access_token"].as_str().unwrap_or_default().to_owned()));
    }
    let [(cashier_id, cashier), (manager_id, manager)] =
        <[(String, String); 2]>::try_from(staff).map_err(|_| anyhow::anyhow!("two users"))?;
    let opened = app
        .post(
            "/v1/locations",
            &admin,
            &tests::command_app::location_body("main", "UTC", "00:00", "USD"),
            &[],
        )
        .await?;
    assert_eq!(opened.status, 201, "{}", opened.body);

    // A deactivated cashier's token stops recording sales.
    assert_eq!(app.post("/v1/sales", &cashier, &a_sale(), &[]).await?.status, 201);
    let deactivated = app
        .post(&format!("/v1/users/{cashier_id}/deactivate"), &admin, &json!({}), &[])
        .await?;
    assert_eq!(deactivated.status, 201, "{}", deactivated.body);
    until_status("the deactivated cashier's token to be refused", 401, || {
        let (app, cashier) = (&app, &cashier);
        async move { app.post("/v1/sales", cashier, &a_sale(), &[]).await }
    })
    .await?;

    // A demoted manager's token stops registering products but still sells.
    let product = |sku: &str| bench::workload::product(sku);
    assert_eq!(
        app.post("/v1/products", &manager, &product("SKU-A"), &[]).await?.status,
        201
    );
    let demoted = app
        .write(
            reqwest::Method::PUT,
            &format!("/v1/users/{manager_id}/role"),
            &admin,
            &json!({"role": "cashier"}),
            &[],
        )
        .await?;
    assert_eq!(demoted.status, 201, "{}", demoted.body);
    until_status("the demoted manager's token to lose manager rights", 403, || {
        let (app, manager) = (&app, &manager);
        let sku = format!("SKU-{}", uuid::Uuid::now_v7().simple());
        async move { app.post("/v1/products", manager, &product(&sku), &[]).await }
    })
    .await?;
    assert_eq!(app.post("/v1/sales", &manager, &a_sale(), &[]).await?.status, 201);

    // Logging out ends the access token of that login too.
    assert_eq!(
        app.send(app.http.get(format!("{}/v1/users", app.address)).bearer_auth(&admin))
            .await?
            .status,
        200
    );
    let out = post(&app, "/v1/auth/logout", &json!({"refresh_token": admin_refresh})).await?;
    assert_eq!(out.status, 204);
    until_status("the logged-out token to be refused", 401, || {
        app.send(app.http.get(format!("{}/v1/users", app.address)).bearer_auth(&admin))
    })
    .await?;
    app.stream.delete().await
}

#[tokio::test]
async fn parallel_refreshes_of_one_token_all_succeed_and_reuse_after_the_grace_revokes() -> anyhow::Result<()> {
    let app = CommandApp::spawn_with(|c| c.refresh_reuse_grace_secs = 2).await?;
    let (_, login) = organization(&app, &unique_email("tabs")).await?;
    let refresh = login.body["refresh_token"].as_str().unwrap_or_default().to_owned();
    let body = json!({"refresh_token": refresh});
    let replies = futures::future::join_all((0..10).map(|_| post(&app, "/v1/auth/refresh", &body))).await;
    let replies = replies.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    assert!(
        replies.iter().all(|r| r.status == 200),
        "{:?}",
        replies.iter().map(|r| (r.status, r.code())).collect::<Vec<_>>()
    );
    let children: Vec<String> = replies
        .iter()
        .map(|r| r.body["refresh_token"].as_str().unwrap_or_default().to_owned())
        .collect();
    // Every pair works: its access token, and its refresh token once.
    let access = replies[3].body["access_token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        app.send(app.http.get(format!("{}/v1/users", app.address)).bearer_auth(&access))
            .await?
            .status,
        200
    );
    let next = post(&app, "/v1/auth/refresh", &json!({"refresh_token": children[0]})).await?;
    assert_eq!(next.status, 200, "{}", next.body);

    // After the grace period, presenting the old token again ends the whole login.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let reuse = post(&app, "/v1/auth/refresh", &body).await?;
    assert_eq!((reuse.status, reuse.code()), (401, "invalid_refresh_token"));
    let sibling = post(&app, "/v1/auth/refresh", &json!({"refresh_token": children[1]})).await?;
    assert_eq!(sibling.status, 401, "the family is revoked");
    app.stream.delete().await
}

async fn collection(app: &CommandApp, name: &str) -> mongodb::Collection<bson::Document> {
    app.servers.mongo.database("liquor_pos_main").collection(name)
}

#[tokio::test]
async fn the_mailbox_chooses_the_password_admins_only_invite_and_a_taken_address_leaves_nothing_half_made()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    // Someone signs up with another person's address: they cannot set its password.
    let victim = unique_email("victim");
    let with_password = post(
        &app,
        "/v1/auth/signup",
        &json!({"organization_name": "Trap", "admin_name": "Mallory", "email": victim, "password": "Mallorys-own-password-1"}),
    )
    .await?;
    assert_eq!((with_password.status, with_password.field()), (422, "password"));
    assert_eq!(post(&app, "/v1/auth/signup", &signup_body(&victim)).await?.status, 202);
    let signup_token = outbox_token(&app, &victim).await?;
    let pending = eventually("the pending signup", Duration::from_secs(5), || async {
        Ok(collection(&app, "pendingorganizations")
            .await
            .find_one(doc! {"email": victim.to_lowercase()})
            .await?)
    })
    .await?;

    // Meanwhile an admin of another organization invites the same address. The invitation
    // creates no user: the address is not taken and no one can log in with it yet.
    let (_, admin_login) = organization(&app, &unique_email("other-admin")).await?;
    let admin = admin_login.body["access_token"].as_str().unwrap_or_default().to_owned();
    let invited = app
        .post(
            "/v1/users",
            &admin,
            &json!({"name": "V", "email": victim, "role": "cashier"}),
            &[],
        )
        .await?;
    assert_eq!(invited.status, 201, "{}", invited.body);
    assert!(
        collection(&app, "users")
            .await
            .find_one(doc! {"email": victim.to_lowercase()})
            .await?
            .is_none(),
        "an invitation takes no address"
    );
    let early = post(&app, "/v1/auth/login", &json!({"email": victim, "password": PASSWORD})).await?;
    assert_eq!(early.status, 401);
    // The victim accepts the invitation (their mailbox, their password)...
    let invitation = mail_token(&app, &victim, "Invitation token: ", "accept-invitation").await?;
    let weak = post(
        &app,
        "/v1/auth/accept-invitation",
        &json!({"token": invitation, "password": "password1234"}),
    )
    .await?;
    assert_eq!((weak.status, weak.field()), (422, "password"));
    let accepted = post(
        &app,
        "/v1/auth/accept-invitation",
        &json!({"token": invitation, "password": PASSWORD}),
    )
    .await?;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    let again = post(
        &app,
        "/v1/auth/accept-invitation",
        &json!({"token": invitation, "password": PASSWORD}),
    )
    .await?;
    assert_eq!((again.status, again.code()), (409, "token_used"));
    let login = post(&app, "/v1/auth/login", &json!({"email": victim, "password": PASSWORD})).await?;
    assert_eq!((login.status, login.body["role"].as_str()), (200, Some("cashier")));

    // ...so the older signup's verification finds the address taken, and makes nothing.
    let late = post(
        &app,
        "/v1/auth/verify",
        &json!({"token": signup_token, "password": PASSWORD}),
    )
    .await?;
    assert_eq!((late.status, late.code()), (409, "email_taken"), "{}", late.body);
    let organization_id = pending.get_str("organization_id")?;
    assert!(
        collection(&app, "organizations")
            .await
            .find_one(doc! {"_id": organization_id})
            .await?
            .is_none(),
        "no organization without an admin"
    );
    assert!(
        collection(&app, "users")
            .await
            .find_one(doc! {"_id": pending.get_str("admin_user_id")?})
            .await?
            .is_none()
    );
    let databases = app.servers.mongo.list_database_names().await?;
    assert!(
        !databases.contains(&format!("tenant_{organization_id}")),
        "no tenant database"
    );

    // Inviting an address that has an account answers alike; only the mailbox is told.
    let again = app
        .post(
            "/v1/users",
            &admin,
            &json!({"name": "V", "email": victim, "role": "manager"}),
            &[],
        )
        .await?;
    assert_eq!((again.status, again.body["status"].as_str()), (201, Some("invited")));
    eventually("the has-an-account mail", Duration::from_secs(5), || async {
        Ok(mails(&app, &victim)
            .await?
            .iter()
            .find(|m| {
                m.get_str("body")
                    .is_ok_and(|b| b.contains("already has an account") && !b.contains("Invitation token"))
            })
            .cloned())
    })
    .await?;
    app.stream.delete().await
}

#[tokio::test]
async fn password_reset_answers_alike_works_once_and_ends_every_login() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let email = unique_email("forgetful");
    let (_, login) = organization(&app, &email).await?;
    let refresh = login.body["refresh_token"].as_str().unwrap_or_default().to_owned();
    let access = login.body["access_token"].as_str().unwrap_or_default().to_owned();

    let known = post(&app, "/v1/auth/password-reset", &json!({"email": email})).await?;
    let ghost_email = unique_email("ghost");
    let unknown = post(&app, "/v1/auth/password-reset", &json!({"email": ghost_email})).await?;
    assert_eq!((known.status, &known.body), (202, &json!({"status": "reset_sent"})));
    assert_eq!((unknown.status, &unknown.body), (known.status, &known.body));
    let token = mail_token(&app, &email, "Reset token: ", "reset-password").await?;
    assert!(mails(&app, &ghost_email).await?.is_empty());
    // Stored only as a keyed hash.
    assert!(
        collection(&app, "password_resets")
            .await
            .find_one(doc! {"_id": &token})
            .await?
            .is_none()
    );

    let new_password = "a-Brand-new-passphrase-42";
    let weak = post(
        &app,
        "/v1/auth/password-reset/confirm",
        &json!({"token": token, "password": "password1234"}),
    )
    .await?;
    assert_eq!((weak.status, weak.field()), (422, "password"));
    let done = post(
        &app,
        "/v1/auth/password-reset/confirm",
        &json!({"token": token, "password": new_password}),
    )
    .await?;
    assert_eq!(done.status, 204, "{}", done.body);
    let reused = post(
        &app,
        "/v1/auth/password-reset/confirm",
        &json!({"token": token, "password": "another-Fine-passphrase-7"}),
    )
    .await?;
    assert_eq!((reused.status, reused.code()), (409, "token_used"));

    let old = post(&app, "/v1/auth/login", &json!({"email": email, "password": PASSWORD})).await?;
    assert_eq!(old.status, 401);
    let new = post(
        &app,
        "/v1/auth/login",
        &json!({"email": email, "password": new_password}),
    )
    .await?;
    assert_eq!(new.status, 200, "{}", new.body);
    // Every earlier login ends: its refresh token at once, its access token after the recheck.
    assert_eq!(
        post(&app, "/v1/auth/refresh", &json!({"refresh_token": refresh}))
            .await?
            .status,
        401
    );
    until_status("the old access token to be refused", 401, || {
        let (app, access) = (&app, &access);
        async move {
            app.send(app.http.get(format!("{}/v1/users", app.address)).bearer_auth(access))
                .await
        }
    })
    .await?;

    // A reset link stops working when it expires.
    assert_eq!(
        post(&app, "/v1/auth/password-reset", &json!({"email": email}))
            .await?
            .status,
        202
    );
    let second = eventually("a second reset mail", Duration::from_secs(5), || async {
        let latest = mail_token(&app, &email, "Reset token: ", "reset-password").await?;
        Ok((latest != token).then_some(latest))
    })
    .await?;
    collection(&app, "password_resets")
        .await
        .update_many(
            doc! {"used_at": null, "user_id": new.body["user_id"].as_str().unwrap_or_default()},
            doc! {"$set": {"expires_at": bson::DateTime::from_millis(0)}},
        )
        .await?;
    let expired = post(
        &app,
        "/v1/auth/password-reset/confirm",
        &json!({"token": second, "password": "yet-Another-passphrase-9"}),
    )
    .await?;
    assert_eq!((expired.status, expired.code()), (409, "token_expired"));
    app.stream.delete().await
}

/// A minimal SMTP server on 127.0.0.1 that never offers STARTTLS and records what it is
/// told; for checking what the mailer sends, and whether it insists on encryption.
async fn fake_smtp() -> anyhow::Result<(u16, std::sync::Arc<std::sync::Mutex<String>>)> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = log.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let log = seen.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 fake ESMTP\r\n").await;
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().map(|mut l| l.push_str(&format!("{line}\n"))).ok();
                    let answer: &[u8] = if in_data {
                        if line == "." {
                            in_data = false;
                            b"250 queued\r\n"
                        } else {
                            continue;
                        }
                    } else if line.starts_with("EHLO") {
                        b"250-fake\r\n250 8BITMIME\r\n"
                    } else if line.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if line.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    if write.write_all(answer).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok((port, log))
}

#[tokio::test]
async fn smtp_mail_is_encrypted_unless_the_server_is_a_local_catcher() -> anyhow::Result<()> {
    use secrecy::SecretString;
    let (port, log) = fake_smtp().await?;
    let invite_through = |url: String| async move {
        let app = CommandApp::spawn_with(|c| c.smtp_url = Some(SecretString::from(url))).await?;
        let tenant = tests::unique_tenant();
        let admin = app.token(&tenant, events::Role::Admin).await?;
        let reply = app
            .post(
                "/v1/users",
                &admin,
                &json!({"name": "Cy", "email": unique_email("smtp"), "role": "cashier"}),
                &[],
            )
            .await?;
        app.stream.delete().await?;
        anyhow::Ok(reply)
    };
    // A local mail catcher may speak plain SMTP.
    let plain = invite_through(format!("smtp://127.0.0.1:{port}")).await?;
    assert_eq!(plain.status, 201, "{}", plain.body);
    let delivered = log.lock().map(|l| l.clone()).unwrap_or_default();
    assert!(
        delivered.contains("RCPT TO:<smtp-") && delivered.contains("Invitation token: "),
        "{delivered}"
    );

    // STARTTLS required: a server that does not offer it never sees the credentials or a message.
    log.lock().map(|mut l| l.clear()).ok();
    let required = invite_through(format!("smtp://mailer:s3cret@127.0.0.1:{port}?tls=required")).await?;
    assert_eq!(
        (required.status, required.code()),
        (503, "unavailable"),
        "{}",
        required.body
    );
    // TLS from the first byte: a plaintext server gets no SMTP command at all.
    let tls = invite_through(format!("smtps://mailer:s3cret@127.0.0.1:{port}")).await?;
    assert_eq!((tls.status, tls.code()), (503, "unavailable"), "{}", tls.body);
    let seen = log.lock().map(|l| l.clone()).unwrap_or_default();
    assert!(
        !seen.contains("AUTH") && !seen.contains("MAIL FROM") && !seen.contains("s3cret"),
        "{seen}"
    );

    // Plain SMTP to a remote host is refused at startup (no connection is made).
    let servers = tests::Servers::connect().await?;
    let stream = tests::TestStream::create(&servers.jetstream).await?;
    let mut config = CommandApp::config(&stream, &tests::TokenIssuer::default());
    config.smtp_url = Some(SecretString::from("smtp://mail.example.com:25".to_owned()));
    let refused = command_api::Application::build(config).await;
    assert!(refused.is_err(), "plaintext SMTP to a remote host must not start");
    stream.delete().await
}

/// The role `GET /v1/users` (the login store) shows for `user_id`.
async fn listed_role(app: &CommandApp, admin: &str, user_id: &str) -> anyhow::Result<(String, bool)> {
    let listed = app
        .send(app.http.get(format!("{}/v1/users", app.address)).bearer_auth(admin))
        .await?;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let user = listed.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|u| u["id"] == user_id))
        .ok_or_else(|| anyhow::anyhow!("user {user_id} not listed: {}", listed.body))?;
    Ok((
        user["role"].as_str().unwrap_or_default().to_owned(),
        user["active"].as_bool().unwrap_or_default(),
    ))
}

#[tokio::test]
async fn role_changes_set_back_are_not_retries_and_the_login_store_follows_the_events() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let (organization, login) = organization(&app, &unique_email("owner")).await?;
    let admin = login.body["access_token"].as_str().unwrap_or_default().to_owned();
    let user_id = invite(&app, &admin, &unique_email("staff"), "manager").await?;
    let role_path = format!("/v1/users/{user_id}/role");
    let set_role = |role: &'static str, headers: &'static [(&'static str, &'static str)]| {
        let (app, admin, path) = (&app, &admin, &role_path);
        async move {
            app.write(reqwest::Method::PUT, path, admin, &json!({"role": role}), headers)
                .await
        }
    };

    // manager → cashier → manager, without keys: three changes, the third is not a retry
    // of the first (it was, before: the user stayed a cashier).
    let first = set_role("cashier", &[]).await?;
    assert_eq!(
        (first.status, first.header("Idempotent-Replayed")),
        (201, None),
        "{}",
        first.body
    );
    // A retry right after is the latest event: recognised.
    let retried = set_role("cashier", &[]).await?;
    assert_eq!(retried.status, 201);
    assert_eq!(retried.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(retried.body["event_id"], first.body["event_id"]);
    let back = set_role("manager", &[]).await?;
    assert_eq!(
        (back.status, back.header("Idempotent-Replayed")),
        (201, None),
        "{}",
        back.body
    );
    assert_eq!(listed_role(&app, &admin, &user_id).await?, ("manager".to_owned(), true));

    // With the client's own key, a late retry of an old change is recognised anywhere and
    // replays its answer, but it does not set the old role back: the login store is
    // written from the user's events, not from the retried command.
    let keyed = set_role("cashier", &[("Idempotency-Key", "role-change-1")]).await?;
    assert_eq!(keyed.status, 201, "{}", keyed.body);
    let newer = set_role("admin", &[]).await?;
    assert_eq!(newer.status, 201, "{}", newer.body);
    let late = set_role("cashier", &[("Idempotency-Key", "role-change-1")]).await?;
    assert_eq!(late.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(late.body["event_id"], keyed.body["event_id"]);
    assert_eq!(listed_role(&app, &admin, &user_id).await?, ("admin".to_owned(), true));

    // Deactivation: once; a retry replays; another deactivation is 409 and appends nothing.
    let deactivate = |reason: &'static str| {
        let (app, admin, user_id) = (&app, &admin, &user_id);
        async move {
            app.post(
                &format!("/v1/users/{user_id}/deactivate"),
                admin,
                &json!({"reason": reason}),
                &[],
            )
            .await
        }
    };
    let gone = deactivate("left").await?;
    assert_eq!(gone.status, 201, "{}", gone.body);
    assert_eq!(deactivate("left").await?.header("Idempotent-Replayed"), Some("true"));
    let tenant = events::TenantId::parse(&organization)?;
    let before = app.all_tenant_messages(&tenant).await?.len();
    let again = deactivate("fired").await?;
    assert_eq!(
        (again.status, again.code()),
        (409, "user_deactivated"),
        "{}",
        again.body
    );
    assert_eq!(app.all_tenant_messages(&tenant).await?.len(), before);
    assert_eq!(listed_role(&app, &admin, &user_id).await?, ("admin".to_owned(), false));

    // Every role change and the deactivation are events on the user's subject, in order.
    let mut roles = Vec::new();
    for message in app.all_tenant_messages(&tenant).await? {
        if let events::DomainEvent::UserRoleChanged(e) = events::decode(&message.payload)?.event {
            roles.push((
                e.previous_role.map(|r| r.to_string()).unwrap_or_default(),
                e.role.to_string(),
            ));
        }
    }
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        roles,
        vec![
            pair("manager", "cashier"),
            pair("cashier", "manager"),
            pair("manager", "cashier"),
            pair("cashier", "admin"),
        ]
    );
    app.stream.delete().await
}

/// `GET /v1/terminals/sync` at `location` (from `cursor`) as `token`: (user id, active) of
/// the users listed, and the answer's cursor.
async fn synced_users(
    app: &CommandApp,
    token: &str,
    location: &str,
    cursor: Option<u64>,
) -> anyhow::Result<(Vec<(String, bool)>, u64)> {
    let query = match cursor {
        Some(cursor) => format!("location={location}&cursor={cursor}"),
        None => format!("location={location}"),
    };
    let reply = app
        .send(
            app.http
                .get(format!("{}/v1/terminals/sync?{query}", app.address))
                .bearer_auth(token),
        )
        .await?;
    anyhow::ensure!(reply.status == 200, "sync at {location}: {reply:?}");
    let users = reply.body["users"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|user| {
            (
                user["id"].as_str().unwrap_or_default().to_owned(),
                user["active"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    Ok((users, reply.body["cursor"].as_u64().unwrap_or_default()))
}

#[tokio::test]
async fn a_cashier_limited_to_one_store_sells_only_there_and_terminals_of_the_other_store_drop_them()
-> anyhow::Result<()> {
    // Token subjects are re-checked every second here, so a change applies within one.
    let app = CommandApp::spawn_with(|config| config.token_recheck_secs = 1).await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let (organization, login) = organization(&app, &unique_email("owner")).await?;
    let tenant = events::TenantId::parse(&organization)?;
    let admin = login.body["access_token"].as_str().unwrap_or_default().to_owned();
    let admin_id = login.body["user_id"].as_str().unwrap_or_default().to_owned();
    tests::command_app::open_locations_at(&app.http, &app.address, &admin).await?;
    let cashier_email = unique_email("cashier");
    let cashier_id = invite(&app, &admin, &cashier_email, "cashier").await?;
    let cashier_login = post(
        &app,
        "/v1/auth/login",
        &json!({"email": cashier_email, "password": PASSWORD}),
    )
    .await?;
    let cashier = cashier_login.body["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let sale = |sale_id: &str, location: &str| {
        json!({"sale_id": sale_id, "terminal_id": "till-1", "location": location, "currency": "USD",
            "lines": [{"sku": "CHIPS", "quantity": 1, "unit_price_minor": 250}], "subtotal_minor": 250,
            "discount_total_minor": 0, "tax_total_minor": 0, "total_minor": 250,
            "tenders": [{"kind": "cash", "amount_minor": 250}], "change_minor": 0})
    };
    // Before: the annex's terminals list the cashier.
    let (users, before) = eventually("the cashier projected", Duration::from_secs(30), || {
        let (app, cashier, cashier_id) = (&app, &cashier, &cashier_id);
        async move {
            let (users, cursor) = synced_users(app, cashier, "annex", None).await?;
            Ok(users.iter().any(|(id, _)| id == cashier_id).then_some((users, cursor)))
        }
    })
    .await?;
    assert!(users.contains(&(cashier_id.clone(), true)), "{users:?}");

    // What cannot be: an admin limited, a location never opened, a cashier changing it,
    // another tenant's admin.
    let change = |token: String, user: String, locations: serde_json::Value| {
        let app = &app;
        async move {
            app.write(
                reqwest::Method::PUT,
                &format!("/v1/users/{user}/locations"),
                &token,
                &json!({"locations": locations}),
                &[],
            )
            .await
        }
    };
    let own = change(admin.clone(), admin_id.clone(), json!(["main"])).await?;
    assert_eq!((own.status, own.field()), (422, "locations"), "{own:?}");
    let nowhere = change(admin.clone(), cashier_id.clone(), json!(["nowhere"])).await?;
    assert_eq!((nowhere.status, nowhere.field()), (422, "locations"), "{nowhere:?}");
    let by_cashier = change(cashier.clone(), cashier_id.clone(), json!([])).await?;
    assert_eq!((by_cashier.status, by_cashier.code()), (403, "forbidden"));
    let stranger = app.token(&tests::unique_tenant(), events::Role::Admin).await?;
    let elsewhere = change(stranger, cashier_id.clone(), json!(["main"])).await?;
    assert_eq!(elsewhere.status, 404, "{elsewhere:?}");

    // Limited to main.
    let before_limit = chrono::Utc::now() - chrono::Duration::seconds(1);
    let limited = change(admin.clone(), cashier_id.clone(), json!(["main"])).await?;
    assert_eq!(limited.status, 201, "{limited:?}");
    let at = limited.body["stream_sequence"].as_u64().unwrap_or_default();
    // A retried change (the admin's page timed out) answers the first answer, once.
    let retried = change(admin.clone(), cashier_id.clone(), json!(["main"])).await?;
    assert_eq!(retried.status, 201, "{retried:?}");
    assert_eq!(retried.header("idempotent-replayed"), Some("true"));
    assert_eq!(retried.body["stream_sequence"], limited.body["stream_sequence"]);
    // Without a token: 401.
    let anonymous = app
        .send(
            app.http
                .put(format!("{}/v1/users/{cashier_id}/locations", app.address))
                .json(&json!({"locations": []})),
        )
        .await?;
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    let listed = app
        .send(app.http.get(format!("{}/v1/users", app.address)).bearer_auth(&admin))
        .await?;
    let listed_cashier = listed.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|u| u["id"] == cashier_id.as_str()).cloned())
        .unwrap_or_default();
    assert_eq!(listed_cashier["locations"], json!(["main"]), "{listed:?}");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let at_annex = app.post("/v1/sales", &cashier, &sale("a-1", "annex"), &[]).await?;
    assert_eq!(
        (at_annex.status, at_annex.code()),
        (403, "location_forbidden"),
        "{at_annex:?}"
    );
    let at_main = app.post("/v1/sales", &cashier, &sale("m-1", "main"), &[]).await?;
    assert_eq!(at_main.status, 201, "{at_main:?}");
    // A sale rung up at the annex's offline till before the limit, uploaded now, is
    // recorded: it already happened.
    let mut offline = sale("a-0", "annex");
    offline["occurred_at"] = json!(before_limit.to_rfc3339());
    let queued = app.post("/v1/sales", &cashier, &offline, &[]).await?;
    assert_eq!(queued.status, 201, "{queued:?}");
    // The admin is never limited.
    let by_admin = app.post("/v1/sales", &admin, &sale("a-2", "annex"), &[]).await?;
    assert_eq!(by_admin.status, 201, "{by_admin:?}");

    // Terminals: the annex's drop the cashier (inactive after its cursor, absent from a
    // new snapshot), main's keep them.
    tests::projector_app::wait_for_checkpoint(&app.servers, &tenant, at, Duration::from_secs(30)).await?;
    let (changed, _) = synced_users(&app, &admin, "annex", Some(before)).await?;
    assert!(changed.contains(&(cashier_id.clone(), false)), "{changed:?}");
    let (annex, _) = synced_users(&app, &admin, "annex", None).await?;
    assert!(annex.iter().all(|(id, _)| *id != cashier_id), "{annex:?}");
    assert!(annex.contains(&(admin_id.clone(), true)), "the admin stays: {annex:?}");
    let (main, _) = synced_users(&app, &cashier, "main", None).await?;
    assert!(main.contains(&(cashier_id.clone(), true)), "{main:?}");
    // Nor does the cashier load the annex's terminal.
    let refused = app
        .send(
            app.http
                .get(format!("{}/v1/terminals/sync?location=annex", app.address))
                .bearer_auth(&cashier),
        )
        .await?;
    assert_eq!(
        (refused.status, refused.code()),
        (403, "location_forbidden"),
        "{refused:?}"
    );

    // Lifted: every store again.
    let lifted = change(admin.clone(), cashier_id.clone(), json!([])).await?;
    assert_eq!(lifted.status, 201, "{lifted:?}");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let again = app.post("/v1/sales", &cashier, &sale("a-3", "annex"), &[]).await?;
    assert_eq!(again.status, 201, "{again:?}");
    projector.stop().await?;
    app.servers
        .mongo
        .database(&format!("tenant_{organization}"))
        .drop()
        .await?;
    app.stream.delete().await
}

#[tokio::test]
async fn managers_limited_to_stores_read_only_those_stores_sales_drawers_and_reports() -> anyhow::Result<()> {
    let app = CommandApp::spawn_with(|config| config.token_recheck_secs = 1).await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let (organization, login) = organization(&app, &unique_email("owner")).await?;
    let admin = login.body["access_token"].as_str().unwrap_or_default().to_owned();
    tests::command_app::open_locations_at(&app.http, &app.address, &admin).await?;
    // One store's manager, and a district manager of both.
    let mut managers = Vec::new();
    for (stem, stores) in [("store", json!(["main"])), ("district", json!(["main", "annex"]))] {
        let email = unique_email(stem);
        let id = invite(&app, &admin, &email, "manager").await?;
        let limited = app
            .write(
                reqwest::Method::PUT,
                &format!("/v1/users/{id}/locations"),
                &admin,
                &json!({"locations": stores}),
                &[],
            )
            .await?;
        assert_eq!(limited.status, 201, "{limited:?}");
        let login = post(&app, "/v1/auth/login", &json!({"email": email, "password": PASSWORD})).await?;
        // The login answer says where the user is held, for clients to offer only that.
        let mut listed = login.body["locations"].clone();
        if let Some(stores) = listed.as_array_mut() {
            stores.sort_by_key(|store| store.as_str().unwrap_or_default().to_owned());
        }
        let mut expected = stores.clone();
        if let Some(stores) = expected.as_array_mut() {
            stores.sort_by_key(|store| store.as_str().unwrap_or_default().to_owned());
        }
        assert_eq!(listed, expected, "{login:?}");
        managers.push(login.body["access_token"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(login.body["locations"], json!([]), "an admin is held nowhere");
    let (store_manager, district) = (managers[0].clone(), managers[1].clone());
    tokio::time::sleep(Duration::from_millis(1_200)).await;

    // main sells 1 × 2.50, the annex 2 × 2.50; the annex opens a drawer.
    let sale = |sale_id: &str, location: &str, quantity: i64| {
        let total = quantity * 250;
        json!({"sale_id": sale_id, "terminal_id": "till-1", "location": location, "currency": "USD",
            "lines": [{"sku": "CHIPS", "quantity": quantity, "unit_price_minor": 250}], "subtotal_minor": total,
            "discount_total_minor": 0, "tax_total_minor": 0, "total_minor": total,
            "tenders": [{"kind": "cash", "amount_minor": total}], "change_minor": 0})
    };
    let mut last = 0;
    for (path, body) in [
        ("/v1/sales", sale("m-1", "main", 1)),
        ("/v1/sales", sale("a-1", "annex", 2)),
        (
            "/v1/drawer-sessions",
            json!({"session_id": "annex-shift", "terminal_id": "till-1", "location": "annex",
                "opening_float_minor": 10_000}),
        ),
    ] {
        let posted = app.post(path, &admin, &body, &[]).await?;
        assert_eq!(posted.status, 201, "{path}: {posted:?}");
        last = posted.body["stream_sequence"].as_u64().unwrap_or_default();
    }
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    // Every read waits for the projector to have the drawer (the feed takes no such wait).
    let read = |token: &str, path: String| {
        let (app, token) = (&app, token.to_owned());
        let separator = if path.contains('?') { '&' } else { '?' };
        let wait = if path.starts_with("/v1/feed") {
            String::new()
        } else {
            format!("{separator}min_sequence={last}")
        };
        async move {
            app.send(app.http.get(format!("{}{path}{wait}", app.address)).bearer_auth(token))
                .await
        }
    };
    let sale_ids = |reply: &Reply| {
        reply.body["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|sale| sale["id"].as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let daily_totals = |reply: &Reply| tests::command_app::daily_rows(&reply.body);
    let forbidden = |reply: &Reply, what: &str| {
        assert_eq!(
            (reply.status, reply.code()),
            (403, "location_forbidden"),
            "{what}: {reply:?}"
        );
    };

    // The store's manager: its store only, without naming it.
    let sales = read(&store_manager, "/v1/sales".into()).await?;
    assert_eq!(sales.status, 200, "{sales:?}");
    assert_eq!(sale_ids(&sales), ["m-1"]);
    forbidden(
        &read(&store_manager, "/v1/sales?location=annex".into()).await?,
        "the annex's sales",
    );
    let one = read(&store_manager, "/v1/sales/m-1".into()).await?;
    assert_eq!(
        (one.status, one.body["total_minor"].as_i64()),
        (200, Some(250)),
        "{one:?}"
    );
    let other = read(&store_manager, "/v1/sales/a-1".into()).await?;
    forbidden(&other, "the annex's sale");
    assert!(
        other.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("annex"),
        "{other:?}"
    );
    forbidden(
        &read(&store_manager, "/v1/drawer-sessions/annex-shift".into()).await?,
        "the annex's drawer",
    );
    let daily = read(&store_manager, format!("/v1/reports/daily?date={today}")).await?;
    assert_eq!(daily.status, 200, "{daily:?}");
    assert_eq!(daily_totals(&daily), [("main".to_owned(), 1, 250)]);
    forbidden(
        &read(&store_manager, format!("/v1/reports/daily?date={today}&location=annex")).await?,
        "the annex's Z report",
    );
    let top = read(
        &store_manager,
        format!("/v1/reports/top-products?from={today}&to={today}"),
    )
    .await?;
    assert_eq!(top.status, 200, "{top:?}");
    assert_eq!(
        top.body["items"][0]["units"].as_i64(),
        Some(1),
        "main's one unit only: {top:?}"
    );
    for path in ["/v1/purchase-orders", "/v1/inventory/transactions?sku=CHIPS"] {
        assert_eq!(read(&store_manager, path.into()).await?.status, 200, "{path}");
        let separator = if path.contains('?') { '&' } else { '?' };
        forbidden(
            &read(&store_manager, format!("{path}{separator}location=annex")).await?,
            path,
        );
    }
    // The chain's reference data stays readable.
    assert_eq!(read(&store_manager, "/v1/locations".into()).await?.status, 200);

    // The district manager names one of its stores, and reads either.
    let unnamed = read(&district, "/v1/sales".into()).await?;
    assert_eq!((unnamed.status, unnamed.field()), (422, "location"), "{unnamed:?}");
    let annex = read(&district, "/v1/sales?location=annex".into()).await?;
    assert_eq!(sale_ids(&annex), ["a-1"], "{annex:?}");
    let drawer = read(&district, "/v1/drawer-sessions/annex-shift".into()).await?;
    assert_eq!(drawer.status, 200, "{drawer:?}");
    let daily = read(&district, format!("/v1/reports/daily?date={today}&location=annex")).await?;
    assert_eq!(daily_totals(&daily), [("annex".to_owned(), 1, 500)]);

    // The admin reads the whole chain, as before.
    let daily = read(&admin, format!("/v1/reports/daily?date={today}")).await?;
    assert_eq!(
        daily_totals(&daily),
        [("annex".to_owned(), 1, 500), ("main".to_owned(), 1, 250)]
    );

    // The feed: both sales are voided, then each reader's page of the whole history. A
    // void acts where its sale was, which only the sale's first event says.
    for sale_id in ["a-1", "m-1"] {
        let void = app
            .post(
                &format!("/v1/sales/{sale_id}/void"),
                &admin,
                &json!({"reason": "test"}),
                &[],
            )
            .await?;
        assert_eq!(void.status, 201, "{void:?}");
    }
    let feed = |reply: &Reply| {
        assert_eq!(reply.status, 200, "{reply:?}");
        let events = reply.body["events"].as_array().cloned().unwrap_or_default();
        events
            .iter()
            .map(|event| {
                format!(
                    "{} {}/{}",
                    event["type"].as_str().unwrap_or_default(),
                    event["aggregate"]["kind"].as_str().unwrap_or_default(),
                    event["aggregate"]["id"].as_str().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
    };
    let page = "/v1/feed?limit=1000".to_owned();
    let (chain, store, both) = (
        read(&admin, page.clone()).await?,
        read(&store_manager, page.clone()).await?,
        read(&district, page.clone()).await?,
    );
    let (chain_events, store_events, both_events) = (feed(&chain), feed(&store), feed(&both));
    let annex_only = [
        "LocationOpened location/annex",
        "SaleCompleted sale/a-1",
        "SaleVoided sale/a-1",
        "DrawerSessionOpened drawer/annex-shift",
    ];
    let main_too = [
        "LocationOpened location/main",
        "SaleCompleted sale/m-1",
        "SaleVoided sale/m-1",
    ];
    for event in annex_only.iter().chain(&main_too) {
        assert!(
            chain_events.iter().any(|e| e == event),
            "the admin sees {event}: {chain_events:?}"
        );
        assert!(
            both_events.iter().any(|e| e == event),
            "the district sees {event}: {both_events:?}"
        );
    }
    for event in main_too {
        assert!(
            store_events.iter().any(|e| e == event),
            "main's manager sees {event}: {store_events:?}"
        );
    }
    for event in annex_only {
        assert!(
            !store_events.contains(&event.to_owned()),
            "main's manager does not see {event}"
        );
    }
    // The chain's own events (the invitations, the stores the managers were given) are
    // everyone's; only the annex's four are missing, and the cursor moved past them.
    assert!(
        store_events.iter().any(|e| e.starts_with("UserLocationsChanged user/")),
        "{store_events:?}"
    );
    assert_eq!(
        store_events.len() + annex_only.len(),
        chain_events.len(),
        "{store_events:?}"
    );
    assert_eq!(store.body["next_after"], chain.body["next_after"]);
    assert_eq!(both_events, chain_events);

    projector.stop().await?;
    app.servers
        .mongo
        .database(&format!("tenant_{organization}"))
        .drop()
        .await?;
    app.stream.delete().await
}
