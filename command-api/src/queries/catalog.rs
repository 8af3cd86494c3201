//! Products and stock levels (readable by every role: cashiers look products up).

use bson::{Document, doc};
use futures::TryStreamExt;
use mongodb::Database;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::queries::document::to_json;
use crate::queries::mongo_error;
use crate::queries::page::{self, Page};

/// Filters of `GET /v1/products`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProductSearch {
    /// Part of the name, any case.
    pub q: Option<String>,
    /// Exact SKU.
    pub sku: Option<String>,
    /// Exact barcode.
    pub barcode: Option<String>,
    /// Exact category.
    pub category: Option<String>,
    /// `active`, `discontinued` or `unregistered`.
    pub status: Option<String>,
    /// Page size (1 to 500, default 50).
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Escapes a user string for use inside a regular expression.
fn escape_regex(text: &str) -> String {
    text.chars().fold(String::with_capacity(text.len()), |mut out, c| {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

/// Products matching `search`, by SKU.
pub async fn search(db: &Database, search: &ProductSearch) -> Result<Page, ApiError> {
    let limit = page::limit(search.limit)?;
    let mut filter = Document::new();
    if let Some(q) = search.q.as_deref().filter(|q| !q.is_empty()) {
        if q.len() > 100 {
            return Err(ApiError::invalid("q", "at most 100 characters"));
        }
        filter.insert("name", doc! {"$regex": escape_regex(q), "$options": "i"});
    }
    if let Some(sku) = &search.sku {
        filter.insert("_id", sku.as_str());
    }
    if let Some(barcode) = &search.barcode {
        filter.insert("barcodes", barcode.as_str());
    }
    if let Some(category) = &search.category {
        filter.insert("category", category.as_str());
    }
    if let Some(status) = &search.status {
        if !["active", "discontinued", "unregistered"].contains(&status.as_str()) {
            return Err(ApiError::invalid(
                "status",
                "must be active, discontinued or unregistered",
            ));
        }
        filter.insert("status", status.as_str());
    }
    if let Some(cursor) = &search.cursor {
        let after = doc! {"_id": {"$gt": cursor.as_str()}};
        filter = if filter.is_empty() {
            after
        } else {
            doc! {"$and": [filter, after]}
        };
    }
    list(db, "products", filter, doc! {"_id": 1}, limit, |doc| {
        doc.get_str("_id").ok().map(str::to_owned)
    })
    .await
}

/// Runs a paged listing: `limit + 1` documents tell whether there is a next page.
pub async fn list(
    db: &Database,
    collection: &str,
    filter: Document,
    sort: Document,
    limit: i64,
    cursor_of: impl Fn(&Document) -> Option<String>,
) -> Result<Page, ApiError> {
    let mut docs: Vec<Document> = db
        .collection::<Document>(collection)
        .find(filter)
        .sort(sort)
        .limit(limit + 1)
        .await
        .map_err(mongo_error)?
        .try_collect()
        .await
        .map_err(mongo_error)?;
    let more = docs.len() as i64 > limit;
    docs.truncate(limit as usize);
    let next_cursor = if more { docs.last().and_then(&cursor_of) } else { None };
    Ok(Page {
        items: docs.into_iter().map(to_json).collect(),
        next_cursor,
    })
}

/// One product with its stock per location.
pub async fn product(db: &Database, sku: &str) -> Result<Value, ApiError> {
    db.collection::<Document>("products")
        .find_one(doc! {"_id": sku})
        .await
        .map_err(mongo_error)?
        .map(to_json)
        .ok_or_else(|| ApiError::NotFound {
            resource: "product",
            id: sku.to_owned(),
        })
}

/// Filters of `GET /v1/stock`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StockQuery {
    /// Only this location's level.
    pub location: Option<String>,
    /// `all` (default), `low` (on hand ≤ reorder point) or `negative`.
    pub state: Option<String>,
    /// Page size (1 to 500, default 50).
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Stock levels, by SKU.
pub async fn stock(db: &Database, query: &StockQuery) -> Result<Page, ApiError> {
    let limit = page::limit(query.limit)?;
    if let Some(location) = &query.location {
        events::LocationId::parse(location.as_str()).map_err(|e| ApiError::invalid("location", e.to_string()))?;
    }
    let mut filter = Document::new();
    match (query.state.as_deref().unwrap_or("all"), &query.location) {
        ("all", Some(location)) => {
            filter.insert(format!("stock.{location}"), doc! {"$exists": true});
        }
        ("all", None) => {}
        ("low", _) => {
            filter.insert("low_stock", true);
        }
        ("negative", Some(location)) => {
            filter.insert(format!("stock.{location}"), doc! {"$lt": 0_i64});
        }
        ("negative", None) => {
            filter.insert("negative_stock", true);
        }
        _ => return Err(ApiError::invalid("state", "must be all, low or negative")),
    }
    if let Some(cursor) = &query.cursor {
        filter.insert("_id", doc! {"$gt": cursor.as_str()});
    }
    let mut page = list(db, "products", filter, doc! {"_id": 1}, limit, |doc| {
        doc.get_str("_id").ok().map(str::to_owned)
    })
    .await?;
    page.items = page
        .items
        .into_iter()
        .map(|product| {
            let on_hand = match &query.location {
                Some(location) => product["stock"][location].clone(),
                None => product["on_hand_total"].clone(),
            };
            json!({
                "sku": product["id"],
                "name": product["name"],
                "location": query.location,
                "on_hand": on_hand,
                "stock": product["stock"],
                "reorder_point": product["reorder_point"],
                "low_stock": product["low_stock"],
                "negative_stock": product["negative_stock"],
            })
        })
        .collect();
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_metacharacters_are_escaped() {
        assert_eq!(escape_regex("Jack (7).*"), "Jack \\(7\\)\\.\\*");
    }
}
