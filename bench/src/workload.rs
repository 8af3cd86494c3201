//! The work a run sends: tenants with pre-signed tokens (and, through [`provision`], their
//! accounts), and command bodies whose numbers
//! add up, mostly sales with some stock and catalog commands.

use events::TenantId;
use serde::Serialize;
use serde_json::{Value, json};

/// SKUs every tenant's catalog has.
pub const SKUS: [&str; 5] = ["WINE-1", "WINE-2", "BEER-6", "SPIRIT-1", "SNACK-1"];

/// One tenant of the run.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// A manager token (managers may send every command the mix uses).
    pub token: String,
    /// An admin token, to open the tenant's location before the run.
    pub admin_token: String,
}

/// `count` tenants with tokens signed by `secret`.
pub fn tenants(count: usize, secret: &str, run: &str) -> Vec<Tenant> {
    // The API's own signer (default key id, issuer and audience), tokens valid for a day.
    let signer = command_api::identity::TokenIssuer::new(
        secret.as_bytes(),
        "default",
        "tillstream",
        "tillstream-pos",
        24 * 3600,
    );
    (0..count)
        .map(|i| {
            let id = TenantId::parse(format!("{run}-{i}")).expect("run ids are lowercase hex and digits");
            let token = signer
                .token(&id, &user(&id), events::Role::Manager, Some("till-1"))
                .expect("HMAC signing of plain claims cannot fail");
            let admin_token = signer
                .token(&id, &admin(&id), events::Role::Admin, None)
                .expect("HMAC signing of plain claims cannot fail");
            Tenant { id, token, admin_token }
        })
        .collect()
}

/// The opening of the one location the workload sells from, `main` (UTC, USD).
pub fn location() -> Value {
    json!({"location_id": "main", "details": {"name": "Main", "time_zone": "UTC", "business_day_start": "00:00", "currency": "USD"}})
}

/// The manager user of `tenant` in a run (user ids are unique across tenants).
pub fn user(tenant: &TenantId) -> String {
    format!("loadgen-{tenant}")
}

/// The admin user of `tenant` in a run, who opens its location.
pub fn admin(tenant: &TenantId) -> String {
    format!("loadgen-admin-{tenant}")
}

/// Creates the run's tenants and their manager and admin users in the shared database (default name
/// `liquor_pos_main`), as `command-api token` does: the API refuses tokens naming tenants or
/// users that do not exist.
pub async fn provision(mongo: &mongodb::Client, tenants: &[Tenant]) -> anyhow::Result<()> {
    let store = command_api::identity::IdentityStore::new(mongo.database("liquor_pos_main"));
    for tenant in tenants {
        for (user, role) in [
            (user(&tenant.id), events::Role::Manager),
            (admin(&tenant.id), events::Role::Admin),
        ] {
            store
                .provision(tenant.id.as_str(), &user, role)
                .await
                .map_err(|e| anyhow::anyhow!("provisioning tenant {}: {e}", tenant.id))?;
        }
    }
    Ok(())
}

/// Registration of one of [`SKUS`].
pub fn product(sku: &str) -> Value {
    json!({"sku": sku, "details": {"name": format!("Product {sku}"), "category": "wine", "tax_class": "standard", "reorder_point": 5},
        "price": {"amount_minor": 1299, "currency": "USD"}})
}

/// A valid sale of 1 to 3 lines, chosen by `n`.
pub fn sale(sale_id: &str, n: u64) -> Value {
    serde_json::to_value(SaleBody::new(sale_id, n)).unwrap_or_default()
}

/// One line of a [`SaleBody`].
#[derive(Debug, Clone, Serialize)]
pub struct SaleLine {
    sku: &'static str,
    quantity: i64,
    unit_price_minor: i64,
    tax_minor: i64,
}

/// The tender of a [`SaleBody`].
#[derive(Debug, Clone, Serialize)]
pub struct SaleTender {
    kind: &'static str,
    amount_minor: i64,
}

/// The body of a `complete_sale` as a typed value: serialized straight to bytes, without
/// the tree of `json!` (the generator shares the machine with what it measures).
#[derive(Debug, Clone, Serialize)]
pub struct SaleBody {
    sale_id: String,
    location: &'static str,
    currency: &'static str,
    lines: Vec<SaleLine>,
    subtotal_minor: i64,
    discount_total_minor: i64,
    tax_total_minor: i64,
    total_minor: i64,
    tenders: [SaleTender; 1],
    change_minor: i64,
}

impl SaleBody {
    /// The sale `sale_id` of 1 to 3 lines, chosen by `n`; cash for even `n`.
    pub fn new(sale_id: &str, n: u64) -> Self {
        let count = 1 + (n % 3) as usize;
        let lines: Vec<SaleLine> = (0..count)
            .map(|i| SaleLine {
                sku: SKUS[(n as usize + i) % SKUS.len()],
                quantity: 1 + i as i64,
                unit_price_minor: 1299,
                tax_minor: 104 * (1 + i as i64),
            })
            .collect();
        let subtotal: i64 = (0..count as i64).map(|i| 1299 * (1 + i)).sum();
        let tax: i64 = (0..count as i64).map(|i| 104 * (1 + i)).sum();
        let total = subtotal + tax;
        let cash = n.is_multiple_of(2);
        let tendered = if cash { (total / 1000 + 1) * 1000 } else { total };
        Self {
            sale_id: sale_id.to_owned(),
            location: "main",
            currency: "USD",
            lines,
            subtotal_minor: subtotal,
            discount_total_minor: 0,
            tax_total_minor: tax,
            total_minor: total,
            tenders: [SaleTender {
                kind: if cash { "cash" } else { "card" },
                amount_minor: tendered,
            }],
            change_minor: tendered - total,
        }
    }
}

/// The command number `n` of the mix: 90 % sales, 6 % receipts, 4 % adjustments.
/// Returns (path, body, id of the sale if it is one).
pub fn command(n: u64, run: &str) -> (&'static str, Value, Option<String>) {
    let id = format!("{run}-{n}");
    match n % 50 {
        0..=2 => (
            "/v1/inventory/receipts",
            json!({"movement_id": id, "sku": SKUS[(n % 5) as usize], "location": "main", "quantity": 24,
            "unit_cost": {"amount_minor": 700, "currency": "USD"}, "supplier": "Bench", "reference": "PO"}),
            None,
        ),
        3..=4 => (
            "/v1/inventory/adjustments",
            json!({"movement_id": id, "sku": SKUS[(n % 5) as usize], "location": "main", "quantity_delta": -1, "reason": "breakage"}),
            None,
        ),
        _ => ("/v1/sales", sale(&id, n), Some(id)),
    }
}

/// Opens every tenant's location and registers the workload's SKUs (409: already there),
/// 32 requests at a time.
pub async fn prepare(http: &reqwest::Client, base_url: &str, tenants: &[Tenant]) -> anyhow::Result<()> {
    use futures::StreamExt;
    let opened: Vec<anyhow::Result<()>> = futures::stream::iter(tenants)
        .map(|tenant| async move {
            let answer = http
                .post(format!("{base_url}/v1/locations"))
                .bearer_auth(&tenant.admin_token)
                .json(&location())
                .send()
                .await?;
            anyhow::ensure!(
                answer.status().is_success() || answer.status().as_u16() == 409,
                "opening the location of {}: {}",
                tenant.id,
                answer.status()
            );
            Ok(())
        })
        .buffer_unordered(32)
        .collect()
        .await;
    opened.into_iter().collect::<anyhow::Result<()>>()?;
    let requests = tenants
        .iter()
        .flat_map(|tenant| SKUS.iter().map(move |sku| (tenant, *sku)));
    let answers: Vec<anyhow::Result<()>> = futures::stream::iter(requests)
        .map(|(tenant, sku)| async move {
            let answer = http
                .post(format!("{base_url}/v1/products"))
                .bearer_auth(&tenant.token)
                .json(&product(sku))
                .send()
                .await?;
            anyhow::ensure!(
                answer.status().is_success() || answer.status().as_u16() == 409,
                "registering {sku} for {}: {}",
                tenant.id,
                answer.status()
            );
            Ok(())
        })
        .buffer_unordered(32)
        .collect()
        .await;
    answers.into_iter().collect()
}
