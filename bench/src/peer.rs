//! The side-by-side comparison with the cqrs-es + postgres-es peer (`bench/peer`, its own
//! workspace, so nothing here depends on sqlx or cqrs-es): the peer is driven over HTTP by
//! the same [`crate::load::Load`]; this module holds what the run needs around it.

use std::time::{Duration, Instant};

use bson::doc;

use crate::workload::Tenant;

/// Longest wait for tillstream's projector to apply a load's sales.
pub const CATCH_UP_LIMIT: Duration = Duration::from_secs(180);

/// Waits until the tenants' `sales` collections hold `sales` documents in all (the sales a
/// sales-only load got 2xx for) and returns how long that took, in seconds; prints progress
/// every second. Gives up after [`CATCH_UP_LIMIT`].
pub async fn wait_projected(mongo: &mongodb::Client, tenants: &[Tenant], sales: u64) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut last_report = Instant::now();
    loop {
        let mut projected = 0;
        for tenant in tenants {
            projected += mongo
                .database(&tenant.id.database_name())
                .collection::<bson::Document>("sales")
                .count_documents(doc! {})
                .await?;
        }
        if projected >= sales {
            return Ok(started.elapsed().as_secs_f64());
        }
        anyhow::ensure!(
            started.elapsed() < CATCH_UP_LIMIT,
            "the projector applied {projected} of {sales} sales in {CATCH_UP_LIMIT:?}"
        );
        if last_report.elapsed() >= Duration::from_secs(1) {
            eprintln!("[loadgen] waiting for the projector: {projected} of {sales} sales applied");
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
