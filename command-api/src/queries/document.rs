//! Stored documents as API JSON: `_id` becomes `id`, dates become RFC 3339 strings,
//! integers stay integers, and the projector's bookkeeping (`last_seq`) is left out.

use bson::{Bson, Document};
use serde_json::{Map, Value};

/// Converts a stored document for an API answer.
pub fn to_json(doc: Document) -> Value {
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
}
