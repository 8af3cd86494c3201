//! `GET /v1/terminals/sync`: what a terminal needs to sell offline at its location, in one
//! answer: the location, its tax jurisdiction, the catalog (packs and containers included)
//! with the prices that apply there, the promotions that apply there, and the users who
//! may sign in. The first call (no cursor) is a full snapshot; later calls
//! pass the previous answer's `cursor` and get only what changed since.
//!
//! The cursor is the tenant's read-model checkpoint, read **before** the documents: every
//! event up to it is in the read model, so a document changed by an event after the cursor
//! has a version above it and is in the next answer (one changed just after the checkpoint
//! was read may come twice; applying it again changes nothing). The answer's `ETag` is the
//! new cursor: `If-None-Match` with it answers `304` without a body, and a call with nothing
//! changed answers an empty page.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bson::doc;
use events::LocationId;
use events::tax::{Jurisdiction, JurisdictionId};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use tenantdb::collections::{self, Target};
use tenantdb::docs::{
    MoneyDoc, PackDoc, PriceChangeDoc, ProductDoc, ProductStatus, PromotionDoc, PromotionStatus, UserDoc,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Authorized, Cashier};
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::queries::promotions::Promotion;
use crate::queries::{self, locations::Location};
use crate::routes::openapi::{ErrorBody, RoleName};
use crate::state::AppState;

/// The terminal routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sync))
}

/// Parameters of `GET /v1/terminals/sync`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SyncQuery {
    /// The terminal's location.
    pub location: String,
    /// The previous answer's `cursor`; absent: a full snapshot.
    #[param(minimum = 0)]
    pub cursor: Option<u64>,
}

/// A product as a terminal needs it: no stock, the prices for its location.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncProduct {
    /// The SKU.
    pub sku: String,
    /// `active` or `discontinued` (a terminal drops discontinued ones).
    #[schema(value_type = String)]
    pub status: ProductStatus,
    /// Display name.
    pub name: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Tax class.
    pub tax_class: Option<String>,
    /// Barcodes.
    pub barcodes: Vec<String>,
    /// Minimum age to buy, if restricted.
    pub minimum_age: Option<i32>,
    /// Present when the product is a pack (a case of 24): its sales move `units` of
    /// `base_sku`'s stock.
    pub pack: Option<PackDoc>,
    /// Container type, for the deposit (`can`, `glass_bottle`, ...), when it has one.
    pub container_type: Option<String>,
    /// Containers in one sold item (6 for a six-pack), when it has a container.
    pub containers_per_item: Option<i64>,
    /// Volume of one container in millilitres, when it has a container.
    pub volume_ml: Option<i64>,
    /// The chain-wide shelf price.
    pub price: Option<MoneyDoc>,
    /// Prices for this location and chain-wide changes scheduled for later, in the order
    /// they were made (other stores' prices left out); each applies from its
    /// `effective_from`.
    pub price_changes: Vec<PriceChangeDoc>,
    /// Catalog version (stream sequence of its last catalog event).
    pub version: i64,
}

impl SyncProduct {
    fn new(doc: ProductDoc, location: &str) -> Self {
        Self {
            sku: doc.sku,
            status: doc.status,
            name: doc.name,
            category: doc.category,
            tax_class: doc.tax_class,
            barcodes: doc.barcodes,
            minimum_age: doc.minimum_age,
            pack: doc.pack,
            container_type: doc.container_type,
            containers_per_item: doc.containers_per_item,
            volume_ml: doc.volume_ml,
            price: doc.price,
            price_changes: doc
                .price_changes
                .into_iter()
                .filter(|change| change.location.as_deref().is_none_or(|l| l == location))
                .collect(),
            version: doc.version,
        }
    }
}

/// A user who may sign in on terminals (no email: terminals do not need it).
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncUser {
    /// User id.
    pub id: String,
    /// Name, for the sign-in screen.
    pub name: String,
    /// Role.
    #[schema(value_type = RoleName)]
    pub role: events::Role,
    /// `false`: deactivated, the terminal removes them.
    pub active: bool,
}

/// What changed since the cursor (everything, on a first call).
#[derive(Debug, Serialize, ToSchema)]
pub struct TerminalSync {
    /// Pass it as `cursor` next time (also the `ETag`).
    pub cursor: u64,
    /// Whether this is a full snapshot (no cursor given): replace everything held.
    pub full: bool,
    /// The location, when it changed (always in a snapshot).
    pub location: Option<Location>,
    /// The location's tax jurisdiction, when it changed (always in a snapshot, if it has
    /// one).
    #[schema(value_type = Option<Object>)]
    pub tax_jurisdiction: Option<Jurisdiction>,
    /// Products whose catalog entry changed, by SKU.
    pub products: Vec<SyncProduct>,
    /// Promotions that apply at this location (or at every location) and changed, by id:
    /// in a snapshot the active ones; after a cursor also the ones ended since
    /// (`status: ended`: the terminal drops them).
    pub promotions: Vec<Promotion>,
    /// Users who joined or changed, by id.
    pub users: Vec<SyncUser>,
}

/// Everything a terminal needs to sell offline at `location`, or only what changed after
/// `cursor` (cashier and up). `If-None-Match` with the last `ETag` answers 304 when nothing
/// was projected since.
#[utoipa::path(get, path = "/v1/terminals/sync", tag = "terminals",
    params(SyncQuery, ("If-None-Match" = Option<String>, Header, description = "The previous answer's ETag")),
    responses((status = 200, body = TerminalSync, headers(("ETag" = String, description = "The cursor"))),
        (status = 304, description = "Nothing projected since the ETag sent"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
#[tracing::instrument(name = "terminal_sync", skip_all)]
async fn sync(
    State(state): State<AppState>,
    Authorized(context, _): Authorized<Cashier>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<SyncQuery>,
) -> Result<Response, ApiError> {
    let location_id =
        LocationId::parse(query.location).map_err(|err| ApiError::invalid("location", err.to_string()))?;
    let db = queries::read_model(&state, &context, None).await?;
    // First the checkpoint, then the documents (see the module documentation).
    let now = tenantdb::checkpoint::sequence(&db, &Target::live()).await?;
    let etag = format!("\"{now}\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sent| sent.split(',').any(|tag| tag.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let after = query.cursor.map(|c| i64::try_from(c).unwrap_or(i64::MAX));
    let newer = |field: &str| match after {
        Some(after) => doc! {field: {"$gt": after}},
        None => doc! {},
    };
    let location = queries::locations::location(&db, location_id.as_str()).await?;
    let location_changed = after.is_none_or(|after| location.version > after);
    let tax_jurisdiction = match &location.tax_jurisdiction {
        Some(id) => {
            let id = JurisdictionId::parse(id.clone())
                .map_err(|err| ApiError::Internal(anyhow::anyhow!("stored jurisdiction id: {err}")))?;
            state.jurisdictions.invalidate(&context.tenant, &id).await;
            let folded = state.jurisdictions.get(&context.tenant, &id).await?;
            let changed = after.is_none_or(|after| i64::try_from(folded.version).unwrap_or(i64::MAX) > after);
            folded.jurisdiction.clone().filter(|_| changed)
        }
        None => None,
    };
    let products: Vec<ProductDoc> = collections::products(&db)
        .find(newer("version"))
        .sort(doc! {"_id": 1})
        .await?
        .try_collect()
        .await?;
    let mut promotions_filter = newer(PromotionDoc::VERSION);
    promotions_filter.insert(
        "$or",
        vec![
            doc! {PromotionDoc::LOCATIONS: location_id.as_str()},
            doc! {PromotionDoc::LOCATIONS: {"$size": 0}},
        ],
    );
    if after.is_none() {
        promotions_filter.insert(PromotionDoc::STATUS, PromotionStatus::Active.as_str());
    }
    let promotions: Vec<PromotionDoc> = collections::promotions(&db)
        .find(promotions_filter)
        .sort(doc! {"_id": 1})
        .await?
        .try_collect()
        .await?;
    let users: Vec<UserDoc> = collections::users(&db)
        .find(newer("last_seq"))
        .sort(doc! {"_id": 1})
        .await?
        .try_collect()
        .await?;
    let answer = TerminalSync {
        cursor: now,
        full: after.is_none(),
        tax_jurisdiction,
        products: products
            .into_iter()
            .map(|doc| SyncProduct::new(doc, location_id.as_str()))
            .collect(),
        promotions: promotions.into_iter().map(Promotion::from).collect(),
        users: users
            .into_iter()
            .map(|user| SyncUser {
                id: user.user_id,
                name: user.name,
                role: user.role,
                active: user.active,
            })
            .collect(),
        location: location_changed.then_some(location),
    };
    let mut response = Json(answer).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}
