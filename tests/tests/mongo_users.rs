//! MongoDB users with least privilege (issue 15): a MongoDB-compatible server of the test's
//! own started with `--auth` (SecantusDB enforces SCRAM authentication, built-in and custom
//! roles; so does mongod), with the roles and users `scripts/mongo-users apply` creates.
//! The shared test server has no users and is left alone.

use std::time::Duration;

use bson::{Document, doc};
use events::Role;
use mongodb::options::{ClientOptions, Credential};
use serde_json::json;
use tests::command_app::{open_locations_at, posted, read};
use tests::processes::{ServiceUsers, mongo_server_with_users};
use tests::{CommandApp, ProjectorApp, WebhookApp, unique_tenant};

/// A client of `uri` as `user` (or anonymous), failing fast.
async fn client(uri: &str, user: Option<(&str, &str)>) -> anyhow::Result<mongodb::Client> {
    let mut options = ClientOptions::parse(uri).await?;
    options.server_selection_timeout = Some(Duration::from_secs(5));
    options.credential = user.map(|(name, password)| {
        Credential::builder()
            .username(name.to_owned())
            .password(password.to_owned())
            .source("admin".to_owned())
            .build()
    });
    Ok(mongodb::Client::with_options(options)?)
}

async fn as_service(uri: &str, users: &ServiceUsers, service: &str) -> anyhow::Result<mongodb::Client> {
    let (name, password) = users.of(service)?;
    client(uri, Some((&name, &password))).await
}

/// The error code of `result`, or `None` when it succeeded.
fn refused<T>(result: mongodb::error::Result<T>) -> bool {
    match result {
        Ok(_) => false,
        Err(err) => {
            let text = err.to_string();
            assert!(
                text.contains("not authorized")
                    || text.contains("requires authentication")
                    || text.contains("Unauthorized"),
                "refused for another reason: {text}"
            );
            true
        }
    }
}

#[tokio::test]
async fn each_service_mongo_user_may_do_its_own_work_and_nothing_else() -> anyhow::Result<()> {
    let (_server, uri, users) = mongo_server_with_users().await?;
    let tenant_db = format!("tenant_{}", unique_tenant());
    let other_tenant_db = format!("tenant_{}", unique_tenant());

    // Wrong password, unknown user: the handshake fails; no credentials: nothing readable.
    let (api_name, api_password) = users.of("api")?;
    let wrong = client(&uri, Some((&api_name, "not-the-password"))).await?;
    let answer = wrong
        .database(&tenant_db)
        .collection::<Document>("sales")
        .count_documents(doc! {})
        .await;
    assert!(answer.is_err_and(|e| e.to_string().contains("Authentication failed")));
    let unknown = client(&uri, Some(("mallory", &api_password))).await?;
    assert!(unknown.list_database_names().await.is_err());
    let anonymous = client(&uri, None).await?;
    assert!(refused(
        anonymous
            .database(&tenant_db)
            .collection::<Document>("sales")
            .count_documents(doc! {})
            .await
    ));

    let ops = as_service(&uri, &users, "ops").await?;
    ops.database(&tenant_db)
        .collection::<Document>("sales")
        .insert_one(doc! {"_id": "s1", "total_minor": 100})
        .await?;
    ops.database("liquor_pos_main")
        .collection::<Document>("users")
        .insert_one(doc! {"_id": "u1", "role": "cashier"})
        .await?;

    // The API: reads read models, writes the main database, creates a new tenant's indexes.
    let api = as_service(&uri, &users, "api").await?;
    let sales = api.database(&tenant_db).collection::<Document>("sales");
    assert_eq!(sales.count_documents(doc! {}).await?, 1);
    api.database("liquor_pos_main")
        .collection::<Document>("refresh_tokens")
        .insert_one(doc! {"_id": "t1"})
        .await?;
    api.database(&other_tenant_db)
        .collection::<Document>("sales")
        .create_index(mongodb::IndexModel::builder().keys(doc! {"day": 1}).build())
        .await?;
    // ...and writes no read model, drops nothing, manages no user.
    assert!(refused(sales.insert_one(doc! {"_id": "forged"}).await));
    assert!(refused(
        sales
            .update_one(doc! {"_id": "s1"}, doc! {"$set": {"total_minor": 1}})
            .await
    ));
    assert!(refused(sales.delete_one(doc! {"_id": "s1"}).await));
    assert!(refused(api.database(&tenant_db).drop().await));
    assert!(refused(
        api.database("liquor_pos_main")
            .collection::<Document>("users")
            .drop()
            .await
    ));
    assert!(refused(
        api.database("liquor_pos_main")
            .collection::<Document>("users")
            .drop_index("_id_")
            .await
    ));
    assert!(refused(
        api.database("admin")
            .run_command(doc! {"createUser": "x", "pwd": "y", "roles": ["root"]})
            .await
    ));
    assert!(refused(
        api.database("admin")
            .run_command(doc! {"grantRolesToUser": &api_name, "roles": ["root"]})
            .await
    ));

    // The projector: writes read models, drops nothing, manages no user.
    let projector = as_service(&uri, &users, "projector").await?;
    let (projector_name, _) = users.of("projector")?;
    let sales = projector.database(&tenant_db).collection::<Document>("sales");
    sales.insert_one(doc! {"_id": "s2", "total_minor": 200}).await?;
    sales
        .update_one(doc! {"_id": "s1"}, doc! {"$set": {"status": "voided"}})
        .await?;
    sales.delete_one(doc! {"_id": "s2"}).await?;
    assert!(refused(projector.database(&tenant_db).drop().await));
    assert!(refused(sales.drop().await));
    assert!(refused(
        projector
            .database("admin")
            .run_command(doc! {"grantRolesToUser": &projector_name, "roles": ["root"]})
            .await
    ));
    assert!(refused(
        projector
            .database("admin")
            .run_command(doc! {"createUser": "x", "pwd": "y", "roles": ["root"]})
            .await
    ));

    // The webhook worker: the main database, no read model.
    let webhooks = as_service(&uri, &users, "webhooks").await?;
    webhooks
        .database("liquor_pos_main")
        .collection::<Document>("webhook_deliveries")
        .insert_one(doc! {"_id": "d1"})
        .await?;
    assert!(refused(
        webhooks
            .database(&tenant_db)
            .collection::<Document>("sales")
            .insert_one(doc! {"_id": "forged"})
            .await
    ));
    assert!(refused(webhooks.database(&tenant_db).drop().await));
    assert!(refused(
        webhooks
            .database("liquor_pos_main")
            .collection::<Document>("users")
            .drop()
            .await
    ));
    assert_eq!(
        ops.database("liquor_pos_main")
            .collection::<Document>("users")
            .count_documents(doc! {})
            .await?,
        1,
        "the login store is intact"
    );

    // What the refusals left: the operator's sale, voided by the projector.
    let left = ops.database(&tenant_db).collection::<Document>("sales");
    assert_eq!(left.count_documents(doc! {}).await?, 1);
    let sale = left.find_one(doc! {"_id": "s1"}).await?.unwrap_or_default();
    assert_eq!(sale.get_i32("total_minor").ok(), Some(100), "{sale}");
    assert_eq!(sale.get_str("status").ok(), Some("voided"), "{sale}");
    // The operator's user drops databases (projector delete, replays).
    ops.database(&tenant_db).drop().await?;
    Ok(())
}

#[tokio::test]
async fn the_api_projector_and_webhook_worker_run_with_their_own_mongo_users() -> anyhow::Result<()> {
    let (_server, uri, users) = mongo_server_with_users().await?;
    let user = |service: &str| users.of(service);
    let (api_name, api_password) = user("api")?;
    let app = CommandApp::spawn_with(|config| {
        config.mongo.mongodb_uri = uri.clone();
        config.mongo.mongodb_user = Some(api_name);
        config.mongo.mongodb_password = Some(api_password.into());
    })
    .await?;
    let (projector_name, projector_password) = user("projector")?;
    let projector = ProjectorApp::spawn_with(&app.stream, |config| {
        config.mongo.mongodb_uri = uri.clone();
        config.mongo.mongodb_user = Some(projector_name);
        config.mongo.mongodb_password = Some(projector_password.into());
    })
    .await?;
    let (webhooks_name, webhooks_password) = user("webhooks")?;
    let worker = WebhookApp::spawn_with(&app.stream, |config| {
        config.mongo.mongodb_uri = uri.clone();
        config.mongo.mongodb_user = Some(webhooks_name);
        config.mongo.mongodb_password = Some(webhooks_password.into());
    })
    .await?;

    // The tenant and its users, made by the operator in this server's login store.
    let ops = as_service(&uri, &users, "ops").await?;
    let tenant = unique_tenant();
    let store = command_api::identity::IdentityStore::new(ops.database("liquor_pos_main"));
    for (name, role) in [("admin-1", Role::Admin), ("manager-1", Role::Manager)] {
        store
            .provision(tenant.as_str(), name, role)
            .await
            .map_err(|e| anyhow::anyhow!("provisioning {name}: {e}"))?;
    }
    let admin = app.tokens.token(&tenant, "admin-1", Role::Admin);
    let manager = app.tokens.token(&tenant, "manager-1", Role::Manager);
    open_locations_at(&app.http, &app.address, &admin).await?;
    let product = json!({"sku": "WINE-1", "details": {"name": "Rioja", "category": "wine", "tax_class": "standard",
        "barcodes": [], "minimum_age": 21, "reorder_point": 6}, "price": {"amount_minor": 1899, "currency": "USD"}});
    let sequence = posted(&app, &manager, "/v1/products", &product).await?;
    let seen = read(&app, &manager, "/v1/products/WINE-1", sequence).await?;
    assert_eq!(seen["price"]["amount_minor"], 1899, "{seen}");
    let lag = projector.admin_get(&format!("/v1/tenants/{tenant}/lag")).await?;
    assert_eq!(lag["lag"], 0, "{lag}");
    let readiness = app.get("/ready").await?;
    assert_eq!(readiness.status, 200, "{readiness:?}");

    worker.stop().await?;
    projector.stop().await?;
    app.stream.delete().await
}
