//! The OpenAPI document is the contract: schemathesis (from PyPI, installed into the
//! project's venv by `scripts/services up`) generates requests from the running API's
//! `/openapi.json`, with valid tokens, and checks every answer:
//!
//! - `not_a_server_error`: no 5xx, whatever the input;
//! - `status_code_conformance`: no status code the document does not list for that
//!   operation;
//! - `response_schema_conformance`: every JSON answer matches its documented schema;
//! - `content_type_conformance`: the answer's content type is the documented one.
//!
//! The identity routes that create organizations, mail links and rate-limit by address
//! (everything under `/v1/auth/`) are left out: each call of theirs costs a
//! password hash or a mail, and their abuse cases have their own tests in `identity.rs`.
//! Every other operation is exercised as an admin of a tenant with a few products and a
//! sale, so the typed 200 answers (not only the 4xx) are checked against their schemas.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use events::{Role, TenantId};
use serde_json::json;
use tests::projector_app::wait_for_checkpoint;
use tests::{CommandApp, ProjectorApp, unique_tenant};

/// Where schemathesis is: `SCHEMATHESIS` (exported by `scripts/services env`), else the
/// project's venv under `TILLSTREAM_CACHE` (default `~/.cache/tillstream`).
fn schemathesis() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("SCHEMATHESIS") {
        return Ok(PathBuf::from(path));
    }
    let cache = match std::env::var_os("TILLSTREAM_CACHE") {
        Some(cache) => PathBuf::from(cache),
        None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".cache/tillstream"),
    };
    let path = cache.join("venv/bin/schemathesis");
    if !path.exists() {
        bail!(
            "schemathesis is not installed at {} (run `scripts/services up`, which installs it)",
            path.display()
        );
    }
    Ok(path)
}

/// Seeds `tenant` with products, stock and a sale, so listings and lookups answer 200.
/// Answers the stream sequence of the last command.
async fn seed(app: &CommandApp, tenant: &TenantId, token: &str) -> anyhow::Result<u64> {
    app.open_locations(tenant).await?;
    for (sku, barcode, price) in [("WINE-RED", "082184090466", 1299), ("BEER-6", "012000161155", 999)] {
        let reply = app
            .post(
                "/v1/products",
                token,
                &json!({"sku": sku, "price": {"amount_minor": price, "currency": "USD"},
                        "details": {"name": format!("Product {sku}"), "category": "wine", "tax_class": "alcohol",
                                    "barcodes": [barcode], "minimum_age": null, "reorder_point": 6}}),
                &[],
            )
            .await?;
        anyhow::ensure!(
            reply.status == 201,
            "registering {sku}: {} {}",
            reply.status,
            reply.body
        );
        let reply = app
            .post(
                "/v1/inventory/receipts",
                token,
                &json!({"movement_id": format!("receipt-{sku}"), "sku": sku, "location": "main", "quantity": 24,
                        "unit_cost": {"amount_minor": price / 2, "currency": "USD"}, "supplier": "Acme", "reference": "PO-1"}),
                &[],
            )
            .await?;
        anyhow::ensure!(reply.status == 201, "receiving {sku}: {} {}", reply.status, reply.body);
    }
    // 2 × 1299 − 100 + 200 = 2698; paid 3000 cash, change 302.
    let reply = app
        .post(
            "/v1/sales",
            token,
            &json!({"sale_id": "sale-1", "location": "main", "currency": "USD",
                    "lines": [{"sku": "WINE-RED", "quantity": 2, "unit_price_minor": 1299, "discount_minor": 100, "tax_minor": 200}],
                    "subtotal_minor": 2598, "discount_total_minor": 100, "tax_total_minor": 200, "total_minor": 2698,
                    "tenders": [{"kind": "cash", "amount_minor": 3000}], "change_minor": 302}),
            &[],
        )
        .await?;
    anyhow::ensure!(
        reply.status == 201,
        "selling in {tenant}: {} {}",
        reply.status,
        reply.body
    );
    reply.body["stream_sequence"]
        .as_u64()
        .context("the sale's answer has no stream_sequence")
}

#[tokio::test]
async fn every_operation_answers_as_the_openapi_document_says() -> anyhow::Result<()> {
    let schemathesis = schemathesis()?;
    // Generated queries ask for unreachable `min_sequence`s; a short wait keeps the run short.
    let app = CommandApp::spawn_with(|config| {
        config.read_your_writes_timeout_ms = 200;
        // Generated feed queries ask for long waits past the head; a short bound keeps the run short.
        config.feed_max_wait_ms = 200;
        // ... and an event stream ends soon (a client reconnects with Last-Event-ID).
        config.feed_stream_max_ms = 200;
    })
    .await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    let token = app.token(&tenant, Role::Admin).await?;
    let last = seed(&app, &tenant, &token).await?;
    wait_for_checkpoint(&app.servers, &tenant, last, Duration::from_secs(30)).await?;

    let mut command = tokio::process::Command::new(&schemathesis);
    command
        .arg("run")
        .arg(format!("{}/openapi.json", app.address))
        .args(["--url", &app.address])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance",
        ])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", "20"])
        .args(["--seed", "20261129"])
        // One worker: with two, hypothesis (describing its strategies' lambdas with `ast`
        // from two threads) once failed a run with CPython's "AST constructor recursion
        // depth mismatch", a tool crash, not a contract break.
        .args(["--workers", "1"])
        .args(["--request-timeout", "10"])
        .args(["--exclude-path-regex", "^/v1/auth/"])
        .args(["--suppress-health-check", "all"])
        .arg("--no-color")
        .env("SCHEMATHESIS_HOOKS", "")
        .current_dir(std::env::temp_dir()) // it keeps a `.schemathesis` cache folder there
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(900), command.output())
        .await
        .context("schemathesis ran longer than 15 minutes")?
        .with_context(|| format!("running {}", schemathesis.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    projector.stop().await?;
    if !output.status.success() {
        bail!(
            "schemathesis found answers that break the contract ({}); see its report above",
            output.status
        );
    }
    Ok(())
}
