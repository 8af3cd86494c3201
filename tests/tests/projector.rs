//! The projector against the real NATS and MongoDB servers: every event type yields the
//! right documents; redelivery changes nothing; abrupt stops at random points converge to
//! the uninterrupted result; poison is parked without stopping other tenants; two
//! processes give the same read model as one; tenants never mix; many small tenants
//! written together (one cross-database `bulkWrite` per phase) survive abrupt stops and
//! redelivery.

use std::time::Duration;

use bson::doc;
use events::{Role, TenantId};
use serde_json::json;
use tenantdb::collections;
use tenantdb::docs::{ProductStatus, SaleStatus};
use tests::generator::{self, Rng};
use tests::projector_app::wait_for_checkpoint;
use tests::read_model::{self, difference};
use tests::{CommandApp, ProjectorApp, Servers, TestStream, unique_tenant};

const WAIT: Duration = Duration::from_secs(60);

async fn doc_of(servers: &Servers, tenant: &TenantId, collection: &str, id: &str) -> anyhow::Result<bson::Document> {
    servers
        .mongo
        .database(&tenant.database_name())
        .collection::<bson::Document>(collection)
        .find_one(doc! {"_id": id})
        .await?
        .ok_or_else(|| anyhow::anyhow!("{collection}/{id} missing"))
}

#[tokio::test]
async fn commands_through_the_api_become_the_right_documents() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let projector = ProjectorApp::spawn(&app.stream).await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let product = json!({"sku": "WINE-1", "details": {"name": "Rioja", "category": "wine", "tax_class": "alcohol", "barcodes": ["84101234567"], "minimum_age": 18, "reorder_point": 10}, "price": {"amount_minor": 1500, "currency": "USD"}});
    let registered = app.post("/v1/products", &manager, &product, &[]).await?;
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    let receipt = json!({"movement_id": "rcv-1", "sku": "WINE-1", "location": "main", "quantity": 12, "unit_cost": {"amount_minor": 700, "currency": "USD"}, "supplier": "Bodega", "reference": "PO-1"});
    assert_eq!(
        app.post("/v1/inventory/receipts", &manager, &receipt, &[])
            .await?
            .status,
        201
    );
    let sale = json!({"sale_id": "s-1", "location": "main", "currency": "USD",
        "lines": [{"sku": "WINE-1", "quantity": 3, "unit_price_minor": 1500, "discount_minor": 0, "tax_minor": 360}],
        "subtotal_minor": 4500, "discount_total_minor": 0, "tax_total_minor": 360, "total_minor": 4860,
        "tenders": [{"kind": "card", "amount_minor": 4860}], "change_minor": 0,
        "age_verification": {"method": "id_scan", "customer_age": 40}});
    assert_eq!(app.post("/v1/sales", &cashier, &sale, &[]).await?.status, 201);
    let refund = app
        .post(
            "/v1/sales/s-1/refunds",
            &manager,
            &json!({"refund_id": "r-1", "lines": [{"line_no": 1, "quantity": 1}], "reason": "corked"}),
            &[],
        )
        .await?;
    assert_eq!(refund.status, 201);
    let count = app
        .post(
            "/v1/inventory/counts",
            &manager,
            &json!({"movement_id": "cnt-1", "sku": "WINE-1", "location": "main", "counted_quantity": 9}),
            &[],
        )
        .await?;
    assert_eq!(count.status, 201);
    let transfer = json!({"movement_id": "trf-1", "sku": "WINE-1", "from_location": "main", "to_location": "annex", "quantity": 4});
    let last = app.post("/v1/inventory/transfers", &manager, &transfer, &[]).await?;
    let last_sequence = last.body["stream_sequence"].as_u64().unwrap_or_default();
    wait_for_checkpoint(&app.servers, &tenant, last_sequence, WAIT).await?;

    let product = doc_of(&app.servers, &tenant, collections::PRODUCTS, "WINE-1").await?;
    // 12 received, 3 sold, 1 refunded and restocked = 10; counted 9 (correction −1); 4 moved to annex.
    assert_eq!(product.get_document("stock")?, &doc! {"annex": 4_i64, "main": 5_i64});
    assert_eq!(product.get_i64("on_hand_total")?, 9);
    assert!(
        product.get_bool("low_stock")?,
        "9 on hand with reorder point 10: {product}"
    );
    assert_eq!(product.get_str("status")?, "active");
    assert_eq!(product.get_i32("minimum_age")?, 18);
    assert_eq!(
        product.get_i64("version")?,
        registered.body["version"].as_i64().unwrap_or_default()
    );

    let sale = doc_of(&app.servers, &tenant, collections::SALES, "s-1").await?;
    assert_eq!(sale.get_str("status")?, "partially_refunded");
    assert_eq!(sale.get_i64("refunded_total_minor")?, 1620);
    assert_eq!(
        sale.get_array("lines")?[0]
            .as_document()
            .map(|l| l.get_i64("refunded_quantity"))
            .transpose()?,
        Some(1)
    );
    // The same documents read through the typed read model the queries use.
    let db = app.servers.mongo.database(&tenant.database_name());
    let typed = collections::sales(&db).find_one(doc! {"_id": "s-1"}).await?;
    assert_eq!(
        typed.map(|s| (s.status, s.lines[0].refunded_quantity)),
        Some((SaleStatus::PartiallyRefunded, 1))
    );
    let typed = collections::products(&db).find_one(doc! {"_id": "WINE-1"}).await?;
    assert_eq!(typed.map(|p| p.status), Some(ProductStatus::Active));

    let day = doc_of(
        &app.servers,
        &tenant,
        collections::DAILY_SALES,
        &format!("{}|main", chrono::Utc::now().format("%Y-%m-%d")),
    )
    .await?;
    assert_eq!(
        (
            day.get_i64("sale_count")?,
            day.get_i64("gross_minor")?,
            day.get_i64("tax_minor")?
        ),
        (1, 4500, 360)
    );
    let refunds = day.get_document("refunds")?;
    assert_eq!((refunds.get_i64("count")?, refunds.get_i64("total_minor")?), (1, 1620));
    assert_eq!(day.get_document("tenders")?.get_i64("card")?, 4860);

    let kinds: Vec<(String, i64, i64, i64)> = futures::TryStreamExt::try_collect::<Vec<_>>(
        db.collection::<bson::Document>(collections::INVENTORY_TRANSACTIONS)
            .find(doc! {})
            .sort(doc! {"_id": 1})
            .await?,
    )
    .await?
    .into_iter()
    .map(|t| {
        (
            t.get_str("kind").unwrap_or_default().to_owned(),
            t.get_i64("quantity").unwrap_or_default(),
            t.get_i64("quantity_before").unwrap_or_default(),
            t.get_i64("quantity_after").unwrap_or_default(),
        )
    })
    .collect();
    assert_eq!(
        kinds,
        vec![
            ("receipt".into(), 12, 0, 12),
            ("sale".into(), -3, 12, 9),
            ("refund".into(), 1, 9, 10),
            ("count_correction".into(), -1, 10, 9),
            ("transfer_out".into(), -4, 9, 5),
            ("transfer_in".into(), 4, 0, 4),
        ]
    );
    projector.stop().await?;
    app.stream.delete().await
}

#[tokio::test]
async fn redelivering_everything_changes_nothing() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    let tenant = unique_tenant();
    let events = generator::mixed_events(&tenant, 7, 600);
    let sequences = generator::publish(&servers.jetstream, &stream.scheme, &events).await?;
    let last = *sequences.last().unwrap_or(&0);
    let projector = ProjectorApp::spawn(&stream).await?;
    wait_for_checkpoint(&servers, &tenant, last, WAIT).await?;
    projector.stop().await?;
    let db = servers.mongo.database(&tenant.database_name());
    let before = read_model::dump(&db).await?;
    assert!(before["sales"].len() > 50, "the generator should produce many sales");
    assert_eq!(difference(&read_model::expected(&events, 1)?, &before), None);

    // Rewind every partition consumer to the start: every event is delivered again.
    let js_stream = servers.jetstream.get_stream(&stream.name).await?;
    for partition in 0..stream.scheme.partitions() {
        js_stream
            .reset_consumer(&format!("projector-p{partition}"), Some(1))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let projector = ProjectorApp::spawn(&stream).await?;
    let partition = stream.scheme.partition_of(&tenant);
    tests::eventually("the redelivery to be acknowledged", WAIT, || {
        let js_stream = js_stream.clone();
        async move {
            let info = js_stream.consumer_info(&format!("projector-p{partition}")).await?;
            Ok((info.ack_floor.stream_sequence >= last && info.num_pending == 0).then_some(()))
        }
    })
    .await?;
    projector.stop().await?;
    let after = read_model::dump(&db).await?;
    assert_eq!(difference(&before, &after), None);
    db.drop().await?;
    stream.delete().await
}

#[tokio::test]
async fn abrupt_stops_at_random_points_converge_to_the_uninterrupted_read_model() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let (crashy_stream, calm_stream) = (
        TestStream::create(&servers.jetstream).await?,
        TestStream::create(&servers.jetstream).await?,
    );
    let (crashy, calm) = (unique_tenant(), unique_tenant());
    let events = generator::mixed_events(&crashy, 11, 2500);
    let crashy_last = *generator::publish(&servers.jetstream, &crashy_stream.scheme, &events)
        .await?
        .last()
        .unwrap_or(&0);
    let calm_last = *generator::publish(
        &servers.jetstream,
        &calm_stream.scheme,
        &generator::for_tenant(&events, &calm),
    )
    .await?
    .last()
    .unwrap_or(&0);

    let reference = ProjectorApp::spawn(&calm_stream).await?;
    let mut rng = Rng::new(0xDEAD_BEEF);
    let kills = 8;
    for _ in 0..kills {
        // Small batches growing a little while a backlog waits: several batches per
        // partition, so the kills land at different points of the drain.
        let projector = ProjectorApp::spawn_with(&crashy_stream, |c| {
            c.batch_size = 50;
            c.backlog_batch_size = 150;
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(20 + rng.below(400))).await;
        projector.kill().await;
    }
    let survivor = ProjectorApp::spawn(&crashy_stream).await?;
    wait_for_checkpoint(&servers, &crashy, crashy_last, WAIT).await?;
    wait_for_checkpoint(&servers, &calm, calm_last, WAIT).await?;
    survivor.stop().await?;
    reference.stop().await?;

    let crashy_db = servers.mongo.database(&crashy.database_name());
    let calm_db = servers.mongo.database(&calm.database_name());
    let (crashed, uninterrupted) = (read_model::dump(&crashy_db).await?, read_model::dump(&calm_db).await?);
    assert_eq!(difference(&crashed, &uninterrupted), None);
    // And both equal the read model computed in memory from all events at once.
    assert_eq!(difference(&read_model::expected(&events, 1)?, &crashed), None);
    assert_eq!(tests::read_model::parked(&crashy_db).await?, 0);
    crashy_db.drop().await?;
    calm_db.drop().await?;
    crashy_stream.delete().await?;
    calm_stream.delete().await
}

#[tokio::test]
async fn many_small_tenants_written_together_survive_abrupt_stops_and_redelivery() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    // 16 tenants with the same 40 events each, interleaved in the stream, so that every
    // batch of a partition holds several tenants' events.
    let tenants: Vec<TenantId> = (0..16).map(|_| unique_tenant()).collect();
    let base = generator::mixed_events(&tenants[0], 17, 40);
    // Each copy gets its own event ids: JetStream drops a message id it has seen.
    let per_tenant: Vec<Vec<events::EventEnvelope>> = tenants
        .iter()
        .map(|tenant| {
            generator::for_tenant(&base, tenant)
                .into_iter()
                .map(|e| events::EventEnvelope {
                    event_id: uuid::Uuid::now_v7(),
                    ..e
                })
                .collect()
        })
        .collect();
    let mut interleaved = Vec::with_capacity(base.len() * tenants.len());
    for i in 0..base.len() {
        for events in &per_tenant {
            interleaved.push(events[i].clone());
        }
    }
    let sequences = generator::publish(&servers.jetstream, &stream.scheme, &interleaved).await?;
    let of_tenant = |k: usize| -> Vec<u64> { (0..base.len()).map(|i| sequences[i * tenants.len() + k]).collect() };

    // Abrupt stops at random points of the drain, then a survivor.
    let mut rng = Rng::new(0x5EED_CAFE);
    for _ in 0..5 {
        let projector = ProjectorApp::spawn_with(&stream, |c| {
            c.batch_size = 50;
            c.backlog_batch_size = 150;
        })
        .await?;
        tokio::time::sleep(Duration::from_millis(20 + rng.below(250))).await;
        projector.kill().await;
    }
    let survivor = ProjectorApp::spawn(&stream).await?;
    for (k, tenant) in tenants.iter().enumerate() {
        wait_for_checkpoint(&servers, tenant, *of_tenant(k).last().unwrap_or(&0), WAIT).await?;
    }
    survivor.stop().await?;
    let mut models = Vec::new();
    for (k, tenant) in tenants.iter().enumerate() {
        let db = servers.mongo.database(&tenant.database_name());
        let model = read_model::dump(&db).await?;
        let oracle = read_model::expected_at(&per_tenant[k], &of_tenant(k))?;
        assert_eq!(difference(&oracle, &model), None, "tenant {k}");
        assert_eq!(read_model::parked(&db).await?, 0);
        models.push(model);
    }

    // Everything delivered again: found already applied (duplicate keys inside the
    // cross-database writes), nothing changes, and the batches did go out together.
    let js_stream = servers.jetstream.get_stream(&stream.name).await?;
    for partition in 0..stream.scheme.partitions() {
        js_stream
            .reset_consumer(&format!("projector-p{partition}"), Some(1))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    // Small batches: each tenant has a few events in each (the sparse case). One tenant
    // per cross-tenant write: the tenants of a batch are written in several chunks.
    let again = ProjectorApp::spawn_with(&stream, |c| {
        c.batch_size = 32;
        c.backlog_batch_size = 32;
        c.cross_tenant_write_tenants = 1;
    })
    .await?;
    let last = sequences.last().copied().unwrap_or(0);
    tests::eventually("the redelivery to be acknowledged", WAIT, || {
        let js_stream = js_stream.clone();
        let partitions = stream.scheme.partitions();
        async move {
            for partition in 0..partitions {
                let info = js_stream.consumer_info(&format!("projector-p{partition}")).await?;
                if info.num_pending > 0 || info.num_ack_pending > 0 {
                    return Ok(None);
                }
            }
            let _ = last;
            Ok(Some(()))
        }
    })
    .await?;
    let stats = again.admin_get("/stats").await?;
    again.stop().await?;
    assert!(
        stats["cross_tenant_writes"]["batches"].as_u64().unwrap_or(0) > 0
            && stats["cross_tenant_writes"]["tenants"].as_u64().unwrap_or(0) >= 2,
        "{stats}"
    );
    assert_eq!(
        stats["cross_tenant_writes"]["tenants"], stats["cross_tenant_writes"]["batches"],
        "no write held more than one tenant: {stats}"
    );
    for (k, tenant) in tenants.iter().enumerate() {
        let db = servers.mongo.database(&tenant.database_name());
        assert_eq!(
            difference(&models[k], &read_model::dump(&db).await?),
            None,
            "tenant {k}"
        );
        db.drop().await?;
    }
    stream.delete().await
}

#[tokio::test]
async fn a_poison_event_is_parked_while_other_tenants_go_on() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    let (sick, healthy) = (unique_tenant(), unique_tenant());
    let projector = ProjectorApp::spawn(&stream).await?;
    let sick_events = generator::mixed_events(&sick, 3, 40);
    generator::publish(&servers.jetstream, &stream.scheme, &sick_events[..20]).await?;
    // Garbage, a newer schema version, and an envelope claiming another tenant.
    let subject = stream
        .scheme
        .subject(&sick, &events::AggregateRef::new(events::AggregateKind::Sale, "bad-1")?);
    let garbage = servers
        .jetstream
        .publish(subject.clone(), "{not json".into())
        .await?
        .await?
        .sequence;
    let mut future: serde_json::Value = serde_json::from_slice(&events::encode(&sick_events[20])?)?;
    future["schema_version"] = json!(99);
    let future_subject = stream.scheme.subject(&sick, &sick_events[20].aggregate());
    let newer = servers
        .jetstream
        .publish(future_subject, serde_json::to_vec(&future)?.into())
        .await?
        .await?
        .sequence;
    let mut stolen = generator::for_tenant(&sick_events[21..22], &healthy).remove(0);
    stolen.event_id = uuid::Uuid::now_v7();
    let stolen_subject = stream.scheme.subject(&sick, &stolen.aggregate());
    let theft = servers
        .jetstream
        .publish(stolen_subject, events::encode(&stolen)?.into())
        .await?
        .await?
        .sequence;
    // A well-formed event that breaks an invariant: the first user joins a second time.
    let mut again = sick_events[0].clone();
    again.event_id = uuid::Uuid::now_v7();
    let broken = *generator::publish(&servers.jetstream, &stream.scheme, &[again])
        .await?
        .first()
        .unwrap_or(&0);
    let rest = generator::publish(&servers.jetstream, &stream.scheme, &sick_events[20..]).await?;
    let healthy_last = *generator::publish(
        &servers.jetstream,
        &stream.scheme,
        &generator::mixed_events(&healthy, 4, 200),
    )
    .await?
    .last()
    .unwrap_or(&0);

    wait_for_checkpoint(&servers, &healthy, healthy_last, WAIT).await?;
    wait_for_checkpoint(&servers, &sick, *rest.last().unwrap_or(&0), WAIT).await?;
    let admin = projector.admin_get(&format!("/v1/tenants/{sick}/parked")).await?;
    let parked: Vec<u64> = admin["parked"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["sequence"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(parked, vec![garbage, newer, theft, broken], "{admin}");
    let reasons = admin["parked"].to_string();
    assert!(
        reasons.contains("malformed")
            && reasons.contains("newer")
            && reasons.contains("names tenant")
            && reasons.contains("already joined"),
        "{reasons}"
    );
    // The healthy tenant got nothing of the sick one's, not even the stolen event.
    let healthy_db = servers.mongo.database(&healthy.database_name());
    assert_eq!(tests::read_model::parked(&healthy_db).await?, 0);
    let healthy_sales = healthy_db
        .collection::<bson::Document>(collections::SALES)
        .count_documents(doc! {})
        .await?;
    assert!(healthy_sales > 0);
    let lag = projector.admin_get(&format!("/v1/tenants/{healthy}/lag")).await?;
    assert_eq!(lag["lag"], 0, "{lag}");
    projector.stop().await?;
    servers.mongo.database(&sick.database_name()).drop().await?;
    healthy_db.drop().await?;
    stream.delete().await
}

/// The parked events of `tenant` as the admin server lists them: (sequence, error).
async fn parked_list(projector: &ProjectorApp, tenant: &TenantId) -> anyhow::Result<Vec<(u64, String)>> {
    let admin = projector.admin_get(&format!("/v1/tenants/{tenant}/parked")).await?;
    Ok(admin["parked"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p["sequence"].as_u64()?, p["error"].as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default())
}

/// The "fix" here is a configuration one: a projector started with
/// `PARK_AFTER_DELIVERIES=0` parks every message as "delivered too many times" (what a
/// tenant's events get when its deployment kept failing and the projector was restarted
/// over and over); restarted with the right setting it applies new events, but what it
/// parked stays parked until an operator re-drives it. A role change that arrives after
/// its user's parked `UserJoined` is parked by a real invariant ("user does not exist"),
/// fails again while the user is still parked, and applies once the user is re-driven.
#[tokio::test]
async fn an_operator_redrives_one_parked_event_after_the_fix_exactly_once() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    let (tenant, other) = (unique_tenant(), unique_tenant());
    // u-admin, u-manager and u-cashier join, in this order.
    let joined = generator::mixed_events(&tenant, 7, 3);
    let others = generator::mixed_events(&other, 8, 1);

    let misconfigured = ProjectorApp::spawn_with(&stream, |c| c.park_after_deliveries = 0).await?;
    let first = generator::publish(&servers.jetstream, &stream.scheme, &joined[..1]).await?[0];
    let others_first = generator::publish(&servers.jetstream, &stream.scheme, &others).await?[0];
    wait_for_checkpoint(&servers, &tenant, first, WAIT).await?;
    wait_for_checkpoint(&servers, &other, others_first, WAIT).await?;
    misconfigured.stop().await?;

    let projector = ProjectorApp::spawn(&stream).await?;
    let manager = generator::publish(&servers.jetstream, &stream.scheme, &joined[1..2]).await?[0];
    let mut promote = joined[2].clone();
    promote.event_id = uuid::Uuid::now_v7();
    promote.event = events::event::UserRoleChanged {
        user_id: "u-admin".parse()?,
        role: Role::Manager,
        previous_role: Some(Role::Admin),
    }
    .into();
    let change = generator::publish(&servers.jetstream, &stream.scheme, &[promote]).await?[0];
    wait_for_checkpoint(&servers, &tenant, change, WAIT).await?;
    let db = servers.mongo.database(&tenant.database_name());
    let users = db.collection::<bson::Document>(collections::USERS);
    assert!(users.find_one(doc! {"_id": "u-manager"}).await?.is_some());
    let parked = parked_list(&projector, &tenant).await?;
    assert_eq!(
        parked.iter().map(|p| p.0).collect::<Vec<_>>(),
        vec![first, change],
        "{parked:?}"
    );
    assert!(parked[0].1.contains("delivered 1 times"), "{parked:?}");
    assert!(parked[1].1.contains("user u-admin does not exist"), "{parked:?}");
    let row = tenant_row(&projector, &tenant).await?;
    assert_eq!(
        (
            row["placement"].as_str(),
            row["parked"].as_u64(),
            row["lag"].as_u64(),
            row["checkpoint"].as_u64()
        ),
        (Some("main"), Some(2), Some(0), Some(change)),
        "{row}"
    );

    // Another tenant's parked sequence, a sequence that is not parked, a bad one, no token.
    let path = |seq: u64| format!("/v1/tenants/{tenant}/parked/{seq}/redrive");
    let (status, body) = projector.admin_post(&path(others_first)).await?;
    assert_eq!(status, 404, "{body}");
    assert_eq!(parked_list(&projector, &other).await?.len(), 1);
    let (status, body) = projector.admin_post(&path(manager)).await?;
    assert_eq!(status, 404, "{body}");
    let (status, body) = projector
        .admin_post(&format!("/v1/tenants/{tenant}/parked/x/redrive"))
        .await?;
    assert_eq!(
        (status.as_u16(), body["error"]["field"].as_str()),
        (400, Some("sequence"))
    );
    let anonymous = reqwest::Client::new()
        .post(format!("{}{}", projector.admin, path(first)))
        .send()
        .await?;
    assert_eq!(anonymous.status(), 401);

    // The role change first: its user is still parked, so it fails again with that error.
    let (status, body) = projector.admin_post(&path(change)).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "parked", "{body}");
    assert!(
        body["error"].as_str().unwrap_or_default().contains("does not exist"),
        "{body}"
    );
    assert_eq!(parked_list(&projector, &tenant).await?.len(), 2);

    // The user: applied, gone from the parked list, in the read model.
    let (status, body) = projector.admin_post(&path(first)).await?;
    assert_eq!(
        (status.as_u16(), body["outcome"].as_str()),
        (200, Some("applied")),
        "{body}"
    );
    let marker = body["marker_sequence"].as_i64().unwrap_or_default();
    assert!(marker > change as i64, "{body}");
    let admin = users
        .find_one(doc! {"_id": "u-admin"})
        .await?
        .ok_or_else(|| anyhow::anyhow!("u-admin missing"))?;
    assert_eq!(admin.get_str("role")?, "admin");
    assert_eq!(admin.get_i64("last_seq")?, marker, "applied at the marker: {admin}");
    let parked = parked_list(&projector, &tenant).await?;
    assert_eq!(parked.iter().map(|p| p.0).collect::<Vec<_>>(), vec![change]);

    // Again: nothing new is placed or written.
    let head = servers_head(&projector, &tenant).await?;
    let (status, body) = projector.admin_post(&path(first)).await?;
    assert_eq!(
        (status.as_u16(), body["outcome"].as_str(), body["earlier"].as_bool()),
        (200, Some("applied"), Some(true)),
        "{body}"
    );
    assert_eq!(servers_head(&projector, &tenant).await?, head);
    assert_eq!(users.count_documents(doc! {}).await?, 2);

    // Now the role change applies too.
    let (status, body) = projector.admin_post(&path(change)).await?;
    assert_eq!(
        (status.as_u16(), body["outcome"].as_str()),
        (200, Some("applied")),
        "{body}"
    );
    let admin = users
        .find_one(doc! {"_id": "u-admin"})
        .await?
        .ok_or_else(|| anyhow::anyhow!("u-admin missing"))?;
    assert_eq!(admin.get_str("role")?, "manager");
    assert!(parked_list(&projector, &tenant).await?.is_empty());
    let lag = projector.admin_get(&format!("/v1/tenants/{tenant}/lag")).await?;
    assert_eq!(lag["lag"], 0, "{lag}");
    let row = tenant_row(&projector, &tenant).await?;
    assert_eq!(
        (row["parked"].as_u64(), row["lag"].as_u64()),
        (Some(0), Some(0)),
        "{row}"
    );
    assert!(row["replay"].is_null(), "{row}");
    // The other tenant's parked event was never touched.
    assert_eq!(parked_list(&projector, &other).await?.len(), 1);
    // A parked control marker is acted on, never applied: it cannot be re-driven.
    let control = stream.scheme.subject(
        &tenant,
        &events::AggregateRef::new(events::AggregateKind::Control, "job-x")?,
    );
    let bad_marker = servers
        .jetstream
        .publish(control, "{not a marker".into())
        .await?
        .await?
        .sequence;
    wait_for_checkpoint(&servers, &tenant, bad_marker, WAIT).await?;
    let (status, body) = projector.admin_post(&path(bad_marker)).await?;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (409, Some("not_an_event")),
        "{body}"
    );
    assert_eq!(parked_list(&projector, &tenant).await?.len(), 1);

    projector.stop().await?;
    db.drop().await?;
    servers.mongo.database(&other.database_name()).drop().await?;
    stream.delete().await
}

/// `tenant`'s row of the admin server's tenant list, paging through it.
async fn tenant_row(projector: &ProjectorApp, tenant: &TenantId) -> anyhow::Result<serde_json::Value> {
    let mut after = String::new();
    loop {
        let page = projector
            .admin_get(&format!("/v1/tenants?limit=200&after={after}"))
            .await?;
        let rows = page["tenants"].as_array().cloned().unwrap_or_default();
        assert!(rows.len() <= 200);
        if let Some(row) = rows.iter().find(|r| r["tenant"] == tenant.as_str()) {
            return Ok(row.clone());
        }
        match page["next_after"].as_str() {
            Some(next) => after = next.to_owned(),
            None => anyhow::bail!("{tenant} is not in the tenant list"),
        }
    }
}

async fn servers_head(projector: &ProjectorApp, tenant: &TenantId) -> anyhow::Result<u64> {
    let lag = projector.admin_get(&format!("/v1/tenants/{tenant}/lag")).await?;
    lag["stream_head"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no stream head: {lag}"))
}

#[tokio::test]
async fn two_projector_processes_build_the_same_read_models_as_one() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let (shared_stream, single_stream) = (
        TestStream::create(&servers.jetstream).await?,
        TestStream::create(&servers.jetstream).await?,
    );
    let tenants: Vec<TenantId> = (0..6).map(|_| unique_tenant()).collect();
    let twins: Vec<TenantId> = (0..6).map(|_| unique_tenant()).collect();
    let mut last_shared = Vec::new();
    let mut last_single = Vec::new();
    for (i, (tenant, twin)) in tenants.iter().zip(&twins).enumerate() {
        let events = generator::mixed_events(tenant, 100 + i as u64, 300);
        last_shared.push(
            *generator::publish(&servers.jetstream, &shared_stream.scheme, &events)
                .await?
                .last()
                .unwrap_or(&0),
        );
        last_single.push(
            *generator::publish(
                &servers.jetstream,
                &single_stream.scheme,
                &generator::for_tenant(&events, twin),
            )
            .await?
            .last()
            .unwrap_or(&0),
        );
    }
    let first = ProjectorApp::spawn_with(&shared_stream, |c| {
        c.worker_index = Some(0);
        c.worker_count = Some(2);
    })
    .await?;
    let second = ProjectorApp::spawn_with(&shared_stream, |c| {
        c.worker_index = Some(1);
        c.worker_count = Some(2);
    })
    .await?;
    let single = ProjectorApp::spawn(&single_stream).await?;
    for (tenant, last) in tenants.iter().zip(&last_shared) {
        wait_for_checkpoint(&servers, tenant, *last, WAIT).await?;
    }
    for (twin, last) in twins.iter().zip(&last_single) {
        wait_for_checkpoint(&servers, twin, *last, WAIT).await?;
    }
    for (tenant, twin) in tenants.iter().zip(&twins) {
        let shared = read_model::dump(&servers.mongo.database(&tenant.database_name())).await?;
        let alone = read_model::dump(&servers.mongo.database(&twin.database_name())).await?;
        // Sequences differ between the streams only if publishing interleaved differently;
        // both streams received the same events in the same order, so they are equal.
        assert_eq!(difference(&shared, &alone), None, "tenant {tenant}");
    }
    // The admin server answers its token with the metrics.
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", first.admin))
        .bearer_auth(tests::projector_app::ADMIN_TOKEN)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    assert!(metrics.contains("projector_"), "{metrics}");
    first.stop().await?;
    second.stop().await?;
    single.stop().await?;
    for tenant in tenants.iter().chain(&twins) {
        servers.mongo.database(&tenant.database_name()).drop().await?;
    }
    shared_stream.delete().await?;
    single_stream.delete().await
}

#[tokio::test]
async fn when_one_of_two_processes_dies_the_other_takes_its_partitions_over() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    let first = ProjectorApp::spawn_with(&stream, |c| {
        c.worker_index = Some(0);
        c.worker_count = Some(2);
    })
    .await?;
    let second = ProjectorApp::spawn_with(&stream, |c| {
        c.worker_index = Some(1);
        c.worker_count = Some(2);
    })
    .await?;
    let tenants: Vec<TenantId> = (0..8).map(|_| unique_tenant()).collect();
    let streams: Vec<_> = tenants
        .iter()
        .enumerate()
        .map(|(i, t)| generator::mixed_events(t, 200 + i as u64, 120))
        .collect();
    for events in &streams {
        generator::publish(&servers.jetstream, &stream.scheme, &events[..50]).await?;
    }
    first.kill().await;
    let mut lasts = Vec::new();
    for events in &streams {
        lasts.push(
            *generator::publish(&servers.jetstream, &stream.scheme, &events[50..])
                .await?
                .last()
                .unwrap_or(&0),
        );
    }
    for (tenant, last) in tenants.iter().zip(&lasts) {
        wait_for_checkpoint(&servers, tenant, *last, WAIT).await?;
    }
    for tenant in &tenants {
        let parked = tests::read_model::parked(&servers.mongo.database(&tenant.database_name())).await?;
        assert_eq!(parked, 0, "{tenant}");
    }
    second.stop().await?;
    for tenant in &tenants {
        servers.mongo.database(&tenant.database_name()).drop().await?;
    }
    stream.delete().await
}

#[tokio::test]
async fn the_admin_server_answers_only_its_token_except_for_health_and_ready() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    let tenant = unique_tenant();
    let protected = [
        "/metrics".to_owned(),
        "/stats".to_owned(),
        format!("/v1/tenants/{tenant}/lag"),
        format!("/v1/tenants/{tenant}/parked"),
    ];
    let http = reqwest::Client::new();
    let status = |admin: String, path: String, token: Option<&'static str>| {
        let mut request = http.get(format!("{admin}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { anyhow::Ok(request.send().await?.status().as_u16()) }
    };

    let projector = ProjectorApp::spawn(&stream).await?;
    for path in ["/health", "/ready"] {
        assert_eq!(
            status(projector.admin.clone(), path.to_owned(), None).await?,
            200,
            "{path}"
        );
    }
    for path in &protected {
        // Before: all of these answered anyone who reached the port.
        for token in [None, Some("wrong"), Some("")] {
            assert_eq!(
                status(projector.admin.clone(), path.clone(), token).await?,
                401,
                "{path} with {token:?}"
            );
        }
        let admin = tests::projector_app::ADMIN_TOKEN;
        assert_eq!(
            status(projector.admin.clone(), path.clone(), Some(admin)).await?,
            200,
            "{path}"
        );
    }
    projector.stop().await?;

    // Without a configured token, they are closed to everyone.
    let closed = ProjectorApp::spawn_with(&stream, |config| config.admin_token = None).await?;
    assert_eq!(status(closed.admin.clone(), "/health".to_owned(), None).await?, 200);
    for path in &protected {
        let token = Some(tests::projector_app::ADMIN_TOKEN);
        assert_eq!(status(closed.admin.clone(), path.clone(), token).await?, 401, "{path}");
    }
    closed.stop().await?;
    stream.delete().await
}

/// The partition reader's batches: at most `batch_size` while it keeps up or while a
/// few large tenants fill them, growing up to `backlog_batch_size` while a backlog of
/// small tenants waits, always in stream order and never past what the server has.
#[tokio::test]
async fn a_partition_reader_grows_its_batches_only_for_a_backlog_of_small_tenants() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let settings = |name: &str, partition: u32| eventstore::PartitionReaderSettings {
        name: name.to_owned(),
        partition,
        group: "reader-test".to_owned(),
        ack_wait: Duration::from_secs(30),
        max_deliver: 5,
        max_ack_pending: 1000,
        pin_ttl: Duration::from_secs(30),
        batch_size: 10,
        backlog_batch_size: 64,
        sparse_events: 4,
        linger: Duration::from_millis(200),
    };

    // One large tenant's backlog: batches of 10, not more.
    let stream = TestStream::create(&servers.jetstream).await?;
    let tenant = unique_tenant();
    let sequences = generator::publish(
        &servers.jetstream,
        &stream.scheme,
        &generator::mixed_events(&tenant, 5, 150),
    )
    .await?;
    let store = stream.args().connect("reader-test", Duration::from_secs(10)).await?;
    let mut dense = store
        .partition_reader(settings("dense", stream.scheme.partition_of(&tenant)))
        .await?;
    let sizes = read_all(&mut dense, &sequences).await?;
    assert!(sizes.iter().all(|&size| size <= 10), "{sizes:?}");
    drop(dense);
    stream.delete().await?;

    // 40 small tenants of one partition, 4 events each, interleaved: batches past 10 while
    // more waits, at most 64, in order, all of it.
    let stream = TestStream::create(&servers.jetstream).await?;
    let first = unique_tenant();
    let partition = stream.scheme.partition_of(&first);
    let mut tenants = vec![first];
    while tenants.len() < 40 {
        let tenant = unique_tenant();
        if stream.scheme.partition_of(&tenant) == partition {
            tenants.push(tenant);
        }
    }
    let per_tenant: Vec<_> = tenants
        .iter()
        .enumerate()
        .map(|(i, tenant)| generator::mixed_events(tenant, 100 + i as u64, 4))
        .collect();
    let interleaved: Vec<_> = (0..4)
        .flat_map(|k| per_tenant.iter().map(move |events| events[k].clone()))
        .collect();
    let sequences = generator::publish(&servers.jetstream, &stream.scheme, &interleaved).await?;
    let store = stream.args().connect("reader-test", Duration::from_secs(10)).await?;
    let mut growing = store.partition_reader(settings("growing", partition)).await?;
    let sizes = read_all(&mut growing, &sequences).await?;
    assert!(sizes[0] > 10, "the first batch grew while 160 waited: {sizes:?}");
    assert!(sizes.iter().all(|&size| size <= 64), "{sizes:?}");
    // 160 at up to 64 a batch: three batches (64, 64, 32) unless the stream paused.
    assert!(sizes.len() < 16, "{sizes:?}");

    // Caught up: three new events come as one batch of three, not more.
    let more = generator::mixed_events(&tenants[0], 6, 3);
    let more = generator::publish(&servers.jetstream, &stream.scheme, &more).await?;
    let batch = tokio::time::timeout(WAIT, growing.next_batch()).await??;
    assert_eq!(
        batch.iter().map(eventstore::Delivery::sequence).collect::<Vec<_>>(),
        more
    );
    stream.delete().await
}

/// Reads batches (acknowledging each) until `sequences` came, checks that they came once
/// each and in order, and answers the batches' sizes.
async fn read_all(reader: &mut eventstore::PartitionReader, sequences: &[u64]) -> anyhow::Result<Vec<usize>> {
    let (mut seen, mut sizes) = (Vec::new(), Vec::new());
    while seen.len() < sequences.len() {
        let batch = tokio::time::timeout(WAIT, reader.next_batch()).await??;
        sizes.push(batch.len());
        seen.extend(batch.iter().map(eventstore::Delivery::sequence));
        if let Some(last) = batch.last() {
            reader.ack(last).await?;
        }
    }
    assert_eq!(seen, sequences, "every event once, in stream order");
    Ok(sizes)
}

/// A projector creates a tenant's indexes the first time it meets the tenant unless the
/// checkpoint records that they exist for the current index version (`ensure` records
/// it; the projector reads it with the batch's first read): no `createIndexes` per tenant
/// after a restart.
#[tokio::test]
async fn tenant_indexes_are_created_once_and_recorded_in_the_checkpoint() -> anyhow::Result<()> {
    let servers = Servers::connect().await?;
    let stream = TestStream::create(&servers.jetstream).await?;
    let tenant = unique_tenant();
    let db = servers.mongo.database(&tenant.database_name());
    let sales_indexes = || async {
        anyhow::Ok(
            db.collection::<bson::Document>(collections::SALES)
                .list_index_names()
                .await?,
        )
    };
    let events = generator::mixed_events(&tenant, 7, 60);
    let (first, rest) = events.split_at(20);
    let (second, third) = rest.split_at(20);

    // First meeting: created, and the checkpoint records the version.
    let sequences = generator::publish(&servers.jetstream, &stream.scheme, first).await?;
    let projector = ProjectorApp::spawn(&stream).await?;
    wait_for_checkpoint(&servers, &tenant, *sequences.last().unwrap_or(&0), WAIT).await?;
    projector.stop().await?;
    let checkpoint = tenantdb::checkpoint::read(&db, &collections::Target::live())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no checkpoint"))?;
    assert_eq!(checkpoint.indexes, tenantdb::indexes::VERSION);
    assert!(sales_indexes().await?.iter().any(|name| name == "sequence"));

    // Recorded: a new process does not create them again (an index dropped behind its
    // back stays dropped, which shows that nothing was created).
    db.collection::<bson::Document>(collections::SALES)
        .drop_index("sequence")
        .await?;
    let sequences = generator::publish(&servers.jetstream, &stream.scheme, second).await?;
    let projector = ProjectorApp::spawn(&stream).await?;
    wait_for_checkpoint(&servers, &tenant, *sequences.last().unwrap_or(&0), WAIT).await?;
    projector.stop().await?;
    assert!(!sales_indexes().await?.iter().any(|name| name == "sequence"));

    // An older version recorded (the index set changed since): created again.
    db.collection::<bson::Document>(collections::CHECKPOINTS)
        .update_one(
            doc! {"_id": tenantdb::checkpoint::PROJECTION_ID},
            doc! {"$set": {(tenantdb::checkpoint::INDEXES): tenantdb::indexes::VERSION - 1}},
        )
        .await?;
    let sequences = generator::publish(&servers.jetstream, &stream.scheme, third).await?;
    let projector = ProjectorApp::spawn(&stream).await?;
    wait_for_checkpoint(&servers, &tenant, *sequences.last().unwrap_or(&0), WAIT).await?;
    projector.stop().await?;
    assert!(sales_indexes().await?.iter().any(|name| name == "sequence"));
    let checkpoint = tenantdb::checkpoint::read(&db, &collections::Target::live())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no checkpoint"))?;
    assert_eq!(checkpoint.indexes, tenantdb::indexes::VERSION);
    db.drop().await?;
    stream.delete().await
}
