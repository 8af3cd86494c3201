//! The command API against the real NATS server: each command lands on the right subject
//! with the right headers and envelope; retries get the original answer; conflicts, bad
//! input and bad tokens are refused with nothing published.

use events::{DomainEvent, Role, TenantId, headers};
use jsonwebtoken::{Algorithm, Header};
use reqwest::Method;
use serde_json::{Value, json};
use tests::command_app::{METRICS_TOKEN, Reply};
use tests::{CommandApp, unique_tenant};
use uuid::Uuid;

fn sale(sale_id: &str) -> Value {
    // 2 × 1299 − 100 + 200 = 2698; total 2698; paid 3000 cash, change 302.
    json!({
        "sale_id": sale_id,
        "location": "main",
        "currency": "USD",
        "lines": [{"sku": "WINE-RED", "quantity": 2, "unit_price_minor": 1299, "discount_minor": 100, "tax_minor": 200}],
        "subtotal_minor": 2598, "discount_total_minor": 100, "tax_total_minor": 200, "total_minor": 2698,
        "tenders": [{"kind": "cash", "amount_minor": 3000}],
        "change_minor": 302
    })
}

fn product(sku: &str, minimum_age: Option<u8>) -> Value {
    json!({
        "sku": sku,
        "details": {"name": "Old Whiskey", "category": "spirits", "tax_class": "alcohol", "barcodes": ["082184090466"], "minimum_age": minimum_age, "reorder_point": 6},
        "price": {"amount_minor": 2999, "currency": "USD"}
    })
}

/// `<prefix>.<partition>.<tenant>`: the start of every subject of `tenant`.
fn tenant_prefix(app: &CommandApp, tenant: &TenantId) -> String {
    app.stream
        .scheme
        .tenant_filter(tenant)
        .trim_end_matches(".>")
        .to_owned()
}

async fn expect_nothing_published(app: &CommandApp, tenant: &TenantId) -> anyhow::Result<()> {
    assert_eq!(
        app.tenant_messages(tenant).await?.len(),
        0,
        "an invalid command published something"
    );
    Ok(())
}

#[tokio::test]
async fn a_sale_is_appended_on_its_subject_with_headers_and_envelope() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let sale_id = Uuid::now_v7().to_string();
    let reply = app
        .post(
            "/v1/sales",
            &app.token(&tenant, Role::Cashier).await?,
            &sale(&sale_id),
            &[("Idempotency-Key", "k-1")],
        )
        .await?;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert_eq!(reply.body["aggregate_kind"], "sale");
    assert_eq!(reply.body["replayed"], false);

    let messages = app.tenant_messages(&tenant).await?;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(
        message.subject.as_str(),
        format!("{}.sale.{}", tenant_prefix(&app, &tenant), sale_id)
    );
    let info = message.info().map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(
        info.stream_sequence,
        reply.body["stream_sequence"].as_u64().unwrap_or_default()
    );
    let envelope = events::decode(&message.payload)?;
    let header = |name: &str| {
        message
            .headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
    };
    // Only the headers something acts on: the expectation (a new sale: an empty subject)
    // and the fingerprint; the type, tenant and id are in the subject and the envelope.
    assert!(header(headers::REQUEST_FINGERPRINT).is_some_and(|f| f.len() == 64));
    assert_eq!(header(headers::EXPECTED_LAST_SUBJECT_SEQUENCE).as_deref(), Some("0"));
    assert_eq!(
        header(headers::MSG_ID),
        None,
        "a command's append needs no de-duplication id"
    );
    let names: Vec<String> = message
        .headers
        .as_ref()
        .map(|h| h.iter().map(|(name, _)| name.to_string()).collect())
        .unwrap_or_default();
    assert!(names.len() <= 3, "headers {names:?}");
    assert_eq!(reply.body["event_ids"][0], envelope.event_id.to_string());
    assert_eq!(envelope.tenant_id, tenant);
    assert_eq!(envelope.idempotency_key, "k-1");
    assert_eq!(envelope.actor.role, Role::Cashier);
    assert_eq!(envelope.actor.terminal_id.as_ref().map(|t| t.as_str()), Some("till-1"));
    let DomainEvent::SaleCompleted(event) = envelope.event else {
        panic!("not a sale")
    };
    assert_eq!(event.total_minor, 2698);
    assert_eq!(event.lines[0].total_minor, 2698);
    assert_eq!(
        event.cashier_id.as_str(),
        tests::tokens::account_user(&tenant, Role::Cashier)
    );
    app.stream.delete().await
}

#[tokio::test]
async fn every_command_type_lands_on_its_aggregate_subject() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let prefix = tenant_prefix(&app, &tenant);
    let mut expected: Vec<(String, &str)> = Vec::new();

    let registered = app
        .post("/v1/products", &manager, &product("WHISKEY-1", Some(21)), &[])
        .await?;
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    let mut etag = registered.header("etag").unwrap_or_default().to_owned();
    expected.push((format!("{prefix}.product.WHISKEY-1"), "ProductRegistered"));

    let update = json!({"details": {"name": "Old Whiskey 12y", "category": "spirits", "tax_class": "alcohol", "minimum_age": 21}});
    let updated = app
        .write(
            Method::PUT,
            "/v1/products/WHISKEY-1",
            &manager,
            &update,
            &[("If-Match", &etag)],
        )
        .await?;
    assert_eq!(updated.status, 201, "{:?}", updated.body);
    etag = updated.header("etag").unwrap_or_default().to_owned();
    expected.push((format!("{prefix}.product.WHISKEY-1"), "ProductUpdated"));

    let repriced = app
        .write(
            Method::PUT,
            "/v1/products/WHISKEY-1/price",
            &manager,
            &json!({"price": {"amount_minor": 2799, "currency": "USD"}}),
            &[("If-Match", &etag)],
        )
        .await?;
    assert_eq!(repriced.status, 201, "{:?}", repriced.body);
    etag = repriced.header("etag").unwrap_or_default().to_owned();
    expected.push((format!("{prefix}.product.WHISKEY-1"), "ProductPriceChanged"));

    for (path, body, event_type) in [
        (
            "/v1/inventory/receipts",
            json!({"movement_id": "m-1", "sku": "WHISKEY-1", "location": "main", "quantity": 24, "unit_cost": {"amount_minor": 1500, "currency": "USD"}, "supplier": "Acme Spirits", "reference": "PO-7"}),
            "StockReceived",
        ),
        (
            "/v1/inventory/adjustments",
            json!({"movement_id": "m-2", "sku": "WHISKEY-1", "location": "main", "quantity_delta": -1, "reason": "breakage"}),
            "StockAdjusted",
        ),
        (
            "/v1/inventory/counts",
            json!({"movement_id": "m-3", "sku": "WHISKEY-1", "location": "main", "counted_quantity": 22}),
            "StockCounted",
        ),
        (
            "/v1/inventory/transfers",
            json!({"movement_id": "m-4", "sku": "WHISKEY-1", "from_location": "main", "to_location": "annex", "quantity": 2}),
            "StockTransferred",
        ),
    ] {
        let reply = app.post(path, &manager, &body, &[]).await?;
        assert_eq!(reply.status, 201, "{path}: {:?}", reply.body);
        expected.push((
            format!("{prefix}.movement.{}", body["movement_id"].as_str().unwrap_or_default()),
            event_type,
        ));
    }

    let mut whiskey_sale = sale("s-1");
    whiskey_sale["lines"][0]["sku"] = json!("WHISKEY-1");
    whiskey_sale["age_verification"] = json!({"method": "id_scan", "customer_age": 34});
    let sold = app
        .post(
            "/v1/sales",
            &app.token(&tenant, Role::Cashier).await?,
            &whiskey_sale,
            &[],
        )
        .await?;
    assert_eq!(sold.status, 201, "{:?}", sold.body);
    expected.push((format!("{prefix}.sale.s-1"), "SaleCompleted"));

    let refunded = app
        .post(
            "/v1/sales/s-1/refunds",
            &manager,
            &json!({"refund_id": "r-1", "lines": [{"line_no": 1, "quantity": 1}], "reason": "corked"}),
            &[],
        )
        .await?;
    assert_eq!(refunded.status, 201, "{:?}", refunded.body);
    expected.push((format!("{prefix}.sale.s-1"), "SaleRefunded"));

    assert_eq!(
        app.post(
            "/v1/sales",
            &app.token(&tenant, Role::Cashier).await?,
            &sale("s-2"),
            &[]
        )
        .await?
        .status,
        201
    );
    expected.push((format!("{prefix}.sale.s-2"), "SaleCompleted"));
    let voided = app
        .post("/v1/sales/s-2/void", &manager, &json!({"reason": "wrong item"}), &[])
        .await?;
    assert_eq!(voided.status, 201, "{:?}", voided.body);
    expected.push((format!("{prefix}.sale.s-2"), "SaleVoided"));

    let discontinued = app
        .post(
            "/v1/products/WHISKEY-1/discontinue",
            &manager,
            &json!({"reason": "end of line"}),
            &[("If-Match", &etag)],
        )
        .await?;
    assert_eq!(discontinued.status, 201, "{:?}", discontinued.body);
    expected.push((format!("{prefix}.product.WHISKEY-1"), "ProductDiscontinued"));

    let stored: Vec<(String, String)> = app
        .tenant_messages(&tenant)
        .await?
        .iter()
        .map(|m| {
            let event_type = events::decode(&m.payload)
                .map(|envelope| envelope.event_type().as_str().to_owned())
                .unwrap_or_default();
            (m.subject.to_string(), event_type)
        })
        .collect();
    let expected: Vec<(String, String)> = expected.into_iter().map(|(s, t)| (s, t.to_owned())).collect();
    assert_eq!(stored, expected);

    // The refund's money is the line's share, computed by the server.
    let messages = app.tenant_messages(&tenant).await?;
    let refund = messages
        .iter()
        .map(|m| events::decode(&m.payload))
        .find_map(|e| match e.ok()?.event {
            DomainEvent::SaleRefunded(r) => Some(r),
            _ => None,
        })
        .ok_or_else(|| anyhow::anyhow!("no refund"))?;
    assert_eq!(refund.total_minor, 1349);
    app.stream.delete().await
}

#[tokio::test]
async fn resending_a_command_returns_the_original_answer_and_a_changed_body_is_refused() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let body = sale("s-idem");
    let first = app
        .post("/v1/sales", &cashier, &body, &[("Idempotency-Key", "key-1")])
        .await?;
    assert_eq!(first.status, 201);
    for _ in 0..3 {
        let again = app
            .post("/v1/sales", &cashier, &body, &[("Idempotency-Key", "key-1")])
            .await?;
        assert_eq!(again.status, 201);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.body["event_ids"], first.body["event_ids"]);
        assert_eq!(again.body["stream_sequence"], first.body["stream_sequence"]);
    }
    // Without the header (key derived from the sale id) it is still the same sale.
    let no_header = app.post("/v1/sales", &cashier, &body, &[]).await?;
    assert_eq!(no_header.body["event_ids"], first.body["event_ids"]);

    let mut changed = body.clone();
    changed["tenders"][0]["amount_minor"] = json!(5000);
    changed["change_minor"] = json!(2302);
    let reused = app
        .post("/v1/sales", &cashier, &changed, &[("Idempotency-Key", "key-1")])
        .await?;
    assert_eq!((reused.status, reused.code()), (409, "idempotency_key_reused"));
    let other_key = app
        .post("/v1/sales", &cashier, &changed, &[("Idempotency-Key", "key-2")])
        .await?;
    assert_eq!((other_key.status, other_key.code()), (409, "sale_exists"));

    // A stock movement keyed only by its Idempotency-Key.
    let manager = app.token(&tenant, Role::Manager).await?;
    let adjust = json!({"sku": "WINE-RED", "location": "main", "quantity_delta": -2, "reason": "theft"});
    let a = app
        .post(
            "/v1/inventory/adjustments",
            &manager,
            &adjust,
            &[("Idempotency-Key", "till-1/2026-11-26/17")],
        )
        .await?;
    let b = app
        .post(
            "/v1/inventory/adjustments",
            &manager,
            &adjust,
            &[("Idempotency-Key", "till-1/2026-11-26/17")],
        )
        .await?;
    assert_eq!((a.status, b.status), (201, 201));
    assert_eq!(a.body["event_ids"], b.body["event_ids"]);

    // Void twice: the second is the first's answer.
    let void = json!({"reason": "customer left"});
    let manager_void = app.post("/v1/sales/s-idem/void", &manager, &void, &[]).await?;
    let again = app.post("/v1/sales/s-idem/void", &manager, &void, &[]).await?;
    assert_eq!((manager_void.status, again.status), (201, 201));
    assert_eq!(manager_void.body["event_ids"], again.body["event_ids"]);
    let different_void = app
        .post("/v1/sales/s-idem/void", &manager, &json!({"reason": "other"}), &[])
        .await?;
    assert_eq!(
        (different_void.status, different_void.code()),
        (409, "sale_already_voided")
    );
    let reused_key = app
        .post(
            "/v1/sales/s-idem/void",
            &manager,
            &json!({"reason": "other"}),
            &[("Idempotency-Key", "key-9")],
        )
        .await?;
    assert_eq!((reused_key.status, reused_key.code()), (409, "sale_already_voided"));
    // The sale's own key on a different command of the same sale is a reuse.
    let sale_key = app
        .post(
            "/v1/sales/s-idem/void",
            &manager,
            &json!({"reason": "other"}),
            &[("Idempotency-Key", "key-1")],
        )
        .await?;
    assert_eq!((sale_key.status, sale_key.code()), (409, "idempotency_key_reused"));

    assert_eq!(app.tenant_messages(&tenant).await?.len(), 3, "retries must not append");
    app.stream.delete().await
}

#[tokio::test]
async fn an_idempotency_key_is_bound_to_its_first_request_across_the_tenants_aggregates() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let key = [("Idempotency-Key", "till-7/0042")];
    let first = app.post("/v1/sales", &cashier, &sale("s-key-1"), &key).await?;
    assert_eq!(first.status, 201, "{}", first.body);

    // A terminal that regenerates its sale id on retry: before, a second sale (201) and
    // the books charged twice; now the key says it is another request.
    let regenerated = app.post("/v1/sales", &cashier, &sale("s-key-2"), &key).await?;
    assert_eq!(
        (regenerated.status, regenerated.code()),
        (409, "idempotency_key_reused")
    );
    // Nor does the key pass for another kind of command.
    let movement = json!({"sku": "WINE-RED", "location": "main", "quantity_delta": -1, "reason": "breakage"});
    let other_kind = app.post("/v1/inventory/adjustments", &manager, &movement, &key).await?;
    assert_eq!((other_kind.status, other_kind.code()), (409, "idempotency_key_reused"));
    // The same request under it is still the original answer.
    let retried = app.post("/v1/sales", &cashier, &sale("s-key-1"), &key).await?;
    assert_eq!(retried.header("idempotent-replayed"), Some("true"));
    assert_eq!(retried.body["event_ids"], first.body["event_ids"]);
    assert_eq!(
        app.tenant_messages(&tenant).await?.len(),
        1,
        "nothing refused was appended"
    );

    // A refused command does not keep its key: the corrected command may use it.
    let mut wrong = sale("s-key-3");
    wrong["location"] = json!("nowhere");
    let fix_key = [("Idempotency-Key", "till-7/0043")];
    let refused = app.post("/v1/sales", &cashier, &wrong, &fix_key).await?;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "unknown_location"),
        "{}",
        refused.body
    );
    let corrected = app.post("/v1/sales", &cashier, &sale("s-key-3"), &fix_key).await?;
    assert_eq!(corrected.status, 201, "{}", corrected.body);
    assert_eq!(app.tenant_messages(&tenant).await?.len(), 2);

    // Keys are per tenant: another tenant's terminal may use the same string.
    let other = unique_tenant();
    app.open_locations(&other).await?;
    let other_cashier = app.token(&other, Role::Cashier).await?;
    let theirs = app.post("/v1/sales", &other_cashier, &sale("s-key-2"), &key).await?;
    assert_eq!(theirs.status, 201, "{}", theirs.body);
    app.stream.delete().await
}

#[tokio::test]
async fn the_id_checker_named_on_a_sale_must_be_a_user_of_the_tenant() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    let other = unique_tenant();
    app.open_locations(&tenant).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    app.token(&tenant, Role::Manager).await?;
    app.token(&other, Role::Manager).await?;
    let checked_by = |sale_id: &str, user: &str| {
        let mut body = sale(sale_id);
        body["age_verification"] = json!({"method": "id_scan", "customer_age": 40, "verified_by": user});
        body
    };
    // The store's manager checked the ID: recorded.
    let manager = tests::tokens::account_user(&tenant, Role::Manager);
    let ok = app
        .post("/v1/sales", &cashier, &checked_by("s-v1", &manager), &[])
        .await?;
    assert_eq!(ok.status, 201, "{}", ok.body);
    // A manager of another tenant, or a made-up id, is refused and nothing is appended.
    for (sale_id, user) in [
        ("s-v2", tests::tokens::account_user(&other, Role::Manager)),
        ("s-v3", "nobody-at-all".to_owned()),
    ] {
        let refused = app
            .post("/v1/sales", &cashier, &checked_by(sale_id, &user), &[])
            .await?;
        assert_eq!(
            (refused.status, refused.code(), refused.field()),
            (422, "unknown_user", "age_verification.verified_by"),
            "{user}: {}",
            refused.body
        );
    }
    assert_eq!(app.tenant_messages(&tenant).await?.len(), 1);
    app.stream.delete().await
}

#[tokio::test]
async fn sales_dated_before_the_tenants_window_need_a_manager_and_a_reason() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let admin = app.token(&tenant, Role::Admin).await?;
    let dated = |id: &str, days_ago: i64, reason: Option<&str>| {
        let mut body = sale(id);
        body["occurred_at"] = json!((chrono::Utc::now() - chrono::Duration::days(days_ago)).to_rfc3339());
        if let Some(reason) = reason {
            body["backdate_reason"] = json!(reason);
        }
        body
    };
    // The default window is a week: six days back is an offline till coming back.
    let six = app.post("/v1/sales", &cashier, &dated("s-6d", 6, None), &[]).await?;
    assert_eq!(six.status, 201, "{}", six.body);
    // Eight days back, or the year 1899, is refused for a cashier, reason or not.
    for body in [dated("s-8d", 8, None), dated("s-8d", 8, Some("till was in the van")), {
        let mut old = sale("s-1899");
        old["occurred_at"] = json!("1899-12-31T12:00:00Z");
        old
    }] {
        let refused = app.post("/v1/sales", &cashier, &body, &[]).await?;
        assert_eq!(
            (refused.status, refused.code(), refused.field()),
            (422, "backdated_too_far", "occurred_at"),
            "{}",
            refused.body
        );
    }
    // A manager needs a reason too; with one, the sale is recorded and keeps it.
    let no_reason = app.post("/v1/sales", &manager, &dated("s-8d", 8, None), &[]).await?;
    assert_eq!(no_reason.code(), "backdated_too_far");
    let kept = app
        .post(
            "/v1/sales",
            &manager,
            &dated("s-8d", 8, Some("till was in the van")),
            &[],
        )
        .await?;
    assert_eq!(kept.status, 201, "{}", kept.body);
    let messages = app.tenant_messages(&tenant).await?;
    assert_eq!(messages.len(), 2, "only the two accepted sales were appended");
    let last = events::decode(&messages[1].payload)?;
    match last.event {
        events::DomainEvent::SaleCompleted(sale) => {
            assert_eq!(sale.backdate_reason.as_deref(), Some("till was in the van"));
        }
        other => anyhow::bail!("expected the back-dated sale, got {other:?}"),
    }

    // An admin widens the window to ten days: the cashier's eight-day-old sale goes
    // through. A change against a stale version is 409; cashiers cannot change it.
    let set = |version: u64, hours: u32, token: &str| {
        let body = json!({"version": version, "backdate_window_hours": hours});
        let (app, token) = (&app, token.to_owned());
        async move {
            app.write(reqwest::Method::PUT, "/v1/settings/sales", &token, &body, &[])
                .await
        }
    };
    assert_eq!(set(0, 240, &cashier).await?.status, 403);
    let bad = set(0, 0, &admin).await?;
    assert_eq!((bad.status, bad.field()), (422, "backdate_window_hours"));
    let widened = set(0, 240, &admin).await?;
    assert_eq!(widened.status, 201, "{}", widened.body);
    let stale = set(0, 24, &admin).await?;
    assert_eq!(
        (stale.status, stale.code()),
        (409, "version_conflict"),
        "{}",
        stale.body
    );
    let now_ok = app.post("/v1/sales", &cashier, &dated("s-8d-b", 8, None), &[]).await?;
    assert_eq!(now_ok.status, 201, "{}", now_ok.body);
    app.stream.delete().await
}

#[tokio::test]
async fn a_stale_product_version_gets_409_with_the_current_one() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let registered = app.post("/v1/products", &manager, &product("GIN-1", None), &[]).await?;
    let v1 = registered.header("etag").unwrap_or_default().to_owned();
    let price = |amount: i64| json!({"price": {"amount_minor": amount, "currency": "USD"}});
    let first = app
        .write(
            Method::PUT,
            "/v1/products/GIN-1/price",
            &manager,
            &price(2500),
            &[("If-Match", &v1)],
        )
        .await?;
    assert_eq!(first.status, 201);
    let v2 = first.header("etag").unwrap_or_default().to_owned();
    assert_ne!(v1, v2);

    let stale = app
        .write(
            Method::PUT,
            "/v1/products/GIN-1/price",
            &manager,
            &price(2400),
            &[("If-Match", &v1)],
        )
        .await?;
    assert_eq!((stale.status, stale.code()), (409, "version_conflict"));
    assert_eq!(stale.header("etag"), Some(v2.as_str()));
    assert_eq!(format!("\"{}\"", stale.body["error"]["current_version"]), v2);

    // The same change retried with its original If-Match is recognised, not a conflict.
    let retried = app
        .write(
            Method::PUT,
            "/v1/products/GIN-1/price",
            &manager,
            &price(2500),
            &[("If-Match", &v1)],
        )
        .await?;
    assert_eq!(retried.status, 201);
    assert_eq!(retried.body["event_ids"], first.body["event_ids"]);

    let missing = app
        .write(Method::PUT, "/v1/products/GIN-1/price", &manager, &price(2400), &[])
        .await?;
    assert_eq!((missing.status, missing.code()), (428, "precondition_required"));
    let unknown = app
        .write(
            Method::PUT,
            "/v1/products/NOPE/price",
            &manager,
            &price(2400),
            &[("If-Match", "\"3\"")],
        )
        .await?;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    let again = app
        .post("/v1/products", &manager, &json!(product("GIN-1", Some(18))), &[])
        .await?;
    assert_eq!((again.status, again.code()), (409, "product_exists"));
    app.stream.delete().await
}

#[tokio::test]
async fn an_age_restricted_product_needs_a_verified_customer() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    assert_eq!(
        app.post("/v1/products", &manager, &product("RUM-1", Some(21)), &[])
            .await?
            .status,
        201
    );
    let mut rum = sale("s-rum");
    rum["lines"][0]["sku"] = json!("RUM-1");
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let refused = app.post("/v1/sales", &cashier, &rum, &[]).await?;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "missing_field"),
        "{:?}",
        refused.body
    );
    rum["age_verification"] = json!({"method": "id_inspected", "customer_age": 20});
    let young = app.post("/v1/sales", &cashier, &rum, &[]).await?;
    assert_eq!((young.status, young.field()), (422, "age_verification.customer_age"));
    expect_nothing_published_for_sales(&app, &tenant).await?;
    rum["age_verification"] = json!({"method": "id_inspected", "customer_age": 21});
    assert_eq!(app.post("/v1/sales", &cashier, &rum, &[]).await?.status, 201);
    app.stream.delete().await
}

async fn expect_nothing_published_for_sales(app: &CommandApp, tenant: &TenantId) -> anyhow::Result<()> {
    let sales = app
        .tenant_messages(tenant)
        .await?
        .into_iter()
        .filter(|m| m.subject.contains(".sale."))
        .count();
    assert_eq!(sales, 0);
    Ok(())
}

#[tokio::test]
async fn invalid_commands_get_a_4xx_naming_the_field_and_publish_nothing() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let with = |path: &str, value: Value| {
        let mut body = sale("s-bad");
        let (head, last) = path.rsplit_once('/').map_or(("", path), |(h, l)| (h, l));
        let mut target = &mut body;
        for key in head.split('/').filter(|k| !k.is_empty()) {
            target = match key.parse::<usize>() {
                Ok(index) => &mut target[index],
                Err(_) => &mut target[key],
            };
        }
        match last.parse::<usize>() {
            Ok(index) => target[index] = value,
            Err(_) => target[last] = value,
        }
        body
    };
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            with("lines/0/quantity", json!(0)),
            422,
            "invalid_field",
            "lines[0].quantity",
        ),
        (
            with("lines/0/quantity", json!(-1)),
            422,
            "invalid_field",
            "lines[0].quantity",
        ),
        (
            with("lines/0/quantity", json!("two")),
            422,
            "invalid_field",
            "lines[0].quantity",
        ),
        (
            with("lines/0/quantity", json!(1.5)),
            422,
            "invalid_field",
            "lines[0].quantity",
        ),
        (
            with("lines/0/unit_price_minor", json!(12.99)),
            422,
            "invalid_field",
            "lines[0].unit_price_minor",
        ),
        (
            with("lines/0/unit_price_minor", json!(9_223_372_036_854_775_807i64)),
            422,
            "invalid_field",
            "lines[0].unit_price_minor",
        ),
        (
            with("lines/0/sku", json!("bad.sku")),
            422,
            "invalid_field",
            "lines[0].sku",
        ),
        (
            with("lines/0/surprise", json!(1)),
            422,
            "unknown_field",
            "lines[0].surprise",
        ),
        (with("currency", json!("XYZ")), 422, "invalid_field", "currency"),
        (with("currency", json!("usd")), 422, "invalid_field", "currency"),
        (with("total_minor", json!(1)), 422, "invalid_field", "total_minor"),
        (with("change_minor", json!(0)), 422, "invalid_field", "change_minor"),
        (
            with("tenders/0/amount_minor", json!(100)),
            422,
            "invalid_field",
            "tenders",
        ),
        (
            with("tenders/0/kind", json!("bitcoin")),
            422,
            "invalid_field",
            "tenders[0].kind",
        ),
        (with("sale_id", json!("a>b")), 422, "invalid_field", "sale_id"),
        (with("sale_id", json!(null)), 422, "invalid_field", "sale_id"),
        (with("lines", json!([])), 422, "invalid_field", "lines"),
        (
            with("occurred_at", json!("2999-01-01T00:00:00Z")),
            422,
            "invalid_field",
            "occurred_at",
        ),
        (
            with("occurred_at", json!("yesterday")),
            422,
            "invalid_field",
            "occurred_at",
        ),
        (json!({"sale_id": "s"}), 422, "missing_field", "location"),
        (json!([1, 2]), 422, "invalid_field", "body"),
    ];
    for (body, status, code, field) in cases {
        let reply = app.post("/v1/sales", &cashier, &body, &[]).await?;
        assert_eq!(
            (reply.status, reply.code(), reply.field()),
            (status, code, field),
            "body {body}: {:?}",
            reply.body
        );
    }

    // Bodies that are not JSON at all, or not declared as JSON.
    let url = format!("{}/v1/sales", app.address);
    let raw = |body: Vec<u8>, content_type: &str| {
        app.http
            .post(&url)
            .bearer_auth(&cashier)
            .header("content-type", content_type.to_owned())
            .body(body)
    };
    let not_json = app.send(raw(b"{\"sale_id\": ".to_vec(), "application/json")).await?;
    assert_eq!((not_json.status, not_json.code()), (400, "malformed_json"));
    let invalid_utf8 = app
        .send(raw(b"{\"sale_id\": \"\xff\xfe\"}".to_vec(), "application/json"))
        .await?;
    assert_eq!(invalid_utf8.status, 400);
    for deep in [
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
        format!("{{\"sale_id\": {}{}}}", "{\"a\":".repeat(10_000), "}".repeat(10_000)),
    ] {
        let nested = app.send(raw(deep.into_bytes(), "application/json")).await?;
        assert!([400, 422].contains(&nested.status), "deep nesting: {:?}", nested.body);
    }
    let text = app.send(raw(serde_json::to_vec(&sale("s-x"))?, "text/plain")).await?;
    assert_eq!((text.status, text.code()), (415, "unsupported_media_type"));
    let huge = app.send(raw(vec![b' '; 200 * 1024], "application/json")).await?;
    assert_eq!((huge.status, huge.code()), (413, "payload_too_large"));

    // Bad headers.
    let bad_key = app
        .post("/v1/sales", &cashier, &sale("s-y"), &[("Idempotency-Key", "has space")])
        .await?;
    assert_eq!((bad_key.status, bad_key.field()), (400, "Idempotency-Key"));

    expect_nothing_published(&app, &tenant).await?;
    app.stream.delete().await
}

#[tokio::test]
async fn the_jwt_matrix_answers_401_or_403() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let issuer = &app.tokens;
    let user = tests::tokens::account_user(&tenant, Role::Cashier);
    tests::tokens::provision(&tenant, &user, Role::Cashier).await?;
    let valid = issuer.claims(&tenant, &user, Role::Cashier);
    let now = jsonwebtoken::get_current_timestamp();
    // Signed with the right key, but living too long, issued in the future, without `iat`,
    // or naming a user or tenant that does not exist.
    let mut forever = valid.clone();
    forever.exp = 16_725_225_600; // 2500-01-01
    let mut from_the_future = valid.clone();
    from_the_future.iat = Some(now + 3600);
    from_the_future.exp = now + 3600 + 60;
    let mut no_iat = valid.clone();
    no_iat.iat = None;
    let mut unknown_user = valid.clone();
    unknown_user.user_id = "nobody-at-all".into();
    let mut unknown_tenant = valid.clone();
    unknown_tenant.organization_id = unique_tenant().to_string();
    let mut expired = valid.clone();
    expired.exp = now - 120;
    let mut not_yet = valid.clone();
    not_yet.nbf = Some(now + 3600);
    let mut wrong_iss = valid.clone();
    wrong_iss.iss = "someone-else".into();
    let mut wrong_aud = valid.clone();
    wrong_aud.aud = "other-app".into();
    let mut bad_tenant = valid.clone();
    bad_tenant.organization_id = "acme.>".into();
    let hs256 = Header::new(Algorithm::HS256);
    let mut unknown_kid = Header::new(Algorithm::HS256);
    unknown_kid.kid = Some("retired".into());
    let signed = issuer.sign(&valid);
    let (head, rest) = signed.split_once('.').unwrap_or_default();
    let (_, signature) = rest.split_once('.').unwrap_or_default();
    let base64 = |value: &Value| {
        use std::fmt::Write;
        // URL-safe base64 without padding, written out to avoid another dependency.
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                let _ = write!(out, "{}", alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    };
    let mut tampered_claims = serde_json::to_value(&valid)?;
    tampered_claims["role"] = json!("admin");
    let tampered = format!("{head}.{}.{signature}", base64(&tampered_claims));
    let alg_none = format!(
        "{}.{}.",
        base64(&json!({"alg": "none", "typ": "JWT"})),
        base64(&serde_json::to_value(&valid)?)
    );
    let rs256_header = format!(
        "{}.{}.{signature}",
        base64(&json!({"alg": "RS256", "typ": "JWT"})),
        base64(&serde_json::to_value(&valid)?)
    );

    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("garbage", Some("not-a-token".into())),
        ("expired", Some(issuer.sign(&expired))),
        ("not yet valid", Some(issuer.sign(&not_yet))),
        ("wrong issuer", Some(issuer.sign(&wrong_iss))),
        ("wrong audience", Some(issuer.sign(&wrong_aud))),
        (
            "wrong secret",
            Some(issuer.sign_with(&hs256, &valid, "another-secret-that-is-long-enough-0123456789")),
        ),
        (
            "unknown kid",
            Some(issuer.sign_with(&unknown_kid, &valid, &issuer.secret)),
        ),
        ("tampered claims", Some(tampered)),
        ("alg none", Some(alg_none)),
        ("RS256 header on an HMAC key", Some(rs256_header)),
        ("tenant id that escapes its subject", Some(issuer.sign(&bad_tenant))),
        ("exp in 2500", Some(issuer.sign(&forever))),
        ("iat in the future", Some(issuer.sign(&from_the_future))),
        ("no iat", Some(issuer.sign(&no_iat))),
        ("a user that does not exist", Some(issuer.sign(&unknown_user))),
        ("a tenant that does not exist", Some(issuer.sign(&unknown_tenant))),
    ];
    for (name, token) in cases {
        let mut request = app.http.post(format!("{}/v1/sales", app.address)).json(&sale("s-jwt"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let reply = app.send(request).await?;
        assert_eq!(reply.status, 401, "{name}: {:?}", reply.body);
        assert_eq!(reply.code(), "unauthorized", "{name}");
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|v| v.starts_with("Bearer")),
            "{name}"
        );
    }

    // Role too low: cashiers may not void, refund, move stock or edit the catalog.
    let cashier = issuer.sign(&valid);
    for (path, body) in [
        ("/v1/sales/s-1/void", json!({"reason": "x"})),
        ("/v1/sales/s-1/refunds", json!({})),
        ("/v1/inventory/receipts", json!({})),
        ("/v1/inventory/adjustments", json!({})),
        ("/v1/inventory/counts", json!({})),
        ("/v1/inventory/transfers", json!({})),
        ("/v1/products", json!({})),
    ] {
        let reply = app.post(path, &cashier, &body, &[]).await?;
        assert_eq!((reply.status, reply.code()), (403, "forbidden"), "{path}");
    }
    let reply = app
        .write(Method::PUT, "/v1/products/A/price", &cashier, &json!({}), &[])
        .await?;
    assert_eq!(reply.status, 403);

    // A valid token under a rotated second key works.
    expect_nothing_published(&app, &tenant).await?;
    app.stream.delete().await
}

#[tokio::test]
async fn keys_rotate_by_kid() -> anyhow::Result<()> {
    let new_secret = "the-new-secret-that-is-also-long-enough-987654321";
    let app =
        CommandApp::spawn_with(|config| config.jwt_extra_secrets = Some(format!("k2={new_secret}").into())).await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let user = tests::tokens::account_user(&tenant, Role::Cashier);
    tests::tokens::provision(&tenant, &user, Role::Cashier).await?;
    let claims = app.tokens.claims(&tenant, &user, Role::Cashier);
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k2".into());
    let rotated = app.tokens.sign_with(&header, &claims, new_secret);
    assert_eq!(app.post("/v1/sales", &rotated, &sale("s-k2"), &[]).await?.status, 201);
    // The old key still works during the overlap; the new secret without its kid does not.
    assert_eq!(
        app.post("/v1/sales", &app.tokens.sign(&claims), &sale("s-k1"), &[])
            .await?
            .status,
        201
    );
    let wrong = app
        .tokens
        .sign_with(&Header::new(Algorithm::HS256), &claims, new_secret);
    assert_eq!(app.post("/v1/sales", &wrong, &sale("s-k3"), &[]).await?.status, 401);
    app.stream.delete().await
}

#[tokio::test]
async fn a_token_of_tenant_a_never_appends_under_tenant_b() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let (a, b) = (unique_tenant(), unique_tenant());
    app.open_locations(&a).await?;
    app.open_locations(&b).await?;
    let token_a = app.token(&a, Role::Admin).await?;
    let mut body = sale("s-iso");
    body["tenant_id"] = json!(b.as_str());
    let in_body = app.post("/v1/sales", &token_a, &body, &[]).await?;
    assert_eq!((in_body.status, in_body.code()), (403, "tenant_mismatch"));
    let mut body = sale("s-iso");
    body["organizationId"] = json!(b.as_str());
    assert_eq!(app.post("/v1/sales", &token_a, &body, &[]).await?.status, 403);
    for header in ["x-tenant-id", "x-organization-id"] {
        let reply = app
            .post("/v1/sales", &token_a, &sale("s-iso"), &[(header, b.as_str())])
            .await?;
        assert_eq!((reply.status, reply.code()), (403, "tenant_mismatch"), "{header}");
    }
    // A's own id in the body is fine and lands under A.
    let mut own = sale("s-iso");
    own["tenant_id"] = json!(a.as_str());
    assert_eq!(
        app.post("/v1/sales", &token_a, &own, &[("x-tenant-id", a.as_str())])
            .await?
            .status,
        201
    );
    // B's sale with the same id is B's own, unaffected by A's.
    assert_eq!(
        app.post("/v1/sales", &app.token(&b, Role::Cashier).await?, &sale("s-iso"), &[])
            .await?
            .status,
        201
    );
    // A cannot void B's sale: A's void looks in A's subjects only, where s-2 does not exist.
    assert_eq!(
        app.post(
            "/v1/sales",
            &app.token(&b, Role::Cashier).await?,
            &sale("s-b-only"),
            &[]
        )
        .await?
        .status,
        201
    );
    let cross = app
        .post("/v1/sales/s-b-only/void", &token_a, &json!({"reason": "x"}), &[])
        .await?;
    assert_eq!((cross.status, cross.code()), (404, "not_found"));

    let a_subjects: Vec<String> = app
        .tenant_messages(&a)
        .await?
        .iter()
        .map(|m| m.subject.to_string())
        .collect();
    let b_subjects: Vec<String> = app
        .tenant_messages(&b)
        .await?
        .iter()
        .map(|m| m.subject.to_string())
        .collect();
    assert_eq!(a_subjects, vec![format!("{}.sale.s-iso", tenant_prefix(&app, &a))]);
    assert_eq!(b_subjects.len(), 2);
    assert!(
        b_subjects
            .iter()
            .all(|s| s.starts_with(&format!("{}.", tenant_prefix(&app, &b))))
    );
    app.stream.delete().await
}

#[tokio::test]
async fn without_a_stream_to_acknowledge_the_answer_is_503_never_2xx() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    app.servers.jetstream.delete_stream(&app.stream.name).await?;
    let reply = app
        .post(
            "/v1/sales",
            &app.token(&tenant, Role::Cashier).await?,
            &sale("s-503"),
            &[],
        )
        .await?;
    assert_eq!((reply.status, reply.code()), (503, "unavailable"), "{:?}", reply.body);
    assert_eq!(reply.header("retry-after"), Some("2"));
    Ok(())
}

#[tokio::test]
async fn health_ready_metrics_and_openapi_describe_the_real_routes() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    assert_eq!(app.get("/health").await?.status, 200);
    let ready = app.get("/ready").await?;
    assert_eq!(
        (
            ready.status,
            ready.body["nats"].as_str(),
            ready.body["mongodb"].as_str()
        ),
        (200, Some("ok"), Some("ok"))
    );

    let tenant = unique_tenant();

    app.open_locations(&tenant).await?;
    assert_eq!(
        app.post(
            "/v1/sales",
            &app.token(&tenant, Role::Cashier).await?,
            &sale("s-m"),
            &[]
        )
        .await?
        .status,
        201
    );
    let text = app
        .http
        .get(format!("{}/metrics", app.address))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains(r#"route="/v1/sales""#), "{text}");
    assert!(text.contains("event_append_seconds"), "{text}");

    let openapi = app.get("/openapi.json").await?;
    assert_eq!(openapi.status, 200);
    let paths = openapi.body["paths"]
        .as_object()
        .ok_or_else(|| anyhow::anyhow!("no paths"))?;
    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in item
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            documented.push((
                method.to_uppercase(),
                path.replace("{sale_id}", "s-1").replace("{sku}", "SKU-1"),
            ));
        }
    }
    for expected in [
        ("POST", "/v1/sales"),
        ("POST", "/v1/sales/s-1/void"),
        ("POST", "/v1/sales/s-1/refunds"),
        ("POST", "/v1/inventory/receipts"),
        ("POST", "/v1/inventory/adjustments"),
        ("POST", "/v1/inventory/counts"),
        ("POST", "/v1/inventory/transfers"),
        ("POST", "/v1/products"),
        ("PUT", "/v1/products/SKU-1"),
        ("PUT", "/v1/products/SKU-1/price"),
        ("POST", "/v1/products/SKU-1/discontinue"),
        ("GET", "/health"),
        ("GET", "/v1/sales"),
        ("GET", "/v1/sales/s-1"),
        ("GET", "/v1/products"),
        ("GET", "/v1/products/SKU-1"),
        ("GET", "/v1/stock"),
        ("GET", "/v1/inventory/transactions"),
        ("GET", "/v1/reports/daily"),
        ("GET", "/v1/reports/top-products"),
        ("GET", "/ready"),
    ] {
        assert!(
            documented.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} is not documented"
        );
    }
    // Every documented route exists: without a token it answers 401 (or 200 for operations), never 404/405.
    for (method, path) in documented {
        let method = Method::from_bytes(method.as_bytes())?;
        let reply: Reply = app
            .send(
                app.http
                    .request(method.clone(), format!("{}{path}", app.address))
                    .json(&json!({})),
            )
            .await?;
        assert!(
            ![404, 405].contains(&reply.status),
            "{method} {path} is documented but answers {}",
            reply.status
        );
    }
    let unknown = app.get("/v1/nothing-here").await?;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    app.stream.delete().await
}

#[tokio::test]
async fn metrics_need_the_metrics_token_and_name_no_tenant() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let reply = app
        .post(
            "/v1/sales",
            &app.token(&tenant, Role::Cashier).await?,
            &sale("s-metrics"),
            &[],
        )
        .await?;
    assert_eq!(reply.status, 201, "{}", reply.body);

    let metrics = |token: Option<&str>| {
        let mut request = app.http.get(format!("{}/metrics", app.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        app.send(request)
    };
    // Before: anyone could read every tenant id with its command counts.
    for token in [
        None,
        Some("wrong"),
        Some(""),
        Some(&app.token(&tenant, Role::Admin).await?),
    ] {
        let reply = metrics(token).await?;
        assert_eq!((reply.status, reply.code()), (401, "unauthorized"), "token {token:?}");
    }
    let text = app
        .http
        .get(format!("{}/metrics", app.address))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    assert!(text.contains("commands_total{"), "{text}");
    // No tenant label on any series, this test's tenant or another test's.
    assert!(!text.contains(tenant.as_str()), "{text}");
    assert!(!text.contains("tenant="), "{text}");

    // Without a configured token, /metrics is closed to everyone.
    let closed = CommandApp::spawn_with(|config| config.metrics_token = None).await?;
    let reply = closed
        .send(
            closed
                .http
                .get(format!("{}/metrics", closed.address))
                .bearer_auth(METRICS_TOKEN),
        )
        .await?;
    assert_eq!(reply.status, 401);
    closed.stream.delete().await?;
    app.stream.delete().await
}

#[tokio::test]
async fn only_application_json_in_utf_8_is_parsed_as_json() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let body = serde_json::to_vec(&sale("s-media"))?;
    let post = |content_type: &'static str| {
        app.send(
            app.http
                .post(format!("{}/v1/sales", app.address))
                .bearer_auth(&cashier)
                .header("content-type", content_type)
                .body(body.clone()),
        )
    };
    for content_type in [
        "application/evil+json",
        "application/problem+json",
        "application/json; charset=latin-1",
        "application/json; charset=iso-8859-1",
        "application/json; charset=utf-16",
        "application/json; profile=x",
        "text/json",
        "application/jsonx",
    ] {
        let reply = post(content_type).await?;
        assert_eq!(
            (reply.status, reply.code()),
            (415, "unsupported_media_type"),
            "{content_type}: {}",
            reply.body
        );
    }
    expect_nothing_published(&app, &tenant).await?;
    for content_type in ["application/json; charset=utf-8", "Application/JSON;charset=UTF-8"] {
        let reply = post(content_type).await?;
        assert!([200, 201].contains(&reply.status), "{content_type}: {}", reply.body);
    }
    assert_eq!(app.tenant_messages(&tenant).await?.len(), 1);
    app.stream.delete().await
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let mut answers = vec![
        ("health", app.get("/health").await?),
        ("openapi", app.get("/openapi.json").await?),
        ("unknown route", app.get("/v1/nothing-here").await?),
        ("no token", app.get("/v1/sales").await?),
        (
            "query",
            app.send(app.http.get(format!("{}/v1/sales", app.address)).bearer_auth(&manager))
                .await?,
        ),
        (
            "command",
            app.post("/v1/sales", &manager, &sale("s-headers"), &[]).await?,
        ),
        (
            "metrics",
            app.send(
                app.http
                    .get(format!("{}/metrics", app.address))
                    .bearer_auth(METRICS_TOKEN),
            )
            .await?,
        ),
    ];
    // The token endpoint, answering a login that fails.
    answers.push((
        "login",
        app.send(
            app.http
                .post(format!("{}/v1/auth/login", app.address))
                .json(&json!({"email": "nobody@example.com", "password": "not the password"})),
        )
        .await?,
    ));
    for (what, reply) in &answers {
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("cache-control", "no-store"),
            ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
            ("referrer-policy", "no-referrer"),
        ] {
            assert_eq!(reply.header(name), Some(value), "{what} ({}): {name}", reply.status);
        }
    }
    app.stream.delete().await
}
