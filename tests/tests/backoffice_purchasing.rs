//! The back office's purchasing pages over plain HTTP: the suppliers list, the purchase
//! orders with their filters, one order with its lines, damaged cases and deliveries; a
//! manager submits a draft and records a delivery from the order's page (CSRF forms), a
//! cashier is refused the pages and, forged, the forms. The real API, projector and back
//! office run against the real servers.

use serde_json::json;
use tests::backoffice_app::{Organization, Visit};
use tests::command_app::{get as api_get, posted};
use tests::{BackofficeApp, CommandApp, ProjectorApp};

async fn signed_in(office: &BackofficeApp, email: &str) -> anyhow::Result<Visit> {
    let mut visit = office.visit();
    visit.sign_in(email).await?;
    Ok(visit)
}

#[tokio::test]
async fn a_manager_lists_orders_submits_a_draft_and_records_a_delivery_with_a_damaged_case_from_the_pages()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let office = BackofficeApp::spawn(&app).await?;
    let org = Organization::create(&app).await?;
    let token = &org.admin_token;
    posted(
        &app,
        token,
        "/v1/products",
        &json!({"sku": "GIN", "details": {"name": "Dry Gin", "category": "spirits", "tax_class": "alcohol", "barcodes": []},
            "price": {"amount_minor": 2000, "currency": "USD"}}),
    )
    .await?;
    posted(
        &app,
        token,
        "/v1/suppliers",
        &json!({"supplier_id": "acme", "name": "Acme Spirits", "items": [{"sku": "GIN", "supplier_code": "AC-GIN",
            "case_size": 12, "case_cost": {"amount_minor": 14400, "currency": "USD"}, "lead_time_days": 3}]}),
    )
    .await?;
    // po-a: 5 cases, submitted; po-b: 2 cases, left a draft.
    posted(
        &app,
        token,
        "/v1/purchase-orders",
        &json!({"po_id": "po-a", "supplier_id": "acme", "location": "main", "lines": [{"sku": "GIN", "cases": 5}]}),
    )
    .await?;
    posted(&app, token, "/v1/purchase-orders/po-a/submit", &json!({})).await?;
    let drafted = posted(
        &app,
        token,
        "/v1/purchase-orders",
        &json!({"po_id": "po-b", "supplier_id": "acme", "location": "main", "lines": [{"sku": "GIN", "cases": 2}]}),
    )
    .await?;
    let ready = api_get(&app, token, &format!("/v1/purchase-orders/po-b?min_sequence={drafted}")).await?;
    assert_eq!(ready.status, 200, "{}", ready.body);

    let mut manager = signed_in(&office, &org.manager).await?;
    let suppliers = manager.get("/suppliers").await?;
    assert_eq!(suppliers.status, 200, "{}", suppliers.body);
    assert!(
        suppliers.body.contains(r#"data-supplier="acme""#) && suppliers.body.contains("AC-GIN"),
        "{}",
        suppliers.body
    );
    let all = manager.get("/purchase-orders").await?;
    assert!(
        all.body.contains(r#"data-order="po-a""#) && all.body.contains(r#"data-order="po-b""#),
        "{}",
        all.body
    );
    let drafts = manager.get("/purchase-orders?status=draft&location=main").await?;
    assert!(
        drafts.body.contains(r#"data-order="po-b""#) && !drafts.body.contains(r#"data-order="po-a""#),
        "{}",
        drafts.body
    );

    // Submit po-b from its page.
    let page = manager.get("/purchase-orders/po-b").await?;
    assert!(page.body.contains(r#"id="submit-order""#), "{}", page.body);
    let csrf = page.csrf().unwrap_or_default();
    let submitted = manager.post("/purchase-orders/po-b/submit", &[("csrf", &csrf)]).await?;
    assert_eq!(submitted.status, 303, "{}", submitted.body);
    let after = manager
        .get(submitted.header("location").unwrap_or("/purchase-orders/po-b"))
        .await?;
    assert!(after.body.contains(r#"id="order-status">submitted"#), "{}", after.body);
    assert!(after.body.contains(r#"id="receive-order""#), "{}", after.body);

    // A delivery on po-a: 3 cases, 1 damaged, note DN-7. 2 × 12 = 24 units accepted; 2
    // cases outstanding. A resent form (same receipt id) records it once.
    let page = manager.get("/purchase-orders/po-a").await?;
    let csrf = page.csrf().unwrap_or_default();
    let marker = r#"name="receipt_id" value=""#;
    let receipt_id = page
        .body
        .find(marker)
        .map(|at| {
            let rest = &page.body[at + marker.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_owned()
        })
        .unwrap_or_default();
    let form = [
        ("csrf", csrf.as_str()),
        ("receipt_id", receipt_id.as_str()),
        ("cases_1", "3"),
        ("damaged_1", "1"),
        ("reference", "DN-7"),
    ];
    let received = manager.post("/purchase-orders/po-a/receive", &form).await?;
    assert_eq!(received.status, 303, "{}", received.body);
    let again = manager.post("/purchase-orders/po-a/receive", &form).await?;
    assert_eq!(again.status, 303, "{}", again.body);
    let shown = manager
        .get(again.header("location").unwrap_or("/purchase-orders/po-a"))
        .await?;
    assert!(
        shown.body.contains(r#"id="order-status">partially received"#),
        "{}",
        shown.body
    );
    for (field, value) in [("delivered", 3), ("damaged", 1), ("outstanding", 2), ("accepted", 24)] {
        assert!(
            shown.body.contains(&format!(r#"data-field="{field}">{value}<"#)),
            "{field} {value}: {}",
            shown.body
        );
    }
    assert!(shown.body.contains("DN-7"), "{}", shown.body);
    assert_eq!(shown.body.matches("<tr data-receipt=").count(), 1, "{}", shown.body);
    // Nothing arrived is a 400, not an empty delivery.
    let empty = manager
        .post(
            "/purchase-orders/po-a/receive",
            &[("csrf", &csrf), ("receipt_id", "r-empty"), ("cases_1", "0")],
        )
        .await?;
    assert_eq!(empty.status, 400, "{}", empty.body);

    // A cashier gets none of the pages, and a forged delivery changes nothing.
    let mut cashier = signed_in(&office, &org.cashier).await?;
    for path in ["/suppliers", "/purchase-orders", "/purchase-orders/po-a"] {
        assert_eq!(cashier.get(path).await?.status, 403, "{path}");
    }
    let cashier_csrf = cashier.csrf().await?;
    let forged = cashier
        .post(
            "/purchase-orders/po-a/receive",
            &[("csrf", &cashier_csrf), ("receipt_id", "r-forged"), ("cases_1", "2")],
        )
        .await?;
    assert_eq!(forged.status, 403, "{}", forged.body);
    let order = api_get(&app, token, "/v1/purchase-orders/po-a").await?;
    assert_eq!(
        order.body["receipts"].as_array().map(Vec::len),
        Some(1),
        "{}",
        order.body
    );
    projector.stop().await?;
    Ok(())
}
