//! Indexes of a tenant database, created when the tenant is provisioned (signup) or with
//! the database on its first event (projector), and on a replay's shadow collections.
//!
//! `_id` already covers the unique keys (SKU, sale id, movement ids, `date|location`);
//! these serve the reporting queries.

use bson::doc;
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use crate::collections::{self, Target};
use crate::docs::{
    DailySalesDoc, DrawerSessionDoc, ID, InventoryTransactionDoc, ProductDoc, PurchaseOrderDoc, RefundDoc, SaleDoc,
    UserDoc, VoidDoc,
};

/// The version of the index set [`ensure`] creates, recorded in the checkpoint. **Bump it
/// whenever that set changes**: a projector creates a tenant's indexes the first time it
/// meets the tenant only when its checkpoint records an older version (see the projector's
/// `projection::set_up`), so without the bump new indexes would reach only new tenants.
pub const VERSION: i32 = 1;

/// Creates every index of a tenant database's collections `target` (idempotent: existing
/// ones are kept), then records [`VERSION`] in the target's checkpoint
/// ([`crate::checkpoint::record_indexes`]).
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
            index(doc! {(ProductDoc::BARCODES): 1}, "barcode", false, None),
            index(
                doc! {(ProductDoc::CATEGORY): 1, (ProductDoc::NAME): 1},
                "category_name",
                false,
                None,
            ),
            index(doc! {(ProductDoc::NAME): 1}, "name", false, None),
            index(
                doc! {(ProductDoc::PACK_BASE_SKU): 1},
                "pack_base_sku",
                false,
                Some(doc! {(ProductDoc::PACK_BASE_SKU): {"$exists": true}}),
            ),
            index(
                doc! {(ProductDoc::LOW_STOCK): 1},
                "low_stock",
                false,
                Some(doc! {(ProductDoc::LOW_STOCK): true}),
            ),
            index(
                doc! {(ProductDoc::NEGATIVE_STOCK): 1},
                "negative_stock",
                false,
                Some(doc! {(ProductDoc::NEGATIVE_STOCK): true}),
            ),
        ])
        .await?;
    db.collection::<bson::Document>(&target.name(collections::SALES))
        .create_indexes([
            index(doc! {(SaleDoc::OCCURRED_AT): -1, ID: -1}, "occurred_at", false, None),
            index(
                doc! {(SaleDoc::LOCATION): 1, (SaleDoc::OCCURRED_AT): -1},
                "location_occurred_at",
                false,
                None,
            ),
            index(
                doc! {(SaleDoc::TERMINAL_ID): 1, (SaleDoc::OCCURRED_AT): -1},
                "terminal_occurred_at",
                false,
                None,
            ),
            index(
                doc! {(SaleDoc::CASHIER_ID): 1, (SaleDoc::OCCURRED_AT): -1},
                "cashier_occurred_at",
                false,
                None,
            ),
            index(
                doc! {(SaleDoc::STATUS): 1, (SaleDoc::OCCURRED_AT): -1},
                "status_occurred_at",
                false,
                None,
            ),
            index(doc! {(SaleDoc::SEQUENCE): 1}, "sequence", true, None),
            // Reports by business day: the day's sales, and the voids and refunds recorded
            // on a day (which may undo sales of earlier days).
            index(
                doc! {(SaleDoc::BUSINESS_DATE): 1, (SaleDoc::LOCATION): 1},
                "business_date_location",
                false,
                None,
            ),
            index(
                doc! {format!("{}.{}", SaleDoc::VOID, VoidDoc::BUSINESS_DATE): 1},
                "void_business_date",
                false,
                None,
            ),
            index(
                doc! {format!("{}.{}", SaleDoc::REFUNDS, RefundDoc::BUSINESS_DATE): 1},
                "refund_business_date",
                false,
                None,
            ),
        ])
        .await?;
    db.collection::<bson::Document>(&target.name(collections::INVENTORY_TRANSACTIONS))
        .create_indexes([
            index(
                doc! {(InventoryTransactionDoc::SKU): 1, (InventoryTransactionDoc::OCCURRED_AT): 1},
                "sku_occurred_at",
                false,
                None,
            ),
            index(
                doc! {(InventoryTransactionDoc::LOCATION): 1, (InventoryTransactionDoc::OCCURRED_AT): 1},
                "location_occurred_at",
                false,
                None,
            ),
        ])
        .await?;
    db.collection::<bson::Document>(&target.name(collections::DAILY_SALES))
        .create_indexes([index(
            doc! {(DailySalesDoc::DATE): 1, (DailySalesDoc::LOCATION): 1},
            "date_location",
            true,
            None,
        )])
        .await?;
    db.collection::<bson::Document>(&target.name(collections::DRAWER_SESSIONS))
        .create_indexes([
            index(
                doc! {(DrawerSessionDoc::BUSINESS_DATE): 1, (DrawerSessionDoc::LOCATION): 1},
                "business_date_location",
                false,
                None,
            ),
            // The open sessions of a terminal (one at a time: command-api's opening check).
            index(
                doc! {(DrawerSessionDoc::TERMINAL_ID): 1},
                "open_by_terminal",
                false,
                Some(doc! {(DrawerSessionDoc::STATUS): "open"}),
            ),
        ])
        .await?;
    db.collection::<bson::Document>(&target.name(collections::USERS))
        .create_indexes([index(doc! {(UserDoc::EMAIL): 1}, "email", false, None)])
        .await?;
    // The purchase-order list's filters, each paged by id.
    db.collection::<bson::Document>(&target.name(collections::PURCHASE_ORDERS))
        .create_indexes([
            index(
                doc! {(PurchaseOrderDoc::LOCATION): 1, (PurchaseOrderDoc::STATUS): 1, ID: 1},
                "location_status",
                false,
                None,
            ),
            index(
                doc! {(PurchaseOrderDoc::SUPPLIER_ID): 1, ID: 1},
                "supplier",
                false,
                None,
            ),
            index(doc! {(PurchaseOrderDoc::STATUS): 1, ID: 1}, "status", false, None),
        ])
        .await?;
    crate::checkpoint::record_indexes(db, target, VERSION).await
}
