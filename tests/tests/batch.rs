//! `POST /v1/batches` against the real servers: a terminal's queued commands in one
//! request, each with its own result and its own idempotency.

use events::Role;
use serde_json::{Value, json};
use tests::{CommandApp, unique_tenant};

/// A one-line cash sale: 2 × 1299 − 100 + 200 = 2698, paid 3000, change 302.
fn sale(sale_id: &str) -> Value {
    json!({
        "sale_id": sale_id, "location": "main", "currency": "USD",
        "lines": [{"sku": "WINE-RED", "quantity": 2, "unit_price_minor": 1299, "discount_minor": 100, "tax_minor": 200}],
        "subtotal_minor": 2598, "discount_total_minor": 100, "tax_total_minor": 200, "total_minor": 2698,
        "tenders": [{"kind": "cash", "amount_minor": 3000}], "change_minor": 302
    })
}

fn item(command: &str, path: Option<&str>, body: Value) -> Value {
    json!({"command": command, "path": path, "body": body})
}

/// (status, replayed, error code) of each result.
fn outcomes(reply: &Value) -> Vec<(u64, bool, String)> {
    reply["results"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .map(|r| {
                    (
                        r["status"].as_u64().unwrap_or_default(),
                        r["accepted"]["replayed"].as_bool().unwrap_or(false),
                        r["error"]["error"]["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_batch_answers_each_command_in_order_and_a_resent_batch_changes_nothing() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let mut wrong_total = sale("s-2");
    wrong_total["total_minor"] = json!(1);
    let mut changed = sale("s-1");
    changed["tenders"][0]["amount_minor"] = json!(5000);
    changed["change_minor"] = json!(2302);
    let batch = json!({"commands": [
        item("complete_sale", None, sale("s-1")),
        item("complete_sale", None, wrong_total),
        item("complete_sale", None, sale("s-1")),
        item("complete_sale", None, changed),
        item("void_sale", Some("s-1"), json!({"reason": "customer left"})),
        item("complete_sale", None, sale("s-4")),
        item("no_such_command", None, json!({})),
    ]});
    let first = app.post("/v1/batches", &manager, &batch, &[]).await?;
    assert_eq!(first.status, 200, "{}", first.body);
    let expected = vec![
        (201, false, String::new()),
        (422, false, "invalid_field".to_owned()),
        (201, true, String::new()),
        (409, false, "sale_exists".to_owned()),
        (201, false, String::new()),
        (201, false, String::new()),
        (422, false, "invalid_field".to_owned()),
    ];
    assert_eq!(outcomes(&first.body), expected, "{}", first.body);
    assert_eq!(first.body["results"][1]["error"]["error"]["field"], "total_minor");
    assert_eq!(first.body["results"][2]["accepted"], {
        let mut original = first.body["results"][0]["accepted"].clone();
        original["replayed"] = json!(true);
        original
    });
    // Exactly the accepted commands were published: the sale, its void, the other sale.
    let published = app.tenant_messages(&tenant).await?;
    assert_eq!(published.len(), 3);

    // Sent again after a timeout: every command is recognised, nothing is appended.
    let again = app.post("/v1/batches", &manager, &batch, &[]).await?;
    let replayed: Vec<(u64, bool, String)> = expected
        .iter()
        .map(|(status, _, code)| (*status, *status == 201, code.clone()))
        .collect();
    assert_eq!(outcomes(&again.body), replayed, "{}", again.body);
    assert_eq!(app.tenant_messages(&tenant).await?.len(), 3);
    app.stream.delete().await
}

#[tokio::test]
async fn each_batched_command_keeps_its_role_its_tenant_and_stop_on_error_stops() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    // A cashier's batch: the sale goes through, the void needs a manager.
    let reply = app
        .post(
            "/v1/batches",
            &cashier,
            &json!({"commands": [
                item("complete_sale", None, sale("c-1")),
                item("void_sale", Some("c-1"), json!({"reason": "mistake"})),
            ]}),
            &[],
        )
        .await?;
    assert_eq!(
        outcomes(&reply.body),
        vec![(201, false, String::new()), (403, false, "forbidden".to_owned())],
        "{}",
        reply.body
    );
    // Another tenant cannot void this tenant's sale through a batch either.
    let other = unique_tenant();
    app.open_locations(&other).await?;
    let their_manager = app.token(&other, Role::Manager).await?;
    let reply = app
        .post(
            "/v1/batches",
            &their_manager,
            &json!({"commands": [item("void_sale", Some("c-1"), json!({"reason": "mine now"}))]}),
            &[],
        )
        .await?;
    assert_eq!(reply.body["results"][0]["status"], 404, "{}", reply.body);
    assert_eq!(app.tenant_messages(&other).await?.len(), 0);

    // stop_on_error: the first refusal stops the rest, which are not run.
    let mut bad = sale("c-3");
    bad["lines"][0]["quantity"] = json!(0);
    let reply = app
        .post(
            "/v1/batches",
            &cashier,
            &json!({"stop_on_error": true, "commands": [
                item("complete_sale", None, sale("c-2")),
                item("complete_sale", None, bad),
                item("complete_sale", None, sale("c-4")),
            ]}),
            &[],
        )
        .await?;
    assert_eq!(
        outcomes(&reply.body),
        vec![
            (201, false, String::new()),
            (422, false, "invalid_field".to_owned()),
            (0, false, String::new())
        ],
        "{}",
        reply.body
    );
    assert_eq!(app.tenant_messages(&tenant).await?.len(), 2, "c-1 and c-2 only");

    // A batch that is not one: empty, or not a list.
    for body in [json!({"commands": []}), json!({"commands": {}})] {
        let refused = app.post("/v1/batches", &cashier, &body, &[]).await?;
        assert_eq!((refused.status, refused.field()), (422, "commands"), "{}", refused.body);
    }
    let no_token = app
        .send(
            app.http
                .post(format!("{}/v1/batches", app.address))
                .json(&json!({"commands": []})),
        )
        .await?;
    assert_eq!(no_token.status, 401);
    app.stream.delete().await
}

/// Reads an HTTP answer's status line from `stream` (the server may close after it).
async fn status_line(stream: &mut tokio::net::TcpStream) -> anyhow::Result<String> {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while !received.windows(2).any(|w| w == b"\r\n") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(20), stream.read(&mut buffer)).await??;
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..n]);
    }
    Ok(String::from_utf8_lossy(&received)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned())
}

#[tokio::test]
async fn a_full_batch_of_a_thousand_sales_fits_its_own_body_limit_and_no_other_route_takes_it() -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    const BATCH_LIMIT: usize = 1024 * 1024;
    let app = CommandApp::spawn_with(|config| config.batch_body_limit_bytes = BATCH_LIMIT).await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let commands: Vec<Value> = (0..1000)
        .map(|n| item("complete_sale", None, sale(&format!("full-{n}"))))
        .collect();
    let batch = json!({ "commands": commands });
    let size = serde_json::to_vec(&batch)?.len();
    // More than the product's default limit of every other route (256 KiB), and more than
    // this harness's (64 KiB): before the batch route had its own, a terminal could not
    // send the 1,000 commands the route allows.
    assert!(size > 256 * 1024, "the batch is {size} bytes");
    let reply = app.post("/v1/batches", &manager, &batch, &[]).await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let recorded = outcomes(&reply.body)
        .iter()
        .filter(|(status, _, _)| *status == 201)
        .count();
    assert_eq!(recorded, 1000);
    assert_eq!(app.tenant_messages(&tenant).await?.len(), 1000);

    // The same body on another route is over that route's limit: 413, nothing recorded.
    let elsewhere = app.post("/v1/sales", &manager, &batch, &[]).await?;
    assert_eq!(elsewhere.status, 413, "{}", elsewhere.body);
    assert_eq!(elsewhere.body["error"]["code"], "payload_too_large");

    // A batch sent without a length (chunked) is cut at the batch limit: 413.
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await?;
    let head = format!(
        "POST /v1/batches HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {manager}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent <= BATCH_LIMIT {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if stream.write_all(&framed).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let status = status_line(&mut stream).await?;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    assert_eq!(app.tenant_messages(&tenant).await?.len(), 1000);
    app.stream.delete().await
}

/// Stream sequence of each stored event of `tenant`, by the aggregate id that ends its subject.
async fn stored_sequences(
    app: &CommandApp,
    tenant: &events::TenantId,
) -> anyhow::Result<std::collections::HashMap<String, u64>> {
    let mut sequences = std::collections::HashMap::new();
    for message in app.tenant_messages(tenant).await? {
        let id = message.subject.rsplit('.').next().unwrap_or_default().to_owned();
        let sequence = message.info().map_err(|e| anyhow::anyhow!("{e}"))?.stream_sequence;
        sequences.insert(id, sequence);
    }
    Ok(sequences)
}

#[tokio::test]
async fn new_sales_of_a_batch_are_answered_with_where_each_is_stored_and_a_partly_resent_batch_adds_only_the_new()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    // Each answer names where its own event is stored.
    let queued: Vec<Value> = (0..40)
        .map(|n| item("complete_sale", None, sale(&format!("a-{n}"))))
        .collect();
    let first = app
        .post("/v1/batches", &manager, &json!({ "commands": queued }), &[])
        .await?;
    assert_eq!(
        outcomes(&first.body),
        vec![(201, false, String::new()); 40],
        "{}",
        first.body
    );
    let stored = stored_sequences(&app, &tenant).await?;
    assert_eq!(stored.len(), 40);
    for result in first.body["results"].as_array().into_iter().flatten() {
        let id = result["accepted"]["aggregate_id"].as_str().unwrap_or_default();
        assert_eq!(
            result["accepted"]["stream_sequence"].as_u64(),
            stored.get(id).copied(),
            "{result}"
        );
        assert_eq!(result["accepted"]["version"], result["accepted"]["stream_sequence"]);
    }

    // The terminal re-sends them with five sales it queued since: the forty are answered
    // as before (replayed), only the five are appended, each answered with its place.
    let mut resent = queued.clone();
    for n in 0..5 {
        resent.insert(n * 8, item("complete_sale", None, sale(&format!("b-{n}"))));
    }
    let second = app
        .post("/v1/batches", &manager, &json!({ "commands": resent }), &[])
        .await?;
    let stored = stored_sequences(&app, &tenant).await?;
    assert_eq!(stored.len(), 45, "only the five new sales were appended");
    let firsts: std::collections::HashMap<&str, &Value> = first.body["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["accepted"]["aggregate_id"].as_str().unwrap_or_default(),
                &r["accepted"],
            )
        })
        .collect();
    for result in second.body["results"].as_array().into_iter().flatten() {
        let accepted = &result["accepted"];
        let id = accepted["aggregate_id"].as_str().unwrap_or_default();
        assert_eq!(result["status"], 201, "{result}");
        if id.starts_with("b-") {
            assert_eq!(accepted["replayed"], false, "{result}");
            assert_eq!(
                accepted["stream_sequence"].as_u64(),
                stored.get(id).copied(),
                "{result}"
            );
        } else {
            let mut original = (*firsts
                .get(id)
                .ok_or_else(|| anyhow::anyhow!("{id} not in the first answer"))?)
            .clone();
            original["replayed"] = json!(true);
            assert_eq!(*accepted, original, "{result}");
        }
    }
    assert_eq!(second.body["results"].as_array().map(Vec::len), Some(45));
    app.stream.delete().await
}

#[tokio::test]
async fn a_batch_of_more_aggregates_than_run_at_once_keeps_each_aggregates_order_and_the_batch_order()
-> anyhow::Result<()> {
    // 200 sales, then a void of each of the first 100: 200 aggregates, more than the
    // batch runs at once (`IN_FLIGHT`, 128), and each void far behind its sale.
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let aggregates = 200;
    assert!(aggregates > command_api::routes::batch::IN_FLIGHT);
    let mut commands: Vec<Value> = (0..aggregates)
        .map(|n| item("complete_sale", None, sale(&format!("w-{n}"))))
        .collect();
    commands.extend((0..100).map(|n| item("void_sale", Some(&format!("w-{n}")), json!({"reason": "test"}))));
    let reply = app
        .post("/v1/batches", &manager, &json!({ "commands": commands }), &[])
        .await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let results = reply.body["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 300);
    for (index, result) in results.iter().enumerate() {
        assert_eq!(result["index"], json!(index), "{result}");
        assert_eq!(result["status"], 201, "{result}");
    }
    // Each void is stored after its own sale, and names it.
    for n in 0..100 {
        let (sold, voided) = (&results[n]["accepted"], &results[200 + n]["accepted"]);
        assert_eq!(voided["aggregate_id"], sold["aggregate_id"]);
        assert!(
            voided["stream_sequence"].as_u64() > sold["stream_sequence"].as_u64(),
            "sale {sold} void {voided}"
        );
    }
    assert_eq!(app.tenant_messages(&tenant).await?.len(), 300);
    app.stream.delete().await
}
