//! How stored documents are rendered in API answers, as they always have been: `_id`
//! becomes `id`, instants become RFC 3339 strings in UTC with the milliseconds MongoDB
//! keeps, and the projector's bookkeeping (`last_seq`) is left out. The typed views of
//! [`super::catalog`], [`super::sales`], [`super::transactions`] and [`super::reports`]
//! follow these rules; the tests below hold them to the generic conversion they replaced.

use chrono::{DateTime, Utc};
use serde::Serializer;

/// Serializes an instant as the API renders it (`serialize_with`).
pub fn rfc3339<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(
        &bson::DateTime::from_chrono(*at)
            .try_to_rfc3339_string()
            .unwrap_or_default(),
    )
}

/// The generic conversion the API used before its answers were typed: a stored document
/// as JSON. Kept as the oracle the typed views are tested against.
#[cfg(test)]
pub fn to_json(doc: bson::Document) -> serde_json::Value {
    use bson::Bson;
    use serde_json::{Map, Value};

    fn bson_to_json(value: Bson) -> Value {
        match value {
            Bson::Document(doc) => Value::Object(doc.into_iter().map(|(k, v)| (k, bson_to_json(v))).collect()),
            Bson::Array(items) => Value::Array(items.into_iter().map(bson_to_json).collect()),
            Bson::DateTime(at) => Value::String(at.try_to_rfc3339_string().unwrap_or_default()),
            Bson::Int32(n) => Value::from(n),
            Bson::Int64(n) => Value::from(n),
            Bson::Double(n) => Value::from(n),
            Bson::String(s) => Value::String(s),
            Bson::Boolean(b) => Value::Bool(b),
            Bson::Null | Bson::Undefined => Value::Null,
            other => Value::String(other.to_string()),
        }
    }
    let mut out = Map::new();
    for (key, value) in doc {
        match key.as_str() {
            "last_seq" => continue,
            "_id" => out.insert("id".to_owned(), bson_to_json(value)),
            _ => out.insert(key, bson_to_json(value)),
        };
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    #[test]
    fn ids_dates_and_bookkeeping_are_translated() {
        let at = bson::DateTime::from_millis(1_795_000_000_000);
        let json =
            to_json(doc! {"_id": "s-1", "last_seq": 9_i64, "occurred_at": at, "lines": [{"q": 2_i64}], "age": 21_i32});
        assert_eq!(json["id"], "s-1");
        assert!(json.get("last_seq").is_none());
        assert_eq!(json["occurred_at"], at.try_to_rfc3339_string().unwrap_or_default());
        assert_eq!(json["lines"][0]["q"], 2);
        assert_eq!(json["age"], 21);
    }

    #[test]
    fn instants_render_as_the_stored_documents_did() {
        #[derive(serde::Serialize)]
        struct At(#[serde(serialize_with = "rfc3339")] DateTime<Utc>);
        for millis in [0, 1_795_000_000_000, 1_795_000_000_123] {
            let at = bson::DateTime::from_millis(millis);
            assert_eq!(
                serde_json::to_value(At(at.to_chrono())).ok(),
                Some(serde_json::Value::String(
                    at.try_to_rfc3339_string().unwrap_or_default()
                ))
            );
        }
    }
}
