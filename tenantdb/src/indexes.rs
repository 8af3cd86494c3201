//! Indexes of a tenant database, created when the tenant is provisioned (signup) or with
//! the database on its first event (projector), and on a replay's shadow collections.
//!
//! `_id` already covers the unique keys (SKU, sale id, movement ids, `date|location`);
//! these serve the reporting queries.

use bson::doc;
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use crate::collections::{self, Target};

/// Creates every index of a tenant database's collections `target` (idempotent: existing
/// ones are kept).
pub async fn ensure(db: &Database, target: &Target) -> mongodb::error::Result<()> {
    let index = |keys: bson::Document, name: &str, unique: bool, partial: Option<bson::Document>| {
        IndexModel::builder()
            .keys(keys)
            .options(
                IndexOptions::builder()
                    .name(name.to_owned())
                    .unique(unique)
                    .partial_filter_expression(partial)
                    .build(),
            )
            .build()
    };
    db.collection::<bson::Document>(&target.name(collections::PRODUCTS))
        .create_indexes([
            index(doc! {"barcodes": 1}, "barcode", false, None),
            index(doc! {"category": 1, "name": 1}, "category_name", false, None),
            index(doc! {"name": 1}, "name", false, None),
            index(
                doc! {"low_stock": 1},
                "low_stock",
                false,
                Some(doc! {"low_stock": true}),
            ),
            index(
                doc! {"negative_stock": 1},
                "negative_stock",
                false,
                Some(doc! {"negative_stock": true}),
            ),
        ])
        .await?;
    db.collection::<bson::Document>(&target.name(collections::SALES))
        .create_indexes([
            index(doc! {"occurred_at": -1, "_id": -1}, "occurred_at", false, None),
            index(
                doc! {"location": 1, "occurred_at": -1},
                "location_occurred_at",
                false,
                None,
            ),
            index(
                doc! {"terminal_id": 1, "occurred_at": -1},
                "terminal_occurred_at",
                false,
                None,
            ),
            index(
                doc! {"cashier_id": 1, "occurred_at": -1},
                "cashier_occurred_at",
                false,
                None,
            ),
            index(doc! {"status": 1, "occurred_at": -1}, "status_occurred_at", false, None),
            index(doc! {"sequence": 1}, "sequence", true, None),
        ])
        .await?;
    db.collection::<bson::Document>(&target.name(collections::INVENTORY_TRANSACTIONS))
        .create_indexes([
            index(doc! {"sku": 1, "occurred_at": 1}, "sku_occurred_at", false, None),
            index(
                doc! {"location": 1, "occurred_at": 1},
                "location_occurred_at",
                false,
                None,
            ),
        ])
        .await?;
    db.collection::<bson::Document>(&target.name(collections::DAILY_SALES))
        .create_indexes([index(doc! {"date": 1, "location": 1}, "date_location", true, None)])
        .await?;
    db.collection::<bson::Document>(&target.name(collections::USERS))
        .create_indexes([index(doc! {"email": 1}, "email", false, None)])
        .await?;
    Ok(())
}
