//! A short smoke run of the load generator and its baselines, so they keep working. No
//! timing is asserted: speed is measured by `loadgen` runs recorded in
//! docs/performance.md, not by tests.

use bench::load::{Budget, Load};
use bench::system::{Setup, System};
use bench::{baselines, workload};
use tests::servers::{mongodb_uri, nats_url};

#[tokio::test]
async fn the_load_generator_runs_end_to_end_with_its_baselines() -> anyhow::Result<()> {
    let run = format!("smoke{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let secret = "loadgen-secret-that-is-long-enough-0123456789".to_owned();
    let setup = Setup {
        nats_url: nats_url(),
        mongodb_uri: mongodb_uri(),
        stream: run.to_uppercase(),
        prefix: run.clone(),
        secret: secret.clone(),
    };
    let system = System::start(&setup, true).await?;
    let mongo = tests::servers::mongo_client().await?;
    let tenants = workload::tenants(2, &secret, &run);
    workload::provision(&mongo, &tenants).await?;
    let http = reqwest::Client::new();
    workload::prepare(&http, &system.base_url, &tenants).await?;
    let report = Load {
        name: "smoke".into(),
        base_url: system.base_url.clone(),
        sales_path: "/v1/sales".into(),
        sales_only: false,
        connections: 4,
        budget: Budget::Count(300),
        tenants: tenants.clone(),
        run: run.clone(),
        lag_every: 10,
        mongo: Some(mongo.clone()),
        lag_url: None,
        progress: false,
        rate: None,
    }
    .run()
    .await?;
    assert_eq!((report.ok, report.errors.len()), (300, 0), "{report:?}");
    assert!(
        report.projection_lag.as_ref().is_some_and(|lag| lag.count > 0),
        "lag was sampled: {report:?}"
    );

    let nats = tests::servers::nats_client().await?;
    let js = async_nats::jetstream::new(nats);
    let published = baselines::nats_publish(&js, &format!("{run}.baseline.raw"), 500, 300, 64).await?;
    assert_eq!(published.operations, 500);
    let raw = mongo.database(&format!("{run}_raw"));
    assert_eq!(
        baselines::mongo_bulk_upserts(&raw, "sales", 500, 100, 2)
            .await?
            .operations,
        500
    );
    assert_eq!(
        raw.collection::<bson::Document>("sales")
            .count_documents(bson::doc! {})
            .await?,
        500
    );
    raw.drop().await?;
    let address = baselines::direct_write_service(mongo.clone(), &secret).await?;
    let direct_load = Load {
        name: "direct".into(),
        base_url: format!("http://{address}"),
        sales_path: "/sales".into(),
        sales_only: true,
        connections: 4,
        budget: Budget::Count(100),
        tenants: workload::tenants(1, &secret, &format!("{run}d")),
        run: format!("{run}d"),
        lag_every: 0,
        mongo: None,
        lag_url: None,
        progress: false,
        rate: Some(500.0), // the open-loop path
    };
    let direct = direct_load.clone().run().await?;
    assert_eq!(direct.ok, 100, "{direct:?}");
    let floor = Load {
        name: "floor".into(),
        base_url: format!("http://{}", baselines::http_floor_service().await?),
        budget: Budget::Count(50),
        rate: None,
        ..direct_load
    }
    .run()
    .await?;
    assert_eq!((floor.ok, floor.errors.len()), (50, 0), "{floor:?}");

    system.stop().await?;
    // The replay measurement rebuilds tenant 0 (5 catalog + 150 mixed commands) and
    // reports the same event count as its raw read, with documents to write.
    let replay = bench::replay::measure(&setup, &mongo, &tenants[0].id).await?;
    assert_eq!(replay.replay.operations, replay.raw_read.operations, "{replay:?}");
    assert!(replay.raw_read.operations >= 155 && replay.documents > 0, "{replay:?}");
    assert_eq!(replay.raw_write.operations, replay.documents);
    for tenant in tenants
        .iter()
        .chain(workload::tenants(1, &secret, &format!("{run}d")).iter())
    {
        mongo.database(&tenant.id.database_name()).drop().await?;
    }
    js.delete_stream(&setup.stream).await?;
    Ok(())
}
