//! Paging: a bounded `limit` and an opaque `cursor` that is the sort key of the last item
//! returned, so a page never shifts when new documents arrive; and the typed bodies of
//! listings ([`Page`]) and reports ([`Items`]).

use futures::TryStreamExt;
use mongodb::Collection;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::error::ApiError;

/// Items per page when none is asked for.
pub const DEFAULT_LIMIT: i64 = 50;
/// Most items per page.
pub const MAX_LIMIT: i64 = 500;

/// The page size asked for, checked.
pub fn limit(asked: Option<i64>) -> Result<i64, ApiError> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}"))),
    }
}

/// One page of a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Every row of a report (reports are not paged).
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T> {
    /// The rows, in the report's order.
    pub items: Vec<T>,
}

/// Runs a paged listing of `collection`: `limit + 1` documents tell whether there is a
/// next page, whose cursor `cursor_of` takes from the last document returned; `view`
/// turns each stored document into its API item.
pub async fn list<D, V>(
    collection: &Collection<D>,
    filter: bson::Document,
    sort: bson::Document,
    limit: i64,
    cursor_of: impl Fn(&D) -> String,
    view: impl Fn(D) -> V,
) -> Result<Page<V>, ApiError>
where
    D: DeserializeOwned + Send + Sync,
{
    let mut docs: Vec<D> = collection
        .find(filter)
        .sort(sort)
        .limit(limit + 1)
        .await?
        .try_collect()
        .await?;
    let more = docs.len() as i64 > limit;
    docs.truncate(limit as usize);
    let next_cursor = if more { docs.last().map(&cursor_of) } else { None };
    Ok(Page {
        items: docs.into_iter().map(view).collect(),
        next_cursor,
    })
}
