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
//!
//! A large tenant comes in pages: each page carries at most `limit` products, at most
//! `limit` promotions and at most `limit` users (default [`DEFAULT_LIMIT`], at most
//! [`MAX_LIMIT`]), each list in id order (products by SKU) and paged on its own. The first
//! page also carries the location and the jurisdiction; each page's `next_page_token` asks
//! for the next one of the **same** sync: it holds the cursor the sync started from, the
//! cursor it will end at (the checkpoint read for the first page) and, per list, the last
//! id sent or that the list is done. Later pages read each unfinished list after its last
//! id, among the documents whose version is above the starting cursor, so a document
//! changed while the terminal pages comes in a later page if it is still ahead (newer
//! already) and, being above the ending cursor, in the next sync either way: no gap. The
//! terminal keeps the `cursor` only after the last page (no `next_page_token`), and only
//! the last page has an `ETag`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bson::{Document, doc};
use events::LocationId;
use events::event::reach::Reach;
use events::tax::{Jurisdiction, JurisdictionId};
use futures::TryStreamExt;
use mongodb::Collection;
use serde::de::DeserializeOwned;
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
    /// The previous sync's `cursor` (from its last page); absent: a full snapshot.
    #[param(minimum = 0)]
    pub cursor: Option<u64>,
    /// Most products, and most promotions, and most users in this page (1 to 5,000;
    /// default 1,000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<i64>,
    /// The previous page's `next_page_token`: the next page of the same sync.
    pub page_token: Option<String>,
}

/// Products, promotions and users per page when no `limit` is given (each).
pub const DEFAULT_LIMIT: i64 = 1_000;
/// Most products, promotions and users per page (each).
pub const MAX_LIMIT: i64 = 5_000;

/// Where one list of a sync goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Resume {
    /// Everything of it was sent.
    Done,
    /// It goes on after this id.
    After(String),
}

impl Resume {
    /// As in a token: the id, or nothing when done (ids are never empty).
    fn encode(&self) -> &str {
        match self {
            Resume::Done => "",
            Resume::After(id) => id,
        }
    }

    fn decode(text: &str) -> Self {
        match text {
            "" => Resume::Done,
            id => Resume::After(id.to_owned()),
        }
    }
}

/// Where a sync goes on: what `next_page_token` holds (URL-safe base64 of
/// `2.<from>.<to>.<location>.<products>.<promotions>.<users>`, each list its last id sent or
/// nothing when done; ids never contain `.`). Tokens of the form before users and
/// promotions were paged (`1.<from>.<to>.<location>.<last sku>`, both of them sent whole in
/// the first page) are still read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PageToken {
    /// The cursor the sync started from (`None`: a snapshot).
    from: Option<u64>,
    /// The checkpoint read for the first page: the sync's answer `cursor`.
    to: u64,
    /// The location the sync is for.
    location: String,
    /// Where the products go on.
    products: Resume,
    /// Where the promotions go on.
    promotions: Resume,
    /// Where the users go on.
    users: Resume,
}

impl PageToken {
    fn encode(&self) -> String {
        let from = self.from.map_or_else(|| "-".to_owned(), |from| from.to_string());
        URL_SAFE_NO_PAD.encode(format!(
            "2.{from}.{}.{}.{}.{}.{}",
            self.to,
            self.location,
            self.products.encode(),
            self.promotions.encode(),
            self.users.encode()
        ))
    }

    fn decode(text: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::invalid("page_token", "not a page token of this route");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let parts: Vec<&str> = text.split('.').collect();
        let (version, from, to, location) = match parts.as_slice() {
            [version, from, to, location, ..] => (*version, *from, *to, *location),
            _ => return Err(invalid()),
        };
        let from = match from {
            "-" => None,
            from => Some(from.parse().map_err(|_| invalid())?),
        };
        let to = to.parse().map_err(|_| invalid())?;
        let (products, promotions, users) = match (version, &parts[4..]) {
            ("1", [last_sku]) if !last_sku.is_empty() => (Resume::decode(last_sku), Resume::Done, Resume::Done),
            ("2", [products, promotions, users]) => (
                Resume::decode(products),
                Resume::decode(promotions),
                Resume::decode(users),
            ),
            _ => return Err(invalid()),
        };
        if location.is_empty() || [&products, &promotions, &users].iter().all(|r| **r == Resume::Done) {
            return Err(invalid());
        }
        Ok(Self {
            from,
            to,
            location: location.to_owned(),
            products,
            promotions,
            users,
        })
    }
}

/// One page of a list: at most `limit` documents matching `filter` after where `resume`
/// says (from the start without one), by `_id`, and where the list goes on.
async fn page_of<T>(
    collection: Collection<T>,
    mut filter: Document,
    resume: Option<&Resume>,
    limit: i64,
    id_of: impl Fn(&T) -> &str,
) -> Result<(Vec<T>, Resume), ApiError>
where
    T: DeserializeOwned + Send + Sync,
{
    match resume {
        Some(Resume::Done) => return Ok((Vec::new(), Resume::Done)),
        Some(Resume::After(id)) => {
            filter.insert(tenantdb::docs::ID, doc! {"$gt": id});
        }
        None => {}
    }
    let mut found: Vec<T> = collection
        .find(filter)
        .sort(doc! {tenantdb::docs::ID: 1})
        .limit(limit + 1)
        .await?
        .try_collect()
        .await?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if found.len() <= limit {
        return Ok((found, Resume::Done));
    }
    found.truncate(limit);
    let next = found
        .last()
        .map_or(Resume::Done, |last| Resume::After(id_of(last).to_owned()));
    Ok((found, next))
}

/// The page size asked for, checked.
fn page_limit(asked: Option<i64>) -> Result<i64, ApiError> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}"))),
    }
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
    /// `false`: deactivated, or no longer allowed at this location: the terminal removes
    /// them.
    pub active: bool,
}

/// What changed since the cursor (everything, on a first call), or one page of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TerminalSync {
    /// Pass it as `cursor` next time, once the last page arrived (also the last page's
    /// `ETag`). Equal on every page of one sync.
    pub cursor: u64,
    /// Whether this is a full snapshot (no cursor given): replace everything held once
    /// the last page arrived.
    pub full: bool,
    /// Present when more products, promotions or users follow: pass it as `page_token`
    /// (with the same `location`) for the next page. Absent on the last page.
    pub next_page_token: Option<String>,
    /// The location, when it changed (always in a snapshot's first page; only ever in a
    /// first page).
    pub location: Option<Location>,
    /// The location's tax jurisdiction, when it changed (always in a snapshot's first
    /// page, if it has one).
    #[schema(value_type = Option<Object>)]
    pub tax_jurisdiction: Option<Jurisdiction>,
    /// Products whose catalog entry changed, by SKU: at most `limit`, after those of the
    /// pages before.
    pub products: Vec<SyncProduct>,
    /// Promotions that apply at this location (or at every location) and changed, by id:
    /// in a snapshot the active ones; after a cursor also the ones ended since
    /// (`status: ended`: the terminal drops them). At most `limit`, after those of the
    /// pages before.
    pub promotions: Vec<Promotion>,
    /// Users who joined or changed, by id: at most `limit`, after those of the pages
    /// before. A snapshot lists those allowed at this location (users limited to other
    /// locations are left out); after a cursor one no longer allowed here comes with
    /// `active: false`.
    pub users: Vec<SyncUser>,
}

/// Everything a terminal needs to sell offline at `location`, or only what changed after
/// `cursor` (cashier and up), in pages of at most `limit` products. `If-None-Match` with
/// the last `ETag` answers 304 when nothing was projected since.
#[utoipa::path(get, path = "/v1/terminals/sync", tag = "terminals",
    params(SyncQuery, ("If-None-Match" = Option<String>, Header, description = "The previous sync's ETag (ignored with a page_token)")),
    responses((status = 200, body = TerminalSync, headers(("ETag" = String, description = "The cursor; on the last page only"))),
        (status = 304, description = "Nothing projected since the ETag sent"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
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
    // A user limited to other stores does not sign in on this store's terminals.
    context.may_reach(&Reach::At(vec![&location_id]), None)?;
    let limit = page_limit(query.limit)?;
    let token = query.page_token.as_deref().map(PageToken::decode).transpose()?;
    if let Some(token) = &token {
        if token.location != location_id.as_str() {
            return Err(ApiError::invalid("page_token", "was issued for another location"));
        }
        if query.cursor.is_some() && query.cursor != token.from {
            return Err(ApiError::invalid("page_token", "was issued for another cursor"));
        }
    }
    let db = queries::read_model(&state, &context, None).await?;
    let (now, from) = match &token {
        // The same sync goes on: it ends at the checkpoint read for its first page.
        Some(token) => (token.to, token.from),
        None => {
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
            (now, query.cursor)
        }
    };
    let etag = format!("\"{now}\"");
    let first_page = token.is_none();
    let after = from.map(|c| i64::try_from(c).unwrap_or(i64::MAX));
    let newer = |field: &str| match after {
        Some(after) => doc! {field: {"$gt": after}},
        None => doc! {},
    };
    let location = queries::locations::location(&db, location_id.as_str()).await?;
    let location_changed = first_page && after.is_none_or(|after| location.version > after);
    let tax_jurisdiction = match &location.tax_jurisdiction {
        Some(id) if first_page => {
            let id = JurisdictionId::parse(id.clone())
                .map_err(|err| ApiError::Internal(anyhow::anyhow!("stored jurisdiction id: {err}")))?;
            state.jurisdictions.invalidate(&context.tenant, &id);
            let folded = state.jurisdictions.get(&context.tenant, &id).await?;
            let changed = after.is_none_or(|after| i64::try_from(folded.version).unwrap_or(i64::MAX) > after);
            folded.jurisdiction.clone().filter(|_| changed)
        }
        _ => None,
    };
    let (products, products_next) = page_of(
        collections::products(&db),
        newer("version"),
        token.as_ref().map(|t| &t.products),
        limit,
        |doc: &ProductDoc| &doc.sku,
    )
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
    let (promotions, promotions_next) = page_of(
        collections::promotions(&db),
        promotions_filter,
        token.as_ref().map(|t| &t.promotions),
        limit,
        |doc: &PromotionDoc| &doc.promotion_id,
    )
    .await?;
    // A snapshot lists the users allowed at this location (not limited to other
    // stores); after a cursor every changed user comes, and one no longer allowed here
    // comes as inactive, so the terminal drops them.
    let mut users_filter = newer("last_seq");
    if after.is_none() {
        users_filter.extend(UserDoc::allowed_at_filter(location_id.as_str()));
    }
    let (users, users_next) = page_of(
        collections::users(&db),
        users_filter,
        token.as_ref().map(|t| &t.users),
        limit,
        |doc: &UserDoc| &doc.user_id,
    )
    .await?;
    let next = PageToken {
        from,
        to: now,
        location: location_id.as_str().to_owned(),
        products: products_next,
        promotions: promotions_next,
        users: users_next,
    };
    let more = [&next.products, &next.promotions, &next.users]
        .iter()
        .any(|resume| **resume != Resume::Done);
    let sync = TerminalSync {
        cursor: now,
        full: after.is_none(),
        next_page_token: more.then(|| next.encode()),
        tax_jurisdiction,
        products: products
            .into_iter()
            .map(|doc| SyncProduct::new(doc, location_id.as_str()))
            .collect(),
        promotions: promotions.into_iter().map(Promotion::from).collect(),
        users: users
            .into_iter()
            .map(|user| SyncUser {
                active: user.active && user.allowed_at(location_id.as_str()),
                id: user.user_id,
                name: user.name,
                role: user.role,
            })
            .collect(),
        location: location_changed.then_some(location),
    };
    Ok(answer(sync, &etag))
}

/// The JSON answer, with the `ETag` on the last page only: a terminal that stopped half
/// way must not be told by a 304 that it holds everything.
fn answer(sync: TerminalSync, etag: &str) -> Response {
    let last_page = sync.next_page_token.is_none();
    let mut response = Json(sync).into_response();
    if last_page && let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_foreign_text_is_refused_naming_the_field() {
        let after = |id: &str| Resume::After(id.to_owned());
        for from in [None, Some(0), Some(41)] {
            for (products, promotions, users) in [
                (after("WINE-RED_2"), Resume::Done, Resume::Done),
                (Resume::Done, after("promo-1"), after("user_7")),
                (after("A"), Resume::Done, after("u")),
            ] {
                let token = PageToken {
                    from,
                    to: 42,
                    location: "main".to_owned(),
                    products,
                    promotions,
                    users,
                };
                assert_eq!(PageToken::decode(&token.encode()).ok(), Some(token));
            }
        }
        // A token of the first form (products only) reads as products going on.
        let old = PageToken::decode(&URL_SAFE_NO_PAD.encode("1.-.42.main.WINE-RED_2")).ok();
        assert_eq!(
            old,
            Some(PageToken {
                from: None,
                to: 42,
                location: "main".to_owned(),
                products: after("WINE-RED_2"),
                promotions: Resume::Done,
                users: Resume::Done,
            })
        );
        for text in [
            "",
            "x",
            "%%%",
            &URL_SAFE_NO_PAD.encode("3.-.1.main.A.B.C"),
            &URL_SAFE_NO_PAD.encode("2.-.1.main.A"),
            &URL_SAFE_NO_PAD.encode("2.-.1.main.A.B"),
            &URL_SAFE_NO_PAD.encode("2.-.1.main..."),
            &URL_SAFE_NO_PAD.encode("2.-.1..A.B.C"),
            &URL_SAFE_NO_PAD.encode("1.-.x.main.A"),
            &URL_SAFE_NO_PAD.encode("1.-.1.main."),
            &URL_SAFE_NO_PAD.encode("1.-.1.main.A.B"),
        ] {
            match PageToken::decode(text) {
                Err(ApiError::InvalidField { field, .. }) => assert_eq!(field, "page_token"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn limits_outside_one_to_five_thousand_are_refused() {
        assert_eq!(page_limit(None).ok(), Some(DEFAULT_LIMIT));
        assert_eq!(page_limit(Some(1)).ok(), Some(1));
        assert_eq!(page_limit(Some(MAX_LIMIT)).ok(), Some(MAX_LIMIT));
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(MAX_LIMIT + 1)).is_err());
    }
}
