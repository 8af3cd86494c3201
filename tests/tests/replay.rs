//! Replay jobs and tenant operations against the real servers: an online rebuild equals
//! the live projection, also while commands keep arriving; verify catches a tampered read
//! model; move, export → import and delete round-trip; old schema versions replay to the
//! same read model; bystander tenants are untouched throughout.

use std::time::Duration;

use bson::doc;
use events::TenantId;
use projector::replay::jobs;
use projector::store::TenantDatabases;
use serde_json::{Value, json};
use tenantdb::collections::Target;
use tests::generator;
use tests::projector_app::wait_for_checkpoint;
use tests::read_model::{self, Dump, difference};
use tests::{ProjectorApp, Servers, TestStream, unique_tenant};

const WAIT: Duration = Duration::from_secs(90);

struct Installation {
    servers: Servers,
    stream: TestStream,
    store: eventstore::EventStore,
    databases: TenantDatabases,
}

impl Installation {
    async fn new() -> anyhow::Result<Self> {
        let servers = Servers::connect().await?;
        let stream = TestStream::create(&servers.jetstream).await?;
        let config = ProjectorApp::config(&stream);
        let store = projector::startup::event_store(&config).await?;
        let databases = projector::startup::databases(&config).await?;
        Ok(Self {
            servers,
            stream,
            store,
            databases,
        })
    }

    async fn publish(&self, events: &[events::EventEnvelope]) -> anyhow::Result<u64> {
        Ok(
            *generator::publish(&self.servers.jetstream, &self.stream.scheme, events)
                .await?
                .last()
                .unwrap_or(&0),
        )
    }

    async fn dump(&self, tenant: &TenantId) -> anyhow::Result<Dump> {
        read_model::dump(&self.servers.mongo.database(&tenant.database_name())).await
    }

    async fn cleanup(self, tenants: &[&TenantId]) -> anyhow::Result<()> {
        for tenant in tenants {
            self.servers.mongo.database(&tenant.database_name()).drop().await?;
        }
        self.stream.delete().await
    }
}

/// Runs `work`, asking the admin server of `projector` for the jobs in progress every
/// 20 ms meanwhile; answers what `work` gave and the rows of `tenant` seen.
async fn watching_jobs<T>(
    projector: &ProjectorApp,
    tenant: &TenantId,
    work: impl std::future::Future<Output = T>,
) -> anyhow::Result<(T, Vec<Value>)> {
    let mut seen = Vec::new();
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return Ok((out, seen)),
            () = tokio::time::sleep(Duration::from_millis(20)) => {
                let jobs = projector.admin_get("/v1/jobs").await?;
                seen.extend(
                    jobs["jobs"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|j| j["tenant"] == tenant.as_str())
                        .cloned(),
                );
            }
        }
    }
}

/// Whether the admin server lists a job of `tenant` now.
async fn listed(projector: &ProjectorApp, tenant: &TenantId) -> anyhow::Result<bool> {
    let jobs = projector.admin_get("/v1/jobs").await?;
    Ok(jobs["jobs"]
        .as_array()
        .is_some_and(|a| a.iter().any(|j| j["tenant"] == tenant.as_str())))
}

#[tokio::test]
async fn an_online_replay_equals_the_live_projection_and_leaves_others_alone() -> anyhow::Result<()> {
    let site = Installation::new().await?;
    let (tenant, bystander) = (unique_tenant(), unique_tenant());
    let events = generator::mixed_events(&tenant, 21, 3000);
    let last = site.publish(&events).await?;
    let bystander_last = site.publish(&generator::mixed_events(&bystander, 22, 300)).await?;
    let projector = ProjectorApp::spawn(&site.stream).await?;
    wait_for_checkpoint(&site.servers, &tenant, last, WAIT).await?;
    wait_for_checkpoint(&site.servers, &bystander, bystander_last, WAIT).await?;
    let (live, bystander_before) = (site.dump(&tenant).await?, site.dump(&bystander).await?);

    // The admin server shows the replay while it runs, with its progress, and not after.
    let (swapped_at, seen) = watching_jobs(
        &projector,
        &tenant,
        jobs::replay(&site.store, &site.databases, &tenant, false, false),
    )
    .await?;
    let swapped_at = swapped_at?;
    assert!(swapped_at > last);
    assert!(!seen.is_empty(), "the replay was never listed");
    for job in &seen {
        assert_eq!(job["kind"], "replay", "{job}");
        let (done, head) = (
            job["checkpoint"].as_u64().unwrap_or(u64::MAX),
            job["stream_head"].as_u64().unwrap_or(0),
        );
        assert!(done <= head && head >= last, "{job}");
        assert_eq!(job["percent"].as_u64(), Some(done * 100 / head), "{job}");
    }
    assert!(!listed(&projector, &tenant).await?);
    let rebuilt = site.dump(&tenant).await?;
    assert_eq!(difference(&live, &rebuilt), None);
    assert_eq!(difference(&read_model::expected(&events, 1)?, &rebuilt), None);
    assert_eq!(difference(&bystander_before, &site.dump(&bystander).await?), None);
    assert!(
        jobs::verify(&site.store, &site.databases, &tenant, false)
            .await?
            .is_empty()
    );
    // No shadow collection is left behind.
    let names = site
        .servers
        .mongo
        .database(&tenant.database_name())
        .list_collection_names()
        .await?;
    assert!(names.iter().all(|n| !n.starts_with("replay_")), "{names:?}");
    projector.stop().await?;
    site.cleanup(&[&tenant, &bystander]).await
}

#[tokio::test]
async fn a_replay_while_events_keep_arriving_loses_nothing() -> anyhow::Result<()> {
    let site = Installation::new().await?;
    let tenant = unique_tenant();
    let events = generator::mixed_events(&tenant, 31, 3000);
    site.publish(&events[..1500]).await?;
    let projector = ProjectorApp::spawn(&site.stream).await?;
    let jetstream = site.servers.jetstream.clone();
    let scheme = site.stream.scheme.clone();
    let tail = events[1500..].to_vec();
    let writer = tokio::spawn(async move {
        let mut last = 0;
        for chunk in tail.chunks(50) {
            last = *generator::publish(&jetstream, &scheme, chunk)
                .await?
                .last()
                .unwrap_or(&0);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        anyhow::Ok(last)
    });
    jobs::replay(&site.store, &site.databases, &tenant, false, false).await?;
    let last = writer.await??;
    wait_for_checkpoint(&site.servers, &tenant, last, WAIT).await?;
    projector.stop().await?;
    // Control markers take sequences too, so the reference is a fresh rebuild from the stream.
    let live = site.dump(&tenant).await?;
    let fresh = {
        let scratch = site.servers.mongo.database(&format!("fresh_{tenant}"));
        let mut progress = projector::rebuild::progress::Progress::new("fresh", false);
        projector::rebuild::rebuild(&site.store, &scratch, &Target::live(), &tenant, None, &mut progress).await?;
        let dump = read_model::dump(&scratch).await?;
        scratch.drop().await?;
        dump
    };
    assert_eq!(difference(&fresh, &live), None);
    assert_eq!(live["sales"].len(), fresh["sales"].len());
    let parked = tests::read_model::parked(&site.servers.mongo.database(&tenant.database_name())).await?;
    assert_eq!(parked, 0);
    site.cleanup(&[&tenant]).await
}

/// The sale a void or refund at `index` of `events` refers to, if any, and its index.
fn sale_of(events: &[events::EventEnvelope], index: usize) -> Option<usize> {
    use events::DomainEvent;
    let sale_id = match &events[index].event {
        DomainEvent::SaleVoided(e) => &e.sale_id,
        DomainEvent::SaleRefunded(e) => &e.sale_id,
        _ => return None,
    };
    events[..index]
        .iter()
        .rposition(|e| matches!(&e.event, DomainEvent::SaleCompleted(s) if &s.sale_id == sale_id))
}

#[tokio::test]
async fn a_replay_over_many_batches_equals_the_oracle_also_for_voids_of_sales_still_being_written() -> anyhow::Result<()>
{
    // The rebuild writes batch N (1,000 events) while it folds batch N+1; a void or refund
    // in N+1 of a sale completed in N must see the sale as folded, not as stored.
    let site = Installation::new().await?;
    let tenant = unique_tenant();
    let events = generator::mixed_events(&tenant, 83, 6000);
    let crossing = (0..events.len())
        .filter_map(|i| sale_of(&events, i).map(|sale| (sale, i)))
        .filter(|(sale, i)| sale / 1000 + 1 == i / 1000)
        .count();
    assert!(
        crossing >= 3,
        "the fixture must void or refund across batches ({crossing})"
    );
    let last = site.publish(&events).await?;
    let scratch = site.servers.mongo.database(&format!("batches_{tenant}"));
    let live = Target::live();
    let mut progress = projector::rebuild::progress::Progress::new("batches", false);
    let reached = projector::rebuild::rebuild(&site.store, &scratch, &live, &tenant, None, &mut progress).await?;
    assert_eq!(reached, last);
    assert_eq!(progress.done(), events.len() as u64);
    assert_eq!(tenantdb::checkpoint::sequence(&scratch, &live).await?, last);
    let rebuilt = read_model::dump(&scratch).await?;
    assert_eq!(difference(&read_model::expected(&events, 1)?, &rebuilt), None);
    assert_eq!(tests::read_model::parked(&scratch).await?, 0);
    scratch.drop().await?;
    site.cleanup(&[&tenant]).await
}

#[tokio::test]
async fn verify_detects_a_hand_tampered_read_model() -> anyhow::Result<()> {
    let site = Installation::new().await?;
    let tenant = unique_tenant();
    let last = site.publish(&generator::mixed_events(&tenant, 41, 500)).await?;
    let projector = ProjectorApp::spawn(&site.stream).await?;
    wait_for_checkpoint(&site.servers, &tenant, last, WAIT).await?;
    assert!(
        jobs::verify(&site.store, &site.databases, &tenant, false)
            .await?
            .is_empty()
    );
    let db = site.servers.mongo.database(&tenant.database_name());
    db.collection::<bson::Document>("products")
        .update_one(doc! {"_id": "SKU-1"}, doc! {"$inc": {"on_hand_total": 5}})
        .await?;
    db.collection::<bson::Document>("sales").delete_one(doc! {}).await?;
    let differences = jobs::verify(&site.store, &site.databases, &tenant, false).await?;
    let text = differences.join("\n");
    assert!(text.contains("products \"SKU-1\": on_hand_total"), "{text}");
    assert!(text.contains("missing from the live read model"), "{text}");
    // A replay repairs it.
    jobs::replay(&site.store, &site.databases, &tenant, false, false).await?;
    assert!(
        jobs::verify(&site.store, &site.databases, &tenant, false)
            .await?
            .is_empty()
    );
    projector.stop().await?;
    site.cleanup(&[&tenant]).await
}

#[tokio::test]
async fn export_delete_import_round_trips_a_tenant() -> anyhow::Result<()> {
    let first = Installation::new().await?;
    let tenant = unique_tenant();
    let events = generator::mixed_events(&tenant, 51, 800);
    let last = first.publish(&events).await?;
    let bystander = unique_tenant();
    let bystander_last = first.publish(&generator::mixed_events(&bystander, 52, 100)).await?;
    let projector = ProjectorApp::spawn(&first.stream).await?;
    wait_for_checkpoint(&first.servers, &tenant, last, WAIT).await?;
    wait_for_checkpoint(&first.servers, &bystander, bystander_last, WAIT).await?;
    let original = first.dump(&tenant).await?;
    let bystander_before = first.dump(&bystander).await?;

    let dir = std::env::temp_dir().join(format!("export-{tenant}"));
    std::fs::create_dir_all(&dir)?;
    for file in ["events.jsonl", "events.jsonl.zst"] {
        assert_eq!(jobs::export(&first.store, &tenant, &dir.join(file), false).await?, 800);
    }
    // A cut file is refused before anything is published.
    let text = std::fs::read_to_string(dir.join("events.jsonl"))?;
    let cut: Vec<&str> = text.lines().take(100).collect();
    std::fs::write(dir.join("cut.jsonl"), cut.join("\n"))?;

    assert!(
        jobs::delete(&first.store, &first.databases, &tenant, "wrong", "projector")
            .await
            .is_err()
    );
    assert_eq!(
        jobs::delete(&first.store, &first.databases, &tenant, tenant.as_str(), "projector").await?,
        800
    );
    let js_stream = first.servers.jetstream.get_stream(&first.stream.name).await?;
    let left = js_stream
        .direct_get_next_for_subject(first.stream.scheme.tenant_filter(&tenant), Some(1))
        .await;
    assert!(
        left.is_err_and(|e| e.kind() == async_nats::jetstream::stream::DirectGetErrorKind::NotFound),
        "events of {tenant} remain"
    );
    assert!(
        !first
            .servers
            .mongo
            .list_database_names()
            .await?
            .contains(&tenant.database_name())
    );
    assert_eq!(difference(&bystander_before, &first.dump(&bystander).await?), None);
    projector.stop().await?;

    let second = Installation::new().await?;
    let cut_import = jobs::import(&second.store, &dir.join("cut.jsonl"), None, false).await;
    assert!(cut_import.is_err_and(|e| e.to_string().contains("incomplete")));
    let (imported, count) = jobs::import(&second.store, &dir.join("events.jsonl.zst"), None, false).await?;
    assert_eq!((imported, count), (tenant.clone(), 800));
    assert!(
        jobs::import(&second.store, &dir.join("events.jsonl"), None, false)
            .await
            .is_err(),
        "a second import must be refused"
    );
    // The same file again, as a copy under a new tenant id in the same installation:
    // new event ids (JetStream would drop the ones it has just seen), the same facts.
    let copy = unique_tenant();
    let (imported, count) = jobs::import(&second.store, &dir.join("events.jsonl"), Some(&copy), false).await?;
    assert_eq!((imported, count), (copy.clone(), 800));
    let projector = ProjectorApp::spawn(&second.stream).await?;
    wait_for_checkpoint(&second.servers, &tenant, 800, WAIT).await?;
    assert_eq!(difference(&original, &second.dump(&tenant).await?), None);
    wait_for_checkpoint(&second.servers, &copy, 1600, WAIT).await?;
    // The copy's documents are the original's but for the stream sequences they record
    // (its events sit at 801..1600).
    fn strip(doc: &mut bson::Document) {
        for field in ["last_seq", "opened_seq", "closed_seq", "version", "sequence"] {
            doc.remove(field);
        }
        for (_, value) in doc.iter_mut() {
            match value {
                bson::Bson::Document(inner) => strip(inner),
                bson::Bson::Array(items) => {
                    for item in items.iter_mut() {
                        if let bson::Bson::Document(inner) = item {
                            strip(inner);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let without_sequences = |dump: read_model::Dump| -> read_model::Dump {
        dump.into_iter()
            .map(|(collection, mut docs)| {
                docs.iter_mut().for_each(strip);
                (collection, docs)
            })
            .collect()
    };
    let copied = second.dump(&copy).await?;
    for (collection, docs) in &original {
        assert_eq!(copied.get(collection).map(Vec::len), Some(docs.len()), "{collection}");
    }
    let (mut left, mut right) = (without_sequences(original.clone()), without_sequences(copied));
    // Inventory transactions are keyed by their event's sequence: compared by count above.
    left.remove("inventorytransactions");
    right.remove("inventorytransactions");
    assert_eq!(difference(&left, &right), None);
    projector.stop().await?;
    std::fs::remove_dir_all(&dir)?;
    first.cleanup(&[&bystander]).await?;
    second.cleanup(&[&tenant, &copy]).await
}

#[tokio::test]
async fn a_tenant_moves_to_another_deployment_and_keeps_projecting() -> anyhow::Result<()> {
    let secondary = std::env::var("MONGODB_URI_SECONDARY").map_err(|_| {
        anyhow::anyhow!(
            "MONGODB_URI_SECONDARY is not set: run the tests through scripts/test, which starts a second MongoDB"
        )
    })?;
    let site = Installation::new().await?;
    let tenant = unique_tenant();
    let events = generator::mixed_events(&tenant, 61, 1200);
    site.publish(&events[..600]).await?;
    let projector = ProjectorApp::spawn(&site.stream).await?;
    let (moved_at, seen) = watching_jobs(
        &projector,
        &tenant,
        jobs::move_tenant(&site.store, &site.databases, &tenant, &secondary, false, false),
    )
    .await?;
    let moved_at = moved_at?;
    assert!(moved_at > 600);
    assert!(!seen.is_empty(), "the move was never listed");
    for job in &seen {
        assert_eq!(job["kind"], "move", "{job}");
        assert!(
            job["to"]
                .as_str()
                .is_some_and(|to| to.starts_with("mongodb://") && !to.contains('@')),
            "{job}"
        );
        assert!(job["checkpoint"].as_u64() <= job["stream_head"].as_u64(), "{job}");
    }
    assert!(!listed(&projector, &tenant).await?);
    let last = site.publish(&events[600..]).await?;
    let other = tests::servers::mongo_client_at(&secondary).await?;
    let target = other.database(&tenant.database_name());
    tests::eventually("the moved tenant to catch up on its new deployment", WAIT, || {
        let target = target.clone();
        async move {
            let checkpoint = tenantdb::checkpoint::sequence(&target, &Target::live()).await?;
            Ok((checkpoint >= last).then_some(()))
        }
    })
    .await?;
    assert!(
        !site
            .servers
            .mongo
            .list_database_names()
            .await?
            .contains(&tenant.database_name()),
        "the old database must be dropped"
    );
    let placement = site
        .servers
        .mongo
        .database("liquor_pos_main")
        .collection::<bson::Document>("tenant_placements")
        .find_one(doc! {"_id": tenant.as_str()})
        .await?;
    assert_eq!(
        placement.and_then(|p| p.get_str("uri").ok().map(str::to_owned)),
        Some(secondary.clone())
    );
    // Control markers took sequences in the stream, so compare with a rebuild, not the in-memory oracle.
    assert!(
        jobs::verify(&site.store, &site.databases, &tenant, false)
            .await?
            .is_empty()
    );
    let moved = read_model::dump(&target).await?;
    assert_eq!(
        moved["sales"].len(),
        read_model::expected(&events, 1)
            .map(|d| d["sales"].len())
            .unwrap_or_default()
    );
    projector.stop().await?;
    // Move it back, offline this time, so the secondary is left clean.
    jobs::move_tenant(
        &site.store,
        &site.databases,
        &tenant,
        site.databases.main_uri(),
        true,
        false,
    )
    .await?;
    assert!(!other.list_database_names().await?.contains(&tenant.database_name()));
    site.cleanup(&[&tenant]).await
}

/// Rewrites current-version payloads into the v1 shapes older terminals wrote.
fn downgrade(envelope: &events::EventEnvelope) -> anyhow::Result<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(&events::encode(envelope)?)?;
    let payload = value["payload"].clone();
    match value["event_type"].as_str() {
        Some("ProductRegistered") => {
            let details = &payload["details"];
            value["payload"] = json!({
                "sku": payload["sku"], "name": details["name"], "category": details["category"],
                "tax_class": details["tax_class"], "barcodes": details["barcodes"], "reorder_point": details["reorder_point"],
                "price_cents": payload["price"]["amount_minor"], "currency": payload["price"]["currency"],
                "age_restricted": !details["age_restriction"].is_null(),
            });
            value["schema_version"] = json!(1);
        }
        Some("StockAdjusted") => {
            value["payload"] = json!({
                "movement_id": payload["movement_id"], "sku": payload["sku"], "location": payload["location"],
                "quantity_delta": payload["quantity_delta"], "reason": payload["reason"],
            });
            value["schema_version"] = json!(1);
        }
        _ => {}
    }
    Ok(serde_json::to_vec(&value)?)
}

#[tokio::test]
async fn old_schema_versions_replay_to_the_same_read_model_as_current_ones() -> anyhow::Result<()> {
    let (old_site, new_site) = (Installation::new().await?, Installation::new().await?);
    let tenant = unique_tenant();
    let events = generator::mixed_events(&tenant, 71, 1000);
    let mut downgraded = 0;
    for envelope in &events {
        let body = downgrade(envelope)?;
        downgraded += usize::from(body != events::encode(envelope)?);
        let subject = old_site.stream.scheme.subject(&tenant, &envelope.aggregate());
        old_site.servers.jetstream.publish(subject, body.into()).await?.await?;
    }
    assert!(downgraded > 20, "the fixture must hold old versions ({downgraded})");
    new_site.publish(&events).await?;
    let old_db = old_site.servers.mongo.database(&format!("old_{tenant}"));
    let new_db = new_site.servers.mongo.database(&format!("new_{tenant}"));
    let live = Target::live();
    let mut progress = projector::rebuild::progress::Progress::new("old", false);
    projector::rebuild::rebuild(&old_site.store, &old_db, &live, &tenant, None, &mut progress).await?;
    projector::rebuild::rebuild(&new_site.store, &new_db, &live, &tenant, None, &mut progress).await?;
    let (old, new) = (read_model::dump(&old_db).await?, read_model::dump(&new_db).await?);
    assert_eq!(difference(&old, &new), None);
    assert_eq!(difference(&read_model::expected(&events, 1)?, &new), None);
    assert_eq!(tests::read_model::parked(&old_db).await?, 0);
    old_db.drop().await?;
    new_db.drop().await?;
    old_site.stream.delete().await?;
    new_site.stream.delete().await
}
